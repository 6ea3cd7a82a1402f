package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// installStandIn puts the test-only stand-in for ego and ego-go
// (testdata/ego-standin) first on PATH.
func installStandIn(t *testing.T) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "ego"), "./testdata/ego-standin").CombinedOutput(); err != nil {
		t.Fatalf("building the stand-in: %v\n%s", err, out)
	}
	for _, name := range []string{"ego-go", "ego-host"} {
		if err := os.Symlink("ego", filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	goBin, _ := exec.LookPath("go")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("EGO_STANDIN_GO", goBin)
	t.Setenv("EGO_STANDIN_LOG", filepath.Join(t.TempDir(), "invocations.log"))
	t.Setenv("EGO_STANDIN_SIGNED", filepath.Join(t.TempDir(), "signed.jsonl"))
	// The signing key and the build cache go under $HOME; Go's own caches
	// stay where they are.
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(v, strings.TrimSpace(string(out)))
	}
	t.Setenv("HOME", t.TempDir())
}

// TestRunEnclaveModesWithStandIn drives `bench run --modes sgx,ego-sim`
// end to end up to the ego command boundary: the workload is built by
// "ego-go", signed by "ego sign" (the stand-in checks enclave.json and the
// key) and run by "ego run" (the stand-in runs it natively).
func TestRunEnclaveModesWithStandIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the workload with the stand-in ego-go")
	}
	installStandIn(t)
	testHostSGX = func() bool { return true }
	defer func() { testHostSGX = nil }()
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := runBench(t, context.Background(), "run", "--workload-bin", workloadBin, "--modes", "native,sgx,ego-sim",
		"--workloads", "syscall", "--param", "syscall.call=read", "--sizes", "DC1s_v2", "--min-time", "2ms", "--reps", "3",
		"--source-dir", "..", "-o", dir, "--progress", "never")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]bool{}
	for _, c := range d.Cells {
		modes[c.Mode] = true
		if c.Status != result.StatusOK {
			t.Errorf("%s: %s %s", c.Cell, c.Status, c.Reason)
		}
		if c.Mode != "native" {
			if c.Extra["ego_version"] == "" || c.Extra["ego_heap_mb"] == "" {
				t.Errorf("%s: no EGo metadata in %v", c.Cell, c.Extra)
			}
			if c.LoadNS <= 0 {
				t.Errorf("%s: no enclave load time", c.Cell)
			}
		}
	}
	if !modes["sgx"] || !modes["ego-sim"] || !modes["native"] {
		t.Errorf("modes run: %v", modes)
	}
	if v := d.Run.Host.EGo.ERTVersion; v != "0.5.2" {
		t.Errorf("run.json host.ego.edgeless_rt_version = %q (%s), want the stand-in's 0.5.2", v, d.Run.Host.EGo.ERTNote)
	}
	for _, m := range []string{"sgx", "ego-sim"} {
		if got := d.Run.ModeSettings[m]["ego-trace-ocalls"]; got != "false" {
			t.Errorf("run.json mode_settings[%s]: %v", m, d.Run.ModeSettings[m])
		}
	}
	// A resume under other enclave flags would mix traced and untraced
	// cells under one name: refused, naming the flag to pass.
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin,
		"--source-dir", "..", "--ego-trace-ocalls", "--progress", "never")
	if code != exitUsage || !strings.Contains(stderr, "--ego-trace-ocalls=false (this resume: true)") {
		t.Errorf("resume with --ego-trace-ocalls: exit %d\n%s", code, stderr)
	}
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin,
		"--source-dir", "..", "--progress", "never")
	if code != 0 {
		t.Errorf("resume with the run's flags: exit %d\n%s", code, stderr)
	}
	// The stand-in's cells carry no signed report: verify says what it
	// checked and fails, since nothing was verified.
	out, stderr, code := runBench(t, context.Background(), "verify", dir)
	if code != exitFailed || !strings.Contains(stderr, "nothing was verified") || !strings.Contains(out, "report signatures") {
		t.Errorf("verify: exit %d, want %d\n%s%s", code, exitFailed, out, stderr)
	}
	t.Logf("verify:\n%s%s", out, stderr)
}

// TestEnclaveModesMissing: asking for an enclave mode the host cannot run
// is bad input, reported before any cell runs, with how to get it.
func TestEnclaveModesMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no ego anywhere
	for _, m := range []string{"sgx", "ego-sim"} {
		dir := filepath.Join(t.TempDir(), "run")
		_, stderr, code := runBench(t, context.Background(), "run", "--workload-bin", workloadBin, "--modes", m,
			"--workloads", "syscall", "--sizes", "DC1s_v2", "--source-dir", "..", "-o", dir)
		if code != exitUsage || !strings.Contains(stderr, "EGo") {
			t.Errorf("--modes %s without EGo: exit %d\n%s", m, code, stderr)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("--modes %s: a result directory was left behind", m)
		}
	}
}

// The ego modes build the workload from --source-dir: run.json pins the
// sources' digest, and a resume from other sources (the src2,
// whose pread path differs) is refused.
func TestResumeRefusesOtherEnclaveSources(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the workload twice with the stand-in ego-go")
	}
	installStandIn(t)
	tmp := t.TempDir()
	src, src2 := filepath.Join(tmp, "src"), filepath.Join(tmp, "src2")
	for _, dst := range []string{src, src2} {
		os.MkdirAll(dst, 0o755)
		if out, err := exec.Command("cp", "-r", "../go.mod", "../go.sum", "../workloads", dst).CombinedOutput(); err != nil {
			t.Fatalf("copying the sources: %v\n%s", err, out)
		}
	}
	edited := filepath.Join(src2, "workloads", "syscall", "syscall.go")
	b, err := os.ReadFile(edited)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(edited, append(b, "\n// another tree\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "run")
	args := []string{"--workload-bin", workloadBin, "--progress", "never"}
	_, stderr, code := runBench(t, context.Background(), append([]string{"run", "--modes", "ego-sim", "--workloads", "syscall",
		"--param", "syscall.call=read", "--sizes", "DC1s_v2", "--min-time", "2ms", "--reps", "3", "--source-dir", src, "-o", dir}, args...)...)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pin *result.ModeBinary
	for i, mb := range d.Run.Build.ModeBinaries {
		if mb.Mode == "ego-sim" {
			pin = &d.Run.Build.ModeBinaries[i]
		}
	}
	if pin == nil || pin.SourceDir != src || pin.SourceDigest == "" || len(pin.SHA256) != 64 {
		t.Fatalf("run.json build.mode_binaries %+v: no ego-sim pin of %s", d.Run.Build.ModeBinaries, src)
	}
	os.Remove(filepath.Join(dir, result.CellsFile)) // the cell is to run again
	_, stderr, code = runBench(t, context.Background(), append([]string{"run", "--resume", dir, "--source-dir", src2}, args...)...)
	if code != exitUsage || !strings.Contains(stderr, "this resume builds it from "+src2) {
		t.Errorf("resume from other sources: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, result.CellsFile)); err == nil {
		t.Error("the refused resume ran cells")
	}
	_, stderr, code = runBench(t, context.Background(), append([]string{"run", "--resume", dir, "--source-dir", src}, args...)...)
	if code != 0 {
		t.Errorf("resume from the run's sources: exit %d\n%s", code, stderr)
	}
}
