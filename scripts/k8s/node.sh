#!/bin/sh
# node.sh: a real node for the cluster of scripts/k8s/up.sh: containerd,
# runc and the CNI plugins from Debian's packages, and the kubelet of the
# same Kubernetes tree. Each node has its own containerd (a kubelet removes
# containers of pods it does not know, so two kubelets must not share one).
#
# Usage: scripts/k8s/node.sh STATE NAME SIZE [INDEX]
#   NAME   the node's name, e.g. node-dc2s-v2
#   SIZE   the DCsv2 size it stands for: the node gets the label
#          node.kubernetes.io/instance-type=Standard_SIZE and the dedicated
#          pool's taint enclavebench=dedicated:NoSchedule (docs/fleet.md)
#   INDEX  0, 1, ...: keeps the ports, the bridge and the pod subnets of
#          several nodes apart (default 0)
# Environment: EPC=<quantity> advertises sgx.intel.com/epc, as the SGX device
# plugin would (no device is mounted: no machine here has SGX).
# The node has this machine's CPUs and memory, not the size's: runs on it
# record the real host (the run's oversubscription note says so).
#
# Needs root, cgroups (v1 here: the kubelet's failCgroupV1 is turned off),
# overlayfs, and network namespaces. Pods get an address on a bridge of
# their own (enclbrINDEX) with no gateway, no masquerading and no route out:
# nothing a pod sends can leave the machine.
set -eu
[ "$#" -ge 3 ] || { echo "usage: node.sh STATE NAME SIZE [INDEX]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
state=$(cd "$1" && pwd)
name=$2 size=$3 index=${4:-0}
[ -f "$state/env" ] || { echo "node.sh: $state: no cluster (scripts/k8s/up.sh STATE first)" >&2; exit 2; }
. "$state/env"
bin=$K8S_BIN
for b in containerd runc; do
	command -v "$b" >/dev/null 2>&1 || { echo "node.sh: $b is not installed (apt-get install containerd runc containernetworking-plugins)" >&2; exit 2; }
done
[ -x /usr/lib/cni/bridge ] || { echo "node.sh: /usr/lib/cni/bridge missing (apt-get install containernetworking-plugins)" >&2; exit 2; }
[ -x "$bin/kubelet" ] || { echo "node.sh: $bin/kubelet: not built (scripts/k8s/build.sh)" >&2; exit 2; }

dir=$state/nodes/$name
mkdir -p "$dir/net.d" "$dir/kubelet" "$dir/pod-logs"
sh "$here/certs.sh" "$state/pki" "$name"
pki=$state/pki
sock=$dir/containerd.sock

# containerd: its own root, state and socket; the CRI plugin's sandbox
# (pause) image is the one images.sh builds and imports.
cat >"$dir/containerd.toml" <<TOML
version = 2
root = "$dir/containerd"
state = "$dir/containerd-state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "enclavebench.local/pause:3.10.2"
  stream_server_address = "127.0.0.1"
  netns_mounts_under_state_dir = true
  # No lowering of the containers' OOM score (the kubelet asks -998 for the
  # pause container): it needs CAP_SYS_RESOURCE, which this sandbox's root
  # lacks, and runc's init then dies ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
TOML
# A bridge with no gateway and no masquerading, on a documentation-only
# range (RFC 5737 TEST-NET-2): pods have an address, and no route out.
cat >"$dir/net.d/10-enclavebench.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "enclavebench-$index", "plugins": [
  {"type": "bridge", "bridge": "enclbr$index", "isGateway": false, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "198.51.100.$((index * 64))/26"}]],
            "dataDir": "$dir/ipam"}},
  {"type": "loopback"}]}
JSON

# The kubelet's cgroups (cgroupfs driver, cgroup v1 here): under this
# process's own memory cgroup, so that the pods' memory is charged where
# the caller's is, in every v1 hierarchy the kubelet uses; the same path in
# each (the kubelet takes one cgroupRoot for all).
parent=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
cgroot=${parent%/}/enclavebench-$name
made=
for h in cpu cpuacct cpuset memory pids systemd blkio devices freezer; do
	base=/sys/fs/cgroup/$h
	[ -d "$base" ] || continue
	path=$base
	for part in $(echo "$cgroot" | tr '/' ' '); do
		path=$path/$part
		if [ ! -d "$path" ]; then
			mkdir "$path"
			# The first level made here: down.sh removes it.
			grep -qx "$path" "$dir/cgroups-made" 2>/dev/null || case " $made " in *" $h "*) ;; *) echo "$path" >>"$dir/cgroups-made"; made="$made $h" ;; esac
			# A new cpuset cgroup has no CPUs or memory nodes until given its parent's.
			if [ "$h" = cpuset ]; then
				cat "$(dirname "$path")/cpuset.cpus" >"$path/cpuset.cpus"
				cat "$(dirname "$path")/cpuset.mems" >"$path/cpuset.mems"
			fi
		fi
	done
done

port=$((10250 + index * 10))
cat >"$dir/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $port
readOnlyPort: 0
healthzPort: 0
containerRuntimeEndpoint: unix://$sock
cgroupDriver: cgroupfs
cgroupRoot: $cgroot
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
podLogsDir: $dir/pod-logs
registerWithTaints:
- {key: enclavebench, value: dedicated, effect: NoSchedule}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
resolvConf: /etc/resolv.conf
YAML
cat >"$dir/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$K8S_API_PORT", certificate-authority: $pki/ca.crt}
contexts:
- name: local
  context: {cluster: local, user: node}
current-context: local
users:
- name: node
  user: {client-certificate: $pki/node-$name.crt, client-key: $pki/node-$name.key}
YAML

pids=$state/pids
start() {
	pname=$1
	shift
	if [ -f "$pids/$pname.pid" ] && kill -0 "$(cat "$pids/$pname.pid")" 2>/dev/null; then return 0; fi
	setsid "$@" >>"$state/logs/$pname.log" 2>&1 </dev/null &
	echo $! >"$pids/$pname.pid"
}

start "containerd-$name" containerd --config "$dir/containerd.toml"
i=0
until ctr --address "$sock" version >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -le 60 ] || { echo "node.sh: containerd did not start:" >&2; tail -20 "$state/logs/containerd-$name.log" >&2; exit 1; }
	sleep 1
done
# The images: imported into the CRI plugin's namespace, k8s.io.
for img in "$state"/images/*.tar; do
	[ -f "$img" ] || continue
	ctr --address "$sock" -n k8s.io images import --no-unpack "$img" >/dev/null
done

# The kubelet sets six kernel tunables machine-wide (pkg/kubelet/cm
# setupKernelTunables: vm.overcommit_memory=1, kernel.panic=10,
# kernel.panic_on_oops=1, ...); with protectKernelDefaults it refuses to
# start instead. So their values are saved here and down.sh puts them back.
if [ ! -f "$state/sysctl.saved" ]; then
	for k in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
		echo "$k=$(sysctl -n "$k")"
	done >"$state/sysctl.saved.tmp"
	mv "$state/sysctl.saved.tmp" "$state/sysctl.saved"
fi
start "kubelet-$name" "$bin/kubelet" --config "$dir/kubelet.yaml" --kubeconfig "$dir/kubeconfig" \
	--root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" --hostname-override "$name" \
	--cloud-provider external --node-labels "node.kubernetes.io/instance-type=Standard_$size"
kc() { "$bin/kubectl" --kubeconfig "$state/kubeconfig" "$@"; }
# The node's address: the API server reaches the kubelet there for logs.
# A kubelet refuses a loopback --node-ip, so it runs with an external cloud
# provider (as AKS's nodes do), which leaves the addresses to a cloud
# controller; this script is that controller: InternalIP 127.0.0.1 and no
# Hostname address (the API server is told to use InternalIP only, so no
# name is looked up; the kubelet's port keeps the nodes apart), then it lifts the cloud provider's uninitialized taint.
i=0
until kc get node "$name" >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -le 120 ] || { echo "node.sh: node $name not registered after 120s" >&2; exit 1; }
	kill -0 "$(cat "$pids/kubelet-$name.pid")" 2>/dev/null || {
		echo "node.sh: the kubelet of $name exited; its log:" >&2
		grep -E '^[EF][0-9]{4}' "$state/logs/kubelet-$name.log" | tail -5 >&2
		exit 1
	}
	sleep 1
done
kc patch node "$name" --subresource=status --type=merge \
	-p "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"}]}}" >/dev/null
kc taint node "$name" node.cloudprovider.kubernetes.io/uninitialized:NoSchedule- >/dev/null 2>&1 || true
i=0
until kc get node "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True; do
	i=$((i + 1))
	kill -0 "$(cat "$pids/kubelet-$name.pid")" 2>/dev/null || {
		echo "node.sh: the kubelet of $name exited; its log:" >&2
		grep -E '^[EF][0-9]{4}' "$state/logs/kubelet-$name.log" | tail -5 >&2
		exit 1
	}
	[ "$i" -le 180 ] || { echo "node.sh: node $name not Ready after 180s; kubelet's log:" >&2; tail -30 "$state/logs/kubelet-$name.log" >&2; exit 1; }
	sleep 1
done
# The API server taints every new Node not-ready (TaintNodesByCondition); the
# node lifecycle controller, which up.sh leaves out, lifts it once Ready.
kc taint node "$name" node.kubernetes.io/not-ready:NoSchedule- >/dev/null 2>&1 || true
if [ -n "${EPC:-}" ]; then
	# As the SGX device plugin advertises it (docs: "Advertise Extended Resources for a Node").
	kc patch node "$name" --subresource=status --type=json \
		-p "[{\"op\":\"add\",\"path\":\"/status/capacity/sgx.intel.com~1epc\",\"value\":\"$EPC\"}]" >/dev/null
fi
echo "node.sh: $name ($size) Ready"
