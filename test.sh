#!/usr/bin/env bash
# Runs every test of enclavebench: formatting, vet (plain, sim and ego
# builds), and the unit, property, fuzz-seed and end-to-end tests. This is
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
go vet ./...
go vet -tags sim ./...
go build -tags ego ./workloads/... # the enclave build compiles (EGo's library builds without EGo)
go test -tags sim -count=1 -timeout 15m ./...
