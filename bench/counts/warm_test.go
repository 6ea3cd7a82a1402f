package counts

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// The counting pass runs the setup of a workload with Spec.CountWarm
// uninstrumented and then repeats its last pass over the data
// instrumented (workloads/cmd/workload): the simulated caches must start
// the operations as the instrumented setup left them. Compared in one
// test binary, which can also run the setup instrumented or leave the
// caches cold (-tags testhook, ENCLAVEBENCH_TEST_COUNT_SETUP):
//   - memsweep random reads over 4 MiB (inside the 16 MiB LLC): no LLC
//     miss per operation after the warm pass or the instrumented setup,
//     one per operation from cold caches (what the warm pass prevents);
//   - over 24 MiB (beyond the LLC, where which lines the setup left in
//     it decides the misses), kvstore over 32 MiB and gokv over 128 MiB
//     (917,504 keys: its warm pass runs the fill's last 327,680
//     instrumented, the rest not): the warm pass's LLC misses per
//     operation within 3% of the instrumented setup's.
func TestCountWarm(t *testing.T) {
	c, bin := testhookWorkload(t)
	count := func(setup string, n int, cell ...string) []float64 {
		t.Helper()
		var out []float64
		for _, v := range countedPerOp(t, c, bin, "ENCLAVEBENCH_TEST_COUNT_SETUP="+setup, n, cell...) {
			out = append(out, v[result.EventLLMissesPF])
		}
		return out
	}

	inLLC := []string{"memsweep", "--param", "ws=4MiB", "--param", "access=random", "--param", "op=read"}
	// 65,536 lines: the warmup and the first measured repetition of
	// 32,768 reads each visit every line once.
	warm, instr, cold := count("", 32768, inLLC...), count("instrumented", 32768, inLLC...), count("cold", 32768, inLLC...)
	t.Logf("4 MiB random reads, LLC misses/op: warm %.3f, instrumented setup %.3f, cold %.3f", warm, instr, cold)
	for i := range Segments {
		if warm[i] > 0.01 || instr[i] > 0.01 {
			t.Errorf("value %d: %.4f LLC misses/op after the warm pass, %.4f after the instrumented setup: want 0 (4 MiB fit the 16 MiB LLC)", i, warm[i], instr[i])
		}
	}
	if cold[0] < 0.9 {
		t.Errorf("first value: %.4f LLC misses/op from cold caches, want 1 (every line chased for the first time a miss): the test cannot tell warm from cold", cold[0])
	}

	for _, cell := range [][]string{
		{"memsweep", "--param", "ws=24MiB", "--param", "access=random", "--param", "op=read"},
		{"kvstore", "--param", "dataset=32MiB", "--param", "dist=uniform", "--param", "mix=read95"},
		{"gokv", "--param", "dataset=128MiB", "--param", "dist=uniform", "--param", "mix=read95", "--param", "update=inplace"},
	} {
		warm, instr := count("", 8192, cell...), count("instrumented", 8192, cell...)
		t.Logf("%v, LLC misses/op: warm %.3f, instrumented setup %.3f", cell, warm, instr)
		for i := range Segments {
			if d := warm[i] - instr[i]; d > 0.03*instr[i] || d < -0.03*instr[i] || instr[i] < 0.1 {
				t.Errorf("%v value %d: %.4f LLC misses/op after the warm pass, %.4f after the instrumented setup: want within 3%% (and a working set beyond the LLC)", cell, i, warm[i], instr[i])
			}
		}
	}
}

// countedPerOp runs one counted process of the testhook workload bin on
// cell, n operations a repetition, with the environment assignment set
// (a wrapper script's: it wins over the harness's), and returns each
// measured repetition's instructions, l1d_misses and ll_misses_pf per
// operation. The same n on every side: Count would find n from a native
// run each time, and the misses per operation of a repetition depend on n.
func countedPerOp(t *testing.T, c *Counter, bin, set string, n int, cell ...string) []map[string]float64 {
	t.Helper()
	wrapper := filepath.Join(t.TempDir(), "wrapper")
	script := "#!/bin/sh\n" + set + " exec " + bin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	args := append(cell, "--size", "DC1s_v2,vcpus=1,epc_bytes=29360128,mem_bytes=0", "--min-time", "1ms",
		"--tmpdir", t.TempDir(), "--reps", strconv.Itoa(Segments), "--warmup", "1", "--iters", strconv.Itoa(n), "--count-pass")
	r, err := c.runValgrind(context.Background(), wrapper, args, []string{"GOMAXPROCS=1"}, t.TempDir())
	if err != nil || r.na != "" || len(r.cg) != Segments {
		t.Fatalf("%s %v: %+v, %v", set, cell, r, err)
	}
	var out []map[string]float64
	for _, cg := range r.cg {
		out = append(out, map[string]float64{
			result.EventInstructions: float64(cg["Ir"]) / float64(n),
			result.EventL1DMisses:    float64(cg["D1mr"]+cg["D1mw"]) / float64(n),
			result.EventLLMissesPF:   float64(cg["ILmr"]+cg["DLmr"]+cg["DLmw"]) / float64(n),
		})
	}
	return out
}

// The counting pass's warm repeats only the end of a setup's last pass,
// the part covering WarmBytes (twice the LLC; workload.Env.WarmBytes says
// why the simulated caches then end as after the whole pass). memsweep
// over 48 MiB (beyond WarmBytes: the tail is 2/3 of the arena), random
// reads (link's end; which lines the LLC holds decides the misses) and
// sequential ones (arena.Sweep's end), counted with the harness's
// WarmBytes and with 0 (the whole pass, as before): the medians of the 3
// values per operation agree, instructions within 0.5% (what the gate
// calls deterministic), misses within 3% or 0.02/op (the medians: one
// value of a process may carry some 700 more instructions of the runtime,
// 0.085/op at this N, as two processes of one setting do; docs/ci.md
// "Cost"). A warm of the last 1 MiB only, which leaves most of the LLC
// empty, does not agree (the test can tell).
func TestCountWarmTail(t *testing.T) {
	c, bin := testhookWorkload(t)
	const n = 8192
	median := func(v []map[string]float64, e string) float64 {
		x := make([]float64, 0, len(v))
		for _, m := range v {
			x = append(x, m[e])
		}
		slices.Sort(x)
		return x[len(x)/2]
	}
	agree := func(e string, a, b float64) bool {
		if e == result.EventInstructions {
			return math.Abs(a-b) <= 0.005*b
		}
		return math.Abs(a-b) <= max(0.02, 0.03*b)
	}
	seq := []string{"memsweep", "--param", "ws=48MiB", "--param", "access=seq", "--param", "op=read"}
	random := []string{"memsweep", "--param", "ws=48MiB", "--param", "access=random", "--param", "op=read"}
	for _, cell := range [][]string{random, seq} {
		tail := countedPerOp(t, c, bin, "", n, cell...)
		whole := countedPerOp(t, c, bin, workload.WarmBytesEnv+"=0", n, cell...)
		for _, e := range []string{result.EventInstructions, result.EventL1DMisses, result.EventLLMissesPF} {
			t.Logf("%s %s/op: tail %.4f (%.4f %.4f %.4f), whole %.4f (%.4f %.4f %.4f)", cell[4], e,
				median(tail, e), tail[0][e], tail[1][e], tail[2][e], median(whole, e), whole[0][e], whole[1][e], whole[2][e])
			if !agree(e, median(tail, e), median(whole, e)) {
				t.Errorf("%v: %s %.4f/op (median) with the warm of the last %d bytes, %.4f with the whole pass's", cell, e, median(tail, e), WarmBytes, median(whole, e))
			}
		}
		if cell[4] == random[4] {
			e := result.EventLLMissesPF
			short := countedPerOp(t, c, bin, workload.WarmBytesEnv+"=1048576", n, cell...)
			t.Logf("%s %s/op with a warm of the last 1 MiB: %.4f", cell[4], e, median(short, e))
			if agree(e, median(short, e), median(whole, e)) {
				t.Errorf("random reads: %.4f LLC misses/op with a warm of the last 1 MiB, %.4f with the whole pass's: the test cannot tell a short warm", median(short, e), median(whole, e))
			}
		}
	}
}
