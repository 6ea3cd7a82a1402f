#!/usr/bin/env bash
# Measures what taking OCALL call stacks costs the sim mode's counting pass
# (docs/sim.md "OCALLs by call site"): the quick suite's sim cells on one
# size, run alternately without stacks (--sim-stack-every=0) and with them
# (EVERY, default 4: the default rate; 1 = every stack), ROUNDS times each,
# in this one script. The counting pass's cost per counted operation is
# count_pass_ns / count_pass_ops (cells.jsonl extra); the ratio with/without
# is taken per cell (median over rounds), then its median and range over
# cells, and the runs' wall times are compared too.
#
#   scripts/stack-cost.sh [EVERY [ROUNDS [SIZE]]]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
every=${1:-4}
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
	for e in 0 "$every"; do
		out="$tmp/r$r-e$e"
		start=$(date +%s.%N)
		STACK_EVERY=$e "$tmp/bench" run --workload-bin "$tmp/workload" --profile quick --modes sim --sizes "$size" \
			--progress never -o "$out" >/dev/null 2>"$out.log" || true
		end=$(date +%s.%N)
		echo "$r $e $(echo "$end - $start" | bc)" >>"$tmp/walls"
	done
done
python3 - "$tmp" "$every" <<'PY'
import json, os, statistics, sys
tmp, every = sys.argv[1], sys.argv[2]
per = {}  # (cell, every) -> [ns per counted op]
for d in os.listdir(tmp):
    if not d.startswith("r") or d.endswith(".log") or not os.path.isdir(os.path.join(tmp, d)):
        continue
    e = d.split("-e")[1]
    for line in open(os.path.join(tmp, d, "cells.jsonl")):
        c = json.loads(line)
        x = c.get("extra") or {}
        if c.get("status") == "ok" and int(x.get("count_pass_ops", "0")) > 0:
            per.setdefault((c["cell"], e), []).append(int(x["count_pass_ns"]) / int(x["count_pass_ops"]))
ratios = []
for (cell, e), v in sorted(per.items()):
    if e != every or (cell, "0") not in per:
        continue
    ratios.append((statistics.median(v) / statistics.median(per[(cell, "0")]), cell))
ratios.sort()
walls = {}
for line in open(os.path.join(tmp, "walls")):
    r, e, w = line.split()
    walls.setdefault(e, []).append(float(w))
print(f"stack rate 1 in {every}: {len(ratios)} cells; counting-pass time per counted operation, with / without stacks:")
print(f"  median {statistics.median(r for r, _ in ratios):.2f}x, range {ratios[0][0]:.2f}x ({ratios[0][1]}) .. {ratios[-1][0]:.2f}x ({ratios[-1][1]})")
print(f"  run wall time: without {statistics.median(walls['0']):.0f} s, with {statistics.median(walls[every]):.0f} s (medians of {len(walls['0'])} runs)")
PY
