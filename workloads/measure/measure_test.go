package measure

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// readNS is what one read of a fineClock costs.
const readNS = 1

// fineClock is a nanosecond clock that moves by readNS at each read and
// when a countingBench runs: the stopwatch reads it directly, so a timed
// run of n operations lasts n x perOp + readNS.
type fineClock struct{ t int64 }

func (c *fineClock) now() int64 { c.t += readNS; return c.t }

// countingBench costs perOp(call) fake time per operation on its clock,
// and records the iteration count of every call.
type countingBench struct {
	clock *fineClock
	perOp func(call int) time.Duration
	calls []int
	fail  int // the call (1-based) that fails; 0: none
	// report, when set, fills in the repetition's extra figures.
	report func(r *workload.Report)
}

var errBench = errors.New("bench failed")

func (b *countingBench) Run(n int, r *workload.Report) error {
	b.calls = append(b.calls, n)
	if len(b.calls) == b.fail {
		return errBench
	}
	b.clock.t += int64(n) * b.perOp(len(b.calls)).Nanoseconds()
	if b.report != nil {
		b.report(r)
	}
	return nil
}

func (b *countingBench) Close() error { return nil }

func constant(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

func newFake(perOp func(int) time.Duration) (*countingBench, Options) {
	c := &fineClock{}
	return &countingBench{clock: c, perOp: perOp}, Options{now: c.now}
}

// samples parses every line of out as a protocol sample.
func samples(t *testing.T, out []byte) []*protocol.Sample {
	t.Helper()
	var ss []*protocol.Sample
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !bytes.HasPrefix(line, []byte(protocol.Prefix)) || !bytes.HasSuffix(line, []byte("\n")) {
			t.Fatalf("line %q is not one whole protocol line", line)
		}
		m, err := protocol.Parse(line)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if m.Type != protocol.TypeSample {
			t.Fatalf("line %q: type %q, want %q", line, m.Type, protocol.TypeSample)
		}
		ss = append(ss, m.Sample)
	}
	return ss
}

func value(t *testing.T, s *protocol.Sample, unit string) protocol.Value {
	t.Helper()
	for _, v := range s.Values {
		if v.Unit == unit {
			return v
		}
	}
	t.Fatalf("sample %+v has no %s", s, unit)
	return protocol.Value{}
}

func TestRunCalibratesWarmsUpAndRepeats(t *testing.T) {
	tests := []struct {
		name      string
		perOp     time.Duration
		minTime   time.Duration
		maxIters  int
		warmup    int
		reps      int
		wantCalib []int // iteration counts of the calibration runs
		wantN     int
	}{
		// 1 µs/op, 10 ms: 1 op (1 µs) predicts 12,000 (10 ms x 1.2
		// headroom), 100 ops predict 12,000 again, but growth is at most
		// 100x at a time; 10,000 ops last the 10 ms.
		{"testing.B growth", time.Microsecond, 10 * time.Millisecond, 0, 2, 3, []int{1, 100, 10000}, 10000},
		{"one op is enough", 50 * time.Millisecond, 10 * time.Millisecond, 0, 1, 2, []int{1}, 1},
		{"no warmup", time.Millisecond, 3 * time.Millisecond, 0, 0, 1, []int{1, 3}, 3},
		{"bounded by MaxIters", time.Nanosecond, time.Second, 500, 1, 2, []int{1, 100, 500}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, o := newFake(constant(tt.perOp))
			o.Reps, o.Warmup, o.MinTime, o.MaxIters = tt.reps, tt.warmup, tt.minTime, tt.maxIters
			var out bytes.Buffer
			if err := Run(b, o, &out); err != nil {
				t.Fatal(err)
			}
			want := append([]int{}, tt.wantCalib...)
			for i := 0; i < tt.warmup+tt.reps; i++ {
				want = append(want, tt.wantN)
			}
			if !equal(b.calls, want) {
				t.Errorf("runs %v, want %v (calibration %v, %d warmup, %d reps of %d)", b.calls, want, tt.wantCalib, tt.warmup, tt.reps, tt.wantN)
			}
			ss := samples(t, out.Bytes())
			if len(ss) != tt.reps {
				t.Fatalf("%d samples, want %d", len(ss), tt.reps)
			}
			for i, s := range ss {
				if s.Rep != i || s.Iters != tt.wantN {
					t.Errorf("sample %d: rep %d, iters %d; want rep %d, iters %d", i, s.Rep, s.Iters, i, tt.wantN)
				}
				wantNS := int64(tt.wantN)*tt.perOp.Nanoseconds() + readNS
				if s.ElapsedNS != wantNS {
					t.Errorf("sample %d: elapsed %d ns, want %d", i, s.ElapsedNS, wantNS)
				}
				if v := value(t, s, "ns/op"); v.Value != float64(wantNS)/float64(tt.wantN) || v.Better != protocol.Lower {
					t.Errorf("sample %d: %+v, want %d ns / %d ops, lower is better", i, v, wantNS, tt.wantN)
				}
			}
		})
	}
}

func TestRunRedoesShortRepetitions(t *testing.T) {
	// The machine gets 4x faster after calibration and warmup (calls 1-3
	// are the calibration 1, 100, 10000, call 4 the warmup), so the first
	// timed run lasts 2.5 ms < 10 ms: it is discarded and redone.
	perOp := func(call int) time.Duration {
		if call <= 4 {
			return time.Microsecond
		}
		return time.Microsecond / 4
	}
	b, o := newFake(perOp)
	o.Reps, o.Warmup, o.MinTime = 2, 1, 10*time.Millisecond
	var out bytes.Buffer
	if err := Run(b, o, &out); err != nil {
		t.Fatal(err)
	}
	// 10000 ops at 250 ns = 2.5 ms (and a read) predicts
	// 1.2 x 10000 x 10 ms / 2.500001 ms = 47999.98, rounded down.
	want := []int{1, 100, 10000, 10000, 10000, 47999, 47999}
	if !equal(b.calls, want) {
		t.Errorf("runs %v, want %v", b.calls, want)
	}
	for _, s := range samples(t, out.Bytes()) {
		if s.Iters != 47999 || time.Duration(s.ElapsedNS) < o.MinTime {
			t.Errorf("sample %+v: want 47999 iterations lasting at least %v", s, o.MinTime)
		}
		if v := value(t, s, "ns/op"); math.Abs(v.Value-250) > 0.01 {
			t.Errorf("sample %d: %v ns/op, want 250", s.Rep, v.Value)
		}
	}
}

// Events is read right before and right after every timed run of a
// repetition, the one redone for being short too: its reads pair up as a
// window's start and end (the sim's paging pass looks at the EPC's pages
// only at a window's end and tells the two by their order; an unpaired
// start once turned every later end into a start, and all of a cell's EPC
// loads came out "unattributed").
func TestRunEventsInPairs(t *testing.T) {
	perOp := func(call int) time.Duration { // 4x faster after warmup, as above
		if call <= 4 {
			return time.Microsecond
		}
		return time.Microsecond / 4
	}
	b, o := newFake(perOp)
	o.Reps, o.Warmup, o.MinTime = 2, 1, 10*time.Millisecond
	var seq []string
	o.Events = func() map[string]int64 {
		seq = append(seq, fmt.Sprintf("events@%d", len(b.calls)))
		return map[string]int64{"runs": int64(len(b.calls))}
	}
	var out bytes.Buffer
	if err := Run(b, o, &out); err != nil {
		t.Fatal(err)
	}
	// Runs 1-3 calibrate, 4 warms up, 5 is short and redone as 6; 7.
	want := []string{"events@4", "events@5", "events@5", "events@6", "events@6", "events@7"}
	if !slices.Equal(seq, want) {
		t.Errorf("Events read at %v, want %v (before and after each of runs 5, 6 and 7)", seq, want)
	}
	for _, s := range samples(t, out.Bytes()) {
		if s.Events["runs"] != 1 {
			t.Errorf("sample %d: events %v, want the one run of its repetition", s.Rep, s.Events)
		}
	}
}

// Every sample lasts at least MinTime unless the iteration count reached
// MaxIters, whatever the cost per operation and its drift.
func TestRunMinTimeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		costs := rapid.SliceOfN(rapid.Int64Range(0, int64(time.Millisecond)), 1, 30).Draw(t, "costs")
		perOp := func(call int) time.Duration { return time.Duration(costs[call%len(costs)]) }
		b, o := newFake(perOp)
		o.Reps = rapid.IntRange(1, 5).Draw(t, "reps")
		o.Warmup = rapid.IntRange(0, 3).Draw(t, "warmup")
		o.MinTime = time.Duration(rapid.Int64Range(1, int64(time.Second)).Draw(t, "minTime"))
		o.MaxIters = rapid.IntRange(1, 1e6).Draw(t, "maxIters")
		var out bytes.Buffer
		if err := Run(b, o, &out); err != nil {
			t.Fatal(err)
		}
		var ss []*protocol.Sample
		for _, line := range bytes.SplitAfter(out.Bytes(), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			m, err := protocol.Parse(line)
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			ss = append(ss, m.Sample)
		}
		if len(ss) != o.Reps {
			t.Fatalf("%d samples, want %d", len(ss), o.Reps)
		}
		for _, s := range ss {
			if s.Iters > o.MaxIters {
				t.Fatalf("sample %d: %d iterations > MaxIters %d", s.Rep, s.Iters, o.MaxIters)
			}
			if time.Duration(s.ElapsedNS) < o.MinTime && s.Iters < o.MaxIters {
				t.Fatalf("sample %d: %v < min time %v with %d < %d iterations", s.Rep, time.Duration(s.ElapsedNS), o.MinTime, s.Iters, o.MaxIters)
			}
		}
		for _, n := range b.calls {
			if n < 1 || n > o.MaxIters {
				t.Fatalf("a run of %d iterations (MaxIters %d)", n, o.MaxIters)
			}
		}
	})
}

// A window's end is read before the harness allocates anything for the
// repetition (its sample, the rusage): on the sim's paging pass, whose
// whole heap is on the software EPC, the harness's first allocation of a
// kind can reach a page the set-up left evicted, and that load was counted
// as the workload's (TestGoHeapCliff, 3-20 loads in the first window, the
// whole count where a loaded host leaves a window 500 operations).
func TestRunWindowHoldsNoHarnessAllocation(t *testing.T) {
	b, o := newFake(constant(time.Microsecond))
	b.calls = make([]int, 0, 64) // the fake's own record allocates nothing either
	o.Reps, o.Warmup, o.MinTime = 3, 1, time.Millisecond
	reads := [2]map[string]int64{{"mallocs": 0}, {"mallocs": 0}} // filled in place: no allocation of ours
	var ms runtime.MemStats
	calls := 0
	o.Events = func() map[string]int64 {
		runtime.ReadMemStats(&ms)
		m := reads[calls%2]
		calls++
		m["mallocs"] = int64(ms.Mallocs)
		return m
	}
	var out bytes.Buffer
	if err := Run(b, o, &out); err != nil {
		t.Fatal(err)
	}
	ss := samples(t, out.Bytes())
	if len(ss) != 3 || calls != 6 {
		t.Fatalf("%d samples, %d reads of Events; want 3 and 6", len(ss), calls)
	}
	for _, s := range ss {
		if n := s.Events["mallocs"]; n != 0 {
			t.Errorf("sample %d: the harness allocated %d objects between the window's start and end", s.Rep, n)
		}
	}
}

func TestRunReportsFiguresAndEvents(t *testing.T) {
	b, o := newFake(constant(time.Microsecond))
	o.Reps, o.MinTime = 3, time.Millisecond
	rep := 0
	b.report = func(r *workload.Report) {
		rep++
		r.BytesPerOp = 4096
		r.Metric(float64(rep), "hits/op", protocol.Higher)
		r.Event(protocol.EventSyscalls, 2)
		r.Event(protocol.EventSyscalls, 1) // adds up within a run
	}
	var counter int64
	o.Events = func() map[string]int64 {
		counter += 5 // read twice per repetition: the difference is 5
		return map[string]int64{protocol.EventOCalls: counter, "unchanged": 7}
	}
	var seen []byte
	o.OnLine = func(line []byte) { seen = append(seen, line...) }
	var out bytes.Buffer
	if err := Run(b, o, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seen, out.Bytes()) {
		t.Errorf("OnLine saw %q, out has %q", seen, out.Bytes())
	}
	ss := samples(t, out.Bytes())
	for i, s := range ss {
		// 1 µs per 4096 bytes: 4096 MB/s (but for the clock read).
		if v := value(t, s, "MB/s"); math.Abs(v.Value-4096) > 0.01 || v.Better != protocol.Higher {
			t.Errorf("sample %d: %+v, want 4096 MB/s, higher is better", i, v)
		}
		// The metric is the repetition's own (the Report is reset), not accumulated.
		if n := strings.Count(unitsOf(s), "hits/op"); n != 1 {
			t.Errorf("sample %d: %d hits/op values, want 1: %v", i, n, s.Values)
		}
		if got := s.Events[protocol.EventSyscalls]; got != 3 {
			t.Errorf("sample %d: %d syscalls, want 3 (the run's own)", i, got)
		}
		if got := s.Events[protocol.EventOCalls]; got != 5 {
			t.Errorf("sample %d: %d ocalls, want the difference 5", i, got)
		}
		if _, ok := s.Events["unchanged"]; ok {
			t.Errorf("sample %d: an unchanged counter is reported: %v", i, s.Events)
		}
		for _, k := range []string{protocol.EventMinorFaults, protocol.EventMajorFaults, protocol.EventVolCtxSw, protocol.EventInvolCtxSw} {
			if v, ok := s.Events[k]; !ok || v < 0 {
				t.Errorf("sample %d: event %s = %d, %v; want a count", i, k, v, ok)
			}
		}
	}
	if got := value(t, ss[2], "hits/op").Value; got != float64(rep) {
		t.Errorf("last sample hits/op %v, want the last run's %d", got, rep)
	}
}

func unitsOf(s *protocol.Sample) string {
	var u []string
	for _, v := range s.Values {
		u = append(u, v.Unit)
	}
	return strings.Join(u, " ")
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		fail    int
		wantErr string
	}{
		{"zero reps", Options{Reps: 0, MinTime: time.Millisecond}, 0, "reps must be positive"},
		{"negative reps", Options{Reps: -1, MinTime: time.Millisecond}, 0, "reps must be positive"},
		{"zero min time", Options{Reps: 1}, 0, "min time must be positive"},
		{"negative warmup", Options{Reps: 1, MinTime: time.Millisecond, Warmup: -5}, 0, "warmup must not be negative"},
		// 1 ms per op: calibration is the one run of 1 op.
		{"calibration fails", Options{Reps: 1, MinTime: time.Millisecond}, 1, "calibration: bench failed"},
		{"warmup fails", Options{Reps: 1, Warmup: 1, MinTime: time.Millisecond}, 2, "warmup: bench failed"},
		{"repetition fails", Options{Reps: 3, MinTime: time.Millisecond}, 3, "repetition 1: bench failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, o := newFake(constant(time.Millisecond))
			b.fail = tt.fail
			tt.o.now = o.now
			var out bytes.Buffer
			err := Run(b, tt.o, &out)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if tt.fail > 0 && !errors.Is(err, errBench) {
				t.Errorf("error %v does not wrap the workload's", err)
			}
			if tt.fail == 0 && len(b.calls) > 0 {
				t.Errorf("ran %v before refusing the options", b.calls)
			}
			// Samples written before the failure are whole lines.
			samples(t, out.Bytes())
		})
	}
}

func TestPredict(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		d        time.Duration
		maxIters int
		want     int
	}{
		{"no time measured: 100x", 10, 0, 1e9, 1000},
		{"1.2x headroom", 1000, 50 * time.Millisecond, 1e9, 2400},
		{"at most 100x", 1, time.Nanosecond, 1e9, 100},
		{"at least one more", 1000, time.Second, 1e9, 1001},
		{"bounded by maxIters", 1000, time.Millisecond, 5000, 5000},
	}
	for _, tt := range tests {
		if got := predict(tt.n, tt.d, 100*time.Millisecond, tt.maxIters); got != tt.want {
			t.Errorf("%s: predict(%d, %v) = %d, want %d", tt.name, tt.n, tt.d, got, tt.want)
		}
	}
}

// Without a clock of its own, Run times with the real monotonic one.
func TestRunDefaultClock(t *testing.T) {
	b := &sleeper{}
	var out bytes.Buffer
	if err := Run(b, Options{Reps: 1, MinTime: time.Millisecond}, &out); err != nil {
		t.Fatal(err)
	}
	s := samples(t, out.Bytes())[0]
	if time.Duration(s.ElapsedNS) < time.Millisecond {
		t.Errorf("elapsed %v, want at least the min time 1ms", time.Duration(s.ElapsedNS))
	}
}

type sleeper struct{}

func (sleeper) Run(n int, _ *workload.Report) error {
	time.Sleep(time.Duration(n) * 100 * time.Microsecond)
	return nil
}
func (sleeper) Close() error { return nil }

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRunShadow: the shadow runs after every warmup and measured
// repetition with that repetition's operations, outside its timing, and
// its events are the sample's.
func TestRunShadow(t *testing.T) {
	b, o := newFake(constant(time.Microsecond))
	o.Reps, o.Warmup, o.MinTime = 3, 2, 10*time.Millisecond
	var shadowed []int
	o.Shadow = func(n int) (map[string]int64, error) {
		shadowed = append(shadowed, n)
		b.clock.t += int64(n) * 1000 * 1000 // 1000x slower than the timed run: must not show
		return map[string]int64{protocol.EventEPCLoads: int64(n / 10), protocol.EventEPCPassOps: int64(n)}, nil
	}
	var out bytes.Buffer
	if err := Run(b, o, &out); err != nil {
		t.Fatal(err)
	}
	if !equal(shadowed, []int{10000, 10000, 10000, 10000, 10000}) {
		t.Errorf("shadow runs %v, want 2 warmup + 3 repetitions of 10000", shadowed)
	}
	for i, s := range samples(t, out.Bytes()) {
		if s.Events[protocol.EventEPCLoads] != 1000 || s.Events[protocol.EventEPCPassOps] != 10000 {
			t.Errorf("sample %d: events %v", i, s.Events)
		}
		if s.ElapsedNS != 10000*1000+readNS {
			t.Errorf("sample %d: elapsed %d ns includes the shadow run", i, s.ElapsedNS)
		}
	}
	o.Shadow = func(int) (map[string]int64, error) { return nil, errBench }
	if err := Run(b, o, &bytes.Buffer{}); err == nil {
		t.Error("a failing shadow run must fail the measurement")
	}
}

// allocBench allocates size bytes per operation in one object each.
type allocBench struct {
	size int
	sink [][]byte
}

func (b *allocBench) Run(n int, _ *workload.Report) error {
	b.sink = b.sink[:0]
	for i := 0; i < n; i++ {
		b.sink = append(b.sink, make([]byte, b.size))
	}
	return nil
}

func (b *allocBench) Close() error { return nil }

// With Iters the runs are exactly that long (no calibration, a short
// repetition is kept), Bracket surrounds each measured run's operations,
// and Allocs counts the heap allocations of the repetition.
func TestFixedItersBracketAllocs(t *testing.T) {
	b, o := newFake(constant(time.Nanosecond))
	o.Reps, o.Warmup, o.MinTime, o.Iters = 2, 1, time.Second, 500
	var brackets []bool
	o.Bracket = func(begin bool) { brackets = append(brackets, begin) }
	var out bytes.Buffer
	if err := Run(b, o, &out); err != nil {
		t.Fatal(err)
	}
	if want := []int{500, 500, 500}; !slices.Equal(b.calls, want) {
		t.Errorf("runs %v, want %v (warmup and two repetitions of exactly --iters)", b.calls, want)
	}
	if want := []bool{true, false, true, false}; !slices.Equal(brackets, want) {
		t.Errorf("brackets %v, want %v", brackets, want)
	}

	ab := &allocBench{size: 1000, sink: make([][]byte, 0, 4096)}
	out.Reset()
	if err := Run(ab, Options{Reps: 1, MinTime: time.Nanosecond, Iters: 4096, Allocs: true}, &out); err != nil {
		t.Fatal(err)
	}
	msg, err := protocol.Parse(bytes.TrimSpace(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ev := msg.Sample.Events
	// 1000-byte objects land in the 1024-byte size class; a little more
	// may come from the runtime's own allocations.
	if got := ev[protocol.EventAllocObjects]; got < 4096 || got > 4096+64 {
		t.Errorf("alloc_objects %d, want 4096 (+ a few of the runtime's)", got)
	}
	if got := ev[protocol.EventAllocBytes]; got < 4096*1024 || got > 4096*1024+64<<10 {
		t.Errorf("alloc_bytes %d, want 4 MiB (+ a little)", got)
	}
}
