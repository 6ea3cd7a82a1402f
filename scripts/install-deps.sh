#!/usr/bin/env bash
# Installs what building and testing enclavebench needs beyond Go itself:
# gcc and OpenSSL's headers for the sim build's cgo (software EPC),
# valgrind for the counting pass (bench run --counts: Callgrind), and
# OpenSSH (client and server) for the ssh fleet's end-to-end test. Each
# package is installed only when missing; needs root or sudo for apt-get.
set -euo pipefail
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[ -f /usr/include/openssl/evp.h ] || missing+=(libssl-dev)
[ -f /usr/include/linux/userfaultfd.h ] || missing+=(linux-libc-dev)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
# The ssh fleet's end-to-end test starts its own sshd on loopback (its own
# keys and ports; no system service is configured or started by it).
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
for extra in "$@"; do
  command -v "$extra" >/dev/null 2>&1 || missing+=("$extra")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
