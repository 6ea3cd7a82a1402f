package facts

import (
	"testing"

	"github.com/enclavebench/enclavebench/bench/ego"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/suite"
)

func cell(t *testing.T, w, size, m string, params map[string]string) plan.Cell {
	t.Helper()
	c := plan.Cell{Cell: result.Cell{Workload: w, Params: params, Size: size, Mode: m}, Spec: suite.Workloads[w]}
	var ok bool
	if c.SizeInfo, ok = sizes.Lookup(size); !ok {
		t.Fatalf("no size %s", size)
	}
	if c.Spec.Footprint != nil {
		c.Footprint = c.Spec.Footprint(c.Env(0))
	}
	return c
}

// TestRecord: the facts a run records for its cells.
func TestRecord(t *testing.T) {
	run := &result.Run{Plan: result.Plan{Spec: runspec.Spec{Modes: []string{"native", "sim"}}},
		Profile: &result.CostProfileRef{Name: "published", Version: 2}}
	sz, _ := sizes.Lookup("DC4s_v2")
	cells := []plan.Cell{
		cell(t, "memsweep", "DC4s_v2", "sim", map[string]string{"ws": "0.5xEPC", "access": "seq", "op": "read"}),
		cell(t, "syscall", "DC4s_v2", "native", map[string]string{"call": "read"}),
		cell(t, "threads", "DC4s_v2", "native", map[string]string{"threads": "2xvcpus", "sharing": "none"}),
		cell(t, "fileio", "DC4s_v2", "native", map[string]string{"fs": "host", "access": "seq", "op": "read", "block": "4KiB", "file": "64MiB"}),
	}
	f := Record(run, cells)
	tests := []struct {
		key       string
		footprint int64
		count     int
	}{
		{cells[0].Key(), sz.EPCBytes / 2, 0},
		{cells[1].Key(), 0, 0},            // declared negligible
		{cells[2].Key(), 0, 2 * sz.VCPUs}, // resolved for the size
		{cells[3].Key(), -1, 0},           // declares 0 off memfs: unknown
	}
	for _, tc := range tests {
		got := f.Cell(tc.key)
		if got.FootprintBytes != tc.footprint || got.Count != tc.count {
			t.Errorf("%s: footprint %d count %d, want %d %d", tc.key, got.FootprintBytes, got.Count, tc.footprint, tc.count)
		}
	}
	if got := f.Workload("memsweep").Params; len(got) != 3 || got[0] != "ws" {
		t.Errorf("memsweep params %v, want declaration order ws, access, op", got)
	}
	if got := f.Workload("syscall").Figures; len(got) != 1 || got[0] != (result.FigureRole{Role: result.FigureTransitions, Param: "call"}) {
		t.Errorf("syscall figures %v", got)
	}
	if got := f.Workload("threads").Figures; len(got) != 1 || got[0].Role != result.FigureScaling {
		t.Errorf("threads figures %v", got)
	}
	if got, ok := f.Size("DC4s_v2"); !ok || got.VCPUs != sz.VCPUs || got.EPCBytes != sz.EPCBytes ||
		got.MemoryBytes != sz.MemBytes() || got.Family != "DCsv2" || got.CPU != sz.CPU || got.Source == "" {
		t.Errorf("DC4s_v2 facts %+v, want the catalog's with its source", got)
	}
	if len(f.Sizes) != 1 {
		t.Errorf("sizes %v: want only the size the cells used", f.Sizes)
	}
	sim, ok := f.Mode("sim")
	if !ok || sim.Kind != result.KindModel || !sim.Enclave || sim.Label != "sim (model, profile published/v2)" {
		t.Errorf("sim facts %+v", sim)
	}
	if nat, _ := f.Mode("native"); nat.Enclave || nat.Rank >= sim.Rank {
		t.Errorf("native facts %+v", nat)
	}
	if f.Baseline != "native" {
		t.Errorf("baseline %q, want the registry's baseline mode, native", f.Baseline)
	}
}

// TestModelsEPC: whether a mode's figures measure or model the EPC is
// recorded from its descriptor, so that readers never switch on the name:
// sgx and sim do, EGo's simulation mode (no EPC limit) does not and says
// what it cannot tell.
func TestModelsEPC(t *testing.T) {
	run := &result.Run{Plan: result.Plan{Spec: runspec.Spec{Modes: []string{"native", "sgx", "ego-sim", "sim"}}}}
	f := Record(run, nil)
	for m, want := range map[string]bool{"native": false, "sgx": true, "ego-sim": false, "sim": true} {
		mf, ok := f.Mode(m)
		if !ok || mf.ModelsEPC == nil || *mf.ModelsEPC != want || mf.EPC() != want {
			t.Errorf("%s: models_epc %v, want %v", m, mf.ModelsEPC, want)
		}
	}
	for _, m := range []string{"sgx", "ego-sim"} {
		if mf, _ := f.Mode(m); mf.HeapExtra != ego.ExtraHeapMB {
			t.Errorf("%s: heap_extra %q, want the key its outcomes record the heap under (%s)", m, mf.HeapExtra, ego.ExtraHeapMB)
		}
	}
	if es, _ := f.Mode("ego-sim"); es.Cannot == "" {
		t.Errorf("ego-sim records nothing it cannot tell")
	}
}
