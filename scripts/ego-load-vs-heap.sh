#!/usr/bin/env bash
# Enclave creation time against enclave.json heapSize, in EGo's simulation
# mode. Simulation mode still adds and measures every heap page when it
# creates the enclave, so the load time (launch to the workload's hello,
# the cells' load_ns) grows with heapSize. Runs memsweep (sequential reads)
# at several absolute footprints, which the harness turns into heap sizes
# (mapped working set + 64 MB), RUNS times, and prints per heapSize the
# median, min and max load time and a least-squares line over every cell.
# Needs a real ego and a Go 1.26 ego-go on PATH (docs/ego.md, "EGo from source").
#
#   scripts/ego-load-vs-heap.sh                  # 3 runs, DC2s_v2
#   RUNS=5 SIZE=DC8_v2 FOOTPRINTS=16MiB,1GiB scripts/ego-load-vs-heap.sh
#
# Timing: run it on a quiet host; the spread per heapSize shows the noise.
set -euo pipefail
cd "$(dirname "$0")/.."
export ENCLAVEBENCH_IMDS=off
runs=${RUNS:-3}
size=${SIZE:-DC2s_v2}
fps=${FOOTPRINTS:-16MiB,128MiB,256MiB,512MiB,1GiB}
go build -o bin/bench ./bench
go build -o bin/workload ./workloads/cmd/workload
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$runs"); do
  bin/bench run --modes ego-sim --workloads memsweep --footprint "$fps" \
    --param memsweep.access=seq --param memsweep.op=read --sizes "$size" \
    --reps 1 --warmup 0 --min-time 10ms --progress never -o "$tmp/r$i" >"$tmp/log" 2>&1 ||
    { echo "run $i: bench run failed (its ok cells still count):" >&2; tail -5 "$tmp/log" >&2; }
done
# heap_mb load_ms, one line per ok cell of every run
cat "$tmp"/r*/cells.jsonl |
  jq -r 'select(.status == "ok" and .load_ns > 0) | "\(.extra.ego_heap_mb) \(.load_ns / 1e6)"' >"$tmp/points"
n=$(wc -l <"$tmp/points")
if [ "$n" -lt 3 ]; then
  echo "only $n cells with a load time: nothing to fit" >&2
  exit 1
fi
ego_v=$(jq -r '.host.ego | "EGo \(.version) \(.commit[0:8]), Edgeless RT v\(.edgeless_rt_version // "?"), ego-go \(.go_version)"' "$tmp/r1/run.json")
echo "enclave load time against heapSize: $size, ego-sim, $runs runs, $ego_v, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| heapSize (MB) | cells | median (ms) | min (ms) | max (ms) |"
echo "|---:|---:|---:|---:|---:|"
sort -n -k1,1 -k2,2g "$tmp/points" | awk '
  function flush() { if (c) printf "| %d | %d | %.0f | %.0f | %.0f |\n", h, c, (c%2 ? v[(c+1)/2] : (v[c/2]+v[c/2+1])/2), v[1], v[c] }
  $1 != h { flush(); h = $1; c = 0 }
  { v[++c] = $2 }
  END { flush() }'
awk '{ x = $1; y = $2; n++; sx += x; sy += y; sxx += x*x; sxy += x*y; syy += y*y }
  END {
    b = (n*sxy - sx*sy) / (n*sxx - sx*sx); a = (sy - b*sx) / n
    r = (n*sxy - sx*sy) / sqrt((n*sxx - sx*sx) * (n*syy - sy*sy))
    printf "\nleast squares over %d cells: %.0f ms + %.1f ms per 100 MiB of heap, r² = %.2f\n", n, a, 100*b, r*r
  }' "$tmp/points"
