#!/bin/sh
# sim-seccomp.sh: the seccomp profile the sim mode needs in a hardened pod:
# the container runtime's own default (what RuntimeDefault applies), plus
# the two system calls sim makes that it refuses: userfaultfd (the software
# EPC) and pidfd_getfd (taking the counted child's seccomp listener, to
# count OCALLs). Nothing else is added; the pod stays non-root, with every
# capability dropped and no privilege escalation.
#
# Usage: scripts/k8s/sim-seccomp.sh SOCKET OUT.json
#   SOCKET  the node's containerd socket (the default profile is read from
#           the OCI spec containerd writes for a container run with --seccomp)
#   OUT     where to write the profile: the kubelet's seccomp directory
#           (<kubelet root-dir>/seccomp/), referenced by the pod as
#           seccompProfile: {type: Localhost, localhostProfile: <name>}
# The node also needs vm.unprivileged_userfaultfd=1: the kernel lets an
# unprivileged process handle faults it causes in kernel mode only then (or
# with CAP_SYS_PTRACE, which a non-root container cannot hold). docs/fleet.md.
set -eu
command -v jq >/dev/null 2>&1 || { echo "sim-seccomp: needs jq (apt-get install jq)" >&2; exit 2; }
[ "$#" -eq 2 ] || { echo "usage: sim-seccomp.sh SOCKET OUT.json" >&2; exit 2; }
sock=$1 out=$2
id=enclavebench-seccomp-probe-$$
ctr --address "$sock" -n k8s.io run -d --seccomp enclavebench.local/pause:3.10.2 "$id" >/dev/null
trap 'ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1; sleep 1; ctr --address "$sock" -n k8s.io containers rm "$id" >/dev/null 2>&1 || true' EXIT
spec=$(ctr --address "$sock" -n k8s.io containers info "$id")
mkdir -p "$(dirname "$out")"
printf '%s' "$spec" | jq -c '.Spec.linux.seccomp | .syscalls += [{"names": ["pidfd_getfd", "userfaultfd"], "action": "SCMP_ACT_ALLOW"}]' >"$out"
echo "sim-seccomp: $out"
