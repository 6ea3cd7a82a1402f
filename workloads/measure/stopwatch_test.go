package measure

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// steppingClock simulates a monotonic clock that steps every step ns, as
// an SGX1 enclave's vDSO clock does (4 ms at HZ=250): true time advances
// by the cost of each read and by what the simulated work takes; a step
// becomes visible up to jitter ns after it is due (tick interrupt latency).
type steppingClock struct {
	t      int64 // true time, ns
	step   int64
	phase  int64
	jitter int64
	read   func() int64 // cost of one read, ns
	rng    *rand.Rand
}

func (c *steppingClock) now() int64 {
	c.t += c.read()
	k := (c.t - c.phase) / c.step
	if c.t < k*c.step+c.phase+c.delay(k) {
		k--
	}
	return k*c.step + c.phase
}

// delay is step k's visibility delay, the same at every read.
func (c *steppingClock) delay(k int64) int64 {
	if c.jitter == 0 {
		return 0
	}
	h := uint64(k) * 0x9e3779b97f4a7c15
	return int64(h>>33) % (c.jitter + 1)
}

func newSteppingClock(seed uint64, readNS, readJitter, tickJitter int64) *steppingClock {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := &steppingClock{step: 4e6, phase: rng.Int64N(4e6), jitter: tickJitter, rng: rng, t: rng.Int64N(1e9)}
	c.read = func() int64 { return readNS + rng.Int64N(2*readJitter+1) - readJitter }
	return c
}

func TestStopwatchProbesTheStep(t *testing.T) {
	t.Parallel()
	c := newSteppingClock(1, 100, 10, 5000)
	w, err := newStopwatch(c.now)
	if err != nil {
		t.Fatal(err)
	}
	if w.step != 4e6 {
		t.Errorf("step %d, want 4000000", w.step)
	}
	fine := int64(0)
	w, err = newStopwatch(func() int64 { fine += 30; return fine })
	if err != nil || w.step != 0 {
		t.Errorf("fine clock: step %d (%v), want 0: read directly", w.step, err)
	}
	slow := int64(0)
	w, err = newStopwatch(func() int64 { slow += 3000; return slow })
	if err != nil || w.step != 0 {
		t.Errorf("fine clock at 3 µs per read (an OCALL each): step %d (%v), want 0: read directly", w.step, err)
	}
	if _, err := newStopwatchLimit(func() int64 { return 7 }, 1e6); err == nil {
		t.Error("a clock that never moves was accepted")
	}
}

// TestStopwatchSteppingClock times simulated 20 ms runs (the quick
// profile's repetitions) against a 4 ms clock at random phases: every
// duration must be within 1%, where reading the clock around the run is
// up to 20% off.
func TestStopwatchSteppingClock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                          string
		readNS, readJitter, tickNoise int64
	}{
		{"steady reads", 100, 0, 0},
		{"noisy reads", 100, 60, 0},
		{"tick latency 20us", 100, 20, 20000},
		{"slow reads", 5000, 500, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newSteppingClock(uint64(tc.readNS+tc.readJitter+tc.tickNoise), tc.readNS, tc.readJitter, tc.tickNoise)
			w, err := newStopwatch(c.now)
			if err != nil {
				t.Fatal(err)
			}
			var worst, worstNaive float64
			for i := 0; i < 100; i++ {
				want := int64(20e6) + c.rng.Int64N(4e6) // 20-24 ms, any phase
				l, err := w.time(func() error { c.t += want; return nil })
				if err != nil {
					t.Fatal(err)
				}
				worst = max(worst, math.Abs(float64(l.d-want))/float64(want))
				t0 := c.now()
				c.t += want
				worstNaive = max(worstNaive, math.Abs(float64(c.now()-t0-want))/float64(want))
				// The bound of docs/ego.md: one read at each edge, the tick
				// latency, and the tail (< one step) times the change of the
				// spin's rate, here the noise of the reads' sum (< 1%).
				bound := 2*(tc.readNS+tc.readJitter) + tc.tickNoise + w.step/100
				if e := l.d - want; e > bound || e < -bound {
					t.Fatalf("run %d: measured %d ns for %d ns (tail %d): error %d beyond the bound %d", i, l.d, want, l.tail, e, bound)
				}
			}
			if worst >= 0.01 {
				t.Errorf("worst error %.3f%%, want < 1%%", 100*worst)
			}
			if worstNaive < 0.05 {
				t.Errorf("reading the stepping clock around the run was only %.2f%% off: the simulation does not step", 100*worstNaive)
			}
			t.Logf("worst error %.4f%% (naive reads: %.1f%%)", 100*worst, 100*worstNaive)
		})
	}
}

// TestStopwatchRateDrift: when the spin after the run is slower than the
// spin that prices it, the error is the tail times the drift, below one
// step times the drift.
func TestStopwatchRateDrift(t *testing.T) {
	t.Parallel()
	c := newSteppingClock(7, 100, 0, 0)
	w, err := newStopwatch(c.now)
	if err != nil {
		t.Fatal(err)
	}
	slowTail := false
	c.read = func() int64 {
		if slowTail {
			return 105 // 5% slower
		}
		return 100
	}
	for i := 0; i < 100; i++ {
		want := int64(20e6) + c.rng.Int64N(4e6)
		var l lap
		l, err = w.time(func() error { c.t += want; slowTail = true; return nil })
		slowTail = false
		if err != nil {
			t.Fatal(err)
		}
		// Reads of the tail are priced at 100 ns but cost 105: the tail is
		// underestimated by up to 5%.
		e := l.d - want
		if e < -200 || float64(e) > 0.05*float64(l.tail)/0.95+100 || float64(e) > 0.01*float64(want) {
			t.Fatalf("measured %d for %d (tail %d): error %d", l.d, want, l.tail, e)
		}
	}
}

type fakeBench struct {
	c    *steppingClock
	opNS int64
}

func (b *fakeBench) Run(n int, r *workload.Report) error { b.c.t += int64(n) * b.opNS; return nil }
func (b *fakeBench) Close() error                        { return nil }

// TestRunSteppingClock measures a simulated workload of 1.7 µs per
// operation through Run: every repetition's ns/op within 1%, with the
// clock's step recorded.
func TestRunSteppingClock(t *testing.T) {
	t.Parallel()
	c := newSteppingClock(3, 100, 10, 2000)
	var out bytes.Buffer
	var ran, measured int64
	o := Options{Reps: 20, Warmup: 1, MinTime: 20 * time.Millisecond, now: c.now, Ran: func(n int) { ran += int64(n) }}
	if err := Run(&fakeBench{c: c, opNS: 1700}, o, &out); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		m, err := protocol.Parse(line)
		if err != nil || m.Sample == nil {
			t.Fatalf("line %q: %v", line, err)
		}
		s := m.Sample
		n++
		measured += int64(s.Iters)
		if got := s.Values[0].Value; math.Abs(got-1700)/1700 >= 0.01 {
			t.Errorf("rep %d: %.1f ns/op, want 1700 within 1%%", s.Rep, got)
		}
		if s.Events[EventTimerStepNS] != 4e6 {
			t.Errorf("rep %d: events %v lack the clock's step", s.Rep, s.Events)
		}
	}
	if n != o.Reps {
		t.Errorf("%d samples, want %d", n, o.Reps)
	}
	// Ran saw the repetitions, the warmup (one repetition's worth) and the
	// calibration runs.
	if ran < measured+measured/int64(o.Reps) || ran > 2*measured {
		t.Errorf("Ran saw %d operations; the samples have %d", ran, measured)
	}
}
