// Package export writes results in the formats continuous-benchmarking
// trackers read:
//
//   - github-action-benchmark's custom JSON (GAB): an array of
//     {"name", "unit", "value", "range", "extra"}, read by the action's
//     customSmallerIsBetter or customBiggerIsBetter tool. One file has one
//     direction, so an export picks the units of one direction (Direction);
//     a workflow exports twice to track both.
//   - the Bencher Metric Format (BMF): {"bench": {"measure": {"value",
//     "lower_value", "upper_value"}}}; Bencher sets directions per measure,
//     so one file holds every unit.
//
// Each exported figure is a cell's median in one unit, with its 95%
// confidence interval (the same statistics as bench compare and benchstat).
package export

import (
	"fmt"
	"math"
	"strings"

	"github.com/enclavebench/enclavebench/bench/compare"
	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Point is one cell's summary in one unit.
type Point struct {
	Bench  string // the cell key
	Unit   string
	Better string // "lower", "higher" or "" (unknown)
	N      int
	Median float64
	// Lo and Hi bound the confidence interval; ±Inf with too few samples.
	Lo, Hi float64
	// Runs are the run IDs the values come from.
	Runs []string
	// Model is a model cell's account (bench/sim/paired: its predicted
	// slowdown over its own measured base, pair by pair); Base is the
	// median measured base in Unit (0 when unknown); Mode is the cell's
	// mode, which the account is labelled with. Empty for measured cells.
	Model string
	Base  float64
	Mode  string
}

// UnitPredictedSlowdown is the unit of the point every sim cell adds: its
// predicted slowdown over its own measured base (median and 95% interval
// of the per-repetition ratios, >= 1).
const UnitPredictedSlowdown = "predicted-slowdown"

// HasCI reports whether p has a finite confidence interval.
func (p Point) HasCI() bool {
	return !math.IsInf(p.Lo, 0) && !math.IsInf(p.Hi, 0) && !math.IsNaN(p.Lo) && !math.IsNaN(p.Hi)
}

// Points summarises every cell of s in every unit (or in units, when
// given), in the order of s. Cells whose values are suspect (Set.Flaws: a
// failed or unfinished attempt, lost or added samples) are left out.
func Points(s *compare.Set, units []string) []Point {
	want := map[string]bool{}
	for _, u := range units {
		want[u] = true
	}
	var out []Point
	for _, c := range s.Cells {
		if len(s.Flaws(c)) > 0 {
			continue // suspect values are no point to track (Set.Flaws)
		}
		m := c.Paired()
		for _, u := range c.Units {
			if len(units) > 0 && !want[u] {
				continue
			}
			sum := s.Summarize(c, u, compare.DefaultConfidence)
			p := Point{Bench: c.Name, Unit: u, Better: s.Units[u].Better, N: sum.N,
				Median: float64(sum.Median), Lo: float64(sum.Lo), Hi: float64(sum.Hi), Runs: s.Runs}
			if m.N > 0 {
				p.Model, p.Mode = m.Verdict(), c.Mode
				if b := c.Bases(u); len(b) > 0 {
					p.Base = stats.Summarize(b).Center
				}
			}
			out = append(out, p)
		}
		if m.N > 0 && (len(units) == 0 || want[UnitPredictedSlowdown]) {
			out = append(out, Point{Bench: c.Name, Unit: UnitPredictedSlowdown, Better: protocol.Lower, N: m.N,
				Median: m.Slowdown.Center, Lo: m.Slowdown.Lo, Hi: m.Slowdown.Hi, Runs: s.Runs, Model: m.Verdict(), Mode: c.Mode})
		}
	}
	return out
}

// Directions of a github-action-benchmark file.
const (
	Smaller = "smaller" // customSmallerIsBetter: units where lower is better
	Bigger  = "bigger"  // customBiggerIsBetter: units where higher is better
)

// Select keeps the points of one direction for a GAB file. Points of the
// other direction are dropped; points of unknown direction are dropped
// unless their unit was asked for explicitly (asked). It returns the
// units left out and why, for the user.
func Select(points []Point, direction string, asked []string) (kept []Point, left []string, err error) {
	var want string
	switch direction {
	case Smaller:
		want = protocol.Lower
	case Bigger:
		want = protocol.Higher
	default:
		return nil, nil, fmt.Errorf("--direction %q: want %s or %s", direction, Smaller, Bigger)
	}
	isAsked := map[string]bool{}
	for _, u := range asked {
		isAsked[u] = true
	}
	leftSet := map[string]bool{}
	for _, p := range points {
		switch {
		case p.Better == want, p.Better == "" && isAsked[p.Unit]:
			kept = append(kept, p)
		case isAsked[p.Unit]:
			return nil, nil, fmt.Errorf("unit %s is better=%s: it belongs in a --direction %s file", p.Unit, p.Better, other(direction))
		case !leftSet[p.Unit]:
			leftSet[p.Unit] = true
			why := "better=" + p.Better
			if p.Better == "" {
				why = "direction unknown (name it with --units to export it anyway)"
			}
			left = append(left, p.Unit+": "+why)
		}
	}
	return kept, left, nil
}

func other(d string) string {
	if d == Smaller {
		return Bigger
	}
	return Smaller
}

// GABName is the entry name of a cell in a unit: the key and the unit, so
// that names stay unique and stable when a cell gains a unit.
func GABName(bench, unit string) string { return bench + " (" + unit + ")" }

// GAB converts points to github-action-benchmark entries: value the
// median, range "± half-width of the 95% CI" (omitted with too few
// samples), extra the sample count, the interval and the runs.
func GAB(points []Point) []GABEntry {
	out := make([]GABEntry, 0, len(points))
	for _, p := range points {
		e := GABEntry{Name: GABName(p.Bench, p.Unit), Unit: p.Unit, Value: p.Median}
		extra := []string{fmt.Sprintf("n=%d", p.N)}
		if p.HasCI() {
			e.Range = "± " + num(math.Max(p.Median-p.Lo, p.Hi-p.Median))
			extra = append(extra, fmt.Sprintf("95%% CI [%s, %s]", num(p.Lo), num(p.Hi)))
		} else {
			extra = append(extra, "too few samples for a 95% CI")
		}
		if p.Model != "" {
			if p.Base > 0 {
				extra = append(extra, p.Mode+": measured base "+num(p.Base)+" "+p.Unit)
			}
			extra = append(extra, p.Mode+" model: "+p.Model)
		}
		switch n := len(p.Runs); {
		case n == 1:
			extra = append(extra, "run "+p.Runs[0])
		case n > 1:
			extra = append(extra, fmt.Sprintf("%d runs pooled, first %s", n, p.Runs[0]))
		}
		e.Extra = strings.Join(extra, "; ")
		out = append(out, e)
	}
	return out
}

func num(v float64) string { return fmt.Sprintf("%.4g", v) }

// MeasureLatency is Bencher's built-in measure in nanoseconds.
const MeasureLatency = "latency"

// Measure is the Bencher measure of a unit: ns/op is Bencher's built-in
// "latency" (nanoseconds); any other unit is a measure named after it,
// which Bencher creates on first use.
func Measure(unit string) string {
	if unit == "ns/op" {
		return MeasureLatency
	}
	return unit
}

// ToBMF converts points to the Bencher Metric Format: value the median,
// lower_value and upper_value the 95% CI (omitted with too few samples).
func ToBMF(points []Point) BMF {
	out := BMF{}
	for _, p := range points {
		m := BMFMetric{Value: p.Median}
		if p.HasCI() {
			lo, hi := p.Lo, p.Hi
			m.LowerValue, m.UpperValue = &lo, &hi
		}
		if out[p.Bench] == nil {
			out[p.Bench] = map[string]BMFMetric{}
		}
		out[p.Bench][Measure(p.Unit)] = m
	}
	return out
}
