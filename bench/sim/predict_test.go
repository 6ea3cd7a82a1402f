package sim

import (
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

var testPrices = &Prices{CPU: "test", ClockHz: 1e9, OCallCycles: 1000, ECallCycles: 2000, EPCLoadCycles: 3000, EPCEvictionCycles: 4000, MEEFactor: 3, DRAMLatencyNS: 50}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestPredictConvertsEveryUnit(t *testing.T) {
	// 1000 ops in 1 ms on plain memory (1000 ns/op), 1 OCALL per op from
	// the counting pass (plus 10 time-driven nanosleeps over its 2 ms), 5
	// loads and 5 evictions from the software-EPC run of the same ops,
	// which took 20 us of emulation (10 us handler + 2 faults x 5 us).
	s := &result.Sample{Iters: 1000, ElapsedNS: 1e6,
		Values: []protocol.Value{
			{Value: 1000, Unit: "ns/op", Better: protocol.Lower},
			{Value: 64, Unit: "MB/s", Better: protocol.Higher},
			{Value: 1e6, Unit: "req/s", Better: protocol.Higher},
			{Value: 900, Unit: "p50-ns", Better: protocol.Lower},
			{Value: 3, Unit: "p99-us", Better: protocol.Lower},
			{Value: 7, Unit: "B/op", Better: protocol.Lower},
		},
		Events: map[string]int64{"epc_loads": 5, "epc_evictions": 5, "epc_fault_ns": 10000, "epc_faults": 2, "epc_pass_ops": 1000}}
	pass := &trace.Pass{Version: 1, Ops: 500, ElapsedNS: 2e6,
		Counts: trace.Counts{OCalls: 510, ECalls: 5, ClockOCalls: 10, BySyscall: map[string]int64{"pread64": 500, "clock:nanosleep": 10}}}
	p, err := Predict(s, pass, testPrices, Emulation{FaultTrapNS: 5000}, "test/v1")
	if err != nil {
		t.Fatal(err)
	}
	base := 1e6 // the timed repetition, on plain memory: nothing to subtract
	wantOCalls := 1000 + 10.0/2e6*base
	wantNS := base + wantOCalls*1000 + 10*2000 + 5*3000 + 5*4000
	if !near(p.BaseNS, base) || !near(p.EmulationNS, 20000) || !near(p.OCalls, wantOCalls) || !near(p.ECalls, 10) || !near(p.PredictedNS, wantNS) {
		t.Fatalf("prediction %s, want %.0f ns with %.2f OCALLs", p.Describe(), wantNS, wantOCalls)
	}
	k := wantNS / 1e6
	d := (wantNS - 1e6) / 1000 // ns per op
	want := map[string]float64{"ns/op": wantNS / 1000, "MB/s": 64 / k, "req/s": 1e6 / k, "p50-ns": 900 + d, "p99-us": 3 + d/1000, "B/op": 7}
	for _, v := range s.Values {
		if !near(v.Value, want[v.Unit]) {
			t.Errorf("%s = %v, want %v", v.Unit, v.Value, want[v.Unit])
		}
	}
	m := s.Model
	if m == nil || m.Profile != "test/v1" || m.EmulationNS != 20000 || m.Native[0].Value != 1000 || m.CountsOnly != "" ||
		m.BaseNS != 1e6 || m.PredictedNS != int64(math.Round(wantNS)) {
		t.Fatalf("model = %+v", s.Model)
	}
	if s.Events["ocalls"] != int64(math.Round(wantOCalls)) || s.Events["ecalls"] != 10 || s.Events[EventCountOps] != 500 || s.Events[EventCountOCalls] != 510 {
		t.Errorf("events = %v", s.Events)
	}
	if err := (&protocol.Sample{Iters: s.Iters, ElapsedNS: s.ElapsedNS, Values: s.Values, Events: s.Events}).Validate(); err != nil {
		t.Errorf("predicted sample is not a valid sample: %v", err)
	}
}

func TestPredictRefusesTimeOnTheSoftwareEPC(t *testing.T) {
	// A repetition with software-EPC faults but no paired run was timed
	// on the emulation (an older sim binary): its time cannot be a base.
	s := &result.Sample{Iters: 100, ElapsedNS: 10e6, Values: []protocol.Value{{Value: 1e5, Unit: "ns/op", Better: protocol.Lower}},
		Events: map[string]int64{"epc_fault_ns": 9.5e6, "epc_faults": 10, "epc_loads": 10, "epc_evictions": 10}}
	_, err := Predict(s, &trace.Pass{Version: 1, Ops: 100}, testPrices, Emulation{}, "t/v1")
	if err == nil || !strings.Contains(err.Error(), "rebuild") {
		t.Fatalf("err = %v, want a refusal that says to rebuild", err)
	}
	if s.Model != nil || s.Values[0].Value != 1e5 {
		t.Fatalf("a refused sample was changed: %+v", s)
	}
}

// The prediction is the base plus priced events: never below the base,
// equal only when nothing was counted, whatever the counts.
func TestPredictNeverBelowBase(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		iters := rapid.IntRange(1, 1e6).Draw(t, "iters")
		elapsed := rapid.Int64Range(1, 1e10).Draw(t, "elapsed")
		ev := map[string]int64{}
		for _, k := range []string{"epc_loads", "epc_evictions", "llc_misses", "ll_misses_pf", "epc_faults", "epc_fault_ns"} {
			if rapid.Bool().Draw(t, k+"?") {
				ev[k] = rapid.Int64Range(0, 1e7).Draw(t, k)
			}
		}
		ev["epc_pass_ops"] = int64(iters)
		pass := &trace.Pass{Version: 1, Ops: rapid.Int64Range(1, 1e6).Draw(t, "pass ops"), ElapsedNS: rapid.Int64Range(0, 1e10).Draw(t, "pass ns"),
			HostLLCMissNS: rapid.Float64Range(0, 200).Draw(t, "miss ns"),
			Counts: trace.Counts{OCalls: rapid.Int64Range(0, 1e6).Draw(t, "ocalls"), ECalls: rapid.Int64Range(0, 1e3).Draw(t, "ecalls"),
				ClockOCalls: rapid.Int64Range(0, 1e3).Draw(t, "clock")}}
		nsPerOp := float64(elapsed) / float64(iters)
		s := &result.Sample{Iters: iters, ElapsedNS: elapsed, Events: ev, Values: []protocol.Value{
			{Value: nsPerOp, Unit: "ns/op", Better: protocol.Lower}, {Value: 1e3 / nsPerOp, Unit: "MB/s", Better: protocol.Higher}}}
		p, err := Predict(s, pass, testPrices, Emulation{FaultTrapNS: 100}, "t/v1")
		if err != nil {
			t.Fatal(err)
		}
		if p.PredictedNS < p.BaseNS || s.Values[0].Value < nsPerOp*(1-1e-12) || s.Values[1].Value > 1e3/nsPerOp*(1+1e-12) {
			t.Fatalf("prediction below its base: %s; values %v", p.Describe(), s.Values)
		}
		counted := p.OCalls+p.ECalls > 0 || ev["epc_loads"]+ev["epc_evictions"] > 0 || p.MEENS > 0
		if !counted && p.PredictedNS != p.BaseNS {
			t.Fatalf("nothing counted, yet %s", p.Describe())
		}
	})
}

func TestPredictMEEOnlyWithCounts(t *testing.T) {
	mk := func() *result.Sample {
		return &result.Sample{Iters: 10, ElapsedNS: 1000, Values: []protocol.Value{{Value: 100, Unit: "ns/op", Better: protocol.Lower}},
			Events: map[string]int64{"llc_misses": 4}}
	}
	pass := &trace.Pass{Version: 1, Ops: 10, HostLLCMissNS: 50}
	if p, _ := Predict(mk(), pass, testPrices, Emulation{}, "t/v1"); !near(p.MEENS, 4*50*2) {
		t.Errorf("MEE = %v, want %v", p.MEENS, 4*50*2)
	}
	pass.HostLLCMissNS = 0 // the host could not count: never invent
	if p, _ := Predict(mk(), pass, testPrices, Emulation{}, "t/v1"); p.MEENS != 0 {
		t.Errorf("MEE = %v without a measured miss latency", p.MEENS)
	}
}

// Without the host's counts, the counting pass's simulated misses (with a
// prefetcher) are priced at (factor-1) x the profile's DRAM latency, never
// above (factor-1) x the measured time; the host's own counts come first;
// the old no-prefetcher count (ll_misses) is not priced any more.
func TestPredictMEESimulatedMisses(t *testing.T) {
	mk := func(ev map[string]int64) *result.Sample {
		return &result.Sample{Iters: 10, ElapsedNS: 1000, Values: []protocol.Value{{Value: 100, Unit: "ns/op", Better: protocol.Lower}}, Events: ev}
	}
	pass := &trace.Pass{Version: 1, Ops: 10}
	with := func(f, dram float64) *Prices { p := *testPrices; p.MEEFactor, p.DRAMLatencyNS = f, dram; return &p }
	for _, tt := range []struct {
		name string
		ev   map[string]int64
		pr   *Prices
		want float64
	}{
		{"4 misses x 50 ns x (3-1)", map[string]int64{"ll_misses_pf": 4}, testPrices, 4 * 50 * 2},
		{"factor 7 at 80 ns: 480 ns a miss", map[string]int64{"ll_misses_pf": 2}, with(7, 80), 2 * 480},
		{"capped at (factor-1) x the measured time", map[string]int64{"ll_misses_pf": 400}, testPrices, 1000 * 2},
		{"just below the cap", map[string]int64{"ll_misses_pf": 19}, testPrices, 19 * 50 * 2},
		{"factor 1: nothing", map[string]int64{"ll_misses_pf": 4}, with(1, 80), 0},
		{"no DRAM latency: nothing", map[string]int64{"ll_misses_pf": 4}, with(3, 0), 0},
		{"no misses: nothing", map[string]int64{}, testPrices, 0},
		{"the count without a prefetcher is not priced", map[string]int64{"ll_misses": 4}, testPrices, 0},
	} {
		if p, _ := Predict(mk(tt.ev), pass, tt.pr, Emulation{}, "t/v1"); !near(p.MEENS, tt.want) {
			t.Errorf("%s: MEE = %v, want %v", tt.name, p.MEENS, tt.want)
		}
	}
	hw := &trace.Pass{Version: 1, Ops: 10, HostLLCMissNS: 30}
	if p, _ := Predict(mk(map[string]int64{"llc_misses": 2, "ll_misses_pf": 4}), hw, testPrices, Emulation{}, "t/v1"); !near(p.MEENS, 2*30*2) {
		t.Errorf("with the host's counts: MEE = %v, want %v (the host's)", p.MEENS, 2*30*2)
	}
}

// The memory-encryption term is never negative and never above
// (factor-1) x the measured time, grows with the misses, and at equal
// operations and time a stream (few misses left by the prefetcher) is
// predicted faster than random access (a miss per operation or more).
func TestSimulatedMEEProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pr := &Prices{MEEFactor: rapid.Float64Range(1, 20).Draw(t, "factor"), DRAMLatencyNS: rapid.Float64Range(0, 500).Draw(t, "dram")}
		base := rapid.Float64Range(0, 1e10).Draw(t, "base")
		a := rapid.Float64Range(0, 1e8).Draw(t, "misses a")
		b := a + rapid.Float64Range(0, 1e8).Draw(t, "more")
		ma, mb := SimulatedMEENS(a, base, pr), SimulatedMEENS(b, base, pr)
		if ma < 0 || mb > (pr.MEEFactor-1)*base*(1+1e-12) || mb < ma {
			t.Fatalf("%v misses: %v ns, %v misses: %v ns over base %v, factor %v", a, ma, b, mb, base, pr.MEEFactor)
		}
	})
	// Equal operations and time; the miss counts of memsweep at 0.5xEPC of
	// DC4s_v2 (docs/sim.md): random read 0.81 a line, seq read 0.0315.
	pr := Default().Platforms["DCsv2"]
	ops, base := 1e6, 1e6*100.0
	random, seq := SimulatedMEENS(0.81*ops, base, pr), SimulatedMEENS(0.0315*ops, base, pr)
	if !(seq < random) || seq <= 0 {
		t.Fatalf("seq %v ns, random %v ns: want 0 < seq < random", seq, random)
	}
}

func TestComputeIsOneX(t *testing.T) {
	// No transitions, no paging: the prediction is the measurement.
	s := &result.Sample{Iters: 100, ElapsedNS: 5e6, Values: []protocol.Value{{Value: 5e4, Unit: "ns/op", Better: protocol.Lower}}}
	p, _ := Predict(s, &trace.Pass{Version: 1, Ops: 100}, testPrices, Emulation{FaultTrapNS: 1000}, "t/v1")
	if p.PredictedNS != 5e6 || s.Values[0].Value != 5e4 {
		t.Fatalf("%s; values %v", p.Describe(), s.Values)
	}
}

func TestCountsOnly(t *testing.T) {
	s := &result.Sample{Iters: 100, ElapsedNS: 5e6, Values: []protocol.Value{{Value: 5e4, Unit: "ns/op", Better: protocol.Lower}}}
	CountsOnly(s, nil, "published/v1", "seccomp denied")
	if s.Values[0].Value != 5e4 || s.Model.CountsOnly != "seccomp denied" || s.Model.Profile != "published/v1" || s.Events["ocalls"] != 0 {
		t.Fatalf("%+v %+v", s, s.Model)
	}
}

func TestUsableEPC(t *testing.T) {
	pr := &Prices{EnclaveOverheadBytes: 1 << 20}
	for _, name := range []string{"DC1s_v2", "DC2s_v2", "DC4s_v2", "DC8_v2"} {
		sz, _ := sizes.Lookup(name)
		c, err := UsableEPC(sz, 6<<20, pr)
		if err != nil || c != sz.EPCBytes-7<<20 {
			t.Errorf("%s: %d, %v", name, c, err)
		}
	}
	sz, _ := sizes.Lookup("DC1s_v2")
	if _, err := UsableEPC(sz, 30<<20, pr); err == nil {
		t.Error("a baseline larger than the EPC must be refused")
	}
}

// The events Predict writes are the ones bench/sim/paired reads back.
func TestPairedReadsPredictEvents(t *testing.T) {
	if paired.EventOCalls != EventCostOCalls || paired.EventECalls != EventCostECalls || paired.EventEPC != EventCostEPC || paired.EventMEE != EventCostMEE {
		t.Fatal("bench/sim/paired and bench/sim name the cost events differently")
	}
	s := &result.Sample{Iters: 100, ElapsedNS: 1e6, Values: []protocol.Value{{Value: 1e4, Unit: "ns/op", Better: protocol.Lower}},
		Events: map[string]int64{"epc_loads": 10, "epc_evictions": 10, "epc_faults": 20, "epc_pass_ops": 100}}
	p, err := Predict(s, &trace.Pass{Version: 1, Ops: 100, ElapsedNS: 1e6, Counts: trace.Counts{OCalls: 100}}, testPrices, Emulation{}, "t/v1")
	if err != nil {
		t.Fatal(err)
	}
	pr, ok := paired.Of(s)
	if !ok || pr.Reconstructed || !near(pr.Slowdown(), p.PredictedNS/p.BaseNS) {
		t.Fatalf("paired.Of = %+v, %v; prediction %s", pr, ok, p.Describe())
	}
}
