#!/usr/bin/env bash
# detection.sh: how often the regression gate (bench compare --fail-on
# regression) flags an injected regression, and how often it flags two runs
# of the same build, for time alone and for time plus counts (bench run
# --counts), on this host as it is (docs/ci.md keeps the figures).
#
# Cells: compute task=sha256 and syscall call=read on DET_SIZE, native. Runs
# (each a full `bench run --counts`, DET_REPS repetitions of DET_MIN_TIME, in
# one process per cell): DET_BASE runs of the -tags testhook build as it is,
# and DET_NEW runs of each variant, in a random order:
#   instr+1%, +2%, +5%: ENCLAVEBENCH_TEST_WORK=compute=loops:K, K loop
#       iterations (7 instructions each) making that share of compute
#       sha256's instructions per operation (from the first base run);
#   syscall+1: ENCLAVEBENCH_TEST_WORK=syscall=calls:1 (one getppid more per
#       pread).
# Comparisons: DET_DRAWS draws per kind, each of DET_PER_SIDE (3) runs a side
# pooled as rounds (the gate judges a counting-pass event's spread over
# runs, from 3 a side): A/A draws 2x3 distinct base runs; a variant draws 3
# base runs and 3 of its runs. Draws share runs of the pool, so they are not
# independent trials. Each draw is compared twice: "time+counts" is bench
# compare on the two pools of directories; "time" is bench compare on their
# bench.txt with the count units (result.CountEvents) removed. A comparison
# "flags" when it exits 1; exit 2 (the gate refuses its input) is counted
# apart. Detection counts a flag of the regressed cell only (a flag of the
# other cell is a false alarm).
#
# Environment (defaults): DET_BASE=7 DET_NEW=5 DET_REPS=6 DET_MIN_TIME=10ms
# DET_DRAWS=20 DET_PER_SIDE=3
# DET_SIZE=DC1s_v2 DET_KEEP=<dir to keep the runs in> DET_SEED=<random>;
# DET_REUSE=1 reuses the runs already in DET_KEEP (same seed: same K).
# About 40 s per run on 2 busy vCPUs (the counting pass most of it).
set -euo pipefail

cd "$(dirname "$0")/.."
NBASE=${DET_BASE:-7}
NNEW=${DET_NEW:-5}
REPS=${DET_REPS:-6}
MIN_TIME=${DET_MIN_TIME:-10ms}
SIZE=${DET_SIZE:-DC1s_v2}
SEED=${DET_SEED:-$(((RANDOM << 15 | RANDOM) + 1))}
RANDOM=$SEED
command -v jq >/dev/null || { echo "detection: needs jq" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "detection: needs valgrind (scripts/install-deps.sh)" >&2; exit 2; }
if [[ -n "${DET_KEEP:-}" ]]; then
	work=$DET_KEEP
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/detection.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
export ENCLAVEBENCH_IMDS=off
go build -o "$work/bin/bench" ./bench
go build -tags testhook -o "$work/bin/workload" ./workloads/cmd/workload

# run NAME [ENV]: one bench run into $work/NAME.
run() {
	local name=$1 extra=${2:-}
	if [[ -n ${DET_REUSE:-} && -f $work/$name/bench.txt ]]; then return; fi # DET_REUSE=1: keep DET_KEEP's runs
	rm -rf "${work:?}/$name"
	env ${extra:+ENCLAVEBENCH_TEST_WORK=$extra} "$work/bin/bench" run --counts --workloads compute,syscall \
		--param compute.task=sha256 --param syscall.call=read --sizes "$SIZE" --modes native \
		--reps "$REPS" --min-time "$MIN_TIME" --progress never --workload-bin "$work/bin/workload" \
		-o "$work/$name" >"$work/$name.log" 2>&1
}
# timeonly DIR: DIR/bench.txt without the count units.
timeonly() {
	local units
	units=$(jq -r '.counts.events | keys[] | . + "/op"' "$1/run.json" | paste -sd' ')
	awk -v drop="$units" 'BEGIN {n = split(drop, d, " "); for (i = 1; i <= n; i++) skip[d[i]] = 1}
		/^Benchmark/ {out = $1 " " $2; for (i = 3; i < NF; i += 2) if (!($(i+1) in skip)) out = out " " $i " " $(i+1); print out; next}
		{print}' "$1/bench.txt" >"$1/time.txt"
}

echo "detection: seed $SEED, $NBASE base runs, $NNEW per variant, $REPS reps of $MIN_TIME, $SIZE, in $work" >&2
start=$(date +%s)
run base1
timeonly "$work/base1"
instr=$(jq -s '[.[] | select(.workload == "compute") | .events.instructions / .iters] | .[0]' "$work/base1/samples.jsonl")
echo "compute sha256: $instr instructions/op in base1" >&2
declare -A variant
for pct in 1 2 5; do
	variant[instr+$pct%]="compute=loops:$(awk -v i="$instr" -v p="$pct" 'BEGIN {printf "%d", i * p / 100 / 7 + 0.5}')"
done
variant[syscall+1]="syscall=calls:1"
declare -A target_of=([instr+1%]=Compute [instr+2%]=Compute [instr+5%]=Compute [syscall+1]=Syscall)

# The other runs, shuffled.
todo=()
for i in $(seq 2 "$NBASE"); do todo+=("base$i|"); done
for v in "${!variant[@]}"; do
	for i in $(seq 1 "$NNEW"); do todo+=("$v.$i|${variant[$v]}"); done
done
for ((i = ${#todo[@]} - 1; i > 0; i--)); do
	j=$((RANDOM % (i + 1)))
	t=${todo[i]} todo[i]=${todo[j]} todo[j]=$t
done
k=1
rm -f "$work/verdicts.jsonl"
for t in "${todo[@]}"; do
	name=${t%%|*} env=${t#*|}
	echo "  run $k/${#todo[@]}: $name ${env:+($env)}" >&2
	run "$name" "$env"
	timeonly "$work/$name"
	k=$((k + 1))
done
echo "runs done in $(($(date +%s) - start)) s" >&2
grep -h '^counting pass' "$work"/*.log | sed 's/^/  /' | sort | uniq -c | sort -rn | head -3 >&2

# pool SIDE RUN...: a directory of the runs (bench compare pools them as
# rounds) and a bench.txt of their time units alone.
pool() {
	local dir=$work/pool.$1 r
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	for r in "$@"; do cp -r "$work/$r" "$dir/$r"; done
	for r in "$@"; do cat "$work/$r/time.txt"; done >"$dir.time.txt"
}
# compare WHAT TARGET: compares pool.old with pool.new; prints "flag",
# "other" (a flag of another cell than TARGET, or any with no TARGET), "ok"
# or "refused" (exit 2).
compare() {
	local what=$1 target=$2 code=0 a b
	if [[ $what == time ]]; then a=$work/pool.old.time.txt b=$work/pool.new.time.txt; else a=$work/pool.old b=$work/pool.new; fi
	"$work/bin/bench" compare "$a" "$b" --fail-on regression --format json -o "$work/cmp.json" >/dev/null 2>&1 || code=$?
	jq -c --arg w "$what" --arg o "$OLD" --arg n "$NEW" '{what: $w, old: $o, new: $n, status: .verdict.status, regressions: [.verdict.regressions[] | .cell + " " + .unit + " " + (.gate // "")]}' "$work/cmp.json" >>"$work/verdicts.jsonl" 2>/dev/null || true
	case $code in
	0) echo ok ;;
	1)
		local hit=no other=no
		if [[ -n $target ]] && jq -e --arg t "$target/" 'any(.verdict.regressions[].cell; startswith($t))' "$work/cmp.json" >/dev/null 2>&1; then hit=yes; fi
		if jq -e --arg t "${target:-^}/" 'any(.verdict.regressions[].cell; startswith($t) | not)' "$work/cmp.json" >/dev/null 2>&1; then other=yes; fi
		case $hit$other in yesno) echo flag ;; yesyes) echo flag+other ;; *) echo other ;; esac ;;
	*) echo refused ;;
	esac
}
# pick K N: K distinct numbers of 1..N, in random order (seeded by the seed
# and a counter: $RANDOM would be reseeded in the command substitution).
draw=0
pick() { seq 1 "$2" | awk -v s=$((SEED * 1000 + draw)) 'BEGIN {srand(s)} {print rand() "\t" $1}' | sort -n | head -"$1" | cut -f2; }
PER=${DET_PER_SIDE:-3}
DRAWS=${DET_DRAWS:-20}
printf '\n%-10s %-12s %6s %8s %8s %8s %7s\n' comparison gate draws detected other refused rate
declare -A res
for v in A/A "instr+1%" "instr+2%" "instr+5%" "syscall+1"; do
	for what in time time+counts; do res[$v,$what]="0 0 0 0"; done
	for d in $(seq 1 "$DRAWS"); do
		draw=$((draw + 1))
		if [[ $v == A/A ]]; then
			mapfile -t idx < <(pick $((2 * PER)) "$NBASE")
			OLD=$(printf 'base%s ' "${idx[@]:0:PER}") NEW=$(printf 'base%s ' "${idx[@]:PER}")
			target=""
		else
			OLD=$(printf 'base%s ' $(pick "$PER" "$NBASE"))
			draw=$((draw + 100000))
			NEW=$(for i in $(pick "$PER" "$NNEW"); do printf '%s.%s ' "$v" "$i"; done)
			draw=$((draw - 100000))
			target=${target_of[$v]}
		fi
		pool old $OLD
		pool new $NEW
		for what in time time+counts; do
			read -r n f o r <<<"${res[$v,$what]}"
			case $(compare "$what" "$target") in
			flag) f=$((f + 1)) ;;
			flag+other) f=$((f + 1)) o=$((o + 1)) ;;
			other) o=$((o + 1)) ;;
			refused) r=$((r + 1)) ;;
			esac
			res[$v,$what]="$((n + 1)) $f $o $r"
		done
	done
	for what in time time+counts; do
		read -r n f o r <<<"${res[$v,$what]}"
		awk -v l="$v" -v w="$what" -v n="$n" -v f="$f" -v o="$o" -v r="$r" \
			'BEGIN {printf "%-10s %-12s %6d %8d %8d %8d %6.0f%%\n", l, w, n, f, o, r, 100 * (l == "A/A" ? o : f) / n}'
	done
done
echo "(each draw: $PER runs a side drawn from the pool, pooled as rounds. detected: the regressed cell flagged;"
echo " other: a draw with any other cell flagged (a false alarm). rate: A/A false alarms, else detection."
echo " Verdicts in $work/verdicts.jsonl)"
