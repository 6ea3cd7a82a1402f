package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/suite"
)

func buildWorkload(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "workload")
	build := exec.Command("go", "build", "-o", bin, "../../workloads/cmd/workload")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as run.sh builds it
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func syscallCells(tb testing.TB, size string) []plan.Cell {
	tb.Helper()
	run, err := plan.Resolve(plan.Request{Registry: suite.Workloads, Spec: runspec.Spec{Workloads: []string{"syscall"},
		Sizes: []string{size}, Modes: []string{mode.Native}, Profile: "quick", Overrides: map[string][]string{"syscall.call": {"read"}}, Seed: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	return run.Cells
}

func TestTailBuffer(t *testing.T) {
	t.Parallel()
	tb := &tailBuffer{max: 10}
	tb.Write([]byte("line one\nline two\nend\n"))
	if got := tb.String(); got != "...\nend\n" {
		t.Errorf("tail = %q", got)
	}
	small := &tailBuffer{max: 100}
	small.Write([]byte("short"))
	if small.String() != "short" {
		t.Errorf("tail = %q", small.String())
	}
	// A Go fatal error: its name at the head, goroutine stacks after it.
	fatal := &tailBuffer{head: 40, max: 12}
	for _, w := range []string{"EGo v1.6.0\nfatal error: out of memory\n", "goroutine 1\nstack\n", "goroutine 2\nstack\nlast\n"} {
		fatal.Write([]byte(w))
	}
	if got, want := fatal.String(), "EGo v1.6.0\nfatal error: out of memory\n...\nstack\nlast\n"; got != want {
		t.Errorf("head and tail = %q, want %q", got, want)
	}
	whole := &tailBuffer{head: 4, max: 100}
	whole.Write([]byte("one\ntwo\n"))
	whole.Write([]byte("three\n"))
	if got := whole.String(); got != "one\ntwo\nthree\n" {
		t.Errorf("uncut = %q", got)
	}
}

// BenchmarkHarnessOverhead runs one native syscall cell and reports what the
// harness adds around the workload process: the cell's wall time seen by the
// harness minus the workload's own lifetime, as a percentage of the time the
// workload spent in measured repetitions (the target is under 1%), for a
// cell of the full profile (10 repetitions of 200ms).
func BenchmarkHarnessOverhead(b *testing.B) {
	bin := buildWorkload(b)
	cells := syscallCells(b, "DC2s_v2")
	var overhead, measured float64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		st, err := result.OpenStore(dir)
		if err != nil {
			b.Fatal(err)
		}
		cfg := &Config{Cells: cells, Modes: map[string]mode.Mode{mode.Native: mode.NativeMode{}}, WorkloadBin: bin, Store: st,
			Spec: runspec.Spec{Reps: 10, Warmup: new(2), MinTimeNS: int64(200 * time.Millisecond), TimeoutNS: int64(time.Minute)}, Attempts: map[string]int{}}
		if _, err := Run(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
		st.Close()
		samples, cellResults, bad := result.ReadAll(dir)
		if len(bad) > 0 || len(cellResults) != 1 || cellResults[0].Status != result.StatusOK {
			b.Fatalf("cell: %+v %v", cellResults, bad)
		}
		for _, s := range samples {
			measured += float64(s.ElapsedNS)
		}
		overhead += float64(cellResults[0].WallNS - cellResults[0].ChildNS)
		os.RemoveAll(dir)
	}
	b.ReportMetric(100*overhead/measured, "overhead-%")
	b.ReportMetric(overhead/float64(b.N)/1e6, "harness-ms/cell")
}
