// Package measure is the measurement loop that runs inside the workload
// process: it calibrates the iteration count, warms up, then times
// repetitions of at least a minimum duration each and emits one protocol
// sample per repetition, with the events counted during it.
package measure

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Options configure a measurement.
type Options struct {
	Reps    int           // measured repetitions
	Warmup  int           // uncounted repetitions after calibration
	MinTime time.Duration // minimum duration of one repetition
	// MaxIters bounds the iteration count (0: no bound beyond 1e9).
	MaxIters int
	// Events, when set, is read before and after each repetition and the
	// difference attached to the sample (the software EPC, OCALL counters).
	// The read after comes right after the operations, before the harness
	// allocates anything for the repetition (its sample, the rusage). A
	// repetition redone for being shorter than MinTime is read after
	// too, so the reads always come in pairs, a start then its end (the
	// sim's paging pass tells a window's start from its end by the order
	// of the calls).
	Events func() map[string]int64
	// OnLine, when set, sees each sample line before it is written
	// (provenance digests).
	OnLine func(line []byte)
	// Ran, when set, sees the iteration count of every run of the workload
	// (calibration, warmup, repetitions, discarded ones too): with a count
	// that covers the whole process (EGo's OCALL table), the total gives
	// per-operation rates.
	Ran func(n int)
	// Shadow, when set, runs after every warmup and measured repetition,
	// outside its timing, with that repetition's operation count; the
	// events it returns are added to the measured repetition's sample. The
	// sim mode runs the same operations there on a second instance of the
	// workload held in the software EPC, so that the timed repetition is
	// the workload's native time and its paging events come from the same
	// repetition.
	Shadow func(n int) (map[string]int64, error)
	// Iters, when positive, fixes every run's iteration count: no
	// calibration, and a repetition is never redone for being shorter
	// than MinTime. The counting pass (bench run --counts) uses it so
	// that two processes run exactly the operations asked for.
	Iters int
	// Bracket, when set, is called right before (true) and right after
	// (false) the operations of every measured repetition, outside its
	// timing: the counting pass zeroes and dumps Valgrind's counters there.
	Bracket func(begin bool)
	// Allocs adds the heap allocations of each repetition to its events
	// (protocol.EventAllocBytes, EventAllocObjects).
	Allocs bool

	now func() int64 // the monotonic clock (tests: a simulated one)
}

// Events of a repetition timed against a stepping clock (see stopwatch):
// the clock's step and the part of the duration interpolated by counting
// clock reads. Absent where the clock is fine.
const (
	EventTimerStepNS = "timer_step_ns"
	EventTimerTailNS = "timer_tail_ns"
)

// Run measures b and writes protocol samples to out.
func Run(b workload.Bench, o Options, out io.Writer) error {
	if o.Reps <= 0 {
		return fmt.Errorf("measure: reps must be positive, got %d", o.Reps)
	}
	if o.MinTime <= 0 {
		return fmt.Errorf("measure: min time must be positive, got %v", o.MinTime)
	}
	if o.Warmup < 0 {
		return fmt.Errorf("measure: warmup must not be negative, got %d", o.Warmup)
	}
	maxIters := o.MaxIters
	if maxIters <= 0 {
		maxIters = 1e9
	}
	now := o.now
	if now == nil {
		now = monotonic
	}
	sw, err := newStopwatch(now)
	if err != nil {
		return err
	}
	var r workload.Report
	n := o.Iters
	if n <= 0 {
		if n, err = calibrate(b, &r, sw, o, maxIters); err != nil {
			return err
		}
	}
	for i := 0; i < o.Warmup; i++ {
		r.Reset()
		err := b.Run(n, &r)
		o.ran(n)
		if err != nil {
			return fmt.Errorf("warmup: %w", err)
		}
		if o.Shadow != nil {
			if _, err := o.Shadow(n); err != nil {
				return fmt.Errorf("warmup: %w", err)
			}
		}
	}
	w := &lineWriter{out: out, on: o.OnLine}
	for rep := 0; rep < o.Reps; rep++ {
		s, err := measureOne(b, &r, sw, &n, o, maxIters)
		if err != nil {
			return fmt.Errorf("repetition %d: %w", rep, err)
		}
		s.Rep = rep
		if o.Shadow != nil {
			ev, err := o.Shadow(s.Iters)
			if err != nil {
				return fmt.Errorf("repetition %d: %w", rep, err)
			}
			for k, v := range ev {
				s.Events[k] += v
			}
		}
		if err := protocol.Encode(w, protocol.Message{Type: protocol.TypeSample, Sample: s}); err != nil {
			return err
		}
	}
	return nil
}

func (o *Options) ran(n int) {
	if o.Ran != nil {
		o.Ran(n)
	}
}

type lineWriter struct {
	out io.Writer
	on  func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if w.on != nil {
		w.on(p)
	}
	return w.out.Write(p)
}

// calibrate finds an iteration count whose run lasts at least minTime,
// growing it the way testing.B does (predict from the last run, at most
// 100x at a time, 1.2x headroom).
func calibrate(b workload.Bench, r *workload.Report, w *stopwatch, o Options, maxIters int) (int, error) {
	minTime := o.MinTime
	n := 1
	for {
		r.Reset()
		l, err := w.time(func() error { return b.Run(n, r) })
		o.ran(n)
		if err != nil {
			return 0, fmt.Errorf("calibration: %w", err)
		}
		d := time.Duration(l.d)
		if d >= minTime || n >= maxIters {
			return n, nil
		}
		n = predict(n, d, minTime, maxIters)
	}
}

func predict(n int, d, target time.Duration, maxIters int) int {
	var next int64
	if d <= 0 {
		next = int64(n) * 100
	} else {
		next = int64(1.2 * float64(n) * float64(target) / float64(d))
	}
	next = min(next, int64(n)*100)
	next = max(next, int64(n)+1)
	return int(min(next, int64(maxIters)))
}

// measureOne times one repetition of at least MinTime. A run that comes out
// shorter (the machine got faster after calibration) is discarded as warmup
// and redone with more iterations.
func measureOne(b workload.Bench, r *workload.Report, w *stopwatch, n *int, o Options, maxIters int) (*protocol.Sample, error) {
	for {
		r.Reset()
		var ev0 map[string]int64
		if o.Events != nil {
			ev0 = o.Events()
		}
		var ru0, ru1 unix.Rusage
		var al0, al1 allocs
		if o.Allocs {
			al0 = readAllocs()
		}
		_ = unix.Getrusage(unix.RUSAGE_SELF, &ru0)
		if o.Bracket != nil {
			o.Bracket(true)
		}
		l, err := w.time(func() error {
			err := b.Run(*n, r)
			o.ran(*n)
			return err
		})
		if o.Bracket != nil {
			o.Bracket(false)
		}
		// The window's end, before the harness itself reads or
		// allocates anything (the rusage, the sample below): on the
		// paging pass's software EPC such a first allocation can reach
		// a page the set-up left evicted, a load of no operation.
		var ev1 map[string]int64
		if o.Events != nil {
			ev1 = o.Events()
		}
		d := time.Duration(l.d)
		_ = unix.Getrusage(unix.RUSAGE_SELF, &ru1)
		if o.Allocs {
			al1 = readAllocs()
		}
		if err != nil {
			return nil, err
		}
		if d < o.MinTime && *n < maxIters && o.Iters <= 0 {
			*n = predict(*n, d, o.MinTime, maxIters)
			continue
		}
		s := &protocol.Sample{Iters: *n, ElapsedNS: d.Nanoseconds()}
		nsPerOp := float64(d.Nanoseconds()) / float64(*n)
		s.Values = append(s.Values, protocol.Value{Value: nsPerOp, Unit: "ns/op", Better: protocol.Lower})
		if r.BytesPerOp > 0 && d > 0 {
			mbs := float64(r.BytesPerOp) * float64(*n) / 1e6 / d.Seconds()
			s.Values = append(s.Values, protocol.Value{Value: mbs, Unit: "MB/s", Better: protocol.Higher})
		}
		s.Values = append(s.Values, r.Values...)
		s.Events = map[string]int64{
			protocol.EventMinorFaults: ru1.Minflt - ru0.Minflt,
			protocol.EventMajorFaults: ru1.Majflt - ru0.Majflt,
			protocol.EventVolCtxSw:    ru1.Nvcsw - ru0.Nvcsw,
			protocol.EventInvolCtxSw:  ru1.Nivcsw - ru0.Nivcsw,
		}
		if o.Allocs {
			s.Events[protocol.EventAllocBytes] = int64(al1.bytes - al0.bytes)
			s.Events[protocol.EventAllocObjects] = int64(al1.objects - al0.objects)
		}
		if w.step != 0 {
			s.Events[EventTimerStepNS] = w.step
			s.Events[EventTimerTailNS] = l.tail
		}
		for k, v := range r.Events {
			s.Events[k] += v
		}
		if o.Events != nil {
			for k, v := range ev1 {
				if d := v - ev0[k]; d != 0 {
					s.Events[k] += d
				}
			}
		}
		return s, nil
	}
}

// allocs are the Go runtime's cumulative heap allocations.
type allocs struct{ bytes, objects uint64 }

// readAllocs reads them with runtime.ReadMemStats, which flushes every P's
// allocation cache first, so the counts are exact (runtime/metrics counts a
// cached span's allocations only when the span is returned, and leaves tiny
// allocations out of its object count). It stops the world: only the
// untimed counting pass asks for it.
func readAllocs() allocs {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return allocs{bytes: ms.TotalAlloc, objects: ms.Mallocs}
}
