package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// userModule is the test module of --gotest: a package with
// sub-benchmarks, b.ReportMetric, a skip, a failure and a declared heap.
var userModule, _ = filepath.Abs("gotest/testdata/userbench")

var (
	simOnce sync.Once
	simPath string
	simErr  error
)

// simWorkloadBin builds the sim workload binary once for the tests that
// need it (it needs gcc for the software EPC's handler).
func simWorkloadBin(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("the sim build needs gcc")
	}
	simOnce.Do(func() {
		simPath = filepath.Join(filepath.Dir(workloadBin), sim.SimBinName)
		if out, err := exec.Command("bash", "../scripts/build-sim.sh", simPath).CombinedOutput(); err != nil {
			simErr = err
			simPath = string(out)
		}
	})
	if simErr != nil {
		t.Fatalf("building the sim workload binary: %v\n%s", simErr, simPath)
	}
	return simPath
}

// TestGoTestRun runs the test module's benchmarks as workloads in native
// and sim: their cells, units, skip and failure, footprint, the sim
// model's note and the recorded build, then a resume.
func TestGoTestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary and runs it per cell")
	}
	simBin := simWorkloadBin(t)
	t.Setenv(sim.SimBinEnv, simBin)
	t.Chdir(userModule)
	dir := filepath.Join(t.TempDir(), "r")
	args := []string{"run", "--gotest", "./...", "--workload-bin", workloadBin, "--sizes", "DC2s_v2", "--modes", "native,sim",
		"--min-time", "2ms", "--reps", "3", "--warmup", "0", "--progress", "never", "-o", dir}
	_, stderr, code := runBench(t, context.Background(), args...)
	if code != 1 { // BenchmarkBroken fails its cells, nothing else
		t.Fatalf("exit %d, want 1 (failed cells)\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantCells := []string{
		"Hash/go.size=1KiB/size=DC2s_v2/mode=native", "Hash/go.size=16KiB/size=DC2s_v2/mode=native",
		"Put/size=DC2s_v2/mode=native", "HeldHeap/size=DC2s_v2/mode=native",
		"NeedsGPU/size=DC2s_v2/mode=native", "Broken/size=DC2s_v2/mode=native",
	}
	for _, c := range slices.Clone(wantCells) {
		wantCells = append(wantCells, strings.Replace(c, "mode=native", "mode=sim", 1))
	}
	got := slices.Sorted(slices.Values(d.Run.Plan.Cells))
	if slices.Sort(wantCells); !slices.Equal(got, wantCells) {
		t.Fatalf("cells %q, want %q", got, wantCells)
	}
	for key, cr := range d.Cells {
		want := result.StatusOK
		switch {
		case strings.HasPrefix(key, "NeedsGPU/"):
			want = result.StatusNA
			if !strings.Contains(cr.Reason, "needs a GPU") {
				t.Errorf("%s: reason %q, want the b.Skip reason", key, cr.Reason)
			}
		case strings.HasPrefix(key, "Broken/"):
			want = result.StatusFailed
			if !strings.Contains(cr.Reason, "broken on purpose") {
				t.Errorf("%s: reason %q, want the benchmark's b.Fatal message", key, cr.Reason)
			}
		}
		if cr.Status != want {
			t.Errorf("%s: status %s (%s), want %s; stderr ends:\n%s", key, cr.Status, cr.Reason, want, cr.Stderr)
		}
		if key == "HeldHeap/size=DC2s_v2/mode=native" {
			// 32 MiB held: the runtime's gctrace saw at least that.
			if v := cr.Extra["go_heap_peak_bytes"]; len(v) < 8 {
				t.Errorf("%s: go_heap_peak_bytes %q, want the held 32 MiB or more", key, v)
			}
		}
	}
	units := map[string]map[string]string{} // cell -> unit -> better
	for _, s := range d.Samples {
		if units[s.Cell] == nil {
			units[s.Cell] = map[string]string{}
		}
		for _, v := range s.Values {
			units[s.Cell][v.Unit] = v.Better
		}
		// The sim flavour of the test binary paged: counted, nothing left out.
		if s.Mode == "sim" && (s.Model == nil || s.Model.Uncounted != "" || s.Events[protocol.EventEPCPassOps] <= 0) {
			t.Errorf("%s: sim sample without a paging pass: model %+v, events %v", s.Cell, s.Model, s.Events)
		}
	}
	for cell, want := range map[string]map[string]string{
		"Hash/go.size=1KiB/size=DC2s_v2/mode=native": {"ns/op": protocol.Lower, "MB/s": protocol.Higher, "B/op": protocol.Lower, "allocs/op": protocol.Lower},
		"Put/size=DC2s_v2/mode=native":               {"ns/op": protocol.Lower, "keys": protocol.Lower, "allocs/op": protocol.Lower},
	} {
		for u, b := range want {
			if units[cell][u] != b {
				t.Errorf("%s: unit %s is %q, want %q (have %v)", cell, u, units[cell][u], b, units[cell])
			}
		}
	}
	if fp := d.Facts.Cells["HeldHeap/size=DC2s_v2/mode=native"].FootprintBytes; fp != 48<<20 {
		t.Errorf("HeldHeap footprint %d, want the declared 48 MiB", fp)
	}
	if fp := d.Facts.Cells["Put/size=DC2s_v2/mode=native"].FootprintBytes; fp != -1 {
		t.Errorf("Put footprint %d, want -1 (unknown: not declared)", fp)
	}
	if len(d.Run.GoTest) != 1 || d.Run.GoTest[0].Package != "example.com/userbench/kv" || d.Run.GoTest[0].SHA256 == "" ||
		d.Run.GoTest[0].SimSHA256 == "" || d.Run.GoTest[0].SimSHA256 == d.Run.GoTest[0].SHA256 {
		t.Errorf("run.json gotest %+v, want the kv package's test binary and its sim flavour", d.Run.GoTest)
	}
	bench, err := os.ReadFile(filepath.Join(dir, result.BenchFile))
	if err != nil || !strings.Contains(string(bench), "BenchmarkHash/go.size=16KiB/size=DC2s_v2/mode=native ") {
		t.Errorf("bench.txt lacks the sub-benchmark's name (%v):\n%s", err, bench)
	}

	// The report's sizing advice covers the user's benchmarks.
	if _, stderr, code := runBench(t, context.Background(), "report", dir, "-o", filepath.Join(dir, "report")); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(md), "left out of the sizing advice") || !strings.Contains(string(md), "| HeldHeap | — | sim") {
		t.Errorf("report.md: want sizing advice from the sim cells, no uncounted warning:\n%s", md)
	}

	// Resume (from another directory: the patterns were made absolute)
	// reruns the failed cells against the same build.
	t.Chdir(t.TempDir())
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != 1 || !strings.Contains(stderr, "2 of 12 cells to run") {
		t.Errorf("resume: exit %d, want 1 with the 2 failed cells rerun\n%s", code, stderr)
	}
}

// Bad input to --gotest is exit 2 and writes nothing.
func TestGoTestBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds test binaries")
	}
	t.Chdir(userModule)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no such package", []string{"--gotest", "./nosuch"}, "no such package directory"},
		{"no benchmark matching", []string{"--gotest", "./kv", "--bench", "NoSuchBenchmark"}, "no benchmark matches"},
		{"does not build", []string{"--gotest", "./testdata/nobuild"}, "undefined: notDefined"},
		{"built-in name", []string{"--gotest", "./testdata/collide"}, "built-in workload compute"},
		{"bad regexp", []string{"--gotest", "./kv", "--bench", "("}, "--bench"},
		{"bench without gotest", []string{"--bench", "Hash"}, "give --gotest"},
		{"baseline", []string{"--gotest", "./kv", "--baseline", workloadBin}, "both sides would run the same test binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r")
			args := append([]string{"run", "--workload-bin", workloadBin, "--sizes", "DC1s_v2", "--progress", "never", "-o", out}, tc.args...)
			_, stderr, code := runBench(t, context.Background(), args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q\n%s", code, exitUsage, tc.want, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// TestGoTestEnclaveModesWithStandIn runs user benchmarks in sgx and
// ego-sim through the stand-in ego: built with "ego-go test -c", signed
// with a heap from the declared or natively measured footprint, run by
// "ego run" from the workload binary; cgo and a module newer than ego-go's
// Go are refused.
func TestGoTestEnclaveModesWithStandIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds test binaries with the stand-in ego-go")
	}
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	installStandIn(t)
	testHostSGX = func() bool { return true }
	defer func() { testHostSGX = nil }()
	t.Chdir(userModule)
	base := []string{"run", "--workload-bin", workloadBin, "--sizes", "DC1s_v2", "--min-time", "2ms", "--reps", "3", "--warmup", "0",
		"--source-dir", src, "--progress", "never"}
	dir := filepath.Join(t.TempDir(), "r")
	_, stderr, code := runBench(t, context.Background(), append(base, "--gotest", "./kv", "--bench", "Put|HeldHeap",
		"--modes", "native,sgx,ego-sim", "-o", dir)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Cells) != 6 {
		t.Errorf("%d cells, want 6", len(d.Cells))
	}
	for key, cr := range d.Cells {
		if cr.Status != result.StatusOK {
			t.Errorf("%s: %s %s", key, cr.Status, cr.Reason)
		}
		if cr.Mode == "native" {
			continue
		}
		if cr.LoadNS != 0 || cr.Extra["ego_load"] == "" {
			t.Errorf("%s: load time %d ns recorded, want none (a cell runs two enclaves)", key, cr.LoadNS)
		}
		if cr.Extra["ego_entered"] != "true" {
			t.Errorf("%s: the launcher's lines do not say it entered the enclave: %v", key, cr.Extra)
		}
		// heapSize = 2 x Go heap + 64 MB, in steps of 16 (bench/ego):
		// HeldHeap declares 48 MiB; Put's is measured, a few MiB.
		want := map[string]string{"HeldHeap": "160", "Put": "80"}[cr.Workload]
		if got := cr.Extra["ego_heap_mb"]; got != want {
			t.Errorf("%s: ego_heap_mb %s, want %s", key, got, want)
		}
	}
	log, _ := os.ReadFile(os.Getenv("EGO_STANDIN_LOG"))
	if !strings.Contains(string(log), "ego-go test -c") {
		t.Errorf("the stand-in never built a test binary:\n%s", log)
	}

	for _, tc := range []struct {
		name, pkg, want string
		env             []string
	}{
		{"cgo", "./testdata/cgo", "uses cgo (example.com/userbench/testdata/cgo)", nil},
		// The harness's own module needs go 1.26.0, this one 1.26.5.
		{"old ego-go", "./testdata/newgo", "needs go 1.26.5", []string{"EGO_STANDIN_GOVERSION", "go1.26.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "cgo" {
				if _, err := exec.LookPath("gcc"); err != nil {
					t.Skip("cgo needs gcc")
				}
			}
			if tc.env != nil {
				t.Setenv(tc.env[0], tc.env[1])
			}
			out := filepath.Join(t.TempDir(), "r")
			_, stderr, code := runBench(t, context.Background(), append(base, "--gotest", tc.pkg,
				"--modes", "ego-sim", "-o", out)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q\n%s", code, exitUsage, tc.want, stderr)
			}
			// (The mode's Prepare runs after the directory is locked: it
			// holds the lock file, no result file.)
			if _, err := os.Stat(filepath.Join(out, result.RunFile)); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// A benchmark that hangs fails its cell with the test binary's goroutines
// (the harness's SIGQUIT to the cell at its --timeout, before the kill),
// not a bare kill. The timeout leaves room for the test binary to start on
// a loaded runner: at 4 s a ./test.sh run (load 3) quit a process still in
// its package initialisation, before the benchmark ran.
func TestGoTestHangs(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a timeout")
	}
	t.Chdir(userModule)
	dir := filepath.Join(t.TempDir(), "r")
	_, stderr, code := runBench(t, context.Background(), "run", "--gotest", "./testdata/hang", "--workload-bin", workloadBin,
		"--sizes", "DC1s_v2", "--modes", "native", "--min-time", "2ms", "--reps", "1", "--warmup", "0", "--timeout", "10s",
		"--progress", "never", "-o", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a failed cell)\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cr := d.Cells["Hang/size=DC1s_v2/mode=native"]
	if cr.Status != result.StatusFailed || !strings.Contains(cr.Reason, "timed out after 10s") || !strings.Contains(cr.Reason, "BenchmarkHang was still running at the cell's timeout") ||
		!strings.Contains(cr.Stderr, "SIGQUIT") || !strings.Contains(cr.Stderr, "hang.BenchmarkHang") {
		// Seen once (a clean clone's ./test.sh at d49a28e, load about 2.5):
		// the timeout's reason alone and an empty stderr, 31 s for the
		// whole test against about 20 s: neither process answered the
		// SIGQUIT before the SIGKILL runspec.QuitGrace later. The exit
		// code and wall time tell that case from others.
		t.Errorf("cell %s: %s (exit code %d, wall %v)\nreason: %s\nstderr: %s", cr.Cell, cr.Status, cr.ExitCode, time.Duration(cr.WallNS), cr.Reason, cr.Stderr)
	}
}

// TestGoTestRealEGo runs user benchmarks in ego-sim with the real EGo when
// it is on PATH (docs/ego.md, "EGo from source"): built by ego-go test -c,
// signed, run by ego run in EGo's simulation mode.
func TestGoTestRealEGo(t *testing.T) {
	if _, err := exec.LookPath("ego"); err != nil {
		t.Skip("ego is not on PATH: this test needs a real EGo and a Go 1.26 ego-go (docs/ego.md, \"EGo from source\"); CI has none")
	}
	if testing.Short() {
		t.Skip("builds a test binary with ego-go and runs enclaves")
	}
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	// The signing key goes under $HOME (a fresh one); Go's caches stay.
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(v, strings.TrimSpace(string(out)))
	}
	t.Setenv("HOME", t.TempDir())
	t.Chdir(userModule)
	dir := filepath.Join(t.TempDir(), "r")
	_, stderr, code := runBench(t, context.Background(), "run", "--gotest", "./kv", "--bench", "Put|HeldHeap", "--workload-bin", workloadBin,
		"--sizes", "DC1s_v2", "--modes", "native,ego-sim", "--min-time", "5ms", "--reps", "3", "--warmup", "0",
		"--source-dir", src, "--ego-cache", cache, "--progress", "never", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for key, cr := range d.Cells {
		if cr.Status != result.StatusOK {
			t.Errorf("%s: %s %s", key, cr.Status, cr.Reason)
		}
		if cr.Mode == "ego-sim" && (cr.Extra["ego_entered"] != "true" || cr.Extra["ego_warning"] != "") {
			t.Errorf("%s: not run in EGo's enclave as expected: %v", key, cr.Extra)
		}
	}
	if got := d.Cells["HeldHeap/size=DC1s_v2/mode=ego-sim"].Extra["ego_heap_mb"]; got != "160" {
		t.Errorf("HeldHeap's heapSize %s MB, want 160 (2 x its declared 48 MiB + 64)", got)
	}
}

// TestGoTestPages: a user's benchmark whose Go heap holds more than a
// size's usable EPC pages in sim, as the suite's workloads do (model terms):
// HeldHeap reads its 32 MiB page by page, 16 pages per operation, past
// DC1s_v2's usable EPC (about 21 MiB) and within DC4s_v2's (about 105).
func TestGoTestPages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary with the process-EPC overlay and runs it on the software EPC")
	}
	simBin := simWorkloadBin(t)
	t.Setenv(sim.SimBinEnv, simBin)
	t.Chdir(userModule)
	dir := filepath.Join(t.TempDir(), "r")
	_, stderr, code := runBench(t, context.Background(), "run", "--gotest", "./kv", "--bench", "HeldHeap", "--workload-bin", workloadBin,
		"--sizes", "DC1s_v2,DC4s_v2", "--modes", "sim", "--min-time", "5ms", "--reps", "3", "--warmup", "0", "--progress", "never", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	loads := map[string]float64{}
	for _, s := range d.Samples {
		if s.Model == nil || s.Model.Uncounted != "" || s.Events[protocol.EventEPCPassOps] <= 0 {
			t.Fatalf("%s: not paged: model %+v events %v", s.Cell, s.Model, s.Events)
		}
		loads[s.Size] = float64(s.Events[protocol.EventEPCLoads]) / float64(s.Iters)
	}
	t.Logf("EPC loads per operation: %v", loads)
	// Declared serial (//enclavebench:serial): its two sizes share one base.
	if len(d.Run.SimBases) != 1 || len(d.Run.SimBases[0].Cells) != 2 || d.Facts.Cells["HeldHeap/size=DC1s_v2/mode=sim"].Parallelism != 1 {
		t.Errorf("sim_bases %+v, parallelism %d: want one pool of the two sizes", d.Run.SimBases, d.Facts.Cells["HeldHeap/size=DC1s_v2/mode=sim"].Parallelism)
	}
	// 16 pages read per operation, of which the cap holds part; the
	// runtime's own pages (its allocations per operation, the collector)
	// share the cap and may add a few.
	if loads["DC1s_v2"] < 4 || loads["DC1s_v2"] > 24 || loads["DC4s_v2"] > 0.05 {
		t.Errorf("EPC loads per operation %v: want 4-24 on DC1s_v2 (16 pages read per operation past the cap, and the runtime's) and none on DC4s_v2", loads)
	}
}

// buildPlainKV builds the test module's kv package as go test does, without
// the sim build's overlay, into dir.
func buildPlainKV(t *testing.T, dir string) string {
	t.Helper()
	plain := filepath.Join(dir, "kv.test")
	build := exec.Command("go", "test", "-c", "-o", plain, "./kv")
	build.Dir = userModule
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	return plain
}

// TestGoTestRefusesTestBinaryWithoutEPC: a test binary built without the sim
// build's overlay and software EPC, given as the sim flavour, is refused by
// the paging pass with the reason, not counted as paging nothing.
func TestGoTestRefusesTestBinaryWithoutEPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	simBin := simWorkloadBin(t)
	tmp := t.TempDir()
	plain := buildPlainKV(t, tmp)
	cmd := exec.Command(simBin, "HeldHeap", "--size", "DC1s_v2,vcpus=1,epc_bytes=29360128,mem_bytes=4294967296",
		"--reps", "1", "--warmup", "0", "--min-time", "2ms", "--tmpdir", tmp,
		"--gotest-bin", plain, "--gotest-dir", filepath.Join(userModule, "kv"), "--gotest-bench", "BenchmarkHeldHeap",
		"--gotest-sim-bin", plain, "--swepc-cap", "20971520", "--swepc-process")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "did not put itself on the software EPC") {
		t.Fatalf("exit %v, want a refusal naming the missing software EPC:\n%s", err, out)
	}
}

// TestGoTestEPCPricedWithoutPagingPass: a user benchmark's samples say
// its EPC paging was not counted exactly when the mode told the workload a
// model prices its paging (--epc-priced, the sim mode's flag) and no paging
// pass ran (here: the plain workload binary, which has none); the workload
// is told what to report, not which mode runs it.
func TestGoTestEPCPricedWithoutPagingPass(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	tmp := t.TempDir()
	plain := buildPlainKV(t, tmp)
	for _, priced := range []bool{false, true} {
		args := []string{"Put", "--size", "DC1s_v2,vcpus=1,epc_bytes=29360128,mem_bytes=4294967296",
			"--reps", "2", "--warmup", "0", "--min-time", "2ms", "--tmpdir", tmp,
			"--gotest-bin", plain, "--gotest-dir", filepath.Join(userModule, "kv"), "--gotest-bench", "BenchmarkPut"}
		if priced {
			args = append(args, "--epc-priced")
		}
		out, err := exec.Command(workloadBin, args...).Output()
		if err != nil {
			t.Fatalf("priced %v: %v\n%s", priced, err, out)
		}
		samples := 0
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			m, err := protocol.Parse([]byte(line))
			if err != nil || m.Type != protocol.TypeSample {
				continue
			}
			samples++
			if got := m.Extra[protocol.ExtraUncounted]; (got != "") != priced || priced && !strings.Contains(got, "EPC paging") {
				t.Errorf("priced %v: sample's %s %q, want EPC paging named exactly when priced", priced, protocol.ExtraUncounted, got)
			}
		}
		if samples != 2 {
			t.Errorf("priced %v: %d samples, want 2:\n%s", priced, samples, out)
		}
	}
}

// TestGoTestProfileNamesUserCode: a user benchmark's sim cell keeps a
// profile whose OCALLs are named after the user's own function
// (bench/testdata/profbench: one pread per operation in readRecord), and
// bench explain shows it as the top call site.
func TestGoTestProfileNamesUserCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary and runs it per cell")
	}
	simBin := simWorkloadBin(t)
	t.Setenv(sim.SimBinEnv, simBin)
	t.Chdir("testdata/profbench")
	dir := filepath.Join(t.TempDir(), "r")
	args := []string{"run", "--gotest", ".", "--workload-bin", workloadBin, "--sizes", "DC2s_v2", "--modes", "sim",
		"--min-time", "20ms", "--reps", "1", "--warmup", "0", "--progress", "never", "-o", dir}
	if _, stderr, code := runBench(t, context.Background(), args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := runBench(t, context.Background(), "explain", "--top", "1", dir, "Record")
	if code != 0 {
		t.Fatalf("explain: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "pread64") || !strings.Contains(stdout, "example.com/profbench.readRecord profbench/profbench_test.go:") {
		t.Errorf("the top call site is not the user's readRecord:\n%s", stdout)
	}
}
