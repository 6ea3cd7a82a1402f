//go:build linux && sim && cgo

package swepc

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// benchFaults measures the latency of a load of an evicted page: a
// sequential sweep of a region 8x its cap, in which every access misses
// (see TestSweepCountsExact), so each op is one load, one eviction and, on
// average, one page aged by the CLOCK hand. ns/op is the whole fault as the
// workload thread sees it.
func benchFaults(b *testing.B, procs, workers int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	const n, c = 2048, 256
	r := newRegion(b, n, c)
	mem := r.Bytes()
	for p := 0; p < n; p++ {
		mem[p*PageSize] = 1
	}
	before := r.Stats()
	b.ResetTimer()
	if workers == 1 {
		i := 0
		for b.Loop() {
			mem[(i%n)*PageSize]++
			i++
		}
	} else {
		// Each goroutine sweeps its own n/workers pages (still > cap).
		var next atomic.Int64
		b.SetParallelism(workers / procs)
		b.RunParallel(func(pb *testing.PB) {
			w := int(next.Add(1)-1) % workers
			lo, span := w*(n/workers), n/workers
			for i := 0; pb.Next(); i++ {
				mem[(lo+i%span)*PageSize]++
			}
		})
	}
	b.StopTimer()
	s := r.Stats()
	faults := s.Faults - before.Faults
	b.ReportMetric(float64(s.Loads-before.Loads)/float64(b.N), "loads/op")
	if faults > 0 {
		b.ReportMetric(float64(s.FaultNS-before.FaultNS)/float64(faults), "handler-ns/fault")
	}
}

// BenchmarkFaultGOMAXPROCS1 is the DC1s_v2 case: one P. A fault handler that
// needed the Go scheduler would show milliseconds here.
func BenchmarkFaultGOMAXPROCS1(b *testing.B) { benchFaults(b, 1, 1) }

// BenchmarkFaultGOMAXPROCS2: same sweep, two Ps.
func BenchmarkFaultGOMAXPROCS2(b *testing.B) { benchFaults(b, 2, 1) }

// BenchmarkFaultParallelGOMAXPROCS2: two goroutines fault at once; ns/op is
// wall time per fault (the handler serialises them).
func BenchmarkFaultParallelGOMAXPROCS2(b *testing.B) { benchFaults(b, 2, 2) }
