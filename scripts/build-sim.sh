#!/usr/bin/env bash
# Builds a Go binary for the sim mode with the process-EPC runtime overlay
# (workloads/swepc/_overlay, docs/sim.md "The whole process on the software
# EPC"): go build -tags sim -overlay <generated json> -o OUT PKG.
#
#   scripts/build-sim.sh [OUT [PKG [go build flags...]]]   # default: bin/workload-sim ./workloads/cmd/workload
#
# BUILD_SIM_TAGS replaces the build tags (default: sim), e.g. sim,testhook;
# procepc is always added.
#
# The overlay replaces runtime/mem_linux.go of Go 1.26.8 and adds
# runtime/procepc_linux.go. It refuses any other toolchain's mem_linux.go
# (checked by SHA-256) rather than build a runtime it was not written for.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-bin/workload-sim}
pkg=${2:-}
shift $(( $# > 2 ? 2 : $# ))
if [[ -z $pkg ]]; then
	# The workload binary, built from the repository whatever the caller's directory.
	out=$(realpath -m "$out")
	cd "$here"
	pkg=./workloads/cmd/workload
fi
ov="$here/workloads/swepc/_overlay"
goroot=$(go env GOROOT)
goarch=$(go env GOARCH)
goos=$(go env GOOS)
if [[ $goos/$goarch != linux/amd64 ]]; then
	echo "build-sim.sh: the process-EPC overlay is for linux/amd64, not $goos/$goarch" >&2
	exit 2
fi
orig="$goroot/src/runtime/mem_linux.go"
want=$(cat "$ov/mem_linux.go.sha256")
got=$(sha256sum "$orig" | cut -d' ' -f1)
if [[ $got != "$want" ]]; then
	echo "build-sim.sh: $orig (go $(go env GOVERSION)) is not the file the overlay was made from (Go 1.26.8, sha256 $want): port workloads/swepc/_overlay/mem_linux.go to it" >&2
	exit 2
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/overlay.json" <<JSON
{"Replace": {
  "$goroot/src/runtime/mem_linux.go": "$ov/mem_linux.go",
  "$goroot/src/runtime/procepc_linux.go": "$ov/procepc_linux.go"
}}
JSON
# procepc: the code that calls into the overlay (workloads/swepc/kinds_overlay.go).
go build -tags "${BUILD_SIM_TAGS:-sim},procepc" -overlay "$dir/overlay.json" "$@" -o "$out" "$pkg"
