#!/usr/bin/env bash
# Memory encryption below the EPC, before and after a change to its model
# (docs/sim.md "Memory encryption"), in one script so that both sides meet
# the same host load. By default the change is published/v3's:
#   before: published/v2: every simulated LLC miss of the counting pass
#           (ll_misses_pf, Callgrind's stream prefetcher) priced at
#           (mee_factor-1) x dram_latency_ns, capped;
#   after:  published/v3: the misses of streaming instructions
#           (ll_misses_stream) at (mee_factor-1) x 64 B / the memory
#           bandwidth, the others as before, capped.
# (BEFORE=<the commit before 882129d> compares v1 with the current tree.)
# For each side it runs memsweep random/seq read/write and kvstore uniform
# read95/write50 at 0.5xEPC on DC1s_v2 and DC4s_v2 (native+sim, --counts),
# then the sizing example (kvstore uniform read95 at --footprint 64MiB), and
# prints the predicted slowdowns (median over the cell's pairs [its
# interval]) and the LLC misses per operation of each cell (and of them
# the streamed ones, where counted).
#
#   scripts/mee-before-after.sh          # BEFORE: the commit before the change; REPS=6
#
# BEFORE names another revision for the "before" side; SIDES=after runs only
# the current tree; KEEP=DIR keeps the result directories there. Builds the
# "before" side in a temporary git worktree.
set -euo pipefail
cd "$(dirname "$0")/.."
export ENCLAVEBENCH_IMDS=off
reps=${REPS:-6}
sides=${SIDES:-before after}
if [[ -z ${BEFORE:-} ]]; then
	# The parent of the commit that gave the profile its memory bandwidth.
	intro=$(git log --format=%H -S'"mem_bandwidth_bytes_per_s"' -- bench/sim/profiles/published.json | tail -1)
	BEFORE=${intro:+$intro^}
	BEFORE=${BEFORE:-HEAD}
fi
tmp=$(mktemp -d)
cleanup() {
	if [[ -n ${KEEP:-} ]]; then
		mkdir -p "$KEEP" && cp -r "$tmp"/*-table* "$tmp"/*-sizing* "$KEEP"/ 2>/dev/null || true
	fi
	git worktree remove --force "$tmp/src-before" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

build() { # side srcdir
	mkdir -p "$tmp/$1"
	(cd "$2" && go build -o "$tmp/$1/bench" ./bench && go build -o "$tmp/$1/workload" ./workloads/cmd/workload &&
		scripts/build-sim.sh "$tmp/$1/workload-sim") >&2
}
for side in $sides; do
	if [[ $side == before ]]; then
		git worktree add --detach "$tmp/src-before" "$BEFORE" >/dev/null 2>&1
		build before "$tmp/src-before"
	else
		build after "$PWD"
	fi
done

run() { # side name args...
	local side=$1 name=$2
	shift 2
	"$tmp/$side/bench" run --workload-bin "$tmp/$side/workload" --modes native,sim --reps "$reps" --counts --progress never \
		--timeout 20m -o "$tmp/$side-$name" "$@" >"$tmp/$side-$name.out" 2>"$tmp/$side-$name.err" || {
		echo "$side $name: bench run failed:" >&2
		tail -5 "$tmp/$side-$name.err" >&2
		exit 1
	}
}
table() { # side name: one line per sim cell: cell, slowdown, LLC misses/op
	local dir=$tmp/$1-$2
	echo "== $1 ($(jq -r '.cost_profile.name + "/v" + (.cost_profile.version|tostring)' "$dir/run.json")): $(jq -r '.cost_profile.source' "$dir/run.json" | grep -o 'LLC miss latency here [0-9]* ns' || true)"
	grep 'mode=sim ' "$dir.out" | sed -E 's/^([^ ]+) .* ([0-9.]+× slower( \[[^]]*\])?).*/\1 \2/; s/^([^ ]+) .*(as native).*/\1 \2/'
	jq -r 'select(.mode=="sim") | [(.workload + " " + ((.params // {}) | to_entries | map(.key + "=" + .value) | join(",")) + " " + .size),
		((.events.ll_misses_pf // .events.ll_misses // 0) / .iters), (if .events.ll_misses_pf then "ll_misses_pf" else "ll_misses" end),
		(if .events.ll_misses_stream == null then -1 else .events.ll_misses_stream / .iters end)] | @tsv' \
		"$dir/samples.jsonl" | sort | awk -F'\t' '{k=$1; if (!(k in n)) {order[++m]=k}; n[k]++; s[k]+=$2; ev[k]=$3; st[k]+=$4}
		END {for (i=1; i<=m; i++) {k=order[i]; printf "  %s: %.4f %s/op", k, s[k]/n[k], ev[k];
			if (st[k] >= 0) printf ", %.4f ll_misses_stream/op", st[k]/n[k]; printf " (mean over %d samples)\n", n[k]}}'
	grep -h -A1 -i 'best is\|no DCsv2 size' "$dir.out" 2>/dev/null | head -4 || true
}

for side in $sides; do
	run "$side" table --workloads memsweep,kvstore --param memsweep.ws=0.5xEPC --param memsweep.access=random,seq \
		--param memsweep.op=read,write --param kvstore.dataset=0.5xEPC --param kvstore.dist=uniform \
		--param kvstore.mix=read95,write50 --sizes DC1s_v2,DC4s_v2
	run "$side" sizing --workloads kvstore --param kvstore.dist=uniform --param kvstore.mix=read95 --footprint 64MiB \
		--sizes DC1s_v2,DC4s_v2
done
echo "host load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for side in $sides; do
	table "$side" table
	table "$side" sizing
	"$tmp/$side/bench" report "$tmp/$side-sizing" -o "$tmp/$side-sizing/report" >/dev/null 2>&1 &&
		grep -A4 'Sizing advice' "$tmp/$side-sizing/report/report.md" | sed 's/^/  /' || true
done
