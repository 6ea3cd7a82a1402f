package sizes_test

import (
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/bench/facts"
	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/suite"
)

// TestToySizeFamilyEndToEnd follows the "Adding a size family" recipe
// (docs/architecture.md) past the catalog: rows added to the catalog and
// nothing else make a --sizes selector the plan resolves, each cell's
// workload gets its size as one value, the run records the sizes it used,
// and the cell table every reader reads takes vCPUs, EPC and family from
// the results once the family is gone from the catalog again.
func TestToySizeFamilyEndToEnd(t *testing.T) {
	const mib, gib = 1 << 20, 1 << 30
	dir := t.TempDir()
	t.Run("plan and record", func(t *testing.T) {
		sizes.AddRowsForTest(t,
			sizes.Size{Name: "TOY1", Family: "Toyv1", VCPUs: 1, MemoryGiB: 2, EPCBytes: 8 * mib, CPU: "a toy CPU", SGX: 2, Source: "a toy page"},
			sizes.Size{Name: "TOY2", Family: "Toyv1", VCPUs: 2, MemoryGiB: 4, EPCBytes: 16 * mib, CPU: "a toy CPU", SGX: 2, Source: "a toy page"})
		spec := runspec.Spec{Workloads: []string{"memsweep"}, Sizes: []string{"toyv1"}, Modes: []string{"native"}, Profile: "quick", Seed: 1,
			Overrides: map[string][]string{"memsweep.ws": {"0.5xEPC"}, "memsweep.access": {"seq"}, "memsweep.op": {"read"}}}
		run, err := plan.Resolve(plan.Request{Registry: suite.Workloads, Spec: spec, OnSize: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(run.Cells) != 2 || strings.Join(run.Spec.Sizes, ",") != "TOY1,TOY2" {
			t.Fatalf("%d cells on %v, want one on each of TOY1, TOY2", len(run.Cells), run.Spec.Sizes)
		}
		want := map[string]protocol.Size{
			"TOY1": {Name: "TOY1", VCPUs: 1, EPCBytes: 8 * mib, MemBytes: 2 * gib},
			"TOY2": {Name: "TOY2", VCPUs: 2, EPCBytes: 16 * mib, MemBytes: 4 * gib},
		}
		for _, c := range run.Cells {
			if got := c.WorkloadSize(); got != want[c.Size] {
				t.Errorf("%s: the workload gets size %+v, want %+v", c.Key(), got, want[c.Size])
			}
		}

		st, err := result.OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
		rec := result.Run{SchemaVersion: result.SchemaVersion, ID: "toy-family", HarnessVersion: "dev", Start: start, End: start.Add(time.Minute),
			Status: result.RunComplete, Plan: result.Plan{Spec: run.Spec}, Host: host.Fingerprint{OS: "linux", Arch: "amd64"}}
		for i, c := range run.Cells {
			rec.Plan.Cells = append(rec.Plan.Cells, c.Key())
			for rep := range 3 {
				s := result.Sample{Cell: c.Key(), Attempt: 1, Workload: c.Workload, Params: c.Params, Size: c.Size, Mode: c.Mode,
					Rep: rep, Iters: 1000, ElapsedNS: 1_000_000, Time: start.Add(time.Duration(i*3+rep) * time.Second),
					Values: []protocol.Value{{Value: float64(10 + i), Unit: "ns/op", Better: protocol.Lower}}}
				if err := st.AppendSample(&s); err != nil {
					t.Fatal(err)
				}
			}
			cr := result.CellResult{Cell: c.Key(), Attempt: 1, Workload: c.Workload, Params: c.Params, Size: c.Size, Mode: c.Mode,
				Status: result.StatusOK, Samples: 3, Start: start}
			if err := st.AppendCell(&cr); err != nil {
				t.Fatal(err)
			}
		}
		rec.Facts = facts.Record(&rec, run.Cells)
		if err := st.WriteRun(&rec); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	})

	// The family is gone from the catalog: the results still say it all.
	if _, ok := sizes.Lookup("TOY1"); ok {
		t.Fatal("TOY1 is still in the catalog")
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tb := cells.FromDir(d)
	if len(tb.Cells) != 2 {
		t.Fatalf("%d cells in the table, want 2", len(tb.Cells))
	}
	n := len(sizes.All())
	for _, c := range tb.Cells {
		sf := c.SizeFacts
		vcpus, epc := 1, int64(8*mib)
		if c.Size == "TOY2" {
			vcpus, epc = 2, 16*mib
		}
		if !c.SizeKnown || sf.Family != "Toyv1" || sf.VCPUs != vcpus || sf.EPCBytes != epc || sf.Source != "a toy page" || sf.Order <= n {
			t.Errorf("%s: size facts %+v (known %v), want family Toyv1, %d vCPUs, %d bytes of EPC, the toy page, after the catalog's %d sizes",
				c.Size, sf, c.SizeKnown, vcpus, epc, n)
		}
	}
}
