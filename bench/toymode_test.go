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
// with a mode registered from a test: `bench run` takes the flag its
// descriptor declares, the run constructs it from its descriptor with that
// flag's value, records its facts and its setting in run.json, a resume
// with another value is refused, and the report labels and describes it
// from those facts.
func TestToyModeEndToEnd(t *testing.T) {
	var knob string
	mode.Register(mode.Descriptor{
		Name: "toy", Rank: 50, Kind: mode.Emulated, Enclave: true, RecordsLoadTime: true, Label: "toy",
		LongLabel: func(string) string { return "toy (emulated)" },
		Summary:   "the workload as a plain process, standing in for an enclave: a test of the mode recipe",
		Note:      "toy figures stand in for an enclave's: not hardware figures.",
		Flags:     []mode.Flag{{Name: "toy-knob", Usage: "toy: a knob that changes what toy cells measure", Setting: true}},
		New: func(c mode.Config) (mode.Mode, error) {
			knob = c.Options.String("toy-knob")
			return toyMode{}, nil
		},
	})
	t.Cleanup(func() { mode.Unregister("toy") })
	if _, help, _ := runBench(t, context.Background(), "run", "--help"); !strings.Contains(help, "--toy-knob string") {
		t.Errorf("bench run --help does not list the toy mode's flag:\n%s", help)
	}
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "--modes", "native,toy", "--toy-knob", "7", "-o", dir)...)
	if code != 0 {
		t.Fatalf("bench run: exit %d\n%s", code, stderr)
	}
	if knob != "7" {
		t.Errorf("the toy mode was constructed with toy-knob %q, want 7", knob)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	noEPC := false // the descriptor does not say its figures model the EPC
	want := result.ModeFacts{Rank: 50, Kind: "emulated", Enclave: true, LoadTime: true, Label: "toy (emulated)",
		Summary: "the workload as a plain process, standing in for an enclave: a test of the mode recipe", ModelsEPC: &noEPC,
		Note: "toy figures stand in for an enclave's: not hardware figures."}
	if d.Run.Facts == nil || !reflect.DeepEqual(d.Run.Facts.Modes["toy"], want) {
		t.Errorf("run.json facts of toy = %+v, want %+v", d.Run.Facts, want)
	}
	for _, c := range d.Cells {
		if c.Status != result.StatusOK || (c.LoadNS > 0) != (c.Mode == "toy") {
			t.Errorf("%s: %s %s, load time %d ns", c.Cell, c.Status, c.Reason, c.LoadNS)
		}
	}
	if got := d.Run.ModeSettings["toy"]; !reflect.DeepEqual(got, map[string]string{"toy-knob": "7"}) {
		t.Errorf("run.json mode_settings of toy = %v, want toy-knob 7", got)
	}
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--toy-knob", "8")
	if code != 2 || !strings.Contains(stderr, "--toy-knob=7 (this resume: 8)") {
		t.Errorf("resume with another --toy-knob: exit %d, want 2 naming the run's value\n%s", code, stderr)
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
	// The note above the tables is the one toy recorded, not the emulated
	// kind's frozen note (EGo's simulation mode) nor another mode's.
	md, err := os.ReadFile(filepath.Join(dir, "report", report.MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "> "+want.Note+"\n") {
		t.Errorf("%s lacks the toy mode's note %q", report.MarkdownFile, want.Note)
	}
	for _, other := range []string{"EGo's simulation", "ego-sim", "sim figures"} {
		if strings.Contains(string(md), other) {
			t.Errorf("%s says %q of a run without that mode", report.MarkdownFile, other)
		}
	}
}
