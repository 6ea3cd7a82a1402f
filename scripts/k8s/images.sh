#!/bin/sh
# images.sh: the two images the local cluster's pods need, as OCI archives
# for `ctr images import` (scripts/k8s/node.sh imports STATE/images/*.tar):
#
#   enclavebench.local/pause:3.10.2        the pod sandbox: pause.c of the
#       Kubernetes tree scripts/k8s/build.sh fetched, built as its Makefile
#       does (gcc -Os -Wall -Werror -static), user 65535
#   enclavebench.local/enclavebench:dev     deploy/Dockerfile's "native" stage
#       (bench, workload, workload-sim under /opt/enclavebench/bin, user 10001)
#       built here: its USER, WORKDIR, ENV, ENTRYPOINT and CMD are read from
#       deploy/Dockerfile, its files are the ones the stage COPYs (built with
#       this machine's Go), and the base is this machine's C library and
#       libcrypto (what workload-sim links) instead of EGo's ego-deploy image,
#       which cannot be pulled here.
#
# Usage: scripts/k8s/images.sh OUTDIR      (also leaves the image's binaries in OUTDIR/bin)
#        scripts/k8s/images.sh --config STAGE   prints the image config read from deploy/Dockerfile
#        scripts/k8s/images.sh --files STAGE    prints the files the stage copies from the build stage
# The build fails when the stage copies a file the recipe does not make.
# Environment: K8S_SRC, the Kubernetes source (default ~/.cache/enclavebench/k8s-v1.37.2/src).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dockerfile=$root/deploy/Dockerfile

# config STAGE: the OCI image config ("config" object) of a Dockerfile stage:
# its ENV (with ${PATH} expanded from the default PATH), USER, WORKDIR,
# ENTRYPOINT and CMD (exec form, copied as the JSON they are).
config() {
	awk -v want="$1" '
	function flush(   n, w, i, kv, k, v) {
		if (line == "") return
		n = split(line, w, /[ \t]+/)
		i = 1; while (w[i] == "") i++
		instr = toupper(w[i])
		if (instr == "FROM") { stage = (toupper(w[i+2]) == "AS") ? w[i+3] : ""; found = found || stage == want }
		else if (stage == want) {
			rest = line; sub(/^[ \t]*[A-Za-z]+[ \t]+/, "", rest)
			if (instr == "ENV") {
				for (j = i + 1; j <= n; j++) {
					if (w[j] == "") continue
					k = w[j]; sub(/=.*/, "", k); v = w[j]; sub(/^[^=]*=/, "", v)
					gsub(/\$\{PATH\}|\$PATH/, env["PATH"], v)
					if (!(k in env) || k == "PATH") order[++nenv] = k
					env[k] = v
				}
			} else if (instr == "USER") user = w[i+1]
			else if (instr == "WORKDIR") workdir = w[i+1]
			else if (instr == "ENTRYPOINT") entry = rest
			else if (instr == "CMD") cmd = rest
		}
		line = ""
	}
	BEGIN { env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }
	/^[ \t]*#/ && line == "" { next }
	{
		l = $0
		if (sub(/\\[ \t]*$/, "", l)) { line = line l " "; next }
		line = line l; flush()
	}
	END {
		flush()
		if (!found) { print "images.sh: deploy/Dockerfile has no stage " want > "/dev/stderr"; exit 2 }
		printf "{\"User\":\"%s\",\"WorkingDir\":\"%s\",\"Env\":[", user, workdir
		sep = ""; delete seen
		for (e = 1; e <= nenv; e++) { k = order[e]; if (k in seen) continue; seen[k] = 1; printf "%s\"%s=%s\"", sep, k, env[k]; sep = "," }
		printf "],\"Entrypoint\":%s,\"Cmd\":%s}\n", entry, cmd
	}' "$dockerfile"
}

# files STAGE: the files a stage copies from the build stage (COPY --from=build
# SRC... DEST), one path a line: what the recipe below must produce.
files() {
	awk -v want="$1" '
	/^[ \t]*#/ { next }
	toupper($1) == "FROM" { stage = (toupper($3) == "AS") ? $4 : "" }
	stage == want && toupper($1) == "COPY" && $0 ~ /--from=build/ {
		n = 0
		for (i = 2; i <= NF; i++) if ($i !~ /^--/) a[++n] = $i
		for (i = 1; i < n; i++) {
			b = a[i]; sub(/\/$/, "", b); sub(/.*\//, "", b)
			print (a[n] ~ /\/$/) ? a[n] b : a[n]
		}
	}' "$dockerfile"
}

if [ "${1:-}" = --files ]; then
	[ "$#" -eq 2 ] || { echo "usage: images.sh --files STAGE" >&2; exit 2; }
	files "$2"
	exit 0
fi
if [ "${1:-}" = --config ]; then
	[ "$#" -eq 2 ] || { echo "usage: images.sh --config STAGE" >&2; exit 2; }
	config "$2"
	exit 0
fi
[ "$#" -eq 1 ] || { echo "usage: images.sh OUTDIR | --config STAGE | --files STAGE" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
src=${K8S_SRC:-$HOME/.cache/enclavebench/k8s-v1.37.2/src}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# The pause image.
pause=$src/build/pause/linux/pause.c
[ -f "$pause" ] || { echo "images.sh: $pause missing: run scripts/k8s/build.sh" >&2; exit 2; }
mkdir -p "$tmp/pause"
gcc -Os -Wall -Werror -static -DVERSION=v3.10.2-enclavebench -o "$tmp/pause/pause" "$pause"
sh "$here/oci-image.sh" "$out/pause.tar" enclavebench.local/pause:3.10.2 "$tmp/pause" \
	'{"User":"65535:65535","Entrypoint":["/pause"]}'

# The enclavebench image: deploy/Dockerfile's native stage.
cfg=$(config native)
r=$tmp/eb
bin=$r/opt/enclavebench/bin
mkdir -p "$bin" "$r/opt/enclavebench/src" "$r/etc" "$r/home/enclavebench" "$r/tmp"
chmod 1777 "$r/tmp"
version=$(git -C "$root" describe --always --dirty 2>/dev/null || echo dev)
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || true)
(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=$version -X main.commit=$commit" -o "$bin/bench" ./bench &&
	CGO_ENABLED=0 go build -trimpath -o "$bin/workload" ./workloads/cmd/workload)
bash "$root/scripts/build-sim.sh" "$bin/workload-sim"
# What workload-sim links (the C library, libcrypto), at the paths it names.
ldd "$bin/workload-sim" | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+ \(/ { print $1 }' | while read -r lib; do
	mkdir -p "$r$(dirname "$lib")"
	cp -L "$lib" "$r$lib"
done
# /lib64/ld-linux... is reached through the usrmerge links on Debian.
[ -e /lib64 ] && [ ! -e "$r/lib64" ] && mkdir -p "$r/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/" 2>/dev/null || true
# The module source, as the Dockerfile's COPY of go.mod, go.sum, bench/ and workloads/.
(cd "$root" && git ls-files go.mod go.sum bench workloads | grep -v -e '/testdata/' -e '_test\.go$' |
	tar -cf - -T -) | tar -C "$r/opt/enclavebench/src" -xf -
# useradd --uid 10001 --user-group --create-home enclavebench, by hand.
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nenclavebench:x:10001:10001::/home/enclavebench:/usr/sbin/nologin\n' >"$r/etc/passwd"
printf 'root:x:0:\nenclavebench:x:10001:\n' >"$r/etc/group"
for f in $(files native); do
	[ -e "$r$f" ] || { echo "images.sh: deploy/Dockerfile's native stage has $f, which this recipe does not make" >&2; exit 1; }
done
CHOWN="10001:10001:/home/enclavebench" sh "$here/oci-image.sh" "$out/enclavebench.tar" enclavebench.local/enclavebench:dev "$r" "$cfg"
# The same binaries outside the image, for runs on the host to compare with
# (and to --resume a run a pod began: bench resumes only its own build's runs).
mkdir -p "$out/bin"
cp "$bin/bench" "$bin/workload" "$bin/workload-sim" "$out/bin/"
