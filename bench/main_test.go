package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/enclavebench/enclavebench/bench/result"
)

// workloadBin is the workload binary built once for the tests.
var workloadBin string

func TestMain(m *testing.M) {
	os.Setenv("ENCLAVEBENCH_IMDS", "off") // never wait for a metadata service in tests
	dir, err := os.MkdirTemp("", "enclavebench-test-*")
	if err != nil {
		panic(err)
	}
	workloadBin = filepath.Join(dir, "workload")
	os.Setenv("REAL_WORKLOAD", workloadBin) // read by testdata/faulty-workload.sh
	build := exec.Command("go", "build", "-o", workloadBin, "../workloads/cmd/workload")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as run.sh builds it
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the workload binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBench runs the command in-process and returns stdout, stderr and the exit code.
func runBench(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return stdout.String(), stderr.String(), code
}

// quick are run flags that keep a cell in the tens of milliseconds.
func quick(workloads string, extra ...string) []string {
	base := []string{"run", "--workload-bin", workloadBin, "--min-time", "2ms", "--reps", "3", "--warmup", "0",
		"--progress", "never", "--workloads", workloads}
	if strings.Contains(workloads, "syscall") {
		base = append(base, "--param", "syscall.call=read")
	}
	if strings.Contains(workloads, "memsweep") {
		base = append(base, "--param", "memsweep.ws=256KiB", "--param", "memsweep.access=seq,random")
	}
	return append(base, extra...)
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no command", nil, []string{"no command"}},
		{"unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`, "run", "list"}},
		{"unknown flag", []string{"run", "--frobnicate"}, []string{"unknown flag: --frobnicate"}},
		{"unknown workload", []string{"run", "--workloads", "nope"}, []string{`unknown workload "nope"`, "memsweep", "syscall"}},
		{"unknown size", []string{"run", "--sizes", "DC3s_v2"}, []string{`unknown size "DC3s_v2"`, "DC1s_v2", "DC8_v2"}},
		{"unknown mode", []string{"run", "--modes", "tdx"}, []string{`unknown mode "tdx"`, "native", "sim"}},
		{"unknown profile", []string{"run", "--profile", "slow"}, []string{`unknown profile "slow"`, "quick", "full"}},
		{"unknown parameter", []string{"run", "--workloads", "memsweep", "--param", "memsweep.depth=3"}, []string{`no parameter "depth"`, "ws"}},
		{"bad parameter value", []string{"run", "--workloads", "memsweep", "--param", "memsweep.ws=0"}, []string{"memsweep.ws=0", "positive"}},
		{"footprint EPC multiple", []string{"run", "--workloads", "kvstore", "--footprint", "0.5xEPC"}, []string{"--footprint 0.5xEPC", "absolute size"}},
		{"footprint not a size", []string{"run", "--workloads", "kvstore", "--footprint", "64MiB,big"}, []string{"--footprint big", "not a byte count"}},
		{"footprint zero", []string{"run", "--workloads", "kvstore", "--footprint", "0"}, []string{"--footprint 0", "positive"}},
		{"footprint without a footprint workload", []string{"run", "--workloads", "syscall", "--footprint", "64MiB"}, []string{"no selected workload has a footprint parameter", "kvstore"}},
		{"footprint and param", []string{"run", "--workloads", "kvstore", "--footprint", "64MiB", "--param", "kvstore.dataset=1MiB"}, []string{"both set kvstore's footprint"}},
		{"footprint out of range", []string{"run", "--workloads", "memsweep", "--footprint", "1KiB"}, []string{"memsweep.ws=1KiB", "valid:"}},
		{"stray argument", []string{"run", "syscall"}, []string{"takes no arguments", "--workloads syscall"}},
		{"sizes unknown", []string{"sizes", "--sizes", "DC9"}, []string{`unknown size "DC9"`}},
		{"list unknown", []string{"list", "nope"}, []string{`unknown workload "nope"`}},
		{"resume nothing", []string{"run", "--resume", "/nonexistent/dir"}, []string{"/nonexistent/dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := runBench(t, context.Background(), tt.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestHelpHasExamples(t *testing.T) {
	t.Parallel()
	for _, name := range commandNames() {
		_, stderr, code := runBench(t, context.Background(), name, "--help")
		if code != exitOK || !strings.Contains(stderr, "Examples:") || !strings.Contains(stderr, "bench "+name) {
			t.Errorf("%s --help: exit %d, output:\n%s", name, code, stderr)
		}
	}
	stdout, _, code := runBench(t, context.Background(), "help")
	if code != 0 || !strings.Contains(stdout, "Commands:") || !strings.Contains(stdout, "run ") {
		t.Errorf("help: %d\n%s", code, stdout)
	}
}

func TestListAndSizes(t *testing.T) {
	t.Parallel()
	out, _, code := runBench(t, context.Background(), "list")
	if code != 0 || !strings.Contains(out, "memsweep:") || !strings.Contains(out, "ns/op") || !strings.Contains(out, "valid:") {
		t.Errorf("list: %d\n%s", code, out)
	}
	out, _, code = runBench(t, context.Background(), "sizes", "--sizes", "dcsv2")
	if code != 0 || !strings.Contains(out, "DC1s_v2") || !strings.Contains(out, "28 MiB") || strings.Contains(out, "DC1s_v3") {
		t.Errorf("sizes: %d\n%s", code, out)
	}
}

func TestEnvReadsIMDS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata") != "true" || !strings.HasPrefix(r.URL.Path, "/metadata/instance") {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `{"compute":{"vmSize":"Standard_DC2s_v2"}}`)
	}))
	defer srv.Close()
	out, _, code := runBench(t, context.Background(), "env", "--imds", srv.URL)
	if code != 0 || !strings.Contains(out, `"azure_vm_size": "Standard_DC2s_v2"`) || !strings.Contains(out, `"sgx"`) {
		t.Errorf("env: %d\n%s", code, out)
	}
	out, _, _ = runBench(t, context.Background(), "env", "--imds", "off")
	if strings.Contains(out, "azure_vm_size") {
		t.Errorf("env --imds off still has a VM size:\n%s", out)
	}
	if _, stderr, code := runBench(t, context.Background(), "env", "--imds", "yes"); code != exitUsage || !strings.Contains(stderr, "want auto") {
		t.Errorf("env --imds yes: exit %d\n%s", code, stderr)
	}
}

func TestRunNative(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	stdout, stderr, code := runBench(t, context.Background(),
		quick("syscall,memsweep", "--sizes", "DC1s_v2,DC4s_v2", "-o", dir)...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, f := range []string{result.RunFile, result.SamplesFile, result.CellsFile, result.BenchFile, result.CSVFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Run.Status != "complete" || len(d.Problems) > 0 || len(d.Partial) > 0 {
		t.Fatalf("run %+v problems %v partial %v", d.Run.Status, d.Problems, d.Partial)
	}
	if len(d.Cells) != len(d.Run.Plan.Cells) || len(d.Samples) != 3*len(d.Cells) {
		t.Fatalf("%d cells (plan %d), %d samples", len(d.Cells), len(d.Run.Plan.Cells), len(d.Samples))
	}
	// The run records the facts readers interpret its cells with.
	if d.Run.SchemaVersion != result.SchemaVersion || d.Run.Facts == nil {
		t.Fatalf("schema %d, facts %v", d.Run.SchemaVersion, d.Run.Facts)
	}
	for _, k := range d.Run.Plan.Cells {
		if _, ok := d.Run.Facts.Cells[k]; !ok {
			t.Errorf("no facts for planned cell %s", k)
		}
	}
	if _, ok := d.Run.Facts.Mode("native"); !ok || len(d.Run.Facts.Workload("memsweep").Params) != 3 {
		t.Errorf("facts %+v", d.Run.Facts)
	}
	for _, c := range d.Cells {
		if c.Status != result.StatusOK {
			t.Errorf("%s: %s %s", c.Cell, c.Status, c.Reason)
		}
		vcpus := map[string]int{"DC1s_v2": 1, "DC4s_v2": 4}[c.Size]
		if c.GOMAXPROCS != vcpus {
			t.Errorf("%s: GOMAXPROCS %d, want %d", c.Cell, c.GOMAXPROCS, vcpus)
		}
		if want := runtime.NumCPU() < vcpus; c.Oversubscribed != want {
			t.Errorf("%s: oversubscribed %v, want %v", c.Cell, c.Oversubscribed, want)
		}
		if want := min(vcpus, runtime.NumCPU()); c.CPUs != want {
			t.Errorf("%s: affinity %d CPUs, want %d", c.Cell, c.CPUs, want)
		}
	}
	// bench.txt is what benchstat reads: every sample is one result line.
	f, _ := os.Open(filepath.Join(dir, result.BenchFile))
	defer f.Close()
	r := benchfmt.NewReader(f, "bench.txt")
	n := 0
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Errorf("bench.txt: %v", rec)
		case *benchfmt.Result:
			n++
			if !strings.HasSuffix(string(rec.Name), "/mode=native") {
				t.Errorf("name %s", rec.Name)
			}
		}
	}
	if n != len(d.Samples) {
		t.Errorf("bench.txt has %d results, want %d", n, len(d.Samples))
	}
	if !strings.Contains(stdout, "Syscall/call=read/size=DC1s_v2/mode=native") || !strings.Contains(stdout, "95% CI") {
		t.Errorf("summary:\n%s", stdout)
	}
}

func TestRunStreamsToStdout(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "-o", "-")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var runs, samples, cells int
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		switch {
		case strings.HasPrefix(line, result.StreamPrefix+`{"run"`):
			runs++
		case strings.HasPrefix(line, result.StreamPrefix+`{"sample"`):
			samples++
		case strings.HasPrefix(line, result.StreamPrefix+`{"cell"`):
			cells++
		default:
			t.Errorf("stdout has a line that is not a stream record: %q", line)
		}
	}
	if runs != 2 || samples != 3 || cells != 1 {
		t.Errorf("stream: %d run, %d sample, %d cell records", runs, samples, cells)
	}
	if !strings.Contains(stderr, "95% CI") {
		t.Errorf("summary not on stderr:\n%s", stderr)
	}
}

func TestRunFaultsAreRecorded(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := runBench(t, context.Background(),
		"run", "--workload-bin", "testdata/faulty-workload.sh", "--workloads", "syscall", "--param", "syscall.call=read", "--sizes", "dcsv2",
		"--timeout", "1s", "--min-time", "2ms", "--reps", "3", "-o", dir, "--progress", "never")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, exitFailed, stderr)
	}
	if !strings.Contains(stderr, "3 of 4 cells failed") {
		t.Errorf("stderr:\n%s", stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ reason, stderr string }{
		"DC1s_v2": {"exited with status 2", "index out of range"},
		"DC2s_v2": {"timed out after 1s", ""},
		"DC4s_v2": {"killed by signal killed", "about to be killed"},
		"DC8_v2":  {"", ""},
	}
	for _, c := range d.Cells {
		w := want[c.Size]
		if w.reason == "" {
			if c.Status != result.StatusOK {
				t.Errorf("%s: %s %s", c.Size, c.Status, c.Reason)
			}
			continue
		}
		if c.Status != result.StatusFailed || !strings.Contains(c.Reason, w.reason) || !strings.Contains(c.Stderr, w.stderr) {
			t.Errorf("%s: status %s reason %q stderr %q; want failed, %q, %q", c.Size, c.Status, c.Reason, c.Stderr, w.reason, w.stderr)
		}
	}
	// The crashed cell's one sample is kept, as a partial attempt.
	if len(d.Partial) != 1 || !strings.Contains(d.Partial[0], "DC1s_v2") {
		t.Errorf("partial = %v", d.Partial)
	}
}

func TestInterruptThenResume(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // interrupt once the first cell is on disk
		for ctx.Err() == nil {
			if b, _ := os.ReadFile(filepath.Join(dir, result.CellsFile)); bytes.Count(b, []byte("\n")) >= 1 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	args := quick("syscall,memsweep", "--sizes", "DC1s_v2,DC2s_v2", "-o", dir, "--min-time", "20ms")
	_, stderr, code := runBench(t, ctx, args...)
	cancel()
	if code != exitSignal || !strings.Contains(stderr, "bench run --resume "+dir) {
		t.Fatalf("interrupted run: exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Run.Status != "interrupted" || len(d.Cells) == 0 || len(d.Cells) == len(d.Run.Plan.Cells) {
		t.Fatalf("after interrupt: status %s, %d of %d cells", d.Run.Status, len(d.Cells), len(d.Run.Plan.Cells))
	}
	done := len(d.Cells)
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, fmt.Sprintf("%d of %d cells to run", len(d.Run.Plan.Cells)-done, len(d.Run.Plan.Cells))) {
		t.Errorf("resume stderr:\n%s", stderr)
	}
	d, err = result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Run.Status != "complete" || len(d.Cells) != len(d.Run.Plan.Cells) || len(d.Partial) != 0 {
		t.Fatalf("after resume: status %s, %d of %d cells, partial %v", d.Run.Status, len(d.Cells), len(d.Run.Plan.Cells), d.Partial)
	}
	for _, c := range d.Cells {
		if c.Status != result.StatusOK {
			t.Errorf("%s: %s", c.Cell, c.Status)
		}
	}
	if _, _, code := runBench(t, context.Background(), "run", "--resume", dir, "--sizes", "DC8_v2"); code != exitUsage {
		t.Errorf("--resume with --sizes: exit %d, want 2", code)
	}
}

func TestCorruptLineIsReported(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "-o", dir)...); code != 0 {
		t.Fatal(stderr)
	}
	path := filepath.Join(dir, result.SamplesFile)
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	lines[1] = lines[1][:len(lines[1])/2] + "\n" // corrupt line 2
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644)
	_, stderr, code := runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != 0 || !strings.Contains(stderr, "samples.jsonl:2:") || !strings.Contains(stderr, "1 of 1 cells to run") {
		t.Errorf("exit %d; stderr does not name samples.jsonl:2: and rerun the short cell:\n%s", code, stderr)
	}
	d, _ := result.Load(dir)
	if len(d.Samples) != 3 || d.Samples[0].Attempt != 2 || len(d.Short) != 0 {
		t.Errorf("%d samples used (attempt %d), short %v; want the 3 of attempt 2", len(d.Samples), d.Samples[0].Attempt, d.Short)
	}
}

// TestKill9ThenResume kills the harness process mid-run and resumes: what
// was on disk stays usable and the run completes.
func TestKill9ThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the bench binary")
	}
	t.Parallel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "run")
	cmd := exec.Command(bin, quick("syscall,memsweep", "--sizes", "dcsv2", "-o", dir, "--min-time", "10ms")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(dir, result.CellsFile))
		if bytes.Count(b, []byte("\n")) >= 2 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) > 0 {
		t.Errorf("kill -9 left bad lines: %v", d.Problems)
	}
	if len(d.Cells) < 2 {
		t.Fatalf("only %d cells on disk", len(d.Cells))
	}
	out, err := exec.Command(bin, "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	d, _ = result.Load(dir)
	if d.Run.Status != "complete" || len(d.Cells) != len(d.Run.Plan.Cells) {
		t.Errorf("after resume: %s, %d of %d cells", d.Run.Status, len(d.Cells), len(d.Run.Plan.Cells))
	}
}

// TestBaselineInterleaves: --baseline runs both builds for every cell, in
// rounds, into DIR/base and DIR/new, which compare reads.
func TestBaselineInterleaves(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ab")
	base := filepath.Join(t.TempDir(), "workload-base")
	b, _ := os.ReadFile(workloadBin)
	os.WriteFile(base, b, 0o755)
	_, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2,DC2s_v2", "-o", dir, "--baseline", base)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, side := range []string{"base", "new"} {
		d, err := result.Load(filepath.Join(dir, side))
		if err != nil {
			t.Fatal(err)
		}
		if d.Run.Build == nil || d.Run.Build.Side != side || d.Run.Build.SHA256 == "" || d.Run.Plan.Rounds != 3 {
			t.Errorf("%s: build %+v rounds %d", side, d.Run.Build, d.Run.Plan.Rounds)
		}
		reps := map[string]map[int]bool{}
		for _, s := range d.Samples {
			if reps[s.Cell] == nil {
				reps[s.Cell] = map[int]bool{}
			}
			reps[s.Cell][s.Rep] = true
		}
		for _, c := range d.Cells {
			if c.Status != result.StatusOK || c.Samples != 3 || len(reps[c.Cell]) != 3 {
				t.Errorf("%s %s: %s, %d samples, reps %v", side, c.Cell, c.Status, c.Samples, reps[c.Cell])
			}
		}
	}
	if !strings.Contains(stderr, "bench compare "+filepath.Join(dir, "base")+" "+filepath.Join(dir, "new")) {
		t.Errorf("no compare hint:\n%s", stderr)
	}
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--progress", "never")
	if code != 0 || !strings.Contains(stderr, "0 of 2 cells to run") {
		t.Errorf("resume of a finished baseline run: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := runBench(t, context.Background(), quick("syscall", "--modes", "ego-sim", "--baseline", base, "-o", filepath.Join(t.TempDir(), "x"))...); code != exitUsage {
		t.Errorf("--baseline with ego-sim: exit %d\n%s", code, stderr)
	}
}

// TestLostSamplesAreRerun truncates samples.jsonl of a finished run: the
// report names every cell whose recorded samples are gone, --resume runs
// those cells again, and the derived files never shrink on the way.
func TestLostSamplesAreRerun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	args := quick("memsweep", "--sizes", "DC1s_v2,DC2s_v2", "-o", dir)
	if _, stderr, code := runBench(t, context.Background(), args...); code != 0 {
		t.Fatal(stderr)
	}
	rows := func() (int, int) {
		b, _ := os.ReadFile(filepath.Join(dir, result.BenchFile))
		c, _ := os.ReadFile(filepath.Join(dir, result.CSVFile))
		return bytes.Count(b, []byte("\nBenchmark")), bytes.Count(c, []byte("\n")) - 1
	}
	txt0, csv0 := rows()
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cells := len(d.Cells)
	// Keep the first sample line and half of the second: the rest is lost.
	path := filepath.Join(dir, result.SamplesFile)
	b, _ := os.ReadFile(path)
	first := bytes.IndexByte(b, '\n') + 1
	os.WriteFile(path, b[:first+20], 0o644)

	d, err = result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Short) != cells {
		t.Fatalf("%d short cells, want all %d: %v", len(d.Short), cells, d.Short)
	}
	out := t.TempDir()
	_, stderr, code := runBench(t, context.Background(), "report", dir, "-o", out)
	for _, s := range d.Short {
		if !strings.Contains(stderr, s.Cell) {
			t.Errorf("report does not name the short cell %s (exit %d):\n%s", s.Cell, code, stderr)
		}
	}
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, fmt.Sprintf("%d of %d cells to run", cells, cells)) || !strings.Contains(stderr, "cut off an incomplete last line") {
		t.Errorf("resume did not cut the torn line and rerun every short cell:\n%s", stderr)
	}
	d, err = result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Short) != 0 || len(d.Problems) != 0 {
		t.Errorf("after resume: short %v, problems %v", d.Short, d.Problems)
	}
	if txt, csv := rows(); txt < txt0 || csv < csv0 {
		t.Errorf("derived files shrank: bench.txt %d -> %d rows, results.csv %d -> %d", txt0, txt, csv0, csv)
	}
}

// TestRunJSONIsReadStrictly: a run.json without the fields readers rely on
// is refused by every command, not shown with blank columns.
func TestRunJSONIsReadStrictly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, result.RunFile), []byte(`{"schema_version":1}`), 0o644)
	for _, args := range [][]string{{"report", dir, "-o", t.TempDir()}, {"run", "--resume", dir}, {"compare", dir, dir}} {
		_, stderr, code := runBench(t, context.Background(), args...)
		if code == 0 || !strings.Contains(stderr, "missing or empty: id") {
			t.Errorf("%v on a run.json with only a schema version: exit %d\n%s", args, code, stderr)
		}
	}
}

// TestOldBaseBinaryExplained: a --baseline binary built before the
// harness's command line changed refuses a flag before its hello; its
// cells fail saying so (which flag, and what to build), not with a bare
// exit status.
func TestOldBaseBinaryExplained(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	old := filepath.Join(tmp, "workload")
	script := "#!/bin/sh\necho 'flag provided but not defined: -size' >&2\necho 'Usage of workload:' >&2\nexit 2\n"
	if err := os.WriteFile(old, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "ab")
	_, stderr, code := runBench(t, context.Background(),
		"run", "--baseline", old, "--workload-bin", workloadBin, "--workloads", "syscall", "--param", "syscall.call=read",
		"--sizes", "DC1s_v2", "--min-time", "2ms", "--reps", "1", "--warmup", "0", "-o", dir, "--progress", "never")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, exitFailed, stderr)
	}
	base, err := result.Load(filepath.Join(dir, "base"))
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Cells) == 0 {
		t.Fatal("no base cells recorded")
	}
	for _, c := range base.Cells {
		if c.Status != result.StatusFailed || !strings.Contains(c.Reason, "does not know the harness's flag -size") || !strings.Contains(c.Reason, "build it from the harness's commit") {
			t.Errorf("%s: %s %q; want failed, naming the flag and what to build", c.Cell, c.Status, c.Reason)
		}
	}
}
