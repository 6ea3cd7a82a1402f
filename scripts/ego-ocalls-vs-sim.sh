#!/usr/bin/env bash
# Puts EGo's own OCALL count next to the sim mode's, per operation, for every
# quick-profile cell of one size (docs/sim.md keeps the table of the last run).
# Needs a real ego and a Go 1.26 ego-go on PATH (docs/ego.md, "EGo from source").
#
# EGo counts OCALLs per host function over the whole process when
# OE_TRACE_OCALLS=1 (--ego-trace-ocalls): enclave creation, calibration,
# warm-up and repetitions. The workload's done line says how many operations
# the process ran (ops_total), so two runs that differ only in repetitions
# give the rate without the fixed part:
#   EGo OCALLs/op = (ocalls(B) - ocalls(A)) / (ops(B) - ops(A))
# with A = --reps 1 --warmup 0 and B = the profile's repetitions. Clock reads
# (ocall_ert_clock_gettime_ocall) are shown apart: they are OCALLs only where the
# kernel gives Edgeless RT no vDSO clock (or with ERT_DISABLE_VDSO_CLOCK=1),
# and the sim counts them as in-enclave. Sim OCALLs/op = sum of the samples'
# ocalls / sum of their iterations.
#
# SIZE (default DC2s_v2); B=DIR reuses a run that has the ego-sim cells
# (with --ego-trace-ocalls) of the quick profile at SIZE, SIM=DIR one with
# its sim cells (default: B), A=DIR one with the ego-sim cells at --reps 1
# --warmup 0. WORKLOADS=a,b limits the runs to those workloads. Cells
# without an OCALL table (run without --ego-trace-ocalls, e.g. resumed by a
# harness from before --resume checked the flag) are listed as such, never
# read as zero.
#
# BREAKDOWN=REGEX adds, for every cell whose key matches, its OCALLs per
# operation by call: EGo's per OCALL function (B - A, as above) beside the
# sim counting pass's per system call (the sim cell's count_pass.* Extra;
# "clock:" marks what the sim scales by time), and the time per operation
# of both (EGo: its samples; sim: the timed pass's base and the counting
# pass). Sim cells recorded before count_pass.* existed show no sim side.
set -euo pipefail
cd "$(dirname "$0")/.."
export ENCLAVEBENCH_IMDS=off
size=${SIZE:-DC2s_v2}
wl=()
if [ -n "${WORKLOADS:-}" ]; then wl=(--workloads "$WORKLOADS"); fi
go build -o bin/bench ./bench
go build -o bin/workload ./workloads/cmd/workload
scripts/build-sim.sh bin/workload-sim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# run DIR ARGS...: bench run into DIR; cells that failed (Edgeless RT's
# exit-time SIGSEGV with tracing on, docs/ego.md) are rerun by up to two
# resumes, which must repeat --ego-trace-ocalls (run.json mode_settings).
run() {
  local dir=$1
  shift
  bin/bench run "$@" --progress never --timeout 10m -o "$dir" >/dev/null 2>"$tmp/log" && return
  for i in 1 2; do
    echo "$dir: $(grep -c FAILED "$tmp/log" || true) failed cell(s), resume $i" >&2
    bin/bench run --resume "$dir" --ego-trace-ocalls --progress never >/dev/null 2>"$tmp/log" && return
  done
  cat "$tmp/log" >&2
  return 1
}
b=${B:-}
if [ -z "$b" ]; then
  b=$tmp/b
  run "$b" --profile quick --sizes "$size" "${wl[@]}" --modes ego-sim,sim --ego-trace-ocalls
fi
a=${A:-}
if [ -z "$a" ]; then
  a=$tmp/a
  run "$a" --profile quick --sizes "$size" "${wl[@]}" --modes ego-sim --ego-trace-ocalls --reps 1 --warmup 0
fi

# key: workload params size (mode left out)
keyf='.workload + ((.params // {}) | to_entries | sort_by(.key) | map("\(.key)=\(.value)") | join(",") | if . == "" then "" else " " + . end)'
# A record's cell name: stored up to result schema 2, derived from its fields
# since (parameters in sorted order: enough to group by within a run).
cellname='def cellname: (.cell // (((.workload[0:1] | ascii_upcase) + .workload[1:]) + ((.params // {}) | to_entries | map("/\(.key)=\(.value)") | join("")) + "/size=\(.size)/mode=\(.mode)"));'
last() { jq -c "select(.size == \"$size\") | .cell = ($cellname cellname)" "$1/cells.jsonl" | jq -sc "group_by(.cell) | map(max_by(.attempt)) | .[]"; }
# The samples of each cell's last attempt at SIZE: a failed attempt (a
# crash at exit, then --resume) leaves its samples in samples.jsonl too.
samples() { jq -c --slurpfile c <(last "$1") "$cellname"' .cell = cellname | ($c | map({(.cell): .attempt}) | add // {}) as $L | select($L[.cell] == .attempt)' "$1/samples.jsonl"; }
last "$a" > "$tmp/a.cells"
last "$b" > "$tmp/b.cells"
samples "${SIM:-$b}" | jq -c "select(.mode == \"sim\") | {k: ($keyf), o: (.events.ocalls // 0), n: .iters}" \
  | jq -sc 'group_by(.k) | map({k: .[0].k, sim: ((map(.o) | add) / (map(.n) | add))}) | .[]' > "$tmp/sim"
# Driven workloads (httpserver) run no measurement loop: their operations
# are the requests of their samples.
iters() { samples "$1" | jq -c "select(.mode == \"ego-sim\") | {k: ($keyf), n: .iters}" \
  | jq -sc 'group_by(.k) | map({(.[0].k): (map(.n) | add)}) | add // {}'; }
iters "$a" > "$tmp/a.iters"
iters "$b" > "$tmp/b.iters"

echo "| cell ($size) | EGo OCALLs/op (clock apart) | EGo clock OCALLs/op | sim OCALLs/op | sim / EGo |"
echo "|---|---|---|---|---|"
jq -rn --slurpfile a <(jq -c "select(.mode == \"ego-sim\") | {k: ($keyf), s: .status, r: .reason, x: (.extra // {})}" "$tmp/a.cells") \
  --slurpfile b <(jq -c "select(.mode == \"ego-sim\") | {k: ($keyf), s: .status, r: .reason, x: (.extra // {})}" "$tmp/b.cells") \
  --slurpfile sim "$tmp/sim" --slurpfile ai "$tmp/a.iters" --slurpfile bi "$tmp/b.iters" '
  def num($x; $k): ($x[$k] // "0" | tonumber);
  def rs: if type == "number" then (. * 1000 | round / 1000) else . end;
  ($a | map({(.k): .}) | add) as $A | ($sim | map({(.k): .sim}) | add // {}) as $S |
  $b[] | . as $B | $A[$B.k] as $a1 |
  if $B.s != "ok" or $a1 == null or $a1.s != "ok" then
    "| \($B.k) | \($B.s): \($B.r // "") | | \($S[$B.k] // "" | rs) | |"
  elif $B.x.ocalls_total == null or $a1.x.ocalls_total == null then
    # Never read a missing table as zero OCALLs.
    "| \($B.k) | no OCALL trace (run without --ego-trace-ocalls) | | \($S[$B.k] // "" | rs) | |"
  else
    (if $B.x.ops_total then num($B.x; "ops_total") - num($a1.x; "ops_total")
     else ($bi[0][$B.k] // 0) - ($ai[0][$B.k] // 0) end) as $dn |
    (num($B.x; "ocall.ocall_ert_clock_gettime_ocall") - num($a1.x; "ocall.ocall_ert_clock_gettime_ocall")) as $dc |
    (num($B.x; "ocalls_total") - num($a1.x; "ocalls_total") - $dc) as $do |
    if $dn <= 0 then "| \($B.k) | no operation count (ops_total) | | \($S[$B.k] // "" | rs) | |"
    else
      ($do / $dn) as $e | ($S[$B.k]) as $s |
      def r3: (. * 1000 | round / 1000) | if . == 0 then 0 else . end;
      "| \($B.k) | \($e | r3) | \($dc / $dn | r3) | \(if $s == null then "" else ($s | r3) end) | \(if $s == null then "" elif ([$s, $e] | max) < 0.01 then "both < 0.01" else ($s / $e * 100 | round / 100) end) |"
    end
  end'

[ -n "${BREAKDOWN:-}" ] || exit 0
# One name per call on both sides: EGo's OCALL functions and the sim's
# system calls (pwrite64 is EGo's pwrite, a futex wait that calls out is
# oe_sgx_thread_timedwait, ...).
last "${SIM:-$b}" > "$tmp/sim.cells"
nsop() { samples "$1" | jq -c "select(.mode == \"$2\") | {k: ($keyf), t: (.model.base_ns // .elapsed_ns), n: .iters}" \
  | jq -sc 'group_by(.k) | map({(.[0].k): ((map(.t) | add) / (map(.n) | add))}) | add // {}'; }
nsop "$b" ego-sim > "$tmp/b.nsop"
nsop "${SIM:-$b}" sim > "$tmp/sim.nsop"
jq -rn --slurpfile a <(jq -c "select(.mode == \"ego-sim\") | {k: ($keyf), s: .status, x: (.extra // {})}" "$tmp/a.cells") \
  --slurpfile b <(jq -c "select(.mode == \"ego-sim\") | {k: ($keyf), s: .status, x: (.extra // {})}" "$tmp/b.cells") \
  --slurpfile sim <(jq -c "select(.mode == \"sim\") | {k: ($keyf), s: .status, x: (.extra // {})}" "$tmp/sim.cells") \
  --slurpfile ai "$tmp/a.iters" --slurpfile bi "$tmp/b.iters" --slurpfile en "$tmp/b.nsop" --slurpfile sn "$tmp/sim.nsop" \
  --arg re "$BREAKDOWN" '
  def num($x; $k): ($x[$k] // "0" | tonumber);
  def r3: (. * 1000 | round / 1000) | if . == 0 then 0 else . end;
  def ego: if . == "ocall_oe_sgx_thread_timedwait_ocall" then "futex_wait"
    elif . == "ocall_oe_sgx_thread_wake_multiple_ocall" then "futex_wake"
    elif . == "ocall_ert_create_thread_ocall" then "thread_create"
    elif . == "ocall_ert_clock_gettime_ocall" then "clock_gettime"
    else sub("^ocall_oe_syscall_"; "") | sub("_ocall$"; "") end;
  def simname: {pwrite64: "pwrite", pread64: "pread", openat: "open", unlinkat: "unlink", dup3: "dup",
    epoll_pwait: "epoll_wait", eventfd2: "eventfd", accept4: "accept", sendto: "send", recvfrom: "recv",
    oe_host_malloc: "HandleMalloc", oe_host_free: "HandleFree"}[.] // .;
  ($a | map({(.k): .}) | add) as $A | ($sim | map({(.k): .}) | add // {}) as $S |
  $b[] | select(.k | test($re)) | . as $B | $A[$B.k] as $a1 | $S[$B.k] as $s1 |
  select($B.s == "ok" and $a1 != null and $a1.s == "ok" and $B.x.ocalls_total != null and $a1.x.ocalls_total != null) |
  (if $B.x.ops_total then num($B.x; "ops_total") - num($a1.x; "ops_total")
   else ($bi[0][$B.k] // 0) - ($ai[0][$B.k] // 0) end) as $dn |
  select($dn > 0) |
  # EGo: per operation, by call.
  ([$B.x | keys[] | select(startswith("ocall.")) | . as $f |
    {c: ($f | ltrimstr("ocall.") | ego), v: ((num($B.x; $f) - num($a1.x; $f)) / $dn)}]
   | group_by(.c) | map({(.[0].c): (map(.v) | add)}) | add // {}) as $E |
  # Sim: the counting pass, per operation, by call; clock: apart.
  (if $s1 == null or ($s1.x.count_pass_ops // null) == null then null else
    num($s1.x; "count_pass_ops") as $po |
    [$s1.x | keys[] | select(startswith("count_pass.")) | . as $f | ($f | ltrimstr("count_pass.")) as $c |
      {c: ($c | ltrimstr("clock:") | simname), clock: ($c | startswith("clock:")), v: (num($s1.x; $f) / $po)}]
    | group_by(.c) | map({(.[0].c): {all: (map(.v) | add), clock: (map(select(.clock) | .v) | add // 0)}}) | add // {}
  end) as $P |
  "", "\($B.k): EGo \($en[0][$B.k] // 0 | . / 1000 | r3) µs/op; sim \($sn[0][$B.k] // 0 | . / 1000 | r3) µs/op timed" +
    (if $P == null then ", no counting pass recorded (sim cell without count_pass.*)"
     else ", \(num($s1.x; "count_pass_ns") / num($s1.x; "count_pass_ops") / 1000 | r3) µs/op counting pass" end),
  "", "| call | EGo OCALLs/op | sim OCALLs/op (counting pass) | of which clock-driven |", "|---|---|---|---|",
  ((($E | keys) + (($P // {}) | keys) | unique)[] as $c |
    select(([($E[$c] // 0), ($P[$c].all // 0)] | map(fabs) | max) >= 0.0005) |
    "| \($c) | \($E[$c] // 0 | r3) | \(if $P == null then "" else ($P[$c].all // 0 | r3) end) | \(if $P == null then "" else ($P[$c].clock // 0 | r3) end) |")'
