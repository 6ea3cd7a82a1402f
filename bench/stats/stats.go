// Package stats summarises and compares samples with golang.org/x/perf's
// benchmath (no distributional assumption: median, order-statistic
// confidence interval, Mann-Whitney U), and flags outliers.
package stats

import (
	"fmt"
	"math"

	"golang.org/x/perf/benchmath"
)

// Confidence is the confidence level of intervals.
const Confidence = 0.95

// Summary is the summary of one cell's values in one unit.
type Summary struct {
	N        int      `json:"n"`
	Center   float64  `json:"median"`
	Lo       float64  `json:"lo"`
	Hi       float64  `json:"hi"`
	Outliers int      `json:"outliers"`
	Warnings []string `json:"warnings,omitempty"`
}

// Summarize computes the median and its 95% confidence interval. Warnings
// say when there are too few values for an interval, or outliers.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{Warnings: []string{"no samples"}}
	}
	s := benchmath.NewSample(values, &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(s, Confidence)
	out := Summary{N: len(values), Center: sum.Center, Lo: sum.Lo, Hi: sum.Hi}
	for _, w := range append(s.Warnings, sum.Warnings...) {
		out.Warnings = append(out.Warnings, w.Error())
	}
	if n := Outliers(s.Values); n > 0 {
		out.Outliers = n
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d outlier(s) beyond 1.5 IQR", n))
	}
	return out
}

// OutlierHint is what to do about outliers, printed once under a table.
const OutlierHint = "outliers suggest a noisy machine: try more --reps, a longer --min-time, or a quieter host"

// RelCI is the half-width of the interval relative to the median, e.g. 0.03 for ±3%.
func (s Summary) RelCI() float64 {
	if s.Center == 0 || math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
		return math.Inf(1)
	}
	return math.Max(s.Center-s.Lo, s.Hi-s.Center) / math.Abs(s.Center)
}

// Outliers counts values outside Tukey's fences (1.5 IQR beyond the
// quartiles). sorted must be in ascending order.
func Outliers(sorted []float64) int {
	if len(sorted) < 4 {
		return 0
	}
	q1, q3 := quantile(sorted, 0.25), quantile(sorted, 0.75)
	iqr := q3 - q1
	lo, hi := q1-1.5*iqr, q3+1.5*iqr
	n := 0
	for _, v := range sorted {
		if v < lo || v > hi {
			n++
		}
	}
	return n
}

func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// Comparison is the result of comparing two samples.
type Comparison struct {
	P           float64  `json:"p"`
	N1          int      `json:"n1"`
	N2          int      `json:"n2"`
	Alpha       float64  `json:"alpha"`
	Significant bool     `json:"significant"`
	Warnings    []string `json:"warnings,omitempty"`
}

// Compare tests whether old and new come from the same distribution
// (Mann-Whitney U) at level alpha.
func Compare(old, new []float64, alpha float64) Comparison {
	th := benchmath.DefaultThresholds
	th.CompareAlpha = alpha
	a := benchmath.NewSample(old, &th)
	b := benchmath.NewSample(new, &th)
	c := benchmath.AssumeNothing.Compare(a, b)
	out := Comparison{P: c.P, N1: c.N1, N2: c.N2, Alpha: c.Alpha, Significant: c.P < c.Alpha}
	for _, w := range c.Warnings {
		out.Warnings = append(out.Warnings, w.Error())
	}
	return out
}
