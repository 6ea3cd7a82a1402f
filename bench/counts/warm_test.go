package counts

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
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
	// One counted process of n operations a repetition: the same n on
	// every side (Count would find n from a native run each time, and the
	// misses per operation of a repetition depend on n).
	count := func(setup string, n int, cell ...string) []float64 {
		t.Helper()
		wrapper := filepath.Join(t.TempDir(), "setup-"+setup)
		script := "#!/bin/sh\nENCLAVEBENCH_TEST_COUNT_SETUP=" + setup + " exec " + bin + " \"$@\"\n"
		if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		args := append(cell, "--size", "DC1s_v2,vcpus=1,epc_bytes=29360128,mem_bytes=0", "--min-time", "1ms",
			"--tmpdir", t.TempDir(), "--reps", strconv.Itoa(Segments), "--warmup", "1", "--iters", strconv.Itoa(n), "--count-pass")
		dir := t.TempDir()
		r, err := c.runValgrind(context.Background(), wrapper, args, []string{"GOMAXPROCS=1"}, dir)
		if err != nil || r.na != "" || len(r.cg) != Segments {
			t.Fatalf("%s %v: %+v, %v", setup, cell, r, err)
		}
		var out []float64
		for _, cg := range r.cg {
			out = append(out, float64(cg["ILmr"]+cg["DLmr"]+cg["DLmw"])/float64(n))
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
