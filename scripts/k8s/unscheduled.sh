#!/bin/sh
# unscheduled.sh: the pods of a plan that wait for a node, with the
# scheduler's reason, so that a Job whose size has no node (or no node with
# room, EPC or the pool's toleration) is seen long before its deadline.
#
# Usage: scripts/k8s/unscheduled.sh PLAN-ID
# Exit: 0 when every pod of the plan has a node, 1 when some wait (listed),
# 2 on bad usage or when kubectl fails. KUBECTL picks the kubectl binary.
#
# It is one kubectl command (docs/fleet.md gives it for use without this script):
#   kubectl get pods -l enclavebench.io/plan=PLAN-ID --field-selector spec.nodeName= \
#     -o custom-columns='POD:.metadata.name,SIZE:.metadata.labels.enclavebench\.io/size,CREATED:.metadata.creationTimestamp,REASON:.status.conditions[?(@.type=="PodScheduled")].message'
set -eu
[ "$#" -eq 1 ] && [ -n "$1" ] || { echo "usage: unscheduled.sh PLAN-ID" >&2; exit 2; }
kubectl=${KUBECTL:-kubectl}
total=$("$kubectl" get pods -l "enclavebench.io/plan=$1" -o name) || exit 2
if [ -z "$total" ]; then
	echo "unscheduled: plan $1 has no pods (yet): check the plan ID and kubectl get jobs -l enclavebench.io/plan=$1" >&2
	exit 2
fi
out=$("$kubectl" get pods -l "enclavebench.io/plan=$1" --field-selector spec.nodeName= \
	-o custom-columns='POD:.metadata.name,SIZE:.metadata.labels.enclavebench\.io/size,CREATED:.metadata.creationTimestamp,REASON:.status.conditions[?(@.type=="PodScheduled")].message') || exit 2
# The header alone: nothing waits.
if [ "$(printf '%s\n' "$out" | wc -l)" -le 1 ]; then
	echo "unscheduled: every pod of plan $1 has a node"
	exit 0
fi
printf '%s\n' "$out"
exit 1
