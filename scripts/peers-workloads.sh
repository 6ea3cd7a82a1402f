#!/usr/bin/env bash
# Near-hardware checks of the workload suite on this machine, natively:
#  1. each workload's loop vs the plain library code at the same size
#     (go test benchmarks side by side in the packages):
#       aesgcm   BenchmarkAESGCMWorkload vs BenchmarkStdlibAESGCM   (target >= 0.90)
#       kvstore  BenchmarkKV vs BenchmarkGoMap                      (target >= 0.50)
#       compute  BenchmarkSHA256Workload vs BenchmarkStdlibSHA256   (target >= 0.90)
#       syscall  BenchmarkClockWorkload vs BenchmarkRawClockGettime (reported)
#  2. httpserver: the harness's load generator (workloads/loadgen) vs wrk against
#     the same server process with the same connections, in the two placements
#     bench run uses: "pinned" (server on CPU 0, client on CPU 1: a DC1s_v2
#     cell on a 2-CPU host, where the runner pins the load generator to the
#     CPUs the workload was not given) and "shared" (both unpinned, one
#     client thread per CPU: sizes that take every CPU) (target >= 0.90).
#  3. end to end through bench run, natively on DC1s_v2: aesgcm record=16KiB
#     dataset=0.5xEPC (MB/s of the cell) vs Go's crypto/cipher AES-GCM
#     Open+Seal of one 16 KiB record (BenchmarkStdlibAESGCM) (target >= 0.90).
# Rounds are interleaved (A B A B ...) so that a noisy neighbour hits both
# sides; the ratio is of the medians over rounds (throughput ratios: > 1
# means the workload is faster). Needs wrk (apt-get install wrk).
#
#   scripts/peers-workloads.sh [ROUNDS [PART...]]   (default 5; parts: loops http e2e, default all)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
shift || true
parts=${*:-loops http e2e}
want() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
scripts/install-deps.sh wrk
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

for pkg in aesgcm kvstore compute syscall; do
  go test -c -o "$tmp/$pkg.test" "./workloads/$pkg" >/dev/null
done
# bench PKG PATTERN BENCHTIME: one round, "name ns/op" lines appended to $tmp/PKG.txt
bench() {
  (cd "workloads/$1" && "$tmp/$1.test" -test.run XXX -test.bench "$2" -test.benchtime "$3" -test.cpu 1) |
    awk '/^Benchmark/ {print $1, $3}' >> "$tmp/$1.txt"
}
if want loops; then
echo "== 1. workload loops vs library code (go test -bench, $rounds interleaved rounds)"
for i in $(seq "$rounds"); do
  bench aesgcm 'AESGCMWorkload|StdlibAESGCM' 200ms
  bench kvstore 'KV$|GoMap' 1000000x
  bench compute 'SHA256' 300ms
  bench syscall 'ClockWorkload|RawClockGettime' 200ms
done
# ratio PKG OURS THEIRS CASE TARGET: ns/op of THEIRS/CASE over OURS/CASE, of
# the medians over rounds and of the best rounds (the least disturbed run of
# each side: on a shared machine the closer estimate of what the code can do)
ratio() {
  local o t ob tb
  o=$(awk -v n="Benchmark$2$4" '$1 == n {print $2}' "$tmp/$1.txt" | median)
  t=$(awk -v n="Benchmark$3$4" '$1 == n {print $2}' "$tmp/$1.txt" | median)
  ob=$(awk -v n="Benchmark$2$4" '$1 == n {print $2}' "$tmp/$1.txt" | sort -g | head -1)
  tb=$(awk -v n="Benchmark$3$4" '$1 == n {print $2}' "$tmp/$1.txt" | sort -g | head -1)
  awk -v o="$o" -v t="$t" -v ob="$ob" -v tb="$tb" -v c="$1 $4" -v g="$5" 'BEGIN {
    printf "%-30s median: workload %9.1f ref %9.1f ns/op ratio %.2f | best: %9.1f vs %9.1f ratio %.2f (target %s)\n", c, o, t, t/o, ob, tb, tb/ob, g}'
}
for r in 64 1024 16384 65536; do ratio aesgcm AESGCMWorkload StdlibAESGCM "/record=$r" ">= 0.90"; done
for c in uniform/read=95 uniform/read=50 zipf/read=95 zipf/read=50; do ratio kvstore KV GoMap "/dist=$c" ">= 0.50"; done
ratio compute SHA256Workload StdlibSHA256 "" ">= 0.90"
ratio syscall ClockWorkload RawClockGettime "" "~1"
fi

if want http; then

echo "== 2. httpserver: workloads/loadgen vs wrk, same server, same connections ($rounds interleaved rounds of 3 s)"
go build -o "$tmp/workload" ./workloads/cmd/workload
go build -o "$tmp/loadgen" ./workloads/loadgen/cmd/loadgen
conns=8
# One server per payload; two client placements: "pinned" puts the server on
# CPU 0 and the client (wrk -t1, loadgen GOMAXPROCS=1) on CPU 1; "shared"
# leaves both unpinned with one wrk thread per CPU, as bench run does.
for payload in 128B 64KiB; do
  mkfifo "$tmp/stdin-$payload"
  # The workload serves until its stdin closes: hold the fifo open on fd 3.
  GOMAXPROCS=1 "$tmp/workload" httpserver --param payload=$payload --param conns=$conns --size peer,vcpus=1,epc_bytes=0,mem_bytes=0 \
    < "$tmp/stdin-$payload" > "$tmp/server-$payload.out" &
  server_pid=$!
  exec 3> "$tmp/stdin-$payload"
  for _ in $(seq 100); do grep -q '"type":"ready"' "$tmp/server-$payload.out" && break; sleep 0.1; done
  addr=$(sed -n 's/.*"type":"ready".*"addr":"\([^"]*\)".*/\1/p' "$tmp/server-$payload.out")
  [ -n "$addr" ] || { echo "the server did not announce its address"; cat "$tmp/server-$payload.out"; exit 1; }
  for placement in pinned shared; do
    if [ $placement = pinned ]; then
      [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null || continue
      taskset -apc 0 "$server_pid" >/dev/null
      cli="taskset -c 1" wt=1 gmp=1
    else
      taskset -apc 0-$(($(nproc)-1)) "$server_pid" >/dev/null
      cli="" wt=$(nproc) gmp=$(nproc)
    fi
    f="$tmp/$payload-$placement"
    for i in $(seq "$rounds"); do
      $cli wrk -t$wt -c$conns -d3s --latency "http://$addr/payload" > "$tmp/wrk.out"
      awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out" >> "$f-wrk.txt"
      awk '$1 == "50%" || $1 == "99%" {print $2}' "$tmp/wrk.out" | paste -sd' ' > "$f-wrk-lat.txt"
      GOMAXPROCS=$gmp $cli "$tmp/loadgen" -addr "$addr" -path /payload -c $conns -d 3s > "$tmp/lg.out"
      awk '{print $6}' "$tmp/lg.out" >> "$f-lg.txt"
      awk '{print $8 "us " $10 "us"}' "$tmp/lg.out" > "$f-lg-lat.txt"
    done
    w=$(median < "$f-wrk.txt"); l=$(median < "$f-lg.txt")
    awk -v w="$w" -v l="$l" -v p="$payload" -v c=$conns -v pl=$placement 'BEGIN {
      printf "payload=%-6s conns=%d %-6s: loadgen %8.0f req/s  wrk %8.0f req/s  ratio %.2f (target >= 0.90)\n", p, c, pl, l, w, l/w}'
    echo "   p50 p99 (last round): loadgen $(cat "$f-lg-lat.txt")   wrk $(cat "$f-wrk-lat.txt")"
  done
  exec 3>&-
  wait "$server_pid" || true
  server_pid=""
done
fi

if want e2e; then
echo "== 3. end to end: bench run aesgcm record=16KiB dataset=0.5xEPC on DC1s_v2 (native) vs crypto/cipher Open+Seal ($rounds interleaved rounds)"
go build -o "$tmp/bench" ./bench
go build -o "$tmp/workload" ./workloads/cmd/workload
: > "$tmp/e2e-run.txt"
for i in $(seq "$rounds"); do
  "$tmp/bench" run --workload-bin "$tmp/workload" --workloads aesgcm --param aesgcm.record=16KiB \
    --param aesgcm.dataset=0.5xEPC --sizes DC1s_v2 --modes native --progress never -o "$tmp/e2e-$i" > /dev/null 2>&1
  # the cell's median MB/s over its repetitions, from the run's samples CSV
  awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next} $c["unit"] == "MB/s" {print $c["value"]}' "$tmp/e2e-$i/results.csv" |
    median >> "$tmp/e2e-run.txt"
  bench aesgcm 'StdlibAESGCM/record=16384$' 200ms
done
awk '/StdlibAESGCM\/record=16384/ {printf "%.1f\n", 16384 / $2 * 1000}' "$tmp/aesgcm.txt" > "$tmp/e2e-ref.txt"
o=$(median < "$tmp/e2e-run.txt"); t=$(median < "$tmp/e2e-ref.txt")
ob=$(sort -g "$tmp/e2e-run.txt" | tail -1); tb=$(sort -g "$tmp/e2e-ref.txt" | tail -1)
awk -v o="$o" -v t="$t" -v ob="$ob" -v tb="$tb" 'BEGIN {
  printf "aesgcm record=16KiB 0.5xEPC DC1s_v2  median: bench run %7.0f MB/s  crypto/cipher %7.0f MB/s  ratio %.2f | best: %7.0f vs %7.0f ratio %.2f (target >= 0.90)\n", o, t, o/t, ob, tb, ob/tb}'
fi
