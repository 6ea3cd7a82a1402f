package report

import (
	"math"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/sim/paired"
)

// The sizing note splits a predicted slowdown into what no size removes
// (memory encryption) and what a larger size removes (EPC paging).
func TestEncryptionNote(t *testing.T) {
	g := func(parts ...paired.Part) *Group {
		return &Group{Size: "DC4s_v2", Baseline: &Ratio{Parts: parts}}
	}
	tests := []struct {
		name     string
		g        *Group
		slowdown float64
		want     []string // "" wants no note
	}{
		{"encryption and paging", g(paired.Part{Event: paired.EventMEE, Share: 0.75}, paired.Part{Event: paired.EventEPC, Share: 0.25}), 5,
			[]string{"of 5× slower at DC4s_v2", "memory encryption adds 3.00x, which no larger size removes", "EPC paging 1.00x, which a larger size removes"}},
		{"paging only", g(paired.Part{Event: paired.EventEPC, Share: 1}), 5, nil},
		{"no model", &Group{Size: "DC4s_v2"}, 5, nil},
		{"no slowdown", g(paired.Part{Event: paired.EventMEE, Share: 1}), 1, nil},
		{"unknown slowdown", g(paired.Part{Event: paired.EventMEE, Share: 1}), math.NaN(), nil},
	}
	for _, tt := range tests {
		got := encryptionNote(tt.g, tt.slowdown)
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
