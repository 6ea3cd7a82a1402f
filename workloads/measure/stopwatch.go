package measure

import (
	"errors"
	"math"
	"time"
)

// A stopwatch times runs with the process's monotonic clock, whatever its
// resolution. Natively the clock is fine (nanoseconds) and is read around
// the run. Inside an EGo enclave on SGX1 the runtime's clock comes from
// the host's vDSO data without the TSC (RDTSC faults in an SGX1 enclave),
// so it steps once per kernel tick, every 4 ms (edgelesssys/ego issue
// #236); the precise alternative (ERT_DISABLE_VDSO_CLOCK=1) makes every
// clock read an OCALL. Against a stepping clock the stopwatch aligns the
// run with the clock's steps and interpolates the rest by counting clock
// reads, which stay inside the enclave:
//
//  1. spin until the clock steps (edge e0) and start the run there;
//  2. after the run, spin until the next step (edge e1), counting k1 reads;
//  3. spin one more step (edge e2), counting k2 reads: the spin's rate,
//     measured right after the tail it prices;
//  4. duration = e1 - e0 - k1 x (e2 - e1) / k2.
//
// The error is at most one clock read at each edge (an edge is seen by the
// first read after it), the tick interrupts' jitter between e0 and e1, and
// the tail (< one step) times the relative change of the spin's rate
// between the tail and the step after it; docs/ego.md gives the figures.
type stopwatch struct {
	now   func() int64 // monotonic clock, ns
	step  int64        // the clock's step; 0: fine enough to read directly
	limit int64        // reads after which a clock that has not moved is stuck
}

// fineStep is the coarsest clock step read directly: 1 µs is 0.005% of the
// quick profile's 20 ms repetitions.
const fineStep = 1000

// minStepReads: a clock is stepping when it stays put for at least this
// many reads; fewer, and its apparent step is the cost of a read.
const minStepReads = 4

// maxSpinReads bounds a spin for a clock step: a clock that does not move
// for this many reads (a quarter second even at 1 ns per read, a hundred
// 4 ms steps at the 40-100 ns a read costs) is broken.
const maxSpinReads = 1 << 28

var errClockStuck = errors.New("measure: the monotonic clock does not advance")

// monotonic reads the runtime's monotonic clock.
func monotonic() int64 { return int64(time.Since(epoch)) }

var epoch = time.Now()

// newStopwatch probes now's step: the smallest of three consecutive
// steps (a tickless kernel may skip ticks, never shorten them).
func newStopwatch(now func() int64) (*stopwatch, error) {
	return newStopwatchLimit(now, maxSpinReads)
}

func newStopwatchLimit(now func() int64, limit int64) (*stopwatch, error) {
	w := &stopwatch{now: now, limit: limit}
	v := now()
	step, reads := int64(math.MaxInt64), int64(math.MaxInt64)
	for i := 0; i < 3; i++ {
		k, next, err := w.edge(v)
		if err != nil {
			return nil, err
		}
		step, reads = min(step, next-v), min(reads, k)
		v = next
	}
	// A clock that moves at (nearly) every read is fine however long a
	// read takes (an OCALL per read where Edgeless RT has no vDSO clock).
	if step > fineStep && reads >= minStepReads {
		w.step = step
	}
	return w, nil
}

// edge spins until the clock differs from v and returns the reads it took
// and the new value.
func (w *stopwatch) edge(v int64) (reads int64, next int64, err error) {
	for reads = 1; reads <= w.limit; reads++ {
		if next = w.now(); next != v {
			return reads, next, nil
		}
	}
	return reads, v, errClockStuck
}

// lap is one timed run.
type lap struct {
	d    int64 // duration, ns
	tail int64 // interpolated part of d (stepping clock), ns
}

// time runs run once and returns its duration.
func (w *stopwatch) time(run func() error) (lap, error) {
	if w.step == 0 {
		t0 := w.now()
		err := run()
		return lap{d: w.now() - t0}, err
	}
	_, e0, err := w.edge(w.now())
	if err != nil {
		return lap{}, err
	}
	if err := run(); err != nil {
		return lap{}, err
	}
	// k1 counts the tail's reads from the first after the run to the one
	// that saw the step; k2 the reads after that one up to the one that
	// saw the next step, which span e2 - e1.
	k1, e1, err := w.edge(w.now())
	if err != nil {
		return lap{}, err
	}
	k2, e2, err := w.edge(e1)
	if err != nil {
		return lap{}, err
	}
	tail := int64(math.Round(float64(k1+1) * float64(e2-e1) / float64(k2)))
	tail = min(tail, e1-e0)
	return lap{d: e1 - e0 - tail, tail: tail}, nil
}
