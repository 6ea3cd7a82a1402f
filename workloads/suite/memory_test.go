package suite

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// quickCells are the quick grid's parameter combinations of s.
func quickCells(s *workload.Spec) []map[string]string {
	cells := []map[string]string{{}}
	for _, p := range s.Params {
		var next []map[string]string
		for _, c := range cells {
			for _, v := range p.Quick {
				n := map[string]string{p.Name: v}
				for k, x := range c {
					n[k] = x
				}
				next = append(next, n)
			}
		}
		cells = next
	}
	return cells
}

func cellName(c map[string]string, s *workload.Spec) string {
	var parts []string
	for _, n := range s.ParamNames() {
		parts = append(parts, n+"="+c[n])
	}
	return s.Name + "/" + strings.Join(parts, ",")
}

// TestMemoryCoversFootprint: whatever a workload declares about where its
// memory lives, the parts add up to at least its footprint, so an
// enclave heap sized from them is never smaller than the footprint.
func TestMemoryCoversFootprint(t *testing.T) {
	t.Parallel()
	for _, s := range Workloads {
		for _, c := range quickCells(s) {
			env := workload.Env{Size: protocol.Size{VCPUs: 2, EPCBytes: 28 << 20, MemBytes: 14 << 30}, Parameters: c}
			var fp int64
			if s.Footprint != nil {
				fp = s.Footprint(env)
			}
			m := s.MemoryOf(env)
			if m.Mapped < 0 || m.GoHeap < 0 || m.Mapped+m.GoHeap < fp {
				t.Errorf("%s: memory %+v does not cover the footprint of %d bytes", cellName(c, s), m, fp)
			}
		}
	}
}

// goHeapSlack is what a workload may allocate on the Go heap beyond its
// declared GoHeap (cipher state, a clock-cost array, small objects), and
// how far the declaration may exceed what it allocates.
const goHeapSlack = 64 << 10

// TestMemoryGoHeap checks each declared Memory against the Go heap the
// workload really allocates: New, two small runs and Close of every quick
// cell, at an EPC small enough to run fast and large enough that the
// proportional parts (memsweep's permutation, kvstore's fill order) are
// well above the slack. Bytes allocated bound the peak live heap from
// above, so a declaration that covers them covers the peak; one far above
// them would waste enclave heap.
func TestMemoryGoHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("fills working sets of a few MiB")
	}
	// Not parallel: the allocation counts are the process's.
	for _, s := range Workloads {
		if s.Memory == nil {
			continue
		}
		for _, c := range quickCells(s) {
			name := cellName(c, s)
			env := workload.Env{Size: protocol.Size{Name: "test", VCPUs: 2, EPCBytes: 4 << 20, MemBytes: 1 << 30},
				TempDir: t.TempDir(), Parameters: c}
			m := s.Memory(env)
			got, err := goHeapAllocated(s, env)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			t.Logf("%s: declared %+v, allocated %d bytes on the Go heap", name, m, got)
			if got > m.GoHeap+goHeapSlack {
				t.Errorf("%s: allocated %d bytes on the Go heap, more than the %d it declares (+%d)", name, got, m.GoHeap, goHeapSlack)
			}
			if m.GoHeap > got+goHeapSlack {
				t.Errorf("%s: declares %d bytes of Go heap but allocates %d", name, m.GoHeap, got)
			}
		}
	}
}

// goHeapAllocated is the bytes allocated on the Go heap by New, two runs
// and Close of one cell.
func goHeapAllocated(s *workload.Spec, env workload.Env) (int64, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := s.New(env)
	if err != nil {
		return 0, fmt.Errorf("New: %w", err)
	}
	var r workload.Report
	for range 2 {
		r.Reset()
		if err := b.Run(1000, &r); err != nil {
			b.Close()
			return 0, fmt.Errorf("Run: %w", err)
		}
	}
	if err := b.Close(); err != nil {
		return 0, fmt.Errorf("Close: %w", err)
	}
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc), nil
}
