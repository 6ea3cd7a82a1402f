package runner

import (
	"context"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/suite"
)

// TestDrivenHTTPServer runs the httpserver workload through the runner:
// the workload announces its address, the runner applies the load, stores
// one sample per repetition as it finishes and stops the workload.
func TestDrivenHTTPServer(t *testing.T) {
	t.Parallel()
	bin := buildWorkload(t)
	run, err := plan.Resolve(plan.Request{Registry: suite.Workloads, Spec: runspec.Spec{Workloads: []string{"httpserver"},
		Sizes: []string{"DC1s_v2"}, Modes: []string{mode.Native}, Profile: "quick",
		Overrides: map[string][]string{"httpserver.payload": {"128B", "4KiB"}, "httpserver.conns": {"2"}}, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cells := run.Cells
	dir := t.TempDir()
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Cells: cells, Modes: map[string]mode.Mode{mode.Native: mode.NativeMode{}}, WorkloadBin: bin, Store: st,
		Spec: runspec.Spec{Reps: 3, Warmup: new(1), MinTimeNS: int64(10 * time.Millisecond), TimeoutNS: int64(time.Minute)}, Attempts: map[string]int{}}
	sum, err := Run(context.Background(), cfg)
	st.Close()
	if err != nil || sum.Done != 2 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	samples, cellResults, bad := result.ReadAll(dir)
	if len(bad) > 0 || len(cellResults) != 2 || len(samples) != 6 {
		t.Fatalf("%d cells, %d samples, bad lines %v", len(cellResults), len(samples), bad)
	}
	for _, cr := range cellResults {
		if cr.Status != result.StatusOK || cr.Samples != 3 || cr.ChildNS == 0 {
			t.Errorf("%s: %s %q, %d samples", cr.Cell, cr.Status, cr.Reason, cr.Samples)
		}
	}
	for _, s := range samples {
		if s.Workload != "httpserver" || s.Size != "DC1s_v2" || s.Mode != mode.Native || s.Attempt != 1 {
			t.Errorf("labels: %+v", s)
		}
		if s.ElapsedNS < (10 * time.Millisecond).Nanoseconds() {
			t.Errorf("%s rep %d: %v is shorter than min-time", s.Cell, s.Rep, time.Duration(s.ElapsedNS))
		}
		for _, unit := range []string{"req/s", "ns/op", "MB/s", "p50-ns", "p99-ns"} {
			if v, ok := s.Value(unit); !ok || v.Value <= 0 {
				t.Errorf("%s rep %d: %s = %v", s.Cell, s.Rep, unit, v)
			}
		}
	}
}

func TestOtherCPUs(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skip(err)
	}
	var mine []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			mine = append(mine, i)
		}
	}
	if got := otherCPUs(nil); got != nil {
		t.Errorf("otherCPUs(nil) = %v, want nil (unknown placement)", got)
	}
	if got := otherCPUs(mine); got != nil {
		t.Errorf("otherCPUs(all) = %v, want nil", got)
	}
	if len(mine) >= 2 {
		got := otherCPUs(mine[:1])
		if !reflect.DeepEqual(got, mine[1:]) {
			t.Errorf("otherCPUs(%v) = %v, want %v", mine[:1], got, mine[1:])
		}
	}
}
