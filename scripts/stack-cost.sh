#!/usr/bin/env bash
# Measures what taking OCALL call stacks costs the sim mode's counting pass
# (docs/sim.md "OCALLs and EPC loads by call site"): the quick suite's sim
# cells on one size, run in turn without stacks (--sim-stack-every=0) and
# at each rate of RATES (default "1 4": every stack, and one in 4, the
# default), ROUNDS times, in this one script. The counting pass's cost per
# counted operation is count_pass_ns / count_pass_ops (cells.jsonl extra);
# the ratio with/without is taken per cell (median over rounds), then its
# median over all cells and over the OCALL-bound ones (>= 1 OCALL per
# operation, where the notifications are the pass's time), and the runs'
# wall times are compared too.
#
#   scripts/stack-cost.sh [RATES [ROUNDS [SIZE]]]     e.g. scripts/stack-cost.sh "1 4" 2
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rates=${1:-1 4}
rounds=${2:-2}
size=${3:-DC2s_v2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ENCLAVEBENCH_IMDS=off
(cd "$here" && go build -o "$tmp/bench" ./bench && go build -o "$tmp/workload" ./workloads/cmd/workload &&
	bash scripts/build-sim.sh "$tmp/workload-sim.real" >/dev/null)
# A wrapper that appends the stack rate to every invocation of the sim
# binary (the probe ignores it).
cat >"$tmp/workload-sim" <<WRAP
#!/bin/sh
exec "$tmp/workload-sim.real" "\$@" --sim-stack-every="\$STACK_EVERY"
WRAP
chmod +x "$tmp/workload-sim"
export ENCLAVEBENCH_WORKLOAD_SIM="$tmp/workload-sim"
for r in $(seq 1 "$rounds"); do
	for e in 0 $rates; do
		out="$tmp/r$r-e$e"
		start=$(date +%s.%N)
		STACK_EVERY=$e "$tmp/bench" run --workload-bin "$tmp/workload" --profile quick --modes sim --sizes "$size" \
			--progress never -o "$out" >/dev/null 2>"$out.log" || true
		end=$(date +%s.%N)
		echo "$r $e $(echo "$end - $start" | bc)" >>"$tmp/walls"
	done
done
python3 - "$tmp" $rates <<'PY'
import json, os, statistics, sys
tmp, rates = sys.argv[1], sys.argv[2:]
def cellname(c):
    """A record's cell name: stored up to result schema 2, derived from its fields since."""
    if "cell" in c:
        return c["cell"]
    w, params = c["workload"], c.get("params") or {}
    return w[:1].upper() + w[1:] + "".join("/%s=%s" % kv for kv in sorted(params.items())) + "/size=%s/mode=%s" % (c["size"], c["mode"])
per = {}  # (cell, rate) -> [ns per counted op]
bound = set()  # cells with >= 1 OCALL per counted operation
for d in os.listdir(tmp):
    if not d.startswith("r") or d.endswith(".log") or not os.path.isdir(os.path.join(tmp, d)):
        continue
    e = d.split("-e")[1]
    for line in open(os.path.join(tmp, d, "cells.jsonl")):
        c = json.loads(line)
        x = c.get("extra") or {}
        if c.get("status") == "ok" and int(x.get("count_pass_ops", "0")) > 0:
            per.setdefault((cellname(c), e), []).append(int(x["count_pass_ns"]) / int(x["count_pass_ops"]))
            if int(x.get("count_pass_ocalls", "0")) >= int(x["count_pass_ops"]):
                bound.add(cellname(c))
walls = {}
for line in open(os.path.join(tmp, "walls")):
    r, e, w = line.split()
    walls.setdefault(e, []).append(float(w))
for every in rates:
    ratios = sorted((statistics.median(v) / statistics.median(per[(cell, "0")]), cell)
                    for (cell, e), v in per.items() if e == every and (cell, "0") in per)
    if not ratios:
        continue
    b = [r for r, cell in ratios if cell in bound]
    print(f"stack rate 1 in {every}: counting-pass time per counted operation, with / without stacks")
    print(f"  all {len(ratios)} cells: median {statistics.median(r for r, _ in ratios):.2f}x, range {ratios[0][0]:.2f}x ({ratios[0][1]}) .. {ratios[-1][0]:.2f}x ({ratios[-1][1]})")
    if b:
        print(f"  {len(b)} OCALL-bound cells (>= 1 OCALL per operation): median {statistics.median(b):.2f}x, range {min(b):.2f}x .. {max(b):.2f}x")
    print(f"  run wall time: without {statistics.median(walls['0']):.0f} s, with {statistics.median(walls[every]):.0f} s (medians of {len(walls['0'])} runs)")
PY
