package runner

import (
	"context"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
)

// toyMode is the "Adding a mode" recipe of docs/architecture.md, followed
// in a test: a mode type and its registered descriptor, nothing else. It
// launches the plain workload binary through a wrapper (env), as an
// enclave launcher would, and reads the launcher's own stdout line after
// exit (mode.ExitReporter).
type toyMode struct{ afterExit *atomic.Int32 }

func (toyMode) Name() string                                                { return "toy" }
func (toyMode) Check(context.Context) error                                 { return nil }
func (toyMode) Prepare(context.Context, []mode.Launch) error                { return nil }
func (toyMode) Explain(string, int) string                                  { return "" }
func (toyMode) Finish(mode.Launch, *result.Sample, map[string]string) error { return nil }

func (toyMode) Command(ctx context.Context, l mode.Launch) (*exec.Cmd, error) {
	// The launcher prints a banner before the workload's protocol lines:
	// the runner must skip it and hand it to AfterExit.
	args := append([]string{"-c", `echo "[toy] launching"; exec "$@"`, "toy", l.Binary}, l.Args...)
	cmd := exec.CommandContext(ctx, "/bin/sh", args...)
	cmd.Env = append(cmd.Environ(), l.Env...)
	cmd.Dir = l.Dir
	return cmd, nil
}

func (m toyMode) AfterExit(l mode.Launch, foreign []string, stderr string, cr *result.CellResult) {
	if slices.Contains(foreign, "[toy] launching") {
		m.afterExit.Add(1)
	}
}

var toyDescriptor = mode.Descriptor{
	Name: "toy", Rank: 90, Kind: mode.Emulated, Enclave: true, RecordsLoadTime: true,
	Label: "toy", LongLabel: func(ref string) string { return "toy (" + ref + ")" },
	Summary: "the workload under a shell launcher: a test of the mode recipe",
	Note:    "toy figures come from a shell launcher: not an enclave's.",
	New:     func(mode.Config) (mode.Mode, error) { return toyMode{afterExit: &atomic.Int32{}}, nil },
}

// TestToyMode registers a mode from a test and runs cells with it through
// the harness: the name check the plan makes, construction from the
// descriptor, the runner (load time because the descriptor asks for it, ExitReporter).
func TestToyMode(t *testing.T) {
	mode.Register(toyDescriptor)
	t.Cleanup(func() { mode.Unregister("toy") })
	if !slices.Contains(mode.Names(), "toy") {
		t.Fatalf("Names() = %v: the registered toy mode is missing", mode.Names())
	}
	if err := mode.Validate("toy"); err != nil { // what the plan checks
		t.Fatal(err)
	}
	bin := buildWorkload(t)
	cells := syscallCells(t, "DC1s_v2")
	for _, c := range cells[:1] {
		c.Mode = "toy"
		cells = append(cells, c)
	}
	modes := map[string]mode.Mode{}
	for _, n := range []string{mode.Native, "toy"} {
		d, _ := mode.Lookup(n)
		var err error
		if modes[n], err = d.New(mode.Config{WorkloadBin: bin}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Cells: cells, Modes: modes, WorkloadBin: bin, Store: st,
		Spec: runspec.Spec{Reps: 3, Warmup: new(0), MinTimeNS: int64(2 * time.Millisecond), TimeoutNS: int64(time.Minute)}, Attempts: map[string]int{}}
	sum, err := Run(context.Background(), cfg)
	st.Close()
	if err != nil || sum.Done != 2 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	samples, cellResults, bad := result.ReadAll(dir)
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	for _, c := range cellResults {
		if c.Status != result.StatusOK {
			t.Errorf("%s: %s %s", c.Cell, c.Status, c.Reason)
		}
		// Load time is the descriptor's fact, not a name the runner knows.
		if loads := c.LoadNS > 0; loads != (c.Mode == "toy") {
			t.Errorf("%s: load time %d ns; the %s descriptor says RecordsLoadTime=%v", c.Cell, c.LoadNS, c.Mode, c.Mode == "toy")
		}
	}
	var toySamples int
	for _, s := range samples {
		if s.Mode == "toy" && s.Workload == "syscall" {
			toySamples++
		}
	}
	if toySamples != 3 {
		t.Errorf("%d toy samples, want 3", toySamples)
	}
	if n := modes["toy"].(toyMode).afterExit.Load(); n != 1 {
		t.Errorf("AfterExit saw the launcher's banner %d times, want 1", n)
	}
}
