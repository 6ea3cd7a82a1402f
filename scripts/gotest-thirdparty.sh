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
# 2. The comparison: GT_ROUNDS rounds, each running, per module and in
#    random order, the harness's native cells on the size whose vCPUs equal
#    this host's CPUs (6 repetitions), plain `go test -run '^$' -bench ...
#    -count 6 -benchmem` (GOMAXPROCS = this host's CPUs) at -benchtime
#    <min-time>, and the same at the b.N the harness calibrated, back to
#    back; per benchmark and round, the ratio of the medians harness /
#    plain, and over the rounds its median, min and max (the spread). A
#    ratio within a round cancels the drift between rounds.
#
# Environment (defaults): GT_ROUNDS=5 GT_MIN_TIME=20ms GT_MODES=native,sim (add ego-sim with
# EGo on PATH: the record's enclave cells build from this repository)
# GT_RECORD=on (off: the comparison only) GT_KEEP=<dir to keep the runs in>. Needs: go, jq, the module proxy (or the
# modules in the module cache), gcc for the sim build.
set -euo pipefail
# A record's cell name: stored up to result schema 2, derived from its fields
# since (parameters here in sorted order, enough to match and group by).
JQ_CELLNAME='def cellname: (.cell // (((.workload[0:1] | ascii_upcase) + .workload[1:]) + ((.params // {}) | to_entries | map("/\(.key)=\(.value)") | join("")) + "/size=\(.size)/mode=\(.mode)"));'

cd "$(dirname "$0")/.."
repo=$(pwd)
ROUNDS=${GT_ROUNDS:-5}
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
	src=()
	[[ $MODES == *ego* || $MODES == *sgx* ]] && src=(--source-dir "$repo") # the enclave modes build from this tree
	(cd "$work/src/${names[$i]}" && "$bench" run --gotest . --bench "${sels[$i]}" --sizes dcsv2 --modes "$MODES" \
		--workload-bin "$work/bin/workload" "${src[@]}" --min-time "$MIN_TIME" --progress never -o "$out") || true
done

if ((ROUNDS == 0)); then
	echo "work: $work"
	exit 0
fi
echo "== 2. native on $size against plain go test -bench, $ROUNDS rounds interleaved"
# Each round runs, per module, in random order and back to back: the
# harness's native cells (6 repetitions); plain `go test -bench` at
# -benchtime <min-time> (as one would run it: go test sizes b.N itself, per
# -count); and plain `go test -bench` of each benchmark at the b.N the
# harness calibrated in the same round (so that side runs after the
# harness), so the two measure the same work. Ratios are taken within a
# round (harness median / plain median of that round's 6 values a side), so
# the host's drift between rounds cancels; over the rounds, their median and
# range. A fourth side runs the harness's own test binary with the harness's
# flags directly (no harness, no go command): harness / direct is what the
# harness itself adds. Last, "pooled": the median of all rounds' harness
# values over the median of all rounds' plain values at -benchtime, and the
# range of b.N the harness calibrated over the rounds (a benchmark whose
# ns/op depends on b.N, such as one that sets up inside its timed region,
# cannot agree at another b.N).
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "nan"; exit} print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
pattern() { # workload sub -> -bench expression of exactly that benchmark
	local p="^Benchmark$1\$"
	[[ -n $2 ]] && p="$p/^$2\$"
	printf '%s' "$p"
}
for r in $(seq 1 "$ROUNDS"); do
	for i in "${!mods[@]}"; do
		n=${names[$i]}
		# plainn and direct take this round's b.N, so they follow the harness;
		# plain go test at its own b.N goes before or after it at random.
		after=($(printf '%s\n' plainn direct | shuf))
		if ((RANDOM % 2)); then
			order=(plaint harness "${after[@]}")
		else
			after=($(printf '%s\n' plaint plainn direct | shuf))
			order=(harness "${after[@]}")
		fi
		for side in "${order[@]}"; do
			case $side in
			plaint)
				(cd "$work/src/$n" && go test -run '^$' -bench "${sels[$i]}" -benchtime "$MIN_TIME" -count 6 -benchmem) >"$work/plaint-$n-$r.txt" ;;
			plainn | direct)
				: >"$work/$side-$n-$r.txt"
				last="$work/h-$n-$r"
				testbin=$(jq -r '.gotest[0].binary' "$last/run.json")
				jq -r '[.workload, (.params.sub // ""), .iters] | join("|")' "$last/samples.jsonl" | sort -u |
					while IFS='|' read -r w sub iters; do
						if [[ $side == plainn ]]; then
							(cd "$work/src/$n" && go test -run '^$' -bench "$(pattern "$w" "$sub")" -benchtime "${iters}x" -count 6 -benchmem)
						else # the harness's test binary with its flags, run by this script instead of the harness
							(cd "$work/src/$n" && "$testbin" -test.run '^$' -test.bench "$(pattern "$w" "$sub")" -test.benchmem -test.v \
								-test.cpu "$cpus" -test.benchtime "${iters}x" -test.count 6)
						fi >>"$work/$side-$n-$r.txt"
					done ;;
			harness)
				rm -rf "$work/h-$n-$r"
				(cd "$work/src/$n" && "$bench" run --gotest . --bench "${sels[$i]}" --sizes "$size" --modes native \
					--workload-bin "$work/bin/workload" --min-time "$MIN_TIME" --reps 6 --progress never -o "$work/h-$n-$r" >/dev/null 2>&1) ;;
			esac
		done
	done
	echo "round $r of $ROUNDS done at $(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "benchmark | harness / plain go test at -benchtime $MIN_TIME | harness / plain go test at the harness's b.N | harness / its test binary run directly with its flags: each rounds median min max | pooled harness / plain at -benchtime | harness b.N min max"
for i in "${!mods[@]}"; do
	n=${names[$i]}
	# Plain names: BenchmarkSum64/4B-2; the harness's cells: Sum64/sub=4B/size=.../mode=native.
	for kind in plaint plainn direct; do
		for r in $(seq 1 "$ROUNDS"); do
			awk -v suf="-$cpus" '$1 ~ /^Benchmark/ && $4 == "ns/op" {n=$1; if (substr(n, length(n)-length(suf)+1) == suf) n=substr(n, 1, length(n)-length(suf)); print n, $3}' \
				"$work/$kind-$n-$r.txt" | sort >"$work/$kind-$n-$r.vals"
		done
	done
	for name in $(cut -d' ' -f1 "$work/plaint-$n-1.vals" | sort -u); do
		base=${name#Benchmark}
		top=${base%%/*}
		cellre="^${top}"
		[[ $base == */* ]] && cellre="$cellre/sub=${base#*/}"
		cellre="$cellre/size=$size/mode=native\$"
		out="$name"
		for kind in plaint plainn direct; do
			ratios=""
			for r in $(seq 1 "$ROUNDS"); do
				p=$(awk -v n="$name" '$1==n {print $2}' "$work/$kind-$n-$r.vals" | median)
				h=$(jq -r --arg re "$cellre" "$JQ_CELLNAME"' select(cellname|test($re)) | .values[] | select(.unit=="ns/op") | .value' "$work/h-$n-$r/samples.jsonl" 2>/dev/null | median)
				ratios="$ratios $(awk -v h="$h" -v p="$p" 'BEGIN {if (h+0 > 0 && p+0 > 0) printf "%.3f", h/p; else print "nan"}')"
			done
			out="$out | $(echo "$ratios" | tr ' ' '\n' | grep -v '^$' | grep -v nan | sort -g |
				awk '{v[NR]=$1} END {if (NR==0) {print "0 nan nan nan"; exit} m=(NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%d %.3f %.3f %.3f", NR, m, v[1], v[NR]}')"
		done
		p=$(cat "$work"/plaint-"$n"-*.vals | awk -v n="$name" '$1==n {print $2}' | median)
		h=$(cat "$work"/h-"$n"-*/samples.jsonl | jq -r --arg re "$cellre" "$JQ_CELLNAME"' select(cellname|test($re)) | .values[] | select(.unit=="ns/op") | .value' | median)
		iters=$(cat "$work"/h-"$n"-*/samples.jsonl | jq -r --arg re "$cellre" "$JQ_CELLNAME"' select(cellname|test($re)) | .iters' | sort -n | sed -n '1p;$p' | tr '\n' ' ')
		out="$out | $(awk -v h="$h" -v p="$p" 'BEGIN {if (h+0 > 0 && p+0 > 0) printf "%.3f", h/p; else print "nan"}') | $iters"
		echo "$out"
	done
done
echo "work: $work"
