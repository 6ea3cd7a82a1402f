package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/report"
)

// toyMode is a mode added by the "Adding a mode" recipe of
// docs/architecture.md, in a test: its type and its descriptor, nothing
// else. It launches the workload as native does.
type toyMode struct{ mode.NativeMode }

func (toyMode) Name() string { return "toy" }

// TestToyModeEndToEnd runs `bench run --modes native,toy` and `bench report`
// with a mode registered from a test: the run constructs it from its
// descriptor, records its facts in run.json, and the report labels and
// describes it from those facts.
func TestToyModeEndToEnd(t *testing.T) {
	mode.Register(mode.Descriptor{
		Name: "toy", Rank: 50, Kind: mode.Emulated, Enclave: true, RecordsLoadTime: true, Label: "toy",
		LongLabel: func(string) string { return "toy (emulated)" },
		Summary:   "the workload as a plain process, standing in for an enclave: a test of the mode recipe",
		New:       func(mode.Config) (mode.Mode, error) { return toyMode{}, nil },
	})
	t.Cleanup(func() { mode.Unregister("toy") })
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "--modes", "native,toy", "-o", dir)...)
	if code != 0 {
		t.Fatalf("bench run: exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	noEPC := false // the descriptor does not say its figures model the EPC
	want := result.ModeFacts{Rank: 50, Kind: "emulated", Enclave: true, LoadTime: true, Label: "toy (emulated)",
		Summary: "the workload as a plain process, standing in for an enclave: a test of the mode recipe", ModelsEPC: &noEPC}
	if d.Run.Facts == nil || !reflect.DeepEqual(d.Run.Facts.Modes["toy"], want) {
		t.Errorf("run.json facts of toy = %+v, want %+v", d.Run.Facts, want)
	}
	for _, c := range d.Cells {
		if c.Status != result.StatusOK || (c.LoadNS > 0) != (c.Mode == "toy") {
			t.Errorf("%s: %s %s, load time %d ns", c.Cell, c.Status, c.Reason, c.LoadNS)
		}
	}
	// The report reads the facts, not the registry: it describes toy after
	// the mode is gone.
	mode.Unregister("toy")
	if _, stderr, code := runBench(t, context.Background(), "report", dir); code != 0 {
		t.Fatalf("bench report: exit %d\n%s", code, stderr)
	}
	for file, says := range map[string]string{report.MarkdownFile: want.Label, report.HTMLFile: want.Summary} {
		b, err := os.ReadFile(filepath.Join(dir, "report", file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), says) {
			t.Errorf("%s does not say %q", file, says)
		}
	}
}
