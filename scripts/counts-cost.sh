#!/usr/bin/env bash
# counts-cost.sh: what the counting pass (bench run --counts) costs and
# gives, this tree's against an older revision's, on the same cells, run
# alternately in one script (docs/ci.md "Cost" keeps the figures).
#
# COST_OLD_REV (default 179d73a): the pass whose setups ran instrumented
# (one Callgrind process per cell, instrumentation switched on right
# before the workload's setup). This tree: workloads with Spec.CountWarm
# (memsweep, kvstore, aesgcm, gokv) run their setup uninstrumented and warm
# the simulated caches by repeating its last pass over their data (gokv:
# by running the fill's last keys instrumented, New having left them); aesgcm
# encrypts only the records the counted operations open; the longest cells
# are counted first.
#
# Each run is `bench run --counts --modes native --reps 3 --warmup 0
# --min-time 1ms` of COST_WORKLOADS (default: every workload) on
# COST_SIZES (default dcsv2), so the timed part is small; each round also
# runs the same without --counts ("none"), whose CPU time is the timed
# part's, so that a pass's CPU time is its run's less that. The counting
# pass's wall time is the harness's notice ("counting pass: ... in D").
# Rounds (COST_ROUNDS, default 1) alternate which revision runs first.
# The load average (1 minute) is recorded at each run's start and end.
#
# Prints (1) per run: the counting pass's wall time, the whole run's wall
# and CPU time, the load; the passes' CPU seconds (run less "none") and
# new/old ratios; (2) per event, over the cells both counted: new (median
# of its values) / old, min, median, max; (3) the agreement of
# instructions, l1d_misses and ll_misses_pf per cell (below); (4) per
# event, the spread of the values within one process (its 3 segments)
# and, with 2 rounds or more, across processes.
#
# Agreement (3): a cell's new median is within the tolerance of its old
# median when |new - old| <= max(floor, the larger of the two sides' own
# spreads (max - min of a process's 3 values)): instructions floor 0.5% of
# old (what the gate calls deterministic), misses floor max(0.02/op, 5% of
# old) (misses near zero spread widely in relative terms). The cells
# beyond it are listed with their values; the script exits 1 if any is.
#
# Environment: COST_WORKLOADS COST_SIZES COST_ROUNDS COST_OLD_REV
# COST_KEEP=<dir to keep the runs in>.
set -euo pipefail

cd "$(dirname "$0")/.."
OLD_REV=${COST_OLD_REV:-179d73a}
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
(cd "$work/old-src" && go build -o "$work/old/bench" ./bench && CGO_ENABLED=0 go build -o "$work/old/workload" ./workloads/cmd/workload)
go build -o "$work/new/bench" ./bench
CGO_ENABLED=0 go build -o "$work/new/workload" ./workloads/cmd/workload

# seconds D: a Go duration (1m2.5s, 850ms) in seconds.
seconds() {
	awk -v d="$1" 'BEGIN { s = 0; while (match(d, /^[0-9.]+(h|ms|m|s)/)) { t = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
		if (t ~ /ms$/) s += t / 1000; else if (t ~ /h$/) s += t * 3600; else if (t ~ /m$/) s += t * 60; else s += t + 0 }
		print s }'
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# run VARIANT ROUND [--counts]: one bench run into $work/VARIANT-ROUND;
# appends "variant round pass-seconds wall user sys load-start load-end"
# to $work/cost.tsv (pass-seconds 0 without --counts).
run() {
	local v=$1 r=$2 counts=${3:-} out=$work/$1-$2 t l0 bin=$1
	[[ $v == none ]] && bin=new
	rm -rf "$out"
	TIMEFORMAT='%R %U %S'
	l0=$(load1)
	t=$( { time "$work/$bin/bench" run $counts --modes native --sizes "$SIZES" ${COST_WORKLOADS:+--workloads "$COST_WORKLOADS"} \
		--reps 3 --warmup 0 --min-time 1ms -o "$out" >"$out.log" 2>&1; } 2>&1)
	local pass=0s
	if [[ -n $counts ]]; then
		pass=$(grep -o 'counting pass: .* in [0-9hms.]*' "$out.log" | sed 's/.* in //')
		[[ -n $pass ]] || { echo "counts-cost: $v round $r: no counting pass notice (see $out.log)" >&2; exit 1; }
	fi
	echo "$v $r $(seconds "$pass") $t $l0 $(load1)" >>"$work/cost.tsv"
	echo "counts-cost: $v round $r: counting pass $pass; run (wall user sys) $t; load $l0 -> $(load1)" >&2
}

: >"$work/cost.tsv"
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then run old "$r" --counts; run new "$r" --counts; else run new "$r" --counts; run old "$r" --counts; fi
	run none "$r"
done

echo "== cost (seconds): variant round counting-pass-wall run-wall run-user run-sys load-start load-end"
sort -k2,2n -k1,1 "$work/cost.tsv"
awk '{ p[$1] += $3; w[$1] += $4; c[$1] += $5 + $6 } END {
	po = c["old"] - c["none"]; pn = c["new"] - c["none"]
	printf "counting pass CPU seconds (run less the run without --counts): old %.1f, new %.1f, new/old %.3f; timed part %.1f (sums over %d round(s))\n", po, pn, pn / po, c["none"], NR / 3
	printf "new/old: counting pass wall %.3f, run wall %.3f, run CPU %.3f\n", p["new"] / p["old"], w["new"] / w["old"], c["new"] / c["old"] }' "$work/cost.tsv"

# Every count value: {v, r, cell, e, rep, x (per op)}.
for d in "$work"/old-* "$work"/new-*; do
	[[ -f $d/samples.jsonl ]] || continue
	b=$(basename "$d")
	jq -c --arg v "${b%-*}" --arg r "${b##*-}" '. as $s | (.events // {}) | to_entries[]
		| select(.key | IN("instructions","l1d_misses","ll_misses","ll_misses_pf","process_syscalls","alloc_bytes","alloc_objects"))
		| {v: $v, r: $r, cell: (([$s.workload] + ($s.params // {} | to_entries | sort_by(.key) | map("\(.key)=\(.value)")) + ["size=\($s.size)", "mode=\($s.mode)"] | join("/"))),
		e: .key, rep: $s.rep, x: (.value / $s.iters)}' "$d/samples.jsonl"
done >"$work/values.jsonl"
set +e
jq -rs '
def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def spread: if (max - min) == 0 then 0 elif med == 0 then null else (max - min) / (med | fabs) * 100 end;
def r3: . * 1000 | round / 1000;
def r4: if fabs >= 100 then (. * 10 | round / 10) else (. * 10000 | round / 10000) end;
. as $all
| ($all | map(select(.v == "old")) | group_by([.r, .cell, .e]) | map({key: (.[0] | "\(.r) \(.cell) \(.e)"), value: {m: (map(.x) | med), vals: (unique_by(.rep) | map(.x))}}) | from_entries) as $old
| ($all | map(select(.v == "new")) | group_by([.r, .cell, .e]) | map({r: .[0].r, cell: .[0].cell, e: .[0].e,
	vals: (unique_by(.rep) | map(.x)), m: (map(.x) | med)})) as $new
| ($new | map(. as $n | $old["\($n.r) \($n.cell) \($n.e)"] as $o | select($o != null) | . + {o: $o.m, ovals: $o.vals})) as $both
| ($both | map(select(.e | IN("instructions", "l1d_misses", "ll_misses_pf")))
	| map(. as $c | (if $c.e == "instructions" then 0.005 * ($c.o | fabs) else ([0.02, 0.05 * ($c.o | fabs)] | max) end) as $floor
		| ([($c.vals | max - min), ($c.ovals | max - min)] | max) as $sp
		| . + {tol: ([$floor, $sp] | max), d: ($c.m - $c.o)} | . + {ok: ((.d | fabs) <= .tol)})) as $agree
| "== values: new (median of its segments) / old, same round, per event: cells, min, median, max ratio",
  ($both | group_by(.e)[] | .[0].e as $e
	| map(if .o == 0 then (if .m == 0 then 1 else null end) else .m / .o end) | map(select(. != null)) as $rs
	| "\($e): \(length) cells, ratio min \($rs | min | r3) median \($rs | med | r3) max \($rs | max | r3)"),
  "== agreement per cell: |new - old| <= max(floor, the larger side'"'"'s own spread); floor: instructions 0.5% of old, misses max(0.02/op, 5% of old)",
  ($agree | group_by(.e)[] | .[0].e as $e
	| "\($e): \(map(select(.ok)) | length) of \(length) cells agree"
	  + (map(select(.ok | not)) | sort_by(-(.d | fabs) / (.tol + 1e-12)) | map("\n    \(.cell): old \(.ovals | map(r4)) new \(.vals | map(r4)) (difference \(.d | r4), tolerance \(.tol | r4))") | join(""))),
  "== spread (% of median, median over cells whose median >= 1/op): within one process (segments), across processes",
  ($new | group_by(.e)[] | .[0].e as $e
	| (map(select(.m >= 1)) | map(.vals | spread) | map(select(. != null))) as $within
	| (map(select(.m >= 1)) | group_by(.cell) | map(select(length >= 2) | map(.m) | spread) | map(select(. != null))) as $across
	| "\($e): new within \(if ($within | length) > 0 then ($within | med | r3) else "-" end)% (\($within | length) cells), new across \(if ($across | length) > 0 then ($across | med | r3) else "-" end)% (\($across | length))"),
  (if ($agree | map(select(.ok | not)) | length) > 0 then "counts-cost: DISAGREE" else "counts-cost: all agree" end)' "$work/values.jsonl" | tee "$work/report.txt"
grep -q '^counts-cost: all agree' "$work/report.txt"
