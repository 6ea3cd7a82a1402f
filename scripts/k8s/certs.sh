#!/bin/sh
# certs.sh: the local cluster's keys and certificates, made with openssl.
#
# Usage: scripts/k8s/certs.sh DIR [NODE...]
#   DIR/ca.{crt,key}          the cluster CA (1 day: the cluster is for one session)
#   DIR/apiserver.{crt,key}   the API server's serving certificate, for 127.0.0.1 and localhost
#   DIR/admin.{crt,key}       a client in group system:masters (kubectl, the scheduler,
#                             the controller manager, and the API server's client to kubelets)
#   DIR/node-NODE.{crt,key}   each kubelet's client: CN system:node:NODE, O system:nodes,
#                             which the Node authorizer expects
#   DIR/sa.{key,pub}          the service account token signing key pair
# Existing files are kept.
set -eu
[ "$#" -ge 1 ] || { echo "usage: certs.sh DIR [NODE...]" >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir"
cd "$dir"
umask 077

if [ ! -f ca.crt ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout ca.key -out ca.crt \
		-subj "/CN=enclavebench-local-ca" 2>/dev/null
fi

# cert NAME SUBJECT [EXTENSIONS]: a key and a certificate signed by the CA.
cert() {
	[ -f "$1.crt" ] && return 0
	openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
	printf '%s\n' "${3:-extendedKeyUsage=clientAuth}" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
		-extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

cert apiserver "/CN=kube-apiserver" \
	"$(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth')"
cert admin "/O=system:masters/CN=enclavebench-admin"
for node in "$@"; do
	cert "node-$node" "/O=system:nodes/CN=system:node:$node"
done

if [ ! -f sa.key ]; then
	openssl genrsa -out sa.key 2048 2>/dev/null
	openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi
