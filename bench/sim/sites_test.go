package sim

import (
	"bytes"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

// TestPriceRoundTrip prices a counting pass's profile (two sites and the
// paging pass's loads by region), writes it, parses it back with the pprof
// library and checks every priced value against the prices.
func TestPriceRoundTrip(t *testing.T) {
	fn := &profile.Function{ID: 1, Name: "main.read"}
	loc := &profile.Location{ID: 1, Address: 0x401000, Line: []profile.Line{{Function: fn, Line: 10}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: trace.SampleOCalls, Unit: "count"}, {Type: trace.SampleECalls, Unit: "count"}},
		Function:   []*profile.Function{fn}, Location: []*profile.Location{loc},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{loc}, Value: []int64{300, 0}, Label: map[string][]string{trace.LabelCause: {"pread64"}}},
			{Location: []*profile.Location{loc}, Value: []int64{0, 2}, Label: map[string][]string{trace.LabelCause: {trace.StackECall}}},
		},
	}
	pr := &Prices{ClockHz: 1e9, OCallCycles: 1000, ECallCycles: 2000, EPCLoadCycles: 5000, EPCEvictionCycles: 4000}
	pass := &trace.Pass{Ops: 100, EPC: &trace.EPCPass{Ops: 50, Events: map[string]int64{
		"epc_loads": 30, "epc_evictions": 20, trace.RegionLoads + "go_heap": 25, trace.RegionEvictions + "go_heap": 20}}}
	if err := Price(p, pass, pr, "test/v1 DCsv2"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.DefaultSampleType != SampleExtraTime {
		t.Errorf("default sample type %q", back.DefaultSampleType)
	}
	idx := map[string]int{}
	for i, st := range back.SampleType {
		idx[st.Type] = i
	}
	total := map[string]int64{}
	byRegion := map[string][]int64{}
	for _, s := range back.Sample {
		for typ, i := range idx {
			total[typ] += s.Value[i]
		}
		if r := s.Label[LabelRegion]; len(r) == 1 {
			byRegion[r[0]] = []int64{s.Value[idx[SampleEPCLoads]], s.Value[idx[SampleEPCEvicts]], s.Value[idx[SampleEPCTime]]}
		}
	}
	// The paging pass ran 50 operations, the counting pass 100: x2.
	want := map[string]int64{trace.SampleOCalls: 300, trace.SampleECalls: 2, SampleOCallTime: 300_000, SampleECallTime: 4_000,
		SampleEPCLoads: 60, SampleEPCEvicts: 40, SampleEPCTime: 60*5000 + 40*4000}
	want[SampleExtraTime] = want[SampleOCallTime] + want[SampleECallTime] + want[SampleEPCTime]
	for typ, v := range want {
		if total[typ] != v {
			t.Errorf("%s: %d, want %d", typ, total[typ], v)
		}
	}
	if g := byRegion["go_heap"]; len(g) != 3 || g[0] != 50 || g[1] != 40 {
		t.Errorf("go_heap: %v, want 50 loads 40 evictions", g)
	}
	if u := byRegion["unattributed"]; len(u) != 3 || u[0] != 10 || u[1] != 0 {
		t.Errorf("unattributed: %v, want 10 loads", u)
	}
}

// TestProfileNames: the counting pass's profile (written by workloads/trace
// on the workload's side, which imports nothing of the harness) names its
// sample types and labels as the result directory's vocabulary that
// bench/sites reads.
func TestProfileNames(t *testing.T) {
	for written, read := range map[string]string{trace.SampleOCalls: result.ProfileOCalls, trace.LabelCause: result.ProfileCause, trace.LabelClock: result.ProfileClock} {
		if written != read {
			t.Errorf("workloads/trace writes %q where readers read %q", written, read)
		}
	}
}
