#!/usr/bin/env bash
# counts-cost.sh: what the counting pass (bench run --counts) costs and
# gives, this tree's against an older revision's, on the same cells, run
# alternately in one script (docs/ci.md keeps the figures).
#
# This tree: one Callgrind process per cell, start-up and setup
# uninstrumented, one warmup and 3 measured repetitions each dumped apart
# (3 values per cell). COST_OLD_REV (default e146b5e): two Cachegrind
# processes per cell, N and 2N operations, their difference (one value).
#
# Each run is `bench run --counts --modes native --reps 3 --warmup 0
# --min-time 1ms` of COST_WORKLOADS (default: every workload) on
# COST_SIZES (default dcsv2), so the timed part is small; the counting
# pass's own duration is the harness's notice ("counting pass: ... in D").
# Rounds (COST_ROUNDS, default 1) alternate which revision runs first.
#
# Prints (1) per run: the counting pass's wall time, the whole run's wall
# and CPU time, and new/old ratios; (2) per event, over the cells both
# counted: new (median of its values) / old, min, median, max, and the
# cells more than 1% apart; (3) per event, the spread (max-min, % of the
# median) of this tree's values within one process (its segments) and,
# with 2 rounds or more, across processes (each run's median), and the old
# revision's across processes: medians over cells whose median is at
# least 1 per operation (misses near zero spread widely in relative terms).
#
# Environment: COST_WORKLOADS COST_SIZES COST_ROUNDS COST_OLD_REV
# COST_KEEP=<dir to keep the runs in>.
set -euo pipefail

cd "$(dirname "$0")/.."
OLD_REV=${COST_OLD_REV:-e146b5e}
SIZES=${COST_SIZES:-dcsv2}
ROUNDS=${COST_ROUNDS:-1}
command -v jq >/dev/null || { echo "counts-cost: needs jq" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "counts-cost: needs valgrind (scripts/install-deps.sh)" >&2; exit 2; }
if [[ -n "${COST_KEEP:-}" ]]; then
	work=$COST_KEEP
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/counts-cost.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
export ENCLAVEBENCH_IMDS=off
mkdir -p "$work/old-src" "$work/old" "$work/new"
git archive "$OLD_REV" | tar -x -C "$work/old-src"
(cd "$work/old-src" && go build -o "$work/old/bench" ./bench && go build -o "$work/old/workload" ./workloads/cmd/workload)
go build -o "$work/new/bench" ./bench
go build -o "$work/new/workload" ./workloads/cmd/workload

# seconds D: a Go duration (1m2.5s, 850ms) in seconds.
seconds() {
	awk -v d="$1" 'BEGIN { s = 0; while (match(d, /^[0-9.]+(h|ms|m|s)/)) { t = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
		if (t ~ /ms$/) s += t / 1000; else if (t ~ /h$/) s += t * 3600; else if (t ~ /m$/) s += t * 60; else s += t + 0 }
		print s }'
}

# run VARIANT ROUND: one bench run into $work/VARIANT-ROUND; appends
# "variant round pass-seconds wall user sys" to $work/cost.tsv.
run() {
	local v=$1 r=$2 out=$work/$1-$2 t
	rm -rf "$out"
	TIMEFORMAT='%R %U %S'
	t=$( { time "$work/$v/bench" run --counts --modes native --sizes "$SIZES" ${COST_WORKLOADS:+--workloads "$COST_WORKLOADS"} \
		--reps 3 --warmup 0 --min-time 1ms -o "$out" >"$out.log" 2>&1; } 2>&1)
	local pass
	pass=$(grep -o 'counting pass: .* in [0-9hms.]*' "$out.log" | sed 's/.* in //')
	[[ -n $pass ]] || { echo "counts-cost: $v round $r: no counting pass notice (see $out.log)" >&2; exit 1; }
	echo "$v $r $(seconds "$pass") $t" >>"$work/cost.tsv"
	echo "counts-cost: $v round $r: counting pass $pass; run (wall user sys) $t" >&2
}

: >"$work/cost.tsv"
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then run old "$r"; run new "$r"; else run new "$r"; run old "$r"; fi
done

echo "== cost (seconds): variant round counting-pass run-wall run-user run-sys"
sort -k2,2n -k1,1 "$work/cost.tsv"
awk '{ p[$1] += $3; w[$1] += $4; c[$1] += $5 + $6 } END {
	printf "new/old: counting pass %.3f, run wall %.3f, run CPU %.3f (sums over %d round(s))\n", p["new"] / p["old"], w["new"] / w["old"], c["new"] / c["old"], NR / 2 }' "$work/cost.tsv"

# Every count value: {v, r, cell, e, rep, x (per op)}.
for d in "$work"/old-* "$work"/new-*; do
	[[ -f $d/samples.jsonl ]] || continue
	b=$(basename "$d")
	jq -c --arg v "${b%-*}" --arg r "${b##*-}" '. as $s | (.events // {}) | to_entries[]
		| select(.key | IN("instructions","l1d_misses","ll_misses","ll_misses_pf","process_syscalls","alloc_bytes","alloc_objects"))
		| {v: $v, r: $r, cell: (([$s.workload] + ($s.params // {} | to_entries | sort_by(.key) | map("\(.key)=\(.value)")) + ["size=\($s.size)", "mode=\($s.mode)"] | join("/"))),
		e: .key, rep: $s.rep, x: (.value / $s.iters)}' "$d/samples.jsonl"
done | jq -rs '
def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def spread: if (max - min) == 0 then 0 elif med == 0 then null else (max - min) / (med | fabs) * 100 end;
def r3: . * 1000 | round / 1000;
. as $all
| ($all | map(select(.v == "old")) | group_by([.r, .cell, .e]) | map({key: (.[0] | "\(.r) \(.cell) \(.e)"), value: (map(.x) | med)}) | from_entries) as $old
| ($all | map(select(.v == "new")) | group_by([.r, .cell, .e]) | map({r: .[0].r, cell: .[0].cell, e: .[0].e,
	vals: (unique_by(.rep) | map(.x)), m: (map(.x) | med)})) as $new
| "== values: new (median of its segments) / old, same round, per event: cells, min, median, max ratio; cells > 1% apart",
  ($new | map(select($old["\(.r) \(.cell) \(.e)"] != null)) | group_by(.e)[] | .[0].e as $e
	| map(. as $n | $old["\($n.r) \($n.cell) \($n.e)"] as $o
		| {cell, ratio: (if $o == 0 then (if $n.m == 0 then 1 else null end) else $n.m / $o end), o: $o, n: $n.m})
	| (map(select(.ratio != null)) | map(.ratio)) as $rs
	| "\($e): \(length) cells, ratio min \($rs | min | r3) median \($rs | med | r3) max \($rs | max | r3); > 1% apart: \(map(select(.ratio == null or (.ratio - 1 | fabs) > 0.01)) | length)"
	  + (map(select(.ratio == null or (.ratio - 1 | fabs) > 0.01)) | sort_by(-((.ratio // 1e9) - 1 | fabs)) | .[:3]
		| map("\n    \(.cell): old \(.o | r3) new \(.n | r3)") | join(""))),
  "== spread (% of median, median over cells whose median >= 1/op): within one process (segments), across processes",
  ($new | group_by(.e)[] | .[0].e as $e
	| (map(select(.m >= 1)) | map(.vals | spread) | map(select(. != null))) as $within
	| (map(select(.m >= 1)) | group_by(.cell) | map(select(length >= 2) | map(.m) | spread) | map(select(. != null))) as $across
	| ($old | to_entries | map(select(.key | endswith(" " + $e)) | {cell: (.key | sub("^[^ ]+ "; "") | sub(" [^ ]+$"; "")), x: .value})
		| group_by(.cell) | map(select(length >= 2 and (map(.x) | med) >= 1) | map(.x) | spread) | map(select(. != null))) as $oldacross
	| "\($e): new within \(if ($within | length) > 0 then ($within | med | r3) else "-" end)% (\($within | length) cells), new across \(if ($across | length) > 0 then ($across | med | r3) else "-" end)% (\($across | length)), old across \(if ($oldacross | length) > 0 then ($oldacross | med | r3) else "-" end)% (\($oldacross | length))")'
