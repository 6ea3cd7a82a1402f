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
# Comparisons: A/A is every pair of base runs; a variant is every (base run,
# variant run) pair: pairs share runs, so they are not independent trials.
# Each comparison is made twice: "time+counts" is bench compare on the two
# directories; "time" is bench compare on their bench.txt with the count
# units (result.CountEvents) removed. A comparison "flags" when it exits 1;
# exit 2 (the gate refuses its input) is counted apart. Detection counts a
# flag of the right cell only (a flag of the other cell is a false alarm).
#
# Environment (defaults): DET_BASE=7 DET_NEW=5 DET_REPS=6 DET_MIN_TIME=10ms
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
declare -A target=([instr+1%]=Compute [instr+2%]=Compute [instr+5%]=Compute [syscall+1]=Syscall)

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

# compare OLD NEW WHAT TARGET: prints "flag", "other" (a flag of another
# cell), "ok" or "refused".
compare() {
	local old=$1 new=$2 what=$3 target=$4 code=0 a b
	if [[ $what == time ]]; then a=$old/time.txt b=$new/time.txt; else a=$old b=$new; fi
	"$work/bin/bench" compare "$a" "$b" --fail-on regression --format json -o "$work/cmp.json" >/dev/null 2>&1 || code=$?
	jq -c --arg w "$what" --arg o "${old##*/}" --arg n "${new##*/}" '{what: $w, old: $o, new: $n, status: .verdict.status, regressions: [.verdict.regressions[] | .cell + " " + .unit]}' "$work/cmp.json" >>"$work/verdicts.jsonl" 2>/dev/null || true
	case $code in
	0) echo ok ;;
	1)
		if [[ -n $target ]] && jq -e --arg t "$target/" '[.verdict.regressions[].cell] | all(startswith($t))' "$work/cmp.json" >/dev/null 2>&1; then
			echo flag
		else
			echo other
		fi ;;
	*) echo refused ;;
	esac
}
printf '\n%-12s %-12s %5s %8s %8s %8s %8s\n' comparison gate pairs flagged other refused rate
tally() { # label what target pairs...
	local label=$1 what=$2 target=$3
	shift 3
	local n=0 f=0 o=0 r=0 res
	for p in "$@"; do
		res=$(compare "$work/${p%%:*}" "$work/${p#*:}" "$what" "$target")
		n=$((n + 1))
		case $res in flag) f=$((f + 1)) ;; other) o=$((o + 1)) ;; refused) r=$((r + 1)) ;; esac
	done
	awk -v l="$label" -v w="$what" -v n="$n" -v f="$f" -v o="$o" -v r="$r" -v aa="$([[ -z $target ]] && echo 1)" \
		'BEGIN {hit = aa ? f + o : f; printf "%-12s %-12s %5d %8d %8d %8d %7.0f%%\n", l, w, n, f, o, r, 100 * hit / n}'
}
aa=()
for i in $(seq 1 "$NBASE"); do for j in $(seq $((i + 1)) "$NBASE"); do aa+=("base$i:base$j"); done; done
for what in time time+counts; do
	tally "A/A" "$what" "" "${aa[@]}"
	for v in "instr+1%" "instr+2%" "instr+5%" "syscall+1"; do
		pairs=()
		for i in $(seq 1 "$NBASE"); do for j in $(seq 1 "$NNEW"); do pairs+=("base$i:$v.$j"); done; done
		tally "$v" "$what" "${target[$v]}" "${pairs[@]}"
	done
done
echo "(rate: A/A rows flagged in any cell = false alarms; variant rows flagged in the regressed cell only = detection)"
