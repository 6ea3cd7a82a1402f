#!/bin/sh
# up.sh: a local Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler, from scripts/k8s/build.sh.
#
# Usage: scripts/k8s/up.sh STATE
#   STATE      a directory for the cluster's data, logs, certificates and pids
#              (scripts/k8s/down.sh STATE stops it)
# Environment:
#   K8S_BIN        the binaries (default ~/.cache/enclavebench/k8s-v1.37.2/bin)
#   K8S_API_PORT   the API server's port (default 16443)
#   K8S_ETCD_PORT  etcd's client port (default 22379); K8S_ETCD_PEER_PORT its peer port (default the next one)
# It writes STATE/kubeconfig (an admin, group system:masters) and returns once
# the API server is ready and the default service account exists.
#
# Nothing listens beyond 127.0.0.1. The service IP range is configuration
# only: no kube-proxy runs, and nothing is sent to it. The controller manager
# runs every default controller but the node lifecycle one, so that Node
# objects without a kubelet (bench/fleet/k8s TestClusterAdmitsAndSchedules)
# are not tainted unreachable. What that controller would do for a Ready
# node, lift the node.kubernetes.io/not-ready taint the API server puts on
# every new Node, node.sh and the test do themselves.
set -eu
[ "$#" -eq 1 ] || { echo "usage: up.sh STATE" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
state=$(cd "$1" && pwd)
bin=${K8S_BIN:-$HOME/.cache/enclavebench/k8s-v1.37.2/bin}
api_port=${K8S_API_PORT:-16443}
etcd_port=${K8S_ETCD_PORT:-22379}
peer_port=${K8S_ETCD_PEER_PORT:-$((etcd_port + 1))}
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
	[ -x "$bin/$b" ] || { echo "up.sh: $bin/$b: not built (scripts/k8s/build.sh)" >&2; exit 2; }
done

pki=$state/pki
mkdir -p "$state/logs" "$state/pids"
sh "$here/certs.sh" "$pki"

cat >"$state/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $pki/ca.crt
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: default}
current-context: local
users:
- name: admin
  user:
    client-certificate: $pki/admin.crt
    client-key: $pki/admin.key
YAML
printf 'K8S_BIN=%s\nK8S_API_PORT=%s\nK8S_ETCD_PORT=%s\n' "$bin" "$api_port" "$etcd_port" >"$state/env"

# start NAME CMD...: in the background, its own session, output to logs/NAME.log.
start() {
	name=$1
	shift
	if [ -f "$state/pids/$name.pid" ] && kill -0 "$(cat "$state/pids/$name.pid")" 2>/dev/null; then
		echo "up.sh: $name already runs (pid $(cat "$state/pids/$name.pid"))" >&2
		return 0
	fi
	setsid "$@" >>"$state/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$state/pids/$name.pid"
}

# wait_for WHAT SECONDS CMD...: until CMD succeeds.
wait_for() {
	what=$1 secs=$2
	shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt "$secs" ]; then
			echo "up.sh: $what not ready after ${secs}s; its log:" >&2
			tail -n 20 "$state/logs/$what.log" >&2
			exit 1
		fi
		sleep 1
	done
}

kc() { "$bin/kubectl" --kubeconfig "$state/kubeconfig" "$@"; }

t0=$(date +%s)
start etcd "$bin/etcd" --name local --data-dir "$state/etcd" \
	--listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
	--listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
	--initial-cluster "local=http://127.0.0.1:$peer_port" --log-level warn

start kube-apiserver "$bin/kube-apiserver" \
	--etcd-servers "http://127.0.0.1:$etcd_port" \
	--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
	--endpoint-reconciler-type none \
	--tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
	--client-ca-file "$pki/ca.crt" \
	--kubelet-client-certificate "$pki/admin.crt" --kubelet-client-key "$pki/admin.key" \
	--kubelet-preferred-address-types InternalIP \
	--service-account-issuer https://kubernetes.default.svc \
	--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
	--service-cluster-ip-range 10.96.0.0/24 \
	--authorization-mode Node,RBAC
wait_for kube-apiserver 120 kc get --raw /readyz

start kube-controller-manager "$bin/kube-controller-manager" \
	--kubeconfig "$state/kubeconfig" --leader-elect=false --secure-port 0 \
	--controllers '*,-node-lifecycle-controller' \
	--service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
	--use-service-account-credentials=false
start kube-scheduler "$bin/kube-scheduler" \
	--kubeconfig "$state/kubeconfig" --leader-elect=false --secure-port 0
# Pods need the namespace's default service account, which the controller
# manager creates.
wait_for kube-controller-manager 120 kc get serviceaccount default
echo "up.sh: control plane ready in $(($(date +%s) - t0))s: export KUBECONFIG=$state/kubeconfig"
