#!/bin/sh
# check-dockerfile.sh: check deploy/Dockerfile without building it (there is
# no Docker engine where the project is developed and tested).
#
# Usage: deploy/check-dockerfile.sh [DOCKERFILE]
#
# It checks that
#   - every FROM is one of EGo's published images (ghcr.io/edgelesssys/ego-dev
#     or ego-deploy) at a release tag v<major>.<minor>.<patch>, or an earlier stage;
#   - every COPY from the build context names files that exist in the
#     repository and that the Dockerfile's .dockerignore lets through;
#     every COPY --from names an earlier stage;
#   - every stage that is an image (not only copied from) has an exec-form
#     ENTRYPOINT whose program some COPY puts there, and the last stage (the
#     default target) is "run";
#   - every stage that is an image runs as a non-root user given by number
#     (USER <uid>:<gid>, uid not 0), so that Kubernetes' runAsNonRoot can check it;
#   - the paths the Jobs of `bench plan --k8s` use exist in the image:
#     /opt/enclavebench/bin/bench (the command) and /opt/enclavebench/src (the
#     working directory) (bench/fleet/k8s ImageBench, ImageSource).
# It runs hadolint too when it is installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
df=${1:-$here/Dockerfile}
ignore=$df.dockerignore
[ -f "$df" ] || { echo "check-dockerfile: $df: no such file" >&2; exit 2; }

# Join continuation lines, keeping the first line's number; drop comments.
logical() {
	awk '
	{ line = $0 }
	cont == "" { start = NR }
	/^[ \t]*#/ && cont == "" { next }
	{
		if (sub(/\\[ \t]*$/, "", line)) { cont = cont line " "; next }
		print start "\t" cont line
		cont = ""
	}' "$1"
}

problems=$(logical "$df" | awk -F '\t' -v root="$root" -v df="$df" '
function problem(msg) { printf "%s:%d: %s\n", df, lineno, msg; bad = 1 }
function expand(s,   k) {
	for (k in args) gsub("\\$\\{" k "\\}|\\$" k, args[k], s)
	return s
}
function exists(p,   cmd, r) {
	cmd = "cd \"" root "\" && ls -d " p " >/dev/null 2>&1"
	r = system(cmd)
	return r == 0
}
{
	lineno = $1
	n = split($2, w, /[ \t]+/)
	i = 1
	while (i <= n && w[i] == "") i++
	instr = toupper(w[i])
	if (instr == "ARG") {
		split(w[i+1], kv, "=")
		if (!seenFrom && kv[2] != "") args[kv[1]] = kv[2]
		next
	}
	if (instr == "FROM") {
		seenFrom = 1
		img = w[i+1]; name = ""
		if (toupper(w[i+2]) == "AS") name = w[i+3]
		if (name == "") { problem("FROM " img " without AS <name>"); name = "stage" ++anon }
		stage = name; stageLine = lineno; stages[name] = 1; last = name
		order[++nstages] = name; startLine[name] = lineno
		if (img in stages) next
		e = expand(img)
		if (e !~ /^ghcr\.io\/edgelesssys\/ego-(dev|deploy):v[0-9]+\.[0-9]+\.[0-9]+$/)
			problem("FROM " img " (= " e "): want EGo'\''s ghcr.io/edgelesssys/ego-dev or ego-deploy at a release tag vX.Y.Z")
		next
	}
	if (instr == "COPY" || instr == "ADD") {
		if (instr == "ADD") problem("ADD: use COPY (ADD fetches URLs and unpacks archives)")
		from = ""; m = 0
		for (j = i + 1; j <= n; j++) {
			if (w[j] ~ /^--from=/) { from = substr(w[j], 8); continue }
			if (w[j] ~ /^--/) continue
			if (w[j] != "") src[++m] = w[j]
		}
		if (m < 2) { problem(instr " needs a source and a destination"); next }
		dest = src[m]
		for (j = 1; j < m; j++) {
			if (from != "") {
				if (!(from in stages)) problem("COPY --from=" from ": no earlier stage of that name")
				copiedFrom[from] = 1
			} else if (!exists(src[j])) {
				problem("COPY " src[j] ": not in the repository (the build context is its root)")
			} else {
				context[src[j]] = lineno
			}
			# What the stage will hold: dest/basename for a directory dest.
			b = src[j]; sub(/\/$/, "", b); sub(/.*\//, "", b)
			if (dest ~ /\/$/) has[stage, dest b] = 1; else has[stage, dest] = 1
		}
		next
	}
	if (instr == "WORKDIR") { workdir[stage] = w[i+1]; next }
	if (instr == "USER") { user[stage] = w[i+1]; userLine[stage] = lineno; next }
	if (instr == "ENTRYPOINT") {
		entry[stage] = 1
		rest = $2; sub(/^[ \t]*[A-Za-z]+[ \t]+/, "", rest)
		if (rest !~ /^\[/) { problem("ENTRYPOINT in shell form: use the exec form [\"/path\", ...] so signals reach bench"); next }
		prog = rest; sub(/^\[[ \t]*"/, "", prog); sub(/".*/, "", prog)
		if (!has[stage, prog]) problem("ENTRYPOINT " prog ": no COPY in stage " stage " puts it there")
		entryProg[stage] = prog
		next
	}
}
END {
	# Every stage that is an image (not only copied from) runs bench.
	for (k = 1; k <= nstages; k++)
		if (!copiedFrom[order[k]] && !entry[order[k]]) { lineno = startLine[order[k]]; problem("stage " order[k] " has no ENTRYPOINT") }
	# ... and not as root.
	for (k = 1; k <= nstages; k++) {
		s = order[k]
		if (copiedFrom[s]) continue
		if (!(s in user)) { lineno = startLine[s]; problem("stage " s " runs as root: add USER <uid>:<gid>"); continue }
		lineno = userLine[s]
		if (user[s] !~ /^[0-9]+(:[0-9]+)?$/) problem("stage " s ": USER " user[s] ": give the uid (and gid) as numbers, so that runAsNonRoot can check them")
		else if (user[s] ~ /^0+(:|$)/) problem("stage " s ": USER " user[s] " is root")
	}
	if (!seenFrom) { lineno = 1; problem("no FROM") }
	if (last != "run") { lineno = stageLine; problem("the last stage (the default target) is " last ", want run") }
	if (entryProg["run"] != "/opt/enclavebench/bin/bench") { lineno = stageLine; problem("stage run: ENTRYPOINT " entryProg["run"] ", the Jobs run /opt/enclavebench/bin/bench (bench/fleet/k8s ImageBench)") }
	if (workdir["run"] != "/opt/enclavebench/src") { lineno = stageLine; problem("stage run: WORKDIR " workdir["run"] ", the Jobs run in /opt/enclavebench/src (bench/fleet/k8s ImageSource)") }
	for (p in context) print "CONTEXT\t" p "\t" context[p]
	exit bad
}') || status=$?
status=${status:-0}

# The build context the .dockerignore lets through must hold every COPY source.
printf '%s\n' "$problems" | grep -v '^CONTEXT' | grep . >&2 || true
if [ -f "$ignore" ]; then
	printf '%s\n' "$problems" | awk -F '\t' '$1 == "CONTEXT" { print $2 "\t" $3 }' | while IFS="$(printf '\t')" read -r src line; do
		# The ignore file allow-lists with "!path"; everything else is excluded by "*".
		if grep -q '^\*$' "$ignore" && ! grep -qx "!$src" "$ignore" && ! grep -qx "!$src/" "$ignore" && ! grep -qx "!${src%/}/" "$ignore"; then
			echo "$df:$line: COPY $src: excluded from the build context by $ignore" >&2
			exit 1
		fi
	done || status=1
fi

if command -v hadolint >/dev/null 2>&1; then
	hadolint "$df" || status=1
fi
if [ "$status" -eq 0 ]; then
	echo "check-dockerfile: $df: ok"
fi
exit "$status"
