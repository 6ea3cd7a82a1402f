package paired

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

func ns(v float64) []protocol.Value {
	return []protocol.Value{{Value: v, Unit: "ns/op", Better: protocol.Lower}, {Value: 1e4 / v, Unit: "MB/s", Better: protocol.Higher}}
}

func TestOf(t *testing.T) {
	for _, c := range []struct {
		name          string
		s             result.Sample
		ok            bool
		base, pred    float64
		reconstructed bool
	}{
		{name: "native", s: result.Sample{ElapsedNS: 1000, Values: ns(10)}},
		{name: "counts-free", s: result.Sample{ElapsedNS: 1000, Values: ns(10), Model: &result.Model{CountsOnly: "seccomp denied"}}},
		{name: "paired", ok: true, base: 1000, pred: 1300,
			s: result.Sample{Iters: 100, ElapsedNS: 1000, Values: ns(13), Events: map[string]int64{EventOCalls: 200, EventEPC: 100},
				Model: &result.Model{Native: ns(10), BaseNS: 1000, PredictedNS: 1300}}},
		// Before the paired model: base = time - emulation, predicted =
		// base + the priced events; the measured values (with the
		// emulation) may even be slower than the prediction.
		{name: "old", ok: true, base: 600, pred: 700, reconstructed: true,
			s: result.Sample{Iters: 100, ElapsedNS: 1000, Values: ns(7), Events: map[string]int64{EventEPC: 100},
				Model: &result.Model{Native: ns(10), EmulationNS: 400}}},
		{name: "old, no base left", s: result.Sample{ElapsedNS: 1000, Values: ns(7), Model: &result.Model{Native: ns(10), EmulationNS: 1000}}},
	} {
		p, ok := Of(&c.s)
		if ok != c.ok || ok && (p.BaseNS != c.base || p.PredictedNS != c.pred || p.Reconstructed != c.reconstructed) {
			t.Errorf("%s: Of = %+v, %v; want base %v predicted %v reconstructed %v, %v", c.name, p, ok, c.base, c.pred, c.reconstructed, c.ok)
		}
		if ok && p.Slowdown() < 1 {
			t.Errorf("%s: slowdown %v < 1", c.name, p.Slowdown())
		}
	}
}

func TestBaseValue(t *testing.T) {
	paired := &result.Sample{ElapsedNS: 1000, Values: ns(13), Model: &result.Model{Native: ns(10), BaseNS: 1000, PredictedNS: 1300}}
	old := &result.Sample{ElapsedNS: 1000, Values: ns(7), Events: map[string]int64{EventEPC: 100}, Model: &result.Model{Native: ns(10), EmulationNS: 400}}
	for _, c := range []struct {
		s    *result.Sample
		unit string
		want float64
	}{
		{paired, "ns/op", 10}, {paired, "MB/s", 1000},
		{old, "ns/op", 6}, {old, "MB/s", 1e4 / 7 * 700 / 600},
	} {
		if got, ok := BaseValue(c.s, c.unit); !ok || math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("BaseValue(%s) = %v, %v; want %v", c.unit, got, ok, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	var ss []*result.Sample
	for i := 0; i < 6; i++ {
		base := int64(1000 + 100*i)
		ss = append(ss, &result.Sample{ElapsedNS: base, Events: map[string]int64{EventOCalls: 300, EventEPC: 100},
			Model: &result.Model{BaseNS: base, PredictedNS: base + 400}})
	}
	ss = append(ss, &result.Sample{ElapsedNS: 5, Values: ns(1)}) // not a sim sample: ignored
	c := Summarize(ss)
	if c.N != 6 || c.Slowdown.Lo < 1 || c.Slowdown.Center <= 1 || math.IsInf(c.Slowdown.Hi, 0) {
		t.Fatalf("summary %+v", c)
	}
	if len(c.Parts) != 2 || c.Parts[0].Label != "OCALLs" || math.Abs(c.Parts[0].Share-0.75) > 1e-12 || c.NoEvents() {
		t.Fatalf("parts %+v", c.Parts)
	}
	if v := c.Verdict(); !strings.HasPrefix(v, fmt.Sprintf("%.3g× slower [", c.Slowdown.Center)) || !strings.Contains(v, "OCALLs 75%, EPC paging 25% (6 pairs)") {
		t.Errorf("verdict %q", v)
	}
	none := Summarize([]*result.Sample{{ElapsedNS: 10, Model: &result.Model{BaseNS: 10, PredictedNS: 10}}})
	if !none.NoEvents() || none.Slowdown.Center != 1 || !strings.HasPrefix(none.Verdict(), "as native") {
		t.Fatalf("no events: %+v", none)
	}
}

// TestMEEUpperBound: a memory-encryption part priced from the counting
// pass's simulated misses (no PMU count beside them) says it is an upper
// bound for sequential access, and whether the count had the prefetcher
// model (old runs' ll_misses did not); one from the host's own counter
// does not, nor one whose streamed misses were priced apart (published/v3).
func TestMEEUpperBound(t *testing.T) {
	for _, c := range []struct {
		name   string
		events map[string]int64
		bound  string
	}{
		{"simulated misses without a prefetcher (old runs)", map[string]int64{EventMEE: 600, result.EventLLMisses: 50}, "without a prefetcher: an upper bound for sequential access"},
		{"simulated misses with the prefetcher model", map[string]int64{EventMEE: 600, result.EventLLMissesPF: 50}, "with a prefetcher model: still an upper bound for sequential access"},
		{"host counter", map[string]int64{EventMEE: 600, result.EventLLMisses: 50, "llc_misses": 40}, ""},
		{"host counter beside the prefetcher model's", map[string]int64{EventMEE: 600, result.EventLLMissesPF: 50, "llc_misses": 40}, ""},
		{"no memory encryption", map[string]int64{EventOCalls: 600, result.EventLLMissesPF: 50}, ""},
		// Streamed misses priced at the bandwidth's price (published/v3):
		// no longer an upper bound, with streamed misses or without.
		{"streamed misses priced apart", map[string]int64{EventMEE: 600, result.EventLLMissesPF: 50, result.EventLLMissesStream: 48, EventMEEStream: 10}, ""},
		{"none streamed, priced apart", map[string]int64{EventMEE: 600, result.EventLLMissesPF: 50, result.EventLLMissesStream: 0, EventMEEStream: 0}, ""},
		// The split counted but priced by a profile without a bandwidth
		// (published/v2): every miss at DRAM latency, still the bound.
		{"split, priced as v2", map[string]int64{EventMEE: 600, result.EventLLMissesPF: 50, result.EventLLMissesStream: 48}, "with a prefetcher model: still an upper bound for sequential access"},
	} {
		s := &result.Sample{ElapsedNS: 1000, Events: c.events, Model: &result.Model{BaseNS: 1000, PredictedNS: 1600}}
		got := Summarize([]*result.Sample{s})
		v := got.Verdict()
		if got.MEEUpperBound != (c.bound != "") || got.MEEBound() != "" && !strings.HasSuffix(got.MEEBound(), c.bound) ||
			strings.Contains(v, "upper bound") != (c.bound != "") || c.bound != "" && !strings.Contains(v, c.bound) {
			t.Errorf("%s: upper bound %v (%q), verdict %q; want %q", c.name, got.MEEUpperBound, got.MEEBound(), v, c.bound)
		}
	}
}

// TestShares: the memory-encryption and EPC-paging shares are read from
// their own parts, whatever the order and whatever else is there.
func TestShares(t *testing.T) {
	parts := []Part{{Event: EventOCalls, Share: 0.5}, {Event: EventEPC, Share: 0.3}, {Event: EventMEE, Share: 0.2}}
	if mee, epc := Shares(parts); mee != 0.2 || epc != 0.3 {
		t.Errorf("Shares = %v, %v; want 0.2 (encryption), 0.3 (paging)", mee, epc)
	}
	if mee, epc := Shares(parts[:1]); mee != 0 || epc != 0 {
		t.Errorf("Shares without those parts = %v, %v; want 0, 0", mee, epc)
	}
}
