#!/usr/bin/env bash
# Side-by-side checks of the harness against peers on this machine:
#  1. the syscall workload's native ns/op vs `go test -bench` on the same loop
#     (target: within 5%);
#  2. memsweep's sequential read bandwidth vs `sysbench memory` for a working
#     set that fits in the last-level cache and one far larger (target: >= 80%);
#  3. the harness's own overhead per cell (BenchmarkHarnessOverhead, target < 1%).
# Prints the ratios. Needs sysbench (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh sysbench
export ENCLAVEBENCH_IMDS=off
go build -o bin/bench ./bench
go build -o bin/workload ./workloads/cmd/workload
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# cellmedian DIR UNIT: median of UNIT over every sample in DIR
cellmedian() { awk -F, -v u="$2" 'NR>1 && $11==u {print $12}' "$1/results.csv" | median; }

echo "== 1. syscall (pread 64 B): harness vs go test -bench, 2 CPUs, 8 runs each, interleaved"
for i in 1 2 3 4 5 6 7 8; do
  bin/bench run --workloads syscall --param syscall.call=read --sizes DC2s_v2 --reps 1 --warmup 1 --min-time 500ms \
    --progress never -o "$tmp/sys$i" >/dev/null
  cellmedian "$tmp/sys$i" ns/op >> "$tmp/harness.txt"
  go test -run XXX -bench 'BenchmarkPread$' -benchtime 500ms -cpu 2 ./workloads/syscall/ | awk '/^BenchmarkPread/ {print $3}' >> "$tmp/gotest.txt"
done
h=$(median < "$tmp/harness.txt"); g=$(median < "$tmp/gotest.txt")
awk -v h="$h" -v g="$g" 'BEGIN {printf "harness %.1f ns/op, go test -bench %.1f ns/op, ratio %.3f (|1-ratio| target < 0.05)\n", h, g, h/g}'

echo "== 2. memsweep seq read vs sysbench memory (1 thread)"
for ws in 1MiB 1GiB; do
  bytes=$(numfmt --from=iec-i --suffix=B "$ws" 2>/dev/null | tr -d B || true)
  bin/bench run --workloads memsweep --param memsweep.ws=$ws --param memsweep.access=seq --param memsweep.op=read \
    --sizes DC1s_v2 --reps 5 --min-time 300ms --progress never -o "$tmp/mem$ws" >/dev/null
  ours=$(cellmedian "$tmp/mem$ws" MB/s)
  blk=${ws%iB}
  # sysbench's MiB/sec -> MB/s; total size large enough for ~2 s.
  theirs=$(for i in 1 2 3; do sysbench memory --threads=1 --memory-block-size=${blk} --memory-total-size=200G \
      --memory-oper=read --memory-access-mode=seq --time=2 run | awk '/MiB\/sec/ {gsub(/[()]/,""); print $(NF-1)*1.048576}'; done | median)
  awk -v o="$ours" -v t="$theirs" -v ws="$ws" 'BEGIN {printf "ws=%s: memsweep %.0f MB/s, sysbench %.0f MB/s, ratio %.2f (target >= 0.80)\n", ws, o, t, o/t}'
done

echo "== 3. harness overhead per cell (full-profile cell: 10 reps of 200 ms)"
go test -run XXX -bench HarnessOverhead -benchtime 3x ./bench/runner/ | grep Benchmark
