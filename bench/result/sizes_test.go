package result

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestSizeFacts: a directory reads with the sizes its run recorded, and one
// from before they were recorded with the frozen catalog of its schema, so
// that editing bench/sizes changes no old report.
func TestSizeFacts(t *testing.T) {
	old := filepath.Join("..", "..", "report", "testdata", "fixtures", "dc-a")
	d, err := Load(old)
	if err != nil {
		t.Fatal(err)
	}
	if sz, ok := d.Facts.Size("DC1s_v2"); !ok || sz.VCPUs != 1 || sz.EPCBytes != 28<<20 || sz.Family != "DCsv2" {
		t.Errorf("schema 1 DC1s_v2: %+v %v, want the frozen catalog's 1 vCPU, 28 MiB EPC", sz, ok)
	}
	if _, ok := d.Facts.Size("DC8_v2"); !ok {
		t.Error("schema 1: DC8_v2 of the plan has no facts")
	}
	if d.Facts.Baseline != frozenBaseline {
		t.Errorf("schema 1: baseline %q, want the frozen %q", d.Facts.Baseline, frozenBaseline)
	}

	// The same run with recorded facts: those are read, not the catalog.
	b, err := os.ReadFile(filepath.Join(old, RunFile))
	if err != nil {
		t.Fatal(err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	r.SchemaVersion = 2
	r.Facts = &Facts{Workloads: map[string]WorkloadFacts{}, Modes: map[string]ModeFacts{}, Cells: map[string]CellFacts{},
		Sizes: map[string]SizeFacts{"DC1s_v2": {Family: "DCsv2", VCPUs: 3, EPCBytes: 99 << 20}}, Baseline: "plain"}
	dir := t.TempDir()
	b, _ = json.Marshal(r)
	if err := os.WriteFile(filepath.Join(dir, RunFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sz, _ := d.Facts.Size("DC1s_v2"); sz.VCPUs != 3 || sz.EPCBytes != 99<<20 {
		t.Errorf("recorded DC1s_v2: %+v, want the run's 3 vCPUs, 99 MiB", sz)
	}
	if _, ok := d.Facts.Size("DC8_v2"); ok {
		t.Error("a run that recorded its sizes got another from the catalog")
	}
	if d.Facts.Baseline != "plain" {
		t.Errorf("recorded baseline read as %q, want the run's plain", d.Facts.Baseline)
	}
}
