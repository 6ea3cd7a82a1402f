#!/usr/bin/env bash
# check-gate-scale.sh: the regression gate at the README's CI scale, with real
# runs: syscall and memsweep, quick grids, on the four DCsv2 sizes (60 cells),
# native, `bench run --baseline` with one repetition per process. The
# candidate is the baseline build run through a wrapper that sets the test
# hook ENCLAVEBENCH_TEST_SLOWDOWN=memsweep=FACTOR for ONE cell only (memsweep
# ws=0.7xEPC random read on DC2s_v2), or for every memsweep cell with
# GATE_SLOW=all. Prints bench compare's verdict and gate line; with
# GATE_BEFORE=<bench binary> also that binary's verdict on the same data.
#
# Environment (defaults): GATE_REPS=10 GATE_FACTOR=2 GATE_SLOW=one|all
# GATE_MODES=native GATE_KEEP=<dir to keep the runs in> GATE_BEFORE=<bench>.
# Takes 10-20 minutes on 2 busy vCPUs.
set -euo pipefail

cd "$(dirname "$0")/.."
REPS=${GATE_REPS:-10}
FACTOR=${GATE_FACTOR:-2}
SLOW=${GATE_SLOW:-one}
MODES=${GATE_MODES:-native}
if [[ -n "${GATE_KEEP:-}" ]]; then
	work=$GATE_KEEP
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/check-gate-scale.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
export ENCLAVEBENCH_IMDS=off

go build -o "$work/bin/bench" ./bench
go build -tags testhook -o "$work/bin/workload" ./workloads/cmd/workload
case $SLOW in
one) match='*"ws=0.7xEPC --param access=random --param op=read --size DC2s_v2,"*' ;;
all) match='memsweep*' ;;
*) echo "check-gate-scale: GATE_SLOW=$SLOW: want one or all" >&2; exit 2 ;;
esac
cat >"$work/bin/slowed" <<WRAP
#!/bin/sh
# The candidate: the same build, made $FACTOR x slower in the slowed cell(s).
case "\$*" in
$match) ENCLAVEBENCH_TEST_SLOWDOWN=memsweep=$FACTOR; export ENCLAVEBENCH_TEST_SLOWDOWN ;;
esac
exec "$work/bin/workload" "\$@"
WRAP
chmod +x "$work/bin/slowed"

echo "check-gate-scale: $SLOW memsweep cell(s) ${FACTOR}x slower, $REPS repetitions a side, $MODES, load $(cut -d' ' -f1-3 /proc/loadavg); work in $work"
start=$(date +%s)
"$work/bin/bench" run --baseline "$work/bin/workload" --workload-bin "$work/bin/slowed" --workloads syscall,memsweep \
	--sizes dcsv2 --modes "$MODES" --profile quick --reps "$REPS" --progress never -o "$work/ab" >/dev/null
echo "check-gate-scale: ran in $(($(date +%s) - start)) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
verdict() {
	set +e
	"$1" compare "$work/ab/base" "$work/ab/new" --fail-on regression >"$work/compare.txt" 2>/dev/null
	local code=$?
	set -e
	grep -E '^(verdict|gate|  regression|  improvement):' "$work/compare.txt" | cut -c1-400
	echo "exit $code"
}
if [[ -n "${GATE_BEFORE:-}" ]]; then
	echo "--- before ($GATE_BEFORE)"
	verdict "$GATE_BEFORE"
	echo "--- now"
fi
verdict "$work/bin/bench"
