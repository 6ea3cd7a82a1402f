#!/usr/bin/env bash
# gotest-thirdparty.sh: bench run --gotest on code no one here wrote (issue 21
# item 7), against plain `go test -bench` of the same benchmarks.
#
# Two modules from the Go module proxy, copied out of the module cache into a
# writable directory (their own go.mod, go.sum and Go version):
#   - github.com/cespare/xxhash/v2 v2.3.0, BenchmarkSum64 (CPU-bound hashing;
#     sub-benchmarks 4B, 16B, 100B, 4KB, 10MB: the positional parameter "sub");
#   - github.com/coocood/freecache v1.2.4, BenchmarkCacheSet and
#     BenchmarkCacheGet (a 256 MiB cache allocated on the Go heap and held:
#     allocation and a large heap).
#
# 1. The record: each module through `bench run --gotest` on the four DCsv2
#    sizes in native and sim (GT_MODES), the quick profile; the summaries are
#    printed, the directories kept in the work directory.
# 2. The comparison: GT_ROUNDS rounds, each running, in random order, the
#    harness's native cells on the size whose vCPUs equal this host's CPUs
#    and plain `go test -run '^$' -bench ... -benchtime <min-time> -count 6
#    -benchmem` (GOMAXPROCS = this host's CPUs); per benchmark, the ratio of
#    the median ns/op over all rounds, harness / plain. Interleaving spreads
#    the host's drift over both.
#
# Environment (defaults): GT_ROUNDS=3 GT_MIN_TIME=20ms GT_MODES=native,sim
# GT_RECORD=on (off: the comparison only) GT_KEEP=<dir to keep the runs in>. Needs: go, jq, the module proxy (or the
# modules in the module cache), gcc for the sim build.
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${GT_ROUNDS:-3}
MIN_TIME=${GT_MIN_TIME:-20ms}
MODES=${GT_MODES:-native,sim}
command -v jq >/dev/null || { echo "gotest-thirdparty: needs jq" >&2; exit 2; }
export ENCLAVEBENCH_IMDS=off

if [[ -n "${GT_KEEP:-}" ]]; then
	work=$GT_KEEP
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/gotest-thirdparty.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
go build -o "$work/bin/bench" ./bench
go build -o "$work/bin/workload" ./workloads/cmd/workload
bash scripts/build-sim.sh "$work/bin/workload-sim"
bench="$work/bin/bench"

cpus=$(nproc)
case $cpus in
1) size=DC1s_v2 ;; 2) size=DC2s_v2 ;; 4) size=DC4s_v2 ;; 8) size=DC8_v2 ;;
*) echo "gotest-thirdparty: this host has $cpus CPUs, no DCsv2 size has as many vCPUs: no comparison" >&2; exit 2 ;;
esac

mods=("github.com/cespare/xxhash/v2@v2.3.0" "github.com/coocood/freecache@v1.2.4")
sels=('^BenchmarkSum64$' '^BenchmarkCache(Set|Get)$')
names=(xxhash freecache)

for i in "${!mods[@]}"; do
	src=$(go mod download -json "${mods[$i]}" | jq -r .Dir)
	dst="$work/src/${names[$i]}"
	rm -rf "$dst"
	mkdir -p "$(dirname "$dst")"
	cp -r "$src" "$dst"
	chmod -R u+w "$dst"
	(cd "$dst" && go mod download)
done

echo "== 1. the record: --gotest on dcsv2, $MODES"
for i in "${!mods[@]}"; do
	[[ ${GT_RECORD:-on} == off ]] && break
	out="$work/record-${names[$i]}"
	rm -rf "$out"
	(cd "$work/src/${names[$i]}" && "$bench" run --gotest . --bench "${sels[$i]}" --sizes dcsv2 --modes "$MODES" \
		--workload-bin "$work/bin/workload" --min-time "$MIN_TIME" --progress never -o "$out") || true
done

echo "== 2. native on $size against plain go test -bench, $ROUNDS rounds interleaved"
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "nan"; exit} print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for i in "${!mods[@]}"; do
	n=${names[$i]}
	: >"$work/plain-$n.txt"
	for r in $(seq 1 "$ROUNDS"); do
		order=(harness plain)
		((RANDOM % 2)) && order=(plain harness)
		for side in "${order[@]}"; do
			if [[ $side == plain ]]; then
				(cd "$work/src/$n" && go test -run '^$' -bench "${sels[$i]}" -benchtime "$MIN_TIME" -count 6 -benchmem) >>"$work/plain-$n.txt"
			else
				rm -rf "$work/h-$n-$r"
				(cd "$work/src/$n" && "$bench" run --gotest . --bench "${sels[$i]}" --sizes "$size" --modes native \
					--workload-bin "$work/bin/workload" --min-time "$MIN_TIME" --reps 6 --progress never -o "$work/h-$n-$r" >/dev/null 2>&1)
			fi
		done
	done
	# Plain names: BenchmarkSum64/4B-2; the harness's cells: Sum64/sub=4B/size=.../mode=native.
	awk -v suf="-$cpus" '$1 ~ /^Benchmark/ && $4 == "ns/op" {n=$1; if (substr(n, length(n)-length(suf)+1) == suf) n=substr(n, 1, length(n)-length(suf)); print n, $3}' \
		"$work/plain-$n.txt" | sort >"$work/plain-$n.vals"
	for name in $(cut -d' ' -f1 "$work/plain-$n.vals" | sort -u); do
		base=${name#Benchmark}
		top=${base%%/*}
		cellre="^${top}"
		[[ $base == */* ]] && cellre="$cellre/sub=${base#*/}"
		cellre="$cellre/size=$size/mode=native\$"
		p=$(awk -v n="$name" '$1==n {print $2}' "$work/plain-$n.vals" | median)
		h=$(cat "$work"/h-"$n"-*/samples.jsonl | jq -r --arg re "$cellre" 'select(.cell|test($re)) | .values[] | select(.unit=="ns/op") | .value' | median)
		echo "$name plain $p ns/op harness $h ns/op ratio $(awk -v h="$h" -v p="$p" 'BEGIN {printf "%.3f", h/p}')"
	done
done
echo "work: $work"
