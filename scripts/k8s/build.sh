#!/bin/sh
# build.sh: build the local cluster's binaries from the Go module proxy,
# outside the repository (nothing fetched is committed).
#
# Usage: scripts/k8s/build.sh [CACHE]
#   CACHE defaults to $ENCLAVEBENCH_K8S (or ~/.cache/enclavebench/k8s-v1.37.2).
#   Binaries land in CACHE/bin: kube-apiserver, kube-controller-manager,
#   kube-scheduler, kubelet, kubectl, etcd.
#
# How: the k8s.io/kubernetes module zip leaves out staging/, which its go.mod
# replaces k8s.io/api, k8s.io/apimachinery, ... with. The source is copied to
# CACHE/src and each `k8s.io/X => ./staging/src/k8s.io/X` replace is dropped
# for a require of the published k8s.io/X at the matching v0 version (the
# staging repositories are published from the same tree with the same tag).
# etcd: a three-line main calling go.etcd.io/etcd/server/v3/etcdmain.Main.
# About 10 minutes on 2 idle cores; each step is skipped when its binary is
# there. Run it niced when others share the machine:
#   nice -n 10 scripts/k8s/build.sh >/tmp/k8s-build.log 2>&1 &
set -eu

K8S_VERSION=${K8S_VERSION:-v1.37.2}
# The staging modules are tagged v0.<minor>.<patch> for v1.<minor>.<patch>.
STAGING_VERSION=v0.${K8S_VERSION#v1.}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
cache=${1:-${ENCLAVEBENCH_K8S:-$HOME/.cache/enclavebench/k8s-$K8S_VERSION}}
bin=$cache/bin
mkdir -p "$bin"
export GOWORK=off GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { echo "k8s-build: $(date -u +%H:%M:%S) $*"; }

src=$cache/src
if [ ! -f "$src/.prepared" ]; then
	log "downloading k8s.io/kubernetes@$K8S_VERSION"
	dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || { echo "k8s-build: go mod download gave no directory" >&2; exit 1; }
	rm -rf "$src"
	cp -r "$dir" "$src"
	chmod -R u+w "$src"
	rm -f "$src/go.work" "$src/go.work.sum"
	# Every staging replace becomes a require of the published module.
	edits=$(sed -n 's|^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*$|\1|p' "$src/go.mod")
	[ -n "$edits" ] || { echo "k8s-build: no staging replaces in go.mod" >&2; exit 1; }
	args=
	for m in $edits; do
		args="$args -dropreplace=$m"
		# Only the ones the tree requires (some, like sample-cli-plugin, are not published).
		if grep -q "^[[:space:]]*$m v0.0.0" "$src/go.mod"; then
			args="$args -require=$m@$STAGING_VERSION"
		fi
	done
	# shellcheck disable=SC2086
	(cd "$src" && go mod edit $args)
	log "resolving modules"
	(cd "$src" && GOFLAGS=-mod=mod go mod download)
	touch "$src/.prepared"
fi

for cmd in kube-apiserver kube-scheduler kube-controller-manager kubectl; do
	if [ -x "$bin/$cmd" ]; then continue; fi
	log "building $cmd"
	(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$bin/$cmd" "./cmd/$cmd")
done

if [ ! -x "$bin/etcd" ]; then
	log "building etcd $ETCD_VERSION"
	e=$cache/etcd
	mkdir -p "$e"
	cat >"$e/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
	[ -f "$e/go.mod" ] || (cd "$e" && go mod init local/etcd 2>/dev/null)
	(cd "$e" && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && GOFLAGS=-mod=mod go mod tidy &&
		CGO_ENABLED=0 go build -trimpath -o "$bin/etcd" .)
fi
# The node's kubelet last: the control plane (CI's check) needs the others only.
if [ ! -x "$bin/kubelet" ]; then
	log "building kubelet"
	(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$bin/kubelet" ./cmd/kubelet)
fi
log "done: $(ls "$bin" | tr '\n' ' ')"
