package compare

import (
	"fmt"
	"math"
)

// Defaults of Options.
const (
	DefaultAlpha      = 0.05
	DefaultConfidence = 0.95
	DefaultMinEffect  = 5.0 // percent
	// DefaultCountThreshold is the smallest change, in percent, of a
	// deterministic count (instructions/op, syscalls/op) that is a
	// regression. Counts whose spread is below half of it are
	// deterministic (CountSpread).
	DefaultCountThreshold = 1.0
	// MinCountSamples is the fewest values per side whose spread can call
	// a count deterministic.
	MinCountSamples = 3
)

// Corrections for multiple comparisons.
const (
	// CorrectionBH is Benjamini-Hochberg: the expected share of false
	// discoveries among the flagged rows stays <= Alpha; when nothing
	// changed (two runs of one build) that is the chance of any false alarm.
	CorrectionBH   = "bh"
	CorrectionHolm = "holm"
	CorrectionNone = "none"
)

// Gates a row can be under (Row.Gate).
const (
	GateTime  = "time"  // the cell's timed unit: tested, in the corrected family
	GateCount = "count" // a deterministic count: its change against CountThreshold
	GateNone  = ""      // shown only
)

// Gate settings (--fail-on).
const (
	FailOnNone       = "none"
	FailOnRegression = "regression"
)

// Exit codes of a comparison.
const (
	ExitOK         = 0
	ExitRegression = 1
	ExitBadInput   = 2
)

// Verdict statuses.
const (
	StatusOK         = "ok"
	StatusRegression = "regression"
	StatusBadInput   = "bad_input"
)

// Changes a row can show.
const (
	ChangeRegression       = "regression"       // significant, worse by more than the minimum effect
	ChangeImprovement      = "improvement"      // significant, better by more than the minimum effect
	ChangeBelowMinEffect   = "below_min_effect" // significant, but smaller than the minimum effect
	ChangeNotSignificant   = "not_significant"  // p > alpha: benchstat's "~"
	ChangeNotSigCorrected  = "not_significant_after_correction"
	ChangeDirectionUnknown = "direction_unknown" // significant, but the unit has no better=
	ChangeNotGated         = "not_gated"         // significant, in a unit the gate does not read (derived, a count that is not deterministic)
)

// Options configure a comparison.
type Options struct {
	// Alpha is the significance level of the Mann-Whitney U test.
	Alpha float64
	// Confidence is the level of the median's confidence interval.
	Confidence float64
	// MinEffect is the smallest change, in percent of the old median, that
	// can be a regression.
	MinEffect float64
	// Correction adjusts p-values for the number of gated time rows: "bh"
	// (Benjamini-Hochberg), "holm" (Holm-Bonferroni: the chance of any
	// false alarm in a whole comparison stays <= Alpha) or "none" (per-row
	// alpha, like benchstat).
	Correction string
	// CountThreshold is the smallest change, in percent, of a deterministic
	// count that is a regression.
	CountThreshold float64
	// Ignore lists key components dropped when matching cells ("mode",
	// "size") and checks waived ("profile").
	Ignore []string
	// AllowUnmatched makes cells or units present on one side only a
	// warning instead of bad input; they are listed either way.
	AllowUnmatched bool
	// FailOn is "regression" to exit 1 on a regression, or "none".
	FailOn string
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{Alpha: DefaultAlpha, Confidence: DefaultConfidence, MinEffect: DefaultMinEffect,
		Correction: CorrectionBH, CountThreshold: DefaultCountThreshold, FailOn: FailOnNone}
}

// Validate checks o.
func (o Options) Validate() error {
	switch {
	case !(o.Alpha > 0 && o.Alpha < 1):
		return fmt.Errorf("--alpha %v: want a level between 0 and 1, e.g. 0.05", o.Alpha)
	case !(o.Confidence > 0 && o.Confidence < 1):
		return fmt.Errorf("confidence %v: want a level between 0 and 1", o.Confidence)
	case !(o.MinEffect >= 0) || math.IsInf(o.MinEffect, 0):
		return fmt.Errorf("--min-effect %v: want a percentage >= 0", o.MinEffect)
	case !(o.CountThreshold > 0) || math.IsInf(o.CountThreshold, 0):
		return fmt.Errorf("--count-threshold %v: want a percentage > 0, e.g. 1", o.CountThreshold)
	}
	switch o.Correction {
	case CorrectionBH, CorrectionHolm, CorrectionNone:
	default:
		return fmt.Errorf("--correction %q: want %s, %s or %s", o.Correction, CorrectionBH, CorrectionHolm, CorrectionNone)
	}
	switch o.FailOn {
	case FailOnNone, FailOnRegression:
	default:
		return fmt.Errorf("--fail-on %q: want %s or %s", o.FailOn, FailOnRegression, FailOnNone)
	}
	_, err := ParseIgnore(o.Ignore)
	return err
}

func (o Options) ignores(what string) bool {
	for _, i := range o.Ignore {
		if i == what {
			return true
		}
	}
	return false
}
