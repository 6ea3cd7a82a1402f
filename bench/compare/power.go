package compare

import (
	"fmt"
	"math"

	"golang.org/x/perf/benchmath"
)

// neededP is the p-value a regression of one cell alone must reach among m
// gated time rows: alpha/m under Holm and Benjamini-Hochberg (with one
// discovery both are Bonferroni), alpha without a correction.
func neededP(m int, o Options) float64 {
	if o.Correction == CorrectionNone || m <= 1 {
		return o.Alpha
	}
	return o.Alpha / float64(m)
}

// SamplesNeeded is the fewest samples (rounds) per side with which a
// regression of one cell among timedRows cells can be flagged under o at
// all: the smallest Mann-Whitney p of n+n samples, 2/C(2n, n), reaches the
// p that one cell alone needs.
func SamplesNeeded(timedRows int, o Options) int { return samplesNeeded(neededP(timedRows, o)) }

// samplesNeeded is the fewest samples per side (n+n) whose smallest
// Mann-Whitney p reaches need.
func samplesNeeded(need float64) int {
	for n := 2; n < 1000; n++ {
		if minUTestP(n, n) <= need {
			return n
		}
	}
	return 1000
}

// detectableRatio is the smallest factor by which a timed row's values,
// all moved the worse way, would be flagged alone: new = old x r tested
// against old must reach p <= need, and r must exceed the minimum effect.
// It is judged from old's spread only (its noise, as measured): +Inf when
// no factor up to 1000 reaches need (too few samples, or equal values).
func detectableRatio(old []float64, need float64, o Options) float64 {
	if len(old) == 0 {
		return math.Inf(1)
	}
	th := benchmath.DefaultThresholds
	a := benchmath.NewSample(append([]float64(nil), old...), &th)
	flagged := func(r float64) bool {
		moved := make([]float64, len(old))
		for i, v := range old {
			moved[i] = v * r
		}
		return benchmath.AssumeNothing.Compare(a, benchmath.NewSample(moved, &th)).P <= need
	}
	lo, hi := 1.0, 1000.0
	if !flagged(hi) {
		return math.Inf(1)
	}
	for range 40 { // bisect in log space to ~0.1%
		mid := math.Sqrt(lo * hi)
		if flagged(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return math.Max(hi, 1+o.MinEffect/100)
}

// powerStatement says, before any verdict, what the gate can see.
func powerStatement(pw *Power, o Options) string {
	if pw.TimeRows == 0 {
		if pw.CountRows == 0 {
			return "nothing to gate: no cell has a timed unit with a direction or a deterministic count"
		}
		return fmt.Sprintf("%d deterministic count row(s) gated at %g%%; no timed row", pw.CountRows, o.CountThreshold)
	}
	fam := fmt.Sprintf("%d timed row(s) (one per cell)", pw.TimeRows)
	switch {
	case o.Correction == CorrectionNone || pw.TimeRows == 1:
	case o.Correction == CorrectionHolm:
		fam += " under Holm"
	default:
		fam += " under Benjamini-Hochberg"
	}
	counts := ""
	if pw.CountRows > 0 {
		counts = fmt.Sprintf("; %d deterministic count row(s) gated at %g%%", pw.CountRows, o.CountThreshold)
	}
	if pw.CanFlagOne {
		noise := ""
		if pw.MedianRatio.Finite() {
			noise = fmt.Sprintf("; judged from old's spread, one cell's time must grow %.2fx to be flagged (median over cells; up to %.3gx, %s)",
				float64(pw.MedianRatio), float64(pw.WorstRatio), pw.WorstCell)
			if pw.Over2x > 0 {
				noise += fmt.Sprintf(", %d cell(s) would not show even a 2x slowdown", pw.Over2x)
			}
		}
		return fmt.Sprintf("can flag a regression of one cell: %s at alpha=%g need p <= %.2g, every row can reach %.2g%s%s",
			fam, o.Alpha, float64(pw.NeedP), float64(pw.WorstMinP), noise, counts)
	}
	return fmt.Sprintf("cannot flag a regression of one cell: %s at alpha=%g need p <= %.2g, but %d row(s) can reach no less than %.2g with their samples; run %d rounds (samples) per side or more%s",
		fam, o.Alpha, float64(pw.NeedP), pw.Blind, float64(pw.WorstMinP), pw.SamplesNeeded, counts)
}

// minUTestP is the smallest two-sided p-value of a Mann-Whitney U test with
// samples of n1 and n2 values: complete separation, 2/C(n1+n2, n1).
func minUTestP(n1, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return 1
	}
	// log C(n1+n2, n1)
	lc, _ := math.Lgamma(float64(n1 + n2 + 1))
	l1, _ := math.Lgamma(float64(n1 + 1))
	l2, _ := math.Lgamma(float64(n2 + 1))
	return math.Min(1, 2*math.Exp(-(lc-l1-l2)))
}
