#!/bin/sh
# e2e.sh: the fleet path end to end on a local Kubernetes: bench plan --k8s
# -> kubectl apply -> Jobs run the suite in containers (containerd, runc,
# the Jobs' hardened securityContext) -> kubectl logs -> bench collect ->
# bench report, compared cell by cell with a direct bench run of the same
# plan; then a pod killed mid-run, collected as a partial run and finished
# with bench run --resume.
#
# Usage: [SIM_PROFILE=1] scripts/k8s/e2e.sh [STATE]
#   STATE  the cluster's directory (default: a new temporary one, removed at
#          the end unless KEEP=1)
# Needs root. What is missing is installed first: containerd, runc,
# containernetworking-plugins, jq, openssl and gcc from Debian's packages,
# and the binaries of scripts/k8s/build.sh (built into the directory above
# K8S_BIN). Prints the time of each step.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
state=${1:-$(mktemp -d /tmp/enclavebench-e2e-XXXXXX)}
mkdir -p "$state"
state=$(cd "$state" && pwd)
export K8S_BIN=${K8S_BIN:-$HOME/.cache/enclavebench/k8s-v1.37.2/bin}
export ENCLAVEBENCH_IMDS=off
work=$state/work
mkdir -p "$work"
cleanup() {
	if [ "${KEEP:-}" = 1 ]; then
		echo "e2e: kept $state (scripts/k8s/down.sh $state --purge stops and removes it)"
	else
		sh "$here/down.sh" "$state" --purge
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
step() { echo "e2e: [$(($(date +%s) - t0))s] $*"; }

# From a clean machine: Debian's packages, then the Kubernetes binaries.
missing=
for c in containerd runc jq openssl gcc; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
[ -x /usr/lib/cni/bridge ] || missing="$missing containernetworking-plugins"
if [ -n "$missing" ]; then
	step "installing:$missing"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x "$K8S_BIN/kubelet" ] || [ ! -x "$K8S_BIN/kube-apiserver" ] || [ ! -x "$K8S_BIN/etcd" ]; then
	step "building Kubernetes v1.37.2 and etcd (scripts/k8s/build.sh: 10 minutes or more)"
	nice -n 10 sh "$here/build.sh" "$(dirname "$K8S_BIN")"
fi
kc() { "$K8S_BIN/kubectl" --kubeconfig "$state/kubeconfig" "$@"; }
fail() { echo "e2e: FAIL: $*" >&2; exit 1; }


step "control plane"
sh "$here/up.sh" "$state"
step "images (pause, enclavebench from deploy/Dockerfile's native stage)"
sh "$here/images.sh" "$state/images"
# The image's own bench, workload and workload-sim, for the direct runs.
bench=$state/images/bin/bench
step "nodes"
sh "$here/node.sh" "$state" node-dc1s-v2 DC1s_v2 0
sh "$here/node.sh" "$state" node-dc2s-v2 DC2s_v2 1
kc get nodes -L node.kubernetes.io/instance-type

# The quick two-size plan: native and sim, one workload, few repetitions.
plan_args="--sizes DC1s_v2,DC2s_v2 --modes native,sim --workloads compute --reps 3 --min-time 20ms"
step "bench plan --k8s $plan_args"
# shellcheck disable=SC2086
"$bench" plan --k8s $plan_args --image enclavebench.local/enclavebench:dev --plan-id e2e \
	--toleration enclavebench=dedicated:NoSchedule -o "$work/manifests"
kc apply -f "$work/manifests"
step "waiting for the Jobs"
if ! kc wait --for=condition=Complete job -l enclavebench.io/plan=e2e --timeout=15m; then
	kc get pods -o wide
	sh "$here/unscheduled.sh" e2e || true
	kc describe pods -l enclavebench.io/plan=e2e | tail -40
	kc logs -l enclavebench.io/plan=e2e --tail=20 --prefix || true
	fail "the Jobs did not complete"
fi
kc get pods -o wide -l enclavebench.io/plan=e2e
step "kubectl logs -> bench collect -> bench report"
kc logs -l enclavebench.io/plan=e2e --prefix --tail=-1 >"$work/pods.log"
"$bench" collect --strict "$work/pods.log" -o "$work/collected"
"$bench" report -o "$work/report" "$work"/collected/*

# cells FILE...: "workload params size mode status samples" of each
# cells.jsonl line, sorted.
cells() {
	awk '
	function f(k) {
		if (match($0, "\"" k "\":(\\{[^}]*\\}|\"[^\"]*\"|[0-9]+)")) return substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3)
		return "-"
	}
	{ print f("workload"), f("params"), f("size"), f("mode"), f("status"), f("samples") }' "$@" | sort
}
step "the same plan run directly"
for size in DC1s_v2 DC2s_v2; do
	# The Job's own command (its annotation), run here.
	cmd=$(kc get job "enclavebench-$(echo "$size" | tr 'A-Z_' 'a-z-')-e2e" -o jsonpath='{.metadata.annotations.enclavebench\.io/command}')
	args=${cmd#bench }
	args=${args% -o -}
	# shellcheck disable=SC2086
	"$bench" $args -o "$work/direct/$size" >/dev/null
done
cells "$work"/collected/*/cells.jsonl >"$work/cells.k8s"
cells "$work"/direct/*/cells.jsonl >"$work/cells.direct"
if ! diff "$work/cells.direct" "$work/cells.k8s"; then
	fail "the cluster's cells differ from the direct run's (< direct, > cluster)"
fi
n=$(wc -l <"$work/cells.k8s")
[ "$n" -gt 0 ] || fail "no cells"
step "ok: $n cells, the same cells, statuses and sample counts as the direct run"

# A pod killed mid-run: its log is cut, bench collect keeps what finished and
# marks the run interrupted, bench run --resume finishes it.
step "a pod killed mid-run"
"$bench" plan --k8s --sizes DC2s_v2 --modes native,sim --workloads compute --reps 20 --min-time 100ms \
	--image enclavebench.local/enclavebench:dev --plan-id kill --toleration enclavebench=dedicated:NoSchedule \
	-o "$work/manifests-kill"
kc apply -f "$work/manifests-kill"
i=0
until [ "$(kc logs -l enclavebench.io/plan=kill --tail=-1 2>/dev/null | grep -c '"status":"ok"' || true)" -ge 2 ]; do
	i=$((i + 1))
	[ "$i" -le 300 ] || fail "the kill plan's pod finished no cell in 300s"
	sleep 1
done
pod=$(kc get pods -l enclavebench.io/plan=kill -o jsonpath='{.items[0].metadata.name}')
cid=$(kc get pod "$pod" -o jsonpath='{.status.containerStatuses[0].containerID}')
# SIGKILL to the container's processes, as the OOM killer or a node failure would.
ctr --address "$state/nodes/node-dc2s-v2/containerd.sock" -n k8s.io tasks kill -a -s SIGKILL "${cid#containerd://}"
kc wait --for=condition=Failed job -l enclavebench.io/plan=kill --timeout=120s
kc get pods -l enclavebench.io/plan=kill -o wide
kc logs -l enclavebench.io/plan=kill --prefix --tail=-1 >"$work/kill.log"
"$bench" collect "$work/kill.log" -o "$work/kill" || true
run=$(ls "$work/kill")
grep -q '"status":"interrupted"\|"interrupted"' "$work/kill/$run/run.json" || fail "the killed run is not marked interrupted"
before=$(cells "$work/kill/$run/cells.jsonl" | grep -c ' "ok" ' || true)
step "collected $before finished cells of the killed run; resuming it here"
"$bench" run --resume "$work/kill/$run" >/dev/null
cmd=$(kc get job enclavebench-dc2s-v2-kill -o jsonpath='{.metadata.annotations.enclavebench\.io/command}')
args=${cmd#bench }
args=${args% -o -}
# shellcheck disable=SC2086
"$bench" $args -o "$work/kill-direct" >/dev/null
cells "$work/kill-direct/cells.jsonl" >"$work/cells.kill-direct"
cells "$work/kill/$run/cells.jsonl" | awk '$5 == "\"ok\""' >"$work/cells.kill-resumed"
if ! diff "$work/cells.kill-direct" "$work/cells.kill-resumed"; then
	fail "the resumed run's finished cells differ from the direct run's (< direct, > resumed)"
fi
after=$(wc -l <"$work/cells.kill-resumed")
step "ok: the killed run, resumed, has the direct run's $after cells ($before from the pod, $((after - before)) resumed)"
"$bench" report -o "$work/report-kill" "$work/kill/$run" >/dev/null

# The sim mode's model in the hardened pod (SIM_PROFILE=1): under
# RuntimeDefault it records counts-free samples (userfaultfd and pidfd_getfd
# are refused). With the Localhost profile of sim-seccomp.sh and the node
# sysctl vm.unprivileged_userfaultfd=1 (set here for the Job and put back),
# it predicts, still non-root with every capability dropped.
if [ "${SIM_PROFILE:-}" = 1 ]; then
	step "sim with its seccomp profile (vm.unprivileged_userfaultfd=1 for this Job)"
	sh "$here/sim-seccomp.sh" "$state/nodes/node-dc2s-v2/containerd.sock" "$state/nodes/node-dc2s-v2/kubelet/seccomp/enclavebench-sim.json"
	"$bench" plan --k8s --sizes DC2s_v2 --modes sim --workloads compute --reps 3 --min-time 20ms \
		--image enclavebench.local/enclavebench:dev --plan-id simprof --toleration enclavebench=dedicated:NoSchedule \
		--seccomp-profile localhost/enclavebench-sim.json -o "$work/manifests-simprof" >/dev/null
	old=$(sysctl -n vm.unprivileged_userfaultfd)
	sysctl -q -w vm.unprivileged_userfaultfd=1
	kc apply -f "$work/manifests-simprof"
	ok=0
	kc wait --for=condition=Complete job -l enclavebench.io/plan=simprof --timeout=10m || ok=1
	sysctl -q -w vm.unprivileged_userfaultfd="$old"
	[ "$ok" -eq 0 ] || fail "the sim Job with its profile did not complete"
	kc logs -l enclavebench.io/plan=simprof --tail=-1 >"$work/simprof.log"
	if grep 'sim: no prediction' "$work/simprof.log"; then fail "sim did not predict with its profile"; fi
	grep -c 'predicted over its own base' "$work/simprof.log" >/dev/null || fail "no sim prediction in the log"
	step "ok: sim predicts in the hardened pod with the Localhost profile"
fi
step "done"
