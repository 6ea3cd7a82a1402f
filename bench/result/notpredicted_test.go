package result

import (
	"bytes"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// TestNotPredictedPublishesNoFigures: a sim sample the model could not
// predict keeps its measured values in samples.jsonl, but bench.txt and
// results.csv publish none of them under the model's name, and Flaws
// names the cell with the reason; a predicted sample of another cell is
// published as before.
func TestNotPredictedPublishesNoFigures(t *testing.T) {
	ns := func(v float64) []protocol.Value {
		return []protocol.Value{{Value: v, Unit: "ns/op", Better: protocol.Lower}}
	}
	const (
		blind = "Syscall/call=clock/size=DC1s_v2/mode=sim"
		seen  = "Syscall/call=read/size=DC1s_v2/mode=sim"
	)
	d := &Dir{Samples: []Sample{
		{Cell: blind, Workload: "syscall", Size: "DC1s_v2", Mode: "sim", Iters: 10, Values: ns(54.4),
			Model: &Model{Profile: "published/v2", Native: ns(54.4), CountsOnly: "OCALLs not counted: no seccomp"}},
		{Cell: blind, Workload: "syscall", Size: "DC1s_v2", Mode: "sim", Rep: 1, Iters: 10, Values: ns(55.1),
			Events: map[string]int64{protocol.EventOCalls: 10},
			Model:  &Model{Profile: "published/v2", Native: ns(55.1), CountsOnly: "OCALLs not counted: no seccomp"}},
		{Cell: seen, Workload: "syscall", Size: "DC1s_v2", Mode: "sim", Iters: 10, Values: ns(9000),
			Model: &Model{Profile: "published/v2", Native: ns(300), BaseNS: 3000, PredictedNS: 90000}},
	}}
	if got := d.Samples[0].NotPredicted(); got != "OCALLs not counted: no seccomp" {
		t.Errorf("NotPredicted = %q", got)
	}
	if d.Samples[2].NotPredicted() != "" || len(d.Samples[2].Figures()) != 1 || len(d.Samples[0].Figures()) != 0 {
		t.Errorf("Figures: predicted %v, not predicted %v", d.Samples[2].Figures(), d.Samples[0].Figures())
	}
	flaws := Flaws(d)
	if f := flaws[blind]; !strings.Contains(f, "not predicted (OCALLs not counted: no seccomp)") || !strings.Contains(f, "unpriced measurements") {
		t.Errorf("flaw of the unpredicted cell = %q", f)
	}
	if f, ok := flaws[seen]; ok {
		t.Errorf("the predicted cell is flawed: %q", f)
	}

	var txt, csv bytes.Buffer
	if err := WriteBenchfmt(&txt, &d.Run, d.Samples, flaws); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&csv, "r1", d.Samples); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"54.4", "55.1"} {
		if strings.Contains(txt.String(), bad) || strings.Contains(csv.String(), bad) {
			t.Errorf("a native figure %s is published under the sim mode:\n%s\n%s", bad, txt.String(), csv.String())
		}
	}
	// The second sample's counted OCALLs are still published; the first,
	// with nothing to publish, has no line.
	if n := strings.Count(txt.String(), "Benchmark"+blind); n != 1 || !strings.Contains(txt.String(), "1 ocalls/op") {
		t.Errorf("bench.txt has %d lines of the unpredicted cell, want 1 with its OCALLs:\n%s", n, txt.String())
	}
	if !strings.Contains(txt.String(), "Benchmark"+seen) || !strings.Contains(csv.String(), seen) {
		t.Errorf("the predicted cell is missing:\n%s\n%s", txt.String(), csv.String())
	}
	if n, err := benchRows(txt.Bytes()); err != nil || n != 2 {
		t.Errorf("bench.txt rows = %d, %v; want 2", n, err)
	}
}
