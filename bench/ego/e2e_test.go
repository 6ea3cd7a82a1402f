package ego

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runner"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// runCells runs cells in md through the runner with rc's settings, into a
// fresh result directory, and returns their outcomes as read back.
func runCells(t *testing.T, ctx context.Context, rc *runner.Config, md mode.Mode, cells []plan.Cell) []result.CellResult {
	t.Helper()
	dir := t.TempDir()
	store, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := *rc
	cfg.Cells, cfg.Store, cfg.Attempts = cells, store, map[string]int{}
	cfg.Modes = map[string]mode.Mode{md.Name(): md}
	if _, err := runner.Run(ctx, &cfg); err != nil {
		t.Fatal(err)
	}
	store.Close()
	_, crs, bad := result.ReadAll(dir)
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	return crs
}

// standIn builds bench/testdata/ego-standin and installs it as ego and
// ego-go first on PATH; it returns the file where the stand-in logs its
// invocations.
func standIn(t *testing.T, root string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the stand-in with")
	}
	bin := filepath.Join(t.TempDir(), "bin")
	cmd := exec.Command(goBin, "build", "-o", filepath.Join(bin, "ego"), "./bench/testdata/ego-standin")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the stand-in: %v\n%s", err, out)
	}
	for _, name := range []string{"ego-go", "ego-host"} {
		if err := os.Symlink("ego", filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(t.TempDir(), "invocations.log")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("EGO_STANDIN_GO", goBin)
	t.Setenv("EGO_STANDIN_LOG", log)
	t.Setenv("EGO_STANDIN_SIGNED", filepath.Join(t.TempDir(), "signed.jsonl"))
	return log
}

// invocations counts logged stand-in invocations starting with prefix.
func invocations(t *testing.T, log, prefix string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}

func testCell(t *testing.T, call, sizeName, modeName string) plan.Cell {
	t.Helper()
	s, ok := sizes.Lookup(sizeName)
	if !ok {
		t.Fatalf("no size %s", sizeName)
	}
	return plan.Cell{
		Cell: result.Cell{Workload: "syscall", Params: map[string]string{"call": call}, ParamOrder: []string{"call"},
			Size: s.Name, Mode: modeName},
		SizeInfo: s, Footprint: 1 << 20, Memory: workload.Memory{GoHeap: 1 << 20},
	}
}

// TestStandInEndToEnd drives both modes through the runner with stand-ins
// for ego and ego-go: the workload binary really builds (with -tags ego)
// and runs natively where EGo would run it in an enclave.
func TestStandInEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the workload binary")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	log := standIn(t, root)
	// A user's shell settings that must not reach the sgx launcher.
	t.Setenv("OE_SIMULATION", "1")
	t.Setenv("EDG_CWD", "/nowhere")

	tmp := t.TempDir()
	key := filepath.Join(tmp, "keys", "enclave-key.pem")
	writeTestKey(t, key)
	scratch := filepath.Join(tmp, "scratch")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	// The cache is reached through a symlink: the key's relative path in
	// enclave.json must still lead to the key.
	if err := os.MkdirAll(filepath.Join(tmp, "disk", "cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tmp, "disk", "cache"), filepath.Join(tmp, "cache")); err != nil {
		t.Fatal(err)
	}
	var notes bytes.Buffer
	newMode := func(sim bool) *Mode {
		return New(Options{Sim: sim, SourceDir: root, CacheDir: filepath.Join(tmp, "cache"), KeyPath: key,
			ScratchRoot: scratch, TraceOCalls: true, HostSGX: func() bool { return true }, Log: &notes})
	}
	ctx := context.Background()
	cells := []plan.Cell{
		testCell(t, "read", "DC2s_v2", SGX),
		testCell(t, "clock", "DC2s_v2", SGX), // same enclave configuration as the first
		testCell(t, "read", "DC4s_v2", SGX),  // 4 vCPUs: another configuration
	}
	rc := &runner.Config{Spec: runspec.Spec{Reps: 2, Warmup: new(0), MinTimeNS: int64(time.Millisecond), TimeoutNS: int64(2 * time.Minute)}, ScratchDir: scratch}
	launches := func(cells []plan.Cell) []mode.Launch {
		var ls []mode.Launch
		for _, c := range cells {
			ls = append(ls, rc.Launch(c, ""))
		}
		return ls
	}

	m := newMode(false)
	if err := m.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := m.Prepare(ctx, launches(cells)); err != nil {
		if strings.Contains(err.Error(), "missing go.sum entry") {
			t.Skipf("the module cannot build with -tags ego yet (go.sum lacks EGo's dependencies): %v", err)
		}
		t.Fatalf("Prepare: %v\nnotes:\n%s", err, notes.String())
	}
	if b, s := invocations(t, log, "ego-go build"), invocations(t, log, "ego sign"); b != 1 || s != 2 {
		t.Fatalf("first Prepare: %d builds and %d signatures, want 1 and 2", b, s)
	}

	// A new Mode with the same inputs finds both in the cache.
	m = newMode(false)
	if err := m.Prepare(ctx, launches(cells)); err != nil {
		t.Fatal(err)
	}
	if b, s := invocations(t, log, "ego-go build"), invocations(t, log, "ego sign"); b != 1 || s != 2 {
		t.Errorf("second Prepare: %d builds and %d signatures in all, want still 1 and 2", b, s)
	}

	run := func(t *testing.T, md mode.Mode, cells []plan.Cell) []result.CellResult {
		t.Helper()
		crs := runCells(t, ctx, rc, md, cells)
		for _, cr := range crs {
			if cr.Status == result.StatusOK && cr.Samples != rc.Spec.Reps {
				t.Errorf("%s: %d samples, want %d", cr.Cell, cr.Samples, rc.Spec.Reps)
			}
		}
		return crs
	}

	t.Run("sgx", func(t *testing.T) {
		crs := run(t, m, cells[:1])
		cr := crs[0]
		if cr.Status != result.StatusOK {
			t.Fatalf("cell %s: %s (%s)\nstderr: %s", cr.Cell, cr.Status, cr.Reason, cr.Stderr)
		}
		want := map[string]string{"ego_version": "1.9.0", "ego_ert_version": "0.5.2", "ego_heap_mb": "80", "ego_gomaxprocs": "2", "ego_egomaxthreads": "30",
			"ego_debug": "false", "ocalls_total": "142", "ocall.HandleThreadWait": "17",
			"ego_clock": "ocall (the host kernel gives Edgeless RT no vDSO clock)"}
		for k, v := range want {
			if cr.Extra[k] != v {
				t.Errorf("Extra[%s] = %q, want %q", k, cr.Extra[k], v)
			}
		}
		if w := cr.Extra["ego_warning"]; w != "" {
			t.Errorf("ego_warning: %s (OE_SIMULATION from the environment reached the launcher?)", w)
		}
		if cr.LoadNS <= 0 {
			t.Errorf("no enclave load time recorded")
		}
	})

	t.Run("sgx launch failure", func(t *testing.T) {
		t.Setenv("EGO_STANDIN_FAIL", "sgxdevice")
		cr := run(t, m, cells[:1])[0]
		if cr.Status != result.StatusFailed || !strings.Contains(cr.Reason, "could not open the SGX device") {
			t.Errorf("cell %s: %s (%s), want a failure explained as the SGX device", cr.Cell, cr.Status, cr.Reason)
		}
		if !strings.Contains(cr.Stderr, "Failed to open Intel SGX device") {
			t.Errorf("the launcher's stdout lines are not in the stderr tail:\n%s", cr.Stderr)
		}
	})

	t.Run("ego-sim", func(t *testing.T) {
		sim := newMode(true)
		simCells := []plan.Cell{testCell(t, "read", "DC2s_v2", EGoSim)}
		if err := sim.Prepare(ctx, launches(simCells)); err != nil {
			t.Fatal(err)
		}
		if b, s := invocations(t, log, "ego-go build"), invocations(t, log, "ego sign"); b != 1 || s != 2 {
			t.Errorf("ego-sim Prepare rebuilt or re-signed: %d builds, %d signatures in all", b, s)
		}
		cr := run(t, sim, simCells)[0]
		if cr.Status != result.StatusOK {
			t.Fatalf("cell %s: %s (%s)\nstderr: %s", cr.Cell, cr.Status, cr.Reason, cr.Stderr)
		}
		if w := cr.Extra["ego_warning"]; w != "" {
			t.Errorf("ego_warning: %s", w)
		}
	})

	t.Run("unprepared cell", func(t *testing.T) {
		_, err := m.Command(ctx, rc.Launch(testCell(t, "read", "DC8_v2", SGX), filepath.Join(scratch, "x")))
		if err == nil || !strings.Contains(err.Error(), "was not prepared") {
			t.Errorf("Command of an unprepared configuration: %v", err)
		}
	})

	t.Run("scratch outside the mount", func(t *testing.T) {
		_, err := m.Command(ctx, rc.Launch(cells[0], t.TempDir()))
		if err == nil || !strings.Contains(err.Error(), "outside") {
			t.Errorf("Command with a scratch dir outside ScratchRoot: %v", err)
		}
	})
}

func TestCheck(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	tests := []struct {
		name string
		o    Options
		want []string // lines of the error; none: no error
	}{
		{"sgx, nothing", Options{LookPath: notFound, HostSGX: func() bool { return false }},
			[]string{"SGX is not usable here", "EGo is not installed", "snap install ego-dev --classic"}},
		{"ego-sim needs no SGX", Options{Sim: true, LookPath: notFound, HostSGX: func() bool { return false }},
			[]string{"EGo is not installed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.SourceDir = root
			err := New(tt.o).Check(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.o.Sim && strings.Contains(err.Error(), "SGX") {
				t.Errorf("ego-sim complains about SGX: %v", err)
			}
		})
	}

	t.Run("versions", func(t *testing.T) {
		standIn(t, root)
		for _, tt := range []struct {
			ego, goVersion string
			want           string // in the error; "": accepted
		}{
			{"1.0.1", "", "EGo 1.0.1"},
			{"1.6.0", "go1.21.8", "ego-go at "},
			{"1.6.0", "go1.26.8", ""},
			{"1.9.0", "", ""},
		} {
			t.Setenv("EGO_STANDIN_VERSION", tt.ego)
			t.Setenv("EGO_STANDIN_GOVERSION", tt.goVersion)
			var log bytes.Buffer
			err := New(Options{Sim: true, SourceDir: root, Log: &log}).Check(context.Background())
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("EGo %s, ego-go %q: refused: %v", tt.ego, tt.goVersion, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("EGo %s, ego-go %q: %v, want an error with %q", tt.ego, tt.goVersion, err, tt.want)
			}
			if tt.ego == "1.6.0" && err == nil && !strings.Contains(log.String(), "not a released pairing") {
				t.Errorf("EGo 1.6.0 with %s accepted without a note on the pairing: %q", tt.goVersion, log.String())
			}
		}
	})
}
