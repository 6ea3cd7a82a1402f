#!/usr/bin/env bash
# Runs every test of enclavebench: formatting, tidy modules, vet (plain,
# sim, ego, egoverify and testhook builds), dead code, and the unit,
# property, fuzz-seed and end-to-end tests. This is
# the command the README gives and .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
export ENCLAVEBENCH_IMDS=off # tests never wait for the Azure metadata service
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
if ! go mod tidy -diff; then
  echo "go.mod/go.sum are not tidy: run go mod tidy" >&2
  exit 1
fi
go vet ./...
go vet -tags sim ./...
go vet -tags ego ./workloads/... # the enclave build (EGo's library builds without EGo)
# The signature-checking verifier (bench verify built with -tags egoverify)
# links EGo's eclient through cgo and the Open Enclave host libraries; EGo's
# ego_mock_eclient tag swaps only that cgo call for a stub, so our code on
# that path is compiled and vetted here without Open Enclave installed.
go vet -tags egoverify,ego_mock_eclient ./bench ./bench/ego
# The slowdown test hook (scripts/check-compare.sh) lives behind -tags testhook.
go vet -tags testhook ./workloads/cmd/workload
go test -tags testhook -count=1 ./workloads/cmd/workload
# Dead code: functions that no command and no test reaches (x/tools'
# deadcode, pinned; the sim build reaches the most code).
dead=$(go run golang.org/x/tools/cmd/deadcode@v0.52.0 -tags sim -test ./...)
if [ -n "$dead" ]; then
  printf 'unreachable code (delete it, or use it):\n%s\n' "$dead" >&2
  exit 1
fi
go test -tags sim -count=1 -timeout 15m ./...
# The Kubernetes control-plane test alone, so its half minute of a busy
# core does not overlap the counting tests above (it skips, naming the
# build command, when scripts/k8s/build.sh has not built the binaries).
ENCLAVEBENCH_K8S_TEST=1 go test -tags sim -count=1 -run 'TestCluster' -v ./bench/fleet/k8s
