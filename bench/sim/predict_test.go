package sim

import (
	"math"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

var testPrices = &Prices{CPU: "test", ClockHz: 1e9, OCallCycles: 1000, ECallCycles: 2000, EPCLoadCycles: 3000, EPCEvictionCycles: 4000, MEEFactor: 3}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestPredictConvertsEveryUnit(t *testing.T) {
	// 1000 ops in 1 ms (1000 ns/op), 1 OCALL per op from the counting pass
	// (plus 10 time-driven nanosleeps over its 2 ms), 5 loads and 5
	// evictions, 20 us of emulation (10 us handler + 2 faults x 5 us).
	s := &result.Sample{Iters: 1000, ElapsedNS: 1e6,
		Values: []protocol.Value{
			{Value: 1000, Unit: "ns/op", Better: protocol.Lower},
			{Value: 64, Unit: "MB/s", Better: protocol.Higher},
			{Value: 1e6, Unit: "req/s", Better: protocol.Higher},
			{Value: 900, Unit: "p50-ns", Better: protocol.Lower},
			{Value: 3, Unit: "p99-us", Better: protocol.Lower},
			{Value: 7, Unit: "B/op", Better: protocol.Lower},
		},
		Events: map[string]int64{"epc_loads": 5, "epc_evictions": 5, "epc_fault_ns": 10000, "epc_faults": 2}}
	pass := &trace.Pass{Version: 1, Ops: 500, ElapsedNS: 2e6,
		Counts: trace.Counts{OCalls: 510, ECalls: 5, ClockOCalls: 10, BySyscall: map[string]int64{"pread64": 500, "clock:nanosleep": 10}}}
	p := Predict(s, pass, testPrices, Emulation{FaultTrapNS: 5000}, "test/v1")
	base := 1e6 - 20000.0
	wantOCalls := 1000 + 10.0/2e6*base
	wantNS := base + wantOCalls*1000 + 10*2000 + 5*3000 + 5*4000
	if !near(p.EmulationNS, 20000) || !near(p.OCalls, wantOCalls) || !near(p.ECalls, 10) || !near(p.PredictedNS, wantNS) {
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
	if s.Model == nil || s.Model.Profile != "test/v1" || s.Model.EmulationNS != 20000 || s.Model.Native[0].Value != 1000 || s.Model.CountsOnly != "" {
		t.Fatalf("model = %+v", s.Model)
	}
	if s.Events["ocalls"] != int64(math.Round(wantOCalls)) || s.Events["ecalls"] != 10 || s.Events[EventCountOps] != 500 || s.Events[EventCountOCalls] != 510 {
		t.Errorf("events = %v", s.Events)
	}
	if err := (&protocol.Sample{Iters: s.Iters, ElapsedNS: s.ElapsedNS, Values: s.Values, Events: s.Events}).Validate(); err != nil {
		t.Errorf("predicted sample is not a valid sample: %v", err)
	}
}

func TestPredictPagingDominatedBase(t *testing.T) {
	// 100 ops in 10 ms, of which the emulation took 9.5 ms (handler) +
	// 10 faults x 10 us: the base comes from the counting pass: 2000 ops in
	// 1.2 ms with 100 notifications (20 of them clock) at 5 us = 400 ns/op.
	s := &result.Sample{Iters: 100, ElapsedNS: 10e6, Values: []protocol.Value{{Value: 1e5, Unit: "ns/op", Better: protocol.Lower}},
		Events: map[string]int64{"epc_fault_ns": 9.5e6, "epc_faults": 10, "epc_loads": 10, "epc_evictions": 10}}
	pass := &trace.Pass{Version: 1, Ops: 2000, ElapsedNS: 1.2e6, Counts: trace.Counts{OCalls: 20, Notifications: 100, ClockOCalls: 20}}
	p := Predict(s, pass, testPrices, Emulation{FaultTrapNS: 10000, NotifyNS: 5000}, "t/v1")
	if !p.BaseFromPass || !near(p.BaseNS, 400*100) || !near(p.EmulationNS, 10e6-40000) {
		t.Fatalf("%s (from pass: %v)", p.Describe(), p.BaseFromPass)
	}
	clock := 20 / 1.2e6 * 40000 * 1000 // the clock-driven OCALLs over the base time, at 1000 ns
	if want := 40000.0 + clock + 10*3000 + 10*4000; !near(p.PredictedNS, want) || s.Events[EventBaseFromPass] != 1 {
		t.Fatalf("predicted %v, want %v; events %v", p.PredictedNS, want, s.Events)
	}
	// Below the threshold the emulation is subtracted.
	s2 := &result.Sample{Iters: 100, ElapsedNS: 10e6, Values: []protocol.Value{{Value: 1e5, Unit: "ns/op", Better: protocol.Lower}},
		Events: map[string]int64{"epc_fault_ns": 1e6, "epc_faults": 10}}
	if p := Predict(s2, pass, testPrices, Emulation{FaultTrapNS: 10000, NotifyNS: 5000}, "t/v1"); p.BaseFromPass || !near(p.BaseNS, 10e6-1.1e6) {
		t.Fatalf("%s", p.Describe())
	}
}

func TestPredictMEEOnlyWithCounts(t *testing.T) {
	mk := func() *result.Sample {
		return &result.Sample{Iters: 10, ElapsedNS: 1000, Values: []protocol.Value{{Value: 100, Unit: "ns/op", Better: protocol.Lower}},
			Events: map[string]int64{"llc_misses": 4}}
	}
	pass := &trace.Pass{Version: 1, Ops: 10, HostLLCMissNS: 50}
	if p := Predict(mk(), pass, testPrices, Emulation{}, "t/v1"); !near(p.MEENS, 4*50*2) {
		t.Errorf("MEE = %v, want %v", p.MEENS, 4*50*2)
	}
	pass.HostLLCMissNS = 0 // the host could not count: never invent
	if p := Predict(mk(), pass, testPrices, Emulation{}, "t/v1"); p.MEENS != 0 {
		t.Errorf("MEE = %v without a measured miss latency", p.MEENS)
	}
}

func TestComputeIsOneX(t *testing.T) {
	// No transitions, no paging: the prediction is the measurement.
	s := &result.Sample{Iters: 100, ElapsedNS: 5e6, Values: []protocol.Value{{Value: 5e4, Unit: "ns/op", Better: protocol.Lower}}}
	p := Predict(s, &trace.Pass{Version: 1, Ops: 100}, testPrices, Emulation{FaultTrapNS: 1000}, "t/v1")
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
