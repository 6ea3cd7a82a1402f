#!/usr/bin/env bash
# detection.sh: how often the regression gate (bench compare --fail-on
# regression) flags an injected regression, and how often it flags a build
# compared with itself, for time alone and for time plus counts (bench run
# --counts), on this host as it is (docs/ci.md keeps the figures).
#
# Every trial is the shipped workflow's measurement: ONE `bench run
# --baseline BASE --workload-bin CANDIDATE --counts`, base and candidate of
# each cell back to back in seeded random order, one repetition per
# process, compared with the workflow's flags (--fail-on regression
# --allow-unmatched --min-effect 5). Trials are independent: each has its
# own runs. "time" is bench compare on the same trial's bench.txt files with
# the count units (run.json counts.events) removed.
#
# Small trials: compute task=sha256 and syscall call=read on DET_SIZE,
# native. The candidate is the -tags testhook build of this tree with its
# regression linked in (-ldflags -X main.builtinWork=..., docs/ci.md), the
# base the same build without; kinds:
#   A/A:       the base build against a copy of itself;
#   instr+1%, +2%, +5%: compute=loops:K, K loop iterations (7 instructions
#       each) making that share of compute sha256's instructions per
#       operation (from a counted calibration run);
#   syscall+1: syscall=calls:1 (one getppid more per pread).
# A trial "flags" when compare exits 1; exit 2 (the gate refuses its input)
# is counted apart. Detection counts a flag of the regressed cell; a flag of
# any other cell is a false alarm ("other"). Each rate is printed with its
# exact one-sided 95% bound (Clopper-Pearson); a run that wrote no
# bench.txt is no trial and is counted apart ("unfinished").
#
# Streams in parallel (separate DET_KEEP, distinct DET_SEED) pool by linking
# their trial directories into one directory as KIND.1..KIND.N beside one
# stream's bin and calibration, then DET_REUSE=1 DET_TRIALS=N on it.
#
# Scale trials (DET_SCALE_TRIALS, default 0, each a pair): syscall and
# memsweep, quick grids, on DET_SCALE_SIZES (default the four DCsv2 sizes:
# 60 cells; it must include DC2s_v2), DET_SCALE_REPS repetitions a side;
# two candidates change one cell (memsweep ws=0.7xEPC random read on
# DC2s_v2, -X main.builtinOnly naming the cell's arguments): scale2x
# busy-waits until each run lasted twice as long (-X
# main.builtinSlowdown=memsweep=2: time only; under Valgrind the spin
# follows Valgrind's clock, so what it adds to the counted instructions is
# no count of work), scalework runs DET_SCALE_LOOPS (300) loop iterations
# more per operation: work that counts see (3.2x the cell's time in the
# one trial measured, docs/ci.md).
#
# Environment (defaults): DET_TRIALS=20 (per kind) DET_KINDS="A/A instr+1%
# instr+2% instr+5% syscall+1" DET_REPS=6 DET_MIN_TIME=10ms DET_SIZE=DC1s_v2
# DET_SCALE_TRIALS=0 DET_SCALE_REPS=10 DET_SCALE_SIZES=dcsv2
# DET_SCALE_LOOPS=300 DET_KEEP=<dir to keep the trials in>
# DET_SEED=<random>; DET_REUSE=1 analyses the trials already in DET_KEEP
# and runs only those missing. Run it under nice: it takes 1-2 minutes
# per small trial and 20-30 per scale trial on 2 busy vCPUs.
set -euo pipefail

cd "$(dirname "$0")/.."
TRIALS=${DET_TRIALS:-20}
KINDS=${DET_KINDS:-"A/A instr+1% instr+2% instr+5% syscall+1"}
REPS=${DET_REPS:-6}
MIN_TIME=${DET_MIN_TIME:-10ms}
SIZE=${DET_SIZE:-DC1s_v2}
SCALE=${DET_SCALE_TRIALS:-0}
SCALE_REPS=${DET_SCALE_REPS:-10}
SCALE_SIZES=${DET_SCALE_SIZES:-dcsv2}
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
bin=$work/bin
mkdir -p "$bin"
go build -o "$bin/bench" ./bench
# hook NAME LDFLAGS: a -tags testhook workload binary with its hooks linked in.
hook() { CGO_ENABLED=0 go build -tags testhook -ldflags "$2" -o "$bin/$1" ./workloads/cmd/workload; }
hook base ""
cp "$bin/base" "$bin/A-A" # the same build under another name: a candidate identical to its base

echo "detection: seed $SEED, $TRIALS trials per kind ($KINDS), $REPS reps of $MIN_TIME, $SIZE; $SCALE scale trial(s); in $work; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [[ ! -f $work/calibration/bench.txt ]]; then
	rm -rf "$work/calibration"
	"$bin/bench" run --counts --workloads compute --param compute.task=sha256 --sizes "$SIZE" --modes native \
		--reps 1 --min-time "$MIN_TIME" --progress never --workload-bin "$bin/base" -o "$work/calibration" >"$work/calibration.log" 2>&1
fi
instr=$(jq -s '[.[] | select(.workload == "compute") | .events.instructions / .iters] | .[0]' "$work/calibration/samples.jsonl")
echo "compute sha256: $instr instructions/op" >&2
declare -A work_of target_of
for pct in 1 2 5; do
	work_of[instr+$pct%]="compute=loops:$(awk -v i="$instr" -v p="$pct" 'BEGIN {printf "%d", i * p / 100 / 7 + 0.5}')"
	target_of[instr+$pct%]=Compute
done
work_of[syscall+1]="syscall=calls:1"
target_of[syscall+1]=Syscall
for k in "${!work_of[@]}"; do hook "$k" "-X main.builtinWork=${work_of[$k]}"; done
scaleCell="ws=0.7xEPC --param access=random --param op=read --size DC2s_v2,"
hook scale2x "-X main.builtinSlowdown=memsweep=2 -X 'main.builtinOnly=$scaleCell'"
target_of[scale2x]="Memsweep/ws=0.7xEPC/access=random/op=read/size=DC2s_v2/"
hook scalework "-X main.builtinWork=memsweep=loops:${DET_SCALE_LOOPS:-300} -X 'main.builtinOnly=$scaleCell'"
target_of[scalework]=${target_of[scale2x]}

# trial DIR CANDIDATE ARGS...: one interleaved run into DIR/base, DIR/new.
trial() {
	local dir=$1 cand=$2
	shift 2
	if [[ -n ${DET_REUSE:-} && -f $dir/new/bench.txt && -f $dir/base/bench.txt ]]; then return; fi
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "$(cut -d' ' -f1-3 /proc/loadavg)" >"$dir/load.start"
	"$bin/bench" run --baseline "$bin/base" --workload-bin "$bin/$cand" --counts --progress never "$@" -o "$dir" >"$dir.log" 2>&1 || true
	echo "$(cut -d' ' -f1-3 /proc/loadavg)" >"$dir/load.end"
}
# timeonly DIR: DIR/bench.txt without the count units, in DIR/time.txt.
timeonly() {
	local units
	units=$(jq -r '(.counts.events // {}) | keys[] | . + "/op"' "$1/run.json" | paste -sd' ')
	awk -v drop="$units" 'BEGIN {n = split(drop, d, " "); for (i = 1; i <= n; i++) skip[d[i]] = 1}
		/^Benchmark/ {out = $1 " " $2; for (i = 3; i < NF; i += 2) if (!($(i+1) in skip)) out = out " " $i " " $(i+1); print out; next}
		{print}' "$1/bench.txt" >"$1/time.txt"
}
# judge DIR KIND WHAT: compares DIR's sides; prints flag, flag+other, other,
# ok or refused, and appends the verdict's rows to verdicts.jsonl.
judge() {
	local dir=$1 kind=$2 what=$3 code=0 a b target=${target_of[$2]:-}
	if [[ $what == time ]]; then
		timeonly "$dir/base"
		timeonly "$dir/new"
		a=$dir/base/time.txt b=$dir/new/time.txt
	else
		a=$dir/base b=$dir/new
	fi
	"$bin/bench" compare "$a" "$b" --fail-on regression --allow-unmatched --min-effect 5 --format json -o "$dir/cmp.$what.json" >/dev/null 2>&1 || code=$?
	jq -c --arg w "$what" --arg k "$kind" --arg d "$(basename "$dir")" --arg l "$(cat "$dir/load.start" 2>/dev/null)" \
		'{trial: $d, kind: $k, what: $w, load: $l, status: .verdict.status, summary: .verdict.summary,
		  regressions: [.verdict.regressions[] | {cell, unit, gate, delta_pct, p, p_adjusted}]}' \
		"$dir/cmp.$what.json" >>"$work/verdicts.jsonl" 2>/dev/null || true
	case $code in
	0) echo ok ;;
	1)
		local hit=no other=no
		if [[ -n $target ]] && jq -e --arg t "$target" 'any(.verdict.regressions[].cell; startswith($t))' "$dir/cmp.$what.json" >/dev/null 2>&1; then hit=yes; fi
		if jq -e --arg t "${target:-^}" 'any(.verdict.regressions[].cell; startswith($t) | not)' "$dir/cmp.$what.json" >/dev/null 2>&1; then other=yes; fi
		case $hit$other in yesno) echo flag ;; yesyes) echo flag+other ;; *) echo other ;; esac ;;
	*) echo refused ;;
	esac
}

# The trials, shuffled, so that the host's load falls on every kind alike.
todo=()
for k in $KINDS; do
	[[ $k == A/A || -n ${work_of[$k]:-} ]] || { echo "detection: unknown kind $k" >&2; exit 2; }
	for i in $(seq 1 "$TRIALS"); do todo+=("$k|$i"); done
done
for i in $(seq 1 "$SCALE"); do todo+=("scale2x|$i" "scalework|$i"); done
for ((i = ${#todo[@]} - 1; i > 0; i--)); do
	j=$((RANDOM % (i + 1)))
	t=${todo[i]} todo[i]=${todo[j]} todo[j]=$t
done
start=$(date +%s)
n=1
for t in "${todo[@]}"; do
	kind=${t%%|*} i=${t#*|}
	cand=${kind//\//-}
	dir=$work/${cand}.$i
	echo "  trial $n/${#todo[@]}: $kind #$i (load $(cut -d' ' -f1 /proc/loadavg), $(($(date +%s) - start)) s)" >&2
	if [[ $kind == scale* ]]; then
		trial "$dir" "$cand" --workloads syscall,memsweep --sizes "$SCALE_SIZES" --modes native --profile quick --reps "$SCALE_REPS"
	else
		trial "$dir" "$cand" --workloads compute,syscall --param compute.task=sha256 --param syscall.call=read \
			--sizes "$SIZE" --modes native --reps "$REPS" --min-time "$MIN_TIME"
	fi
	n=$((n + 1))
done
echo "trials done in $(($(date +%s) - start)) s" >&2

rm -f "$work/verdicts.jsonl"
# rate with its exact one-sided 95% bound (Clopper-Pearson): the upper
# bound of the false alarm rate for A/A, the lower bound of detection else.
rate() {
	awk -v l="$1" -v w="$2" -v n="$3" -v f="$4" -v o="$5" -v r="$6" -v u="$7" '
	function cdf(k, n, p,   i, t, s) { # P(X <= k), X ~ Binomial(n, p)
		if (k < 0) return 0
		if (k >= n || p <= 0) return 1
		if (p >= 1) return 0
		t = n * log(1 - p); s = exp(t)
		for (i = 1; i <= k; i++) { t += log((n - i + 1) / i) + log(p / (1 - p)); s += exp(t) }
		return s
	}
	function bound(k, n, upper,   lo, hi, m, j) {
		if (upper && k >= n) return 1
		if (!upper && k <= 0) return 0
		lo = 0; hi = 1
		for (j = 0; j < 60; j++) {
			m = (lo + hi) / 2
			if (upper ? cdf(k, n, m) <= 0.05 : 1 - cdf(k - 1, n, m) >= 0.05) hi = m; else lo = m
		}
		return (lo + hi) / 2
	}
	BEGIN {
		k = l == "A/A" ? o : f
		b = n ? sprintf("%s%.1f%%", l == "A/A" ? "<=" : ">=", 100 * bound(k, n, l == "A/A")) : "-"
		printf "%-10s %-12s %6d %8d %8d %8d %6.0f%% %9s %8d\n", l, w, n, f, o, r, n ? 100 * k / n : 0, b, u
	}'
}
printf '\n%-10s %-12s %6s %8s %8s %8s %7s %9s %8s\n' kind gate trials detected other refused rate bound unfinished
for kind in $KINDS $([[ $SCALE -gt 0 ]] && echo scale2x scalework); do
	declare -A res=([time]="0 0 0 0" [time+counts]="0 0 0 0")
	unfinished=0
	for dir in "$work/${kind//\//-}".*; do
		[[ -d $dir ]] || continue
		# A run that wrote no bench.txt is no trial; it is counted apart, not
		# dropped unseen (its log is $dir.log).
		if [[ ! -f $dir/new/bench.txt || ! -f $dir/base/bench.txt ]]; then
			unfinished=$((unfinished + 1))
			continue
		fi
		for what in time time+counts; do
			read -r nn f o r <<<"${res[$what]}"
			case $(judge "$dir" "$kind" "$what") in
			flag) f=$((f + 1)) ;;
			flag+other) f=$((f + 1)) o=$((o + 1)) ;;
			other) o=$((o + 1)) ;;
			refused) r=$((r + 1)) ;;
			esac
			res[$what]="$((nn + 1)) $f $o $r"
		done
	done
	for what in time time+counts; do
		read -r nn f o r <<<"${res[$what]}"
		rate "$kind" "$what" "$nn" "$f" "$o" "$r" "$unfinished"
	done
done
echo "(each trial: one bench run --baseline --counts; detected: the regressed cell flagged; other: a trial with"
echo " another cell flagged (a false alarm). rate: A/A false alarms, else detection; bound: its exact one-sided"
echo " 95% bound (Clopper-Pearson); unfinished: runs that wrote no bench.txt, not counted as trials."
echo " Verdicts with each flagged row's change and p in $work/verdicts.jsonl; loads in each trial's load.start)"
echo "A/A trials that flagged something:"
jq -r 'select(.kind == "A/A" and (.regressions | length) > 0) |
	"  \(.trial) \(.what) (load \(.load)): " + ([.regressions[] | "\(.cell | split("/size") | .[0]) \(.unit) \(.gate) \(.delta_pct * 10 | round / 10)% p_adj=\(.p_adjusted // "-")"] | join("; "))' \
	"$work/verdicts.jsonl"
