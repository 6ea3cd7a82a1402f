#!/bin/sh
# check-manifests.sh: check Kubernetes manifests with kubectl's client-side
# dry run, without a cluster.
#
# Usage:
#   scripts/check-manifests.sh [FILE|DIR]...
#
# With no arguments it plans the Jobs of every DCsv2 size with bench plan
# --k8s (go run ./bench) and checks those.
#
# Why the setup: `kubectl apply --dry-run=client` still talks to a server.
# It downloads the OpenAPI schema to validate (turned off with
# --validate=false), asks API discovery which resource a kind is (no flag
# turns that off), and GETs the live object to compute the patch. So this
# script
#   - points kubectl at a kubeconfig of its own whose server is a closed
#     local port (nothing is ever sent anywhere; $KUBECONFIG is ignored),
#   - fills kubectl's discovery cache (--cache-dir) with the two API groups
#     the manifests use, core/v1 and batch/v1, written just now so kubectl
#     takes them as fresh and does not refresh them,
#   - uses `kubectl create --dry-run=client --validate=false`, which needs
#     no live object.
# kubectl then parses every document, maps its apiVersion and kind, and
# prints the objects it would create; an unknown kind or a broken document
# fails. The schema itself (no unknown or mistyped field) is checked by
# `go test ./bench/fleet/k8s` (TestManifestsDecodeStrictly), which decodes the
# manifests strictly into k8s.io/api's batch/v1 Job; `kubectl apply
# --dry-run=client` itself is run there too (TestKubectlApplyDryRun), against
# a stand-in API server on the loopback that answers discovery and "not found".
#
# The offline recipe by hand:
#   kubectl --kubeconfig K --cache-dir C create --dry-run=client --validate=false -f FILE
# with K a kubeconfig whose server is a closed local port and C a discovery
# cache holding core/v1 and batch/v1 (as written below).
set -eu

if ! command -v kubectl >/dev/null 2>&1; then
	echo "check-manifests: kubectl is not installed (apt-get install kubernetes-client): skipped" >&2
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "$#" -eq 0 ]; then
	root=$(cd "$(dirname "$0")/.." && pwd)
	if ! (cd "$root" && go run ./bench plan --k8s --sizes dcsv2 --image example.invalid/enclavebench:check \
		--plan-id check -o "$tmp/manifests") >"$tmp/plan.out" 2>&1; then
		cat "$tmp/plan.out" >&2
		exit 1
	fi
	set -- "$tmp/manifests"
fi

# The server: a port nothing listens on (kubectl must not reach anything).
server=127.0.0.1:1
cat >"$tmp/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: offline
  cluster:
    server: https://$server
    insecure-skip-tls-verify: true
contexts:
- name: offline
  context:
    cluster: offline
    user: offline
    namespace: default
current-context: offline
users:
- name: offline
  user:
    token: offline
EOF

# kubectl's discovery cache: <cache-dir>/discovery/<host_port>/.
disc="$tmp/cache/discovery/127.0.0.1_1"
mkdir -p "$disc/v1" "$disc/batch/v1"
cat >"$disc/servergroups.json" <<'EOF'
{"kind":"APIGroupList","apiVersion":"v1","groups":[
 {"name":"","versions":[{"groupVersion":"v1","version":"v1"}],"preferredVersion":{"groupVersion":"v1","version":"v1"}},
 {"name":"batch","versions":[{"groupVersion":"batch/v1","version":"v1"}],"preferredVersion":{"groupVersion":"batch/v1","version":"v1"}}]}
EOF
cat >"$disc/v1/serverresources.json" <<'EOF'
{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"v1","resources":[
 {"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["create","delete","get","list","patch","update","watch"]},
 {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","get","list","patch","update","watch"]}]}
EOF
cat >"$disc/batch/v1/serverresources.json" <<'EOF'
{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"batch/v1","resources":[
 {"name":"jobs","singularName":"job","namespaced":true,"kind":"Job","verbs":["create","delete","get","list","patch","update","watch"]}]}
EOF

status=0
for path in "$@"; do
	# -f takes a file or a directory (every .yaml, .yml and .json in it).
	if out=$(kubectl --kubeconfig "$tmp/kubeconfig" --cache-dir "$tmp/cache" --request-timeout 5s \
		create --dry-run=client --validate=false -o name -f "$path" 2>&1); then
		printf '%s\n' "$out" | sed "s|^|$path: |"
	else
		printf 'check-manifests: %s: kubectl rejected it:\n%s\n' "$path" "$out" >&2
		status=1
	fi
done
exit $status
