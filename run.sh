#!/usr/bin/env bash
# Builds the harness and runs the default suite into results/<run-id>/:
# the quick profile on the four DCsv2 sizes, natively and in the best
# enclave mode this machine has (sgx, else ego-sim and sim, else sim: sim
# comes along with ego-sim, which enforces no EPC limit, for the sizing
# figures), then writes the report. Extra arguments go to `bench run` (e.g. --profile full); a
# --sizes, --modes or --profile given there replaces the default above.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
# The harness version run.json and every cell record (--resume refuses
# another build, the report keeps runs of one version apart): git's
# description of the tree, -dirty when it has uncommitted changes. Without
# git, bench falls back to what Go stamped into the build.
version=$(git describe --always --dirty 2>/dev/null || true)
ldflags="-X main.commit=${commit}"
if [ -n "$version" ]; then ldflags="$ldflags -X main.version=${version}"; fi
go build -ldflags "$ldflags" -o bin/bench ./bench
# The plain workload statically linked (no cgo: only net would use it):
# the counting pass (--counts) starts it under Valgrind once per cell, and
# a dynamically linked one makes Valgrind read the C library's debug
# information at every start (docs/ci.md "Cost").
CGO_ENABLED=0 go build -o bin/workload ./workloads/cmd/workload
scripts/build-sim.sh bin/workload-sim
out="results/$(date -u +%Y%m%dT%H%M%SZ)"
status=0
# Defaults only for what the user did not ask for: list flags add up, so
# passing both would run the default sizes and modes as well as theirs.
defaults=()
for flag in modes:auto profile:quick sizes:dcsv2; do
  name=${flag%%:*}
  given=no
  for arg in "$@"; do
    case $arg in --"$name" | --"$name"=*) given=yes ;; esac
  done
  if [ "$given" = no ]; then defaults+=(--"$name" "${flag#*:}"); fi
done
bin/bench run "${defaults[@]}" -o "$out" "$@" || status=$?
if [ -f "$out/run.json" ]; then
  # A run with failed cells still gets its report, made from what finished.
  bin/bench report "$out" -o "$out/report" || status=$((status ? status : $?))
fi
exit $status
