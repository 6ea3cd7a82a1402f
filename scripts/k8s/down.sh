#!/bin/sh
# down.sh: stop what scripts/k8s/up.sh and node.sh started in STATE, by the
# pids they recorded: kubelets (and put back the kernel tunables they set),
# then each node's containers and containerd
# (its shims are found by the node's own containerd socket path), then the
# control plane.
#
# Usage: scripts/k8s/down.sh STATE [--purge]
#   --purge also removes STATE (after unmounting what containerd and the
#   kubelet left mounted under it) and the nodes' bridges.
set -eu
[ "$#" -ge 1 ] || { echo "usage: down.sh STATE [--purge]" >&2; exit 2; }
state=$1
[ -d "$state/pids" ] || exit 0
state=$(cd "$state" && pwd)

stop() {
	f=$state/pids/$1.pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

for f in "$state"/pids/kubelet-*.pid; do
	[ -f "$f" ] && stop "$(basename "$f" .pid)"
done
# The kernel tunables the kubelets set (node.sh saved them).
if [ -f "$state/sysctl.saved" ] && ! ls "$state"/pids/kubelet-*.pid >/dev/null 2>&1; then
	while IFS= read -r kv; do sysctl -q -w "$kv" >/dev/null || true; done <"$state/sysctl.saved"
	rm -f "$state/sysctl.saved"
fi
for f in "$state"/pids/containerd-*.pid; do
	[ -f "$f" ] || continue
	n=$(basename "$f" .pid)
	sock=$state/nodes/${n#containerd-}/containerd.sock
	# The containers, then their shims (which outlive containerd).
	if [ -S "$sock" ]; then
		for task in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
			ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
		done
	fi
	for p in /proc/[0-9]*; do
		if (tr '\0' ' ' <"$p/cmdline") 2>/dev/null | grep -q -- "-address $sock "; then
			kill -KILL "${p#/proc/}" 2>/dev/null || true
		fi
	done
	stop "$n"
done
# The nodes' cgroups (node.sh made them), deepest first, once empty.
for f in "$state"/nodes/*/cgroups-made; do
	[ -f "$f" ] || continue
	while read -r cg; do
		case $cg in /sys/fs/cgroup/*) find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true ;; esac
	done <"$f"
done
for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do
	stop "$name"
done
if [ "${2:-}" = --purge ]; then
	# Mounts left under STATE (containerd's rootfs and shm mounts, kubelet's volumes), deepest first.
	awk -v s="$state/" 'index($2, s) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	for conf in "$state"/nodes/*/net.d/10-enclavebench.conflist; do
		[ -f "$conf" ] || continue
		br=$(sed -n 's/.*"bridge": "\([^"]*\)".*/\1/p' "$conf")
		[ -n "$br" ] && ip link del "$br" 2>/dev/null || true
	done
	rm -rf "$state"
fi
