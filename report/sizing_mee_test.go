package report

import (
	"math"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
)

// withCell gives g the paired summary of one predicted repetition with
// these events (base 1000 ns, predicted 4000 ns).
func withCell(g *Group, events map[string]int64) *Group {
	s := &result.Sample{ElapsedNS: 1000, Events: events, Model: &result.Model{BaseNS: 1000, PredictedNS: 4000}}
	c := paired.Summarize([]*result.Sample{s})
	g.Paired = &c
	return g
}

// The sizing note splits a predicted slowdown into what no size removes
// (memory encryption) and what a larger size removes (EPC paging).
func TestEncryptionNote(t *testing.T) {
	g := func(parts ...paired.Part) *Group {
		return &Group{Size: "DC4s_v2", Mode: "sim", Baseline: &Ratio{Parts: parts}}
	}
	tests := []struct {
		name     string
		g        *Group
		slowdown float64
		want     []string // "" wants no note
	}{
		{"encryption and paging", g(paired.Part{Event: paired.EventMEE, Share: 0.75}, paired.Part{Event: paired.EventEPC, Share: 0.25}), 5,
			[]string{"of 5× slower at DC4s_v2", "memory encryption adds 3.00x, which no larger size removes", "EPC paging 1.00x, which a larger size removes"}},
		{"another model", func() *Group {
			x := g(paired.Part{Event: paired.EventMEE, Share: 0.75}, paired.Part{Event: paired.EventEPC, Share: 0.25})
			x.Mode = "toy"
			return x
		}(), 5, []string{"which a larger size removes (toy model)"}},
		{"paging only", g(paired.Part{Event: paired.EventEPC, Share: 1}), 5, nil},
		{"no model", &Group{Size: "DC4s_v2"}, 5, nil},
		{"no slowdown", g(paired.Part{Event: paired.EventMEE, Share: 1}), 1, nil},
		{"unknown slowdown", g(paired.Part{Event: paired.EventMEE, Share: 1}), math.NaN(), nil},
		// Priced by published/v2 (every simulated miss at DRAM latency):
		// the split, and the upper-bound label.
		{"v2 pricing", withCell(g(paired.Part{Event: paired.EventMEE, Share: 1}), map[string]int64{paired.EventMEE: 3000, result.EventLLMissesPF: 50}), 4,
			[]string{"memory encryption adds 3.00x, which no larger size removes", "(sim model; memory encryption from simulated LLC misses with a prefetcher model: still an upper bound for sequential access)"}},
		// Priced by published/v3 (streamed misses apart): the split, no label.
		{"v3 pricing", withCell(g(paired.Part{Event: paired.EventMEE, Share: 1}), map[string]int64{paired.EventMEE: 3000, paired.EventMEEStream: 10,
			result.EventLLMissesPF: 50, result.EventLLMissesStream: 1}), 4,
			[]string{"memory encryption adds 3.00x, which no larger size removes", "EPC paging 0.00x, which a larger size removes (sim model)"}},
	}
	for _, tt := range tests {
		got := encryptionNote(tt.g, tt.slowdown)
		if tt.name == "v3 pricing" && strings.Contains(got, "upper bound") {
			t.Errorf("%s: note %q calls streamed misses priced apart an upper bound", tt.name, got)
		}
		if len(tt.want) == 0 {
			if got != "" {
				t.Errorf("%s: note %q, want none", tt.name, got)
			}
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: note %q lacks %q", tt.name, got, w)
			}
		}
	}
}
