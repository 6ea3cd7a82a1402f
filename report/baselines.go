package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// baselines compares each enclave group with the group of the baseline
// mode (no enclave, by its recorded facts) of the same cell.
func (b *builder) baselines() {
	baseOf := map[groupKey]*Group{}
	key := func(g *Group) groupKey { return groupKey{g.Origin, g.Workload, g.ParamText, g.Size, ""} }
	for _, g := range b.order {
		if !g.ModeFacts.Enclave {
			baseOf[key(g)] = g
		}
	}
	for _, g := range b.order {
		if !g.ModeFacts.Enclave || len(g.Values) == 0 {
			continue
		}
		// A model's figure is its own measured base plus priced events:
		// its slowdown comes from those pairs, never from the baseline's
		// cell, which another process measured.
		if g.ModeFacts.Kind == result.KindModel {
			if c := g.paired; c.N > 0 {
				g.Paired = &c
				g.Baseline = pairedRatio(c, g.Better)
			} else {
				g.Notes = append(g.Notes, "no paired base")
			}
			if n := baseOf[key(g)]; n != nil && len(n.Values) > 0 && len(g.ModelBase) > 0 {
				g.BaseStrays = baseStrays(g.Mode, n.ModeLabel, n.Values, g.ModelBase, g.Unit, b.o)
			}
			continue
		}
		// The baseline's cell measured in the same run is the baseline.
		var base []float64
		against := AgainstBaseline
		if n := baseOf[key(g)]; n != nil && len(n.Values) > 0 {
			base = n.Values
		}
		if base == nil {
			g.Notes = append(g.Notes, "no "+b.r.Baseline+" baseline")
			continue
		}
		g.Baseline = compare(base, g.Values, g.Summary, g.Better, b.o.Alpha)
		g.Baseline.Against = against
	}
}

// baseStrays says how the measured bases of a group of the model mode
// named model differ from the run's cell of the baseline labelled
// baseline, when they differ significantly and by more than the tolerance
// ("" otherwise): the emulation then changes the workload, and a
// prediction over that base is not a prediction over the baseline.
func baseStrays(model, baseline string, baselineValues, base []float64, unit string, o Options) string {
	ns, bs := stats.Summarize(baselineValues), stats.Summarize(base)
	if !(ns.Center > 0) || !(bs.Center > 0) {
		return ""
	}
	r := bs.Center / ns.Center
	if r <= 1+o.Tolerance && r >= 1/(1+o.Tolerance) || !stats.Compare(baselineValues, base, o.Alpha).Significant {
		return ""
	}
	return fmt.Sprintf("the %s pass measured a median of %s %s against the %s cell's %s %s (%.2fx, beyond the %s tolerance): the emulation changed this workload or the host's load changed between the two processes; the predicted slowdown is over the %s pass's own base, not over the %s cell",
		model, fmtNum(bs.Center), unit, baseline, fmtNum(ns.Center), unit, r, fmtPct(o.Tolerance), model, baseline)
}

// pairedRatio is a sim group's predicted slowdown over its own bases: the
// median of the per-repetition ratios and their interval (>= 1); it is
// "significant" when the interval excludes 1.
func pairedRatio(c paired.Cell, better string) *Ratio {
	s := c.Slowdown
	r := &Ratio{Against: AgainstPairs, Slowdown: s.Center, SLo: s.Lo, SHi: s.Hi, P: math.NaN(), N1: c.N, N2: c.N}
	finite := func(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }
	r.CI = finite(s.Lo) && finite(s.Hi) && s.Lo > 0
	r.Ratio, r.Lo, r.Hi = s.Center, s.Lo, s.Hi
	if better == protocol.Higher {
		r.Ratio, r.Lo, r.Hi = 1/s.Center, 1/s.Hi, 1/s.Lo
	}
	if !r.CI {
		r.Lo, r.Hi, r.SLo, r.SHi = 0, 0, 0, 0
	}
	r.Significant = r.CI && s.Lo > 1
	r.Parts = c.Parts
	r.Paired = &c
	return r
}

// compare computes the ratio new/old of medians with a conservative
// interval, the slowdown and the Mann-Whitney U test.
func compare(old, new []float64, ns stats.Summary, better string, alpha float64) *Ratio {
	os := stats.Summarize(old)
	r := &Ratio{Ratio: ns.Center / os.Center}
	finite := func(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }
	if finite(ns.Lo) && finite(ns.Hi) && finite(os.Lo) && finite(os.Hi) && os.Lo > 0 && ns.Lo > 0 {
		r.Lo, r.Hi, r.CI = ns.Lo/os.Hi, ns.Hi/os.Lo, true
	}
	if !finite(r.Ratio) || r.Ratio <= 0 {
		r.Ratio, r.CI = math.NaN(), false
	}
	r.Slowdown, r.SLo, r.SHi = r.Ratio, r.Lo, r.Hi
	if better == protocol.Higher {
		r.Slowdown = 1 / r.Ratio
		if r.CI {
			r.SLo, r.SHi = 1/r.Hi, 1/r.Lo
		}
	}
	c := stats.Compare(old, new, alpha)
	r.P, r.N1, r.N2, r.Significant = c.P, c.N1, c.N2, c.Significant
	return r
}

// headlines summarises each workload's slowdowns per enclave mode.
func headlines(tables []*WorkloadTable) []Headline {
	var out []Headline
	for _, t := range tables {
		by := map[string]*Headline{}
		var order []string
		logSum := map[string]float64{}
		for _, g := range t.Rows {
			b := g.Baseline
			if b == nil || math.IsNaN(b.Slowdown) || b.Slowdown <= 0 {
				continue
			}
			h := by[g.ModeLabel]
			if h == nil {
				h = &Headline{Workload: t.Name, Mode: g.ModeLabel, Min: math.Inf(1), Max: math.Inf(-1), Predicted: b.Against == AgainstPairs,
					NoEPC: !g.ModeFacts.EPC()}
				by[g.ModeLabel] = h
				order = append(order, g.ModeLabel)
			}
			h.Compared++
			logSum[g.ModeLabel] += math.Log(b.Slowdown)
			h.Min = math.Min(h.Min, b.Slowdown)
			if b.Slowdown > h.Max {
				h.Max = b.Slowdown
				h.Worst = strings.TrimSpace(g.ParamText + " " + g.Size)
				if g.OriginLabel != "" {
					h.Worst += " @ " + g.OriginLabel
				}
			}
			if b.Significant {
				if b.Slowdown > 1 {
					h.Slower++
				} else {
					h.Faster++
				}
			}
		}
		for _, m := range order {
			h := by[m]
			h.GeoMean = math.Exp(logSum[m] / float64(h.Compared))
			out = append(out, *h)
		}
	}
	return out
}
