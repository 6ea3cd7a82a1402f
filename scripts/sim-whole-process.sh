#!/usr/bin/env bash
# Tables of docs/sim.md "The whole process on the software EPC" (issue 20).
#
#   scripts/sim-whole-process.sh table RUN_DIR...
#   scripts/sim-whole-process.sh gc [CAP_BYTES]
#
# prints, per sim cell of the runs (ok attempts), the EPC loads and
# evictions per operation (samples' epc_loads, epc_evictions over their
# iterations), the median predicted slowdown over the measured base, and
# what the paging pass saw (cells.jsonl extra: its operations, the
# collector's cycles in them, the heap it reached, how its warm-up settled;
# absent in runs from before issue 20), and the cell's wall time.
# The runs themselves are `bench run ... --modes sim` (commands in docs/sim.md).
#
# gc builds workloads/swepc/testdata/gcsweep (with the overlay) and prints,
# with the whole process on the software EPC capped at CAP_BYTES (default:
# DC2s_v2's 56 MiB less a 6,963,200-byte image, as this host's probe
# measured), the EPC loads of forced collections over gokv stores of 12 to
# 98 MiB, and the steady state of a 24 MiB store whose every operation
# replaces a value, under GOGC 50/100/200 and GOMEMLIMIT=45MiB.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ ${1:-} == gc ]]; then
  cap=${2:-$((56 * 1048576 - 6963200))}
  bin=$(mktemp -d)/gcsweep
  (cd "$here/workloads/swepc" && "$here/scripts/build-sim.sh" "$bin" ./testdata/gcsweep)
  for mib in 12 24 36 45 60 98; do
    ENCLAVEBENCH_PROCESS_EPC=1 "$bin" "$cap" $((mib * 1048576)) 3
  done
  for e in GOGC=50 GOGC=100 GOGC=200 "GOGC=200 GOMEMLIMIT=45MiB" "GOGC=off GOMEMLIMIT=45MiB" "GOGC=100 GOMEMLIMIT=45MiB"; do
    env ENCLAVEBENCH_PROCESS_EPC=1 $e "$bin" "$cap" $((24 * 1048576)) steady 4000000
  done
  exit 0
fi
[[ ${1:-} == table ]] || { echo "usage: $0 table RUN_DIR... | gc [CAP_BYTES]" >&2; exit 2; }
shift
printf '| run | cell | EPC loads/op | evictions/op | predicted slowdown (median) | paging pass ops | GC cycles in it | heap reached (MiB) | cell wall (s) |\n|---|---|---|---|---|---|---|---|---|\n'
for d in "$@"; do
  run=$(basename "$d")
  # A record's cell name: stored up to result schema 2, derived from its
  # fields since (parameters in sorted order).
  jq -rs --arg run "$run" --slurpfile cells "$d/cells.jsonl" 'def cellname: (.cell // (((.workload[0:1] | ascii_upcase) + .workload[1:]) + ((.params // {}) | to_entries | map("/\(.key)=\(.value)") | join("")) + "/size=\(.size)/mode=\(.mode)"));
    ($cells | map(select(.status == "ok") | .cell = cellname) | map({(.cell): .}) | add // {}) as $c
    | map(.cell = cellname) | map(select(.mode == "sim")) | group_by(.cell)[] as $g
    | ($g | map(.iters) | add) as $n
    | ($g | map(.events.epc_loads // 0) | add) as $l
    | ($g | map(.events.epc_evictions // 0) | add) as $e
    | ($g | map(.model.predicted_ns / .model.base_ns) | sort) as $s
    | $c[$g[0].cell] as $x
    | [$run, ($g[0].cell | sub("/mode=sim$"; "")),
       ($l / $n * 1e4 | round / 1e4), ($e / $n * 1e4 | round / 1e4),
       ($s[($s | length) / 2 | floor] * 100 | round / 100),
       ($x.extra["epc_pass.ops"] // "-"), (if $x.extra["epc_pass"] then ($x.extra["epc_pass.gc_cycles"] // "0") else "-" end),
       (if $x.extra["epc_pass.heap_alloc_bytes"] then ($x.extra["epc_pass.heap_alloc_bytes"] | tonumber / 1048576 * 10 | round / 10) else "-" end),
       (if $x then ($x.wall_ns / 1e8 | round / 10) else "-" end)]
    | "| " + (map(tostring) | join(" | ")) + " |"' "$d/samples.jsonl"
done
