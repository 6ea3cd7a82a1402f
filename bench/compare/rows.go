package compare

import (
	"math"

	"golang.org/x/perf/benchmath"

	"github.com/enclavebench/enclavebench/bench/cells"
)

// compareRow summarises and tests one cell in one unit.
func compareRow(oldVals, newVals []float64, assume benchmath.Assumption, o Options) Row {
	th := benchmath.DefaultThresholds
	th.CompareAlpha = o.Alpha
	a := benchmath.NewSample(append([]float64(nil), oldVals...), &th)
	b := benchmath.NewSample(append([]float64(nil), newVals...), &th)
	sa, sb := assume.Summary(a, o.Confidence), assume.Summary(b, o.Confidence)
	c := assume.Compare(a, b)
	row := Row{
		Old: summary(sa, len(oldVals)), New: summary(sb, len(newVals)),
		Delta: c.FormatDelta(sa.Center, sb.Center), PString: c.String(),
		P: Num(c.P), PAdjusted: Num(math.NaN()), Detectable: Num(math.NaN()), N1: c.N1, N2: c.N2,
		Significant: !(c.P > c.Alpha), // benchstat's rule (FormatDelta)
		DeltaPct:    Num(deltaPct(sa.Center, sb.Center)),
	}
	for _, w := range append(append(a.Warnings, sa.Warnings...), sb.Warnings...) {
		row.Warnings = appendUnique(row.Warnings, w.Error())
	}
	for _, w := range c.Warnings {
		row.Warnings = appendUnique(row.Warnings, w.Error())
	}
	return row
}

func summary(s benchmath.Summary, n int) Summary {
	return Summary{N: n, Median: Num(s.Center), Lo: Num(s.Lo), Hi: Num(s.Hi), Range: s.PctRangeString()}
}

// deltaPct is the change of the median in percent of the old one: 0 when
// equal, ±Inf from a zero median.
func deltaPct(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return math.Copysign(math.Inf(1), new)
	}
	return (new/old - 1) * 100
}

func appendUnique(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

// geomean is benchstat's summary row: the geomean of each column and of
// the ratios, shown for tables of more than one row.
func geomean(rows []Row) *Geomean {
	if len(rows) < 2 {
		return nil
	}
	var olds, news, ratios []float64
	badRatio := false
	for _, r := range rows {
		o, n := float64(r.Old.Median), float64(r.New.Median)
		olds = append(olds, o)
		news = append(news, n)
		switch {
		case o == n:
			ratios = append(ratios, 1)
		case o == 0:
			badRatio = true
		default:
			ratios = append(ratios, n/o)
		}
	}
	g := &Geomean{Old: Num(geo(olds)), New: Num(geo(news)), DeltaPct: Num(math.NaN())}
	if math.IsNaN(float64(g.Old)) || math.IsNaN(float64(g.New)) {
		g.Warnings = append(g.Warnings, "medians must be > 0 to compute a geomean")
	}
	if r := geo(ratios); !badRatio && !math.IsNaN(r) {
		g.DeltaPct = Num((r - 1) * 100)
	}
	return g
}

func geo(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	m := 0.0
	for i, x := range xs {
		if x <= 0 {
			return math.NaN()
		}
		m += (math.Log(x) - m) / float64(i+1)
	}
	return math.Exp(m)
}

// timeUnit is the unit a pair of cells is gated on in time: ns/op when
// both have it, else the first unit of old with a direction that is not a
// count. Other units with a direction (MB/s, ops/s: derived from the same
// samples; percentiles) are shown, not gated: gating both ns/op and MB/s
// tests the same samples twice and halves the power of the correction.
func timeUnit(oc, nc *cells.Cell, old, new *Set) string {
	if _, ok := oc.Values["ns/op"]; ok {
		if _, ok := nc.Values["ns/op"]; ok {
			return "ns/op"
		}
	}
	for _, u := range oc.Units {
		if _, ok := nc.Values[u]; !ok || isCount(old, new, u) {
			continue
		}
		if old.Units[u].Better != "" || new.Units[u].Better != "" {
			return u
		}
	}
	return ""
}

// isCount says whether u counts events per operation on either side.
func isCount(old, new *Set, u string) bool { return old.Units[u].Count || new.Units[u].Count }

// Summarize returns the median of the cell's values in unit and its
// confidence interval at level confidence (benchstat's summary).
func (s *Set) Summarize(c *cells.Cell, unit string, confidence float64) Summary {
	var assume benchmath.Assumption = benchmath.AssumeNothing
	if s.Units[unit].Assume == "exact" {
		assume = benchmath.AssumeExact
	}
	vals := c.Values[unit]
	if len(vals) == 0 {
		return Summary{Median: Num(math.NaN()), Lo: Num(math.NaN()), Hi: Num(math.NaN())}
	}
	smp := benchmath.NewSample(append([]float64(nil), vals...), &benchmath.DefaultThresholds)
	return summary(assume.Summary(smp, confidence), len(vals))
}
