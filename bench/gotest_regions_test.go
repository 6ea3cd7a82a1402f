package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim"
	"github.com/enclavebench/enclavebench/bench/sites"
)

// TestGoTestEPCByRegion: a user benchmark's sim cell attributes its EPC
// loads to the memory they hit, as a workload's does: BenchmarkHeldHeap
// (bench/testdata/userbench) reads a held heap of 16 pages per operation
// past DC1s_v2's usable EPC, so the Go heap takes most of its loads, and
// little is left unattributed (the test binary's classifier looks every
// 10 ms; loads after its last look are not attributed).
func TestGoTestEPCByRegion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary with the process-EPC overlay and runs it on the software EPC")
	}
	simBin := simWorkloadBin(t)
	t.Setenv(sim.SimBinEnv, simBin)
	t.Chdir(userModule)
	dir := filepath.Join(t.TempDir(), "r")
	_, stderr, code := runBench(t, context.Background(), "run", "--gotest", "./kv", "--bench", "HeldHeap", "--workload-bin", workloadBin,
		"--sizes", "DC1s_v2", "--modes", "sim", "--min-time", "5ms", "--reps", "1", "--warmup", "0", "--progress", "never", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rel string
	for _, c := range d.Cells {
		rel = c.Extra[result.ExtraProfile]
	}
	if len(d.Cells) != 1 || rel == "" {
		t.Fatalf("want one cell with a profile: %+v", d.Cells)
	}
	p, err := sites.Read(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sites.Summarize(p)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int64{}
	var total int64
	for _, e := range s.EPC {
		by[e.Where] += e.Count
		total += e.Count
	}
	t.Logf("EPC loads by region over %d operations: %v", s.Ops, by)
	if total == 0 {
		t.Fatal("no EPC loads in the profile")
	}
	if by["go_heap"]*2 < total {
		t.Errorf("go_heap has %d of %d EPC loads: want most (the held heap is read each operation)", by["go_heap"], total)
	}
	if by["unattributed"]*5 > total {
		t.Errorf("%d of %d EPC loads unattributed: want under 20%%", by["unattributed"], total)
	}
}
