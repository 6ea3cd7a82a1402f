package compare

import (
	"fmt"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"math"
	"slices"
	"sort"
	"strings"
)

// classify adjusts the p-values of the gated time rows for their number,
// sets each row's change, and says whether the gate can flag a regression
// of a single cell at all (rep.Power).
func classify(rep *Report, o Options) {
	var gated []*Row
	counts := 0
	for ti := range rep.Tables {
		t := &rep.Tables[ti]
		for ri := range t.Rows {
			switch t.Rows[ri].Gate {
			case GateTime:
				gated = append(gated, &t.Rows[ri])
			case GateCount:
				counts++
			}
		}
	}
	rep.Options.GatedTests = len(gated)
	// By p-value, as the corrections step through them (and the worst
	// cell of the power statement is the first of equals in this order).
	sort.SliceStable(gated, func(i, j int) bool { return gated[i].P < gated[j].P })
	adjust(gated, o)
	rep.Power = power(gated, counts, o)
	for ti := range rep.Tables {
		t := &rep.Tables[ti]
		for ri := range t.Rows {
			t.Rows[ri].Change = change(&t.Rows[ri], t.Better, o)
		}
	}
}

// adjust sets the adjusted p-value of the gated time rows, sorted by
// p-value, under o's correction for their number.
func adjust(byP []*Row, o Options) {
	m := len(byP)
	adj := make([]float64, m)
	for i, r := range byP {
		adj[i] = float64(r.P)
	}
	switch o.Correction {
	case CorrectionHolm: // step down: max over the smaller ones of (m-i)p
		running := 0.0
		for i := range adj {
			running = math.Max(running, math.Min(1, float64(m-i)*adj[i]))
			adj[i] = running
		}
	case CorrectionBH: // step up: min over the larger ones of m/(i+1) p
		running := 1.0
		for i := m - 1; i >= 0; i-- {
			running = math.Min(running, float64(m)/float64(i+1)*adj[i])
			adj[i] = running
		}
	}
	for i, r := range byP {
		r.PAdjusted = Num(adj[i])
	}
}

// power says what the gate can flag among the gated time rows (and sets
// each one's detectable ratio) and counts rows: whether a regression of
// one cell alone can reach the p it needs, and how far a cell's time must
// move to.
func power(gated []*Row, counts int, o Options) *Power {
	m := len(gated)
	pw := &Power{TimeRows: m, CountRows: counts, NeedP: Num(neededP(m, o)), WorstMinP: Num(math.NaN()), WorstRatio: Num(math.NaN()), CanFlagOne: true}
	for _, row := range gated {
		mp := minUTestP(row.N1, row.N2)
		if !pw.WorstMinP.Finite() || mp > float64(pw.WorstMinP) {
			pw.WorstMinP = Num(mp)
		}
		if mp > float64(pw.NeedP) {
			pw.Blind++
		}
	}
	if pw.Blind > 0 {
		pw.CanFlagOne = false
		pw.SamplesNeeded = SamplesNeeded(m, o)
	}
	var ratios []float64
	worst := ""
	for _, row := range gated {
		r := detectableRatio(row.oldVals, float64(pw.NeedP), o)
		row.Detectable = Num(r)
		if math.IsInf(r, 1) {
			continue // blind: counted above
		}
		ratios = append(ratios, r)
		if r >= 2 {
			pw.Over2x++
		}
		if r > float64(pw.WorstRatio) || !pw.WorstRatio.Finite() {
			pw.WorstRatio, worst = Num(r), row.Cell
		}
	}
	pw.MedianRatio, pw.WorstCell = Num(math.NaN()), worst
	if len(ratios) > 0 {
		slices.Sort(ratios)
		pw.MedianRatio = Num(ratios[len(ratios)/2])
	} else {
		pw.WorstRatio = Num(math.NaN())
	}
	pw.Statement = powerStatement(pw, o)
	return pw
}

// change is a row's change in a table whose unit is better as better.
func change(row *Row, better string, o Options) string {
	d := float64(row.DeltaPct)
	worse := (better == protocol.Lower && d > 0) || (better == protocol.Higher && d < 0)
	switch {
	case row.Gate == GateCount:
		switch {
		case d == 0:
			return ChangeNotSignificant
		case !(math.Abs(d) > o.CountThreshold):
			return ChangeBelowMinEffect
		case worse:
			return ChangeRegression
		default:
			return ChangeImprovement
		}
	case !row.Significant:
		return ChangeNotSignificant
	case better == "":
		return ChangeDirectionUnknown
	case row.Gate != GateTime:
		return ChangeNotGated
	case float64(row.PAdjusted) > o.Alpha:
		return ChangeNotSigCorrected
	case !(math.Abs(d) > o.MinEffect):
		return ChangeBelowMinEffect
	case worse:
		return ChangeRegression
	default:
		return ChangeImprovement
	}
}

// verdict fills rep.Verdict from the rows and the input problems.
func verdict(rep *Report, problems []string, o Options) {
	v := &rep.Verdict
	v.Problems = problems
	if v.Problems == nil {
		v.Problems = []string{}
	}
	v.Regressions = []Ref{}
	v.Improvements = []Ref{}
	for _, t := range rep.Tables {
		for _, r := range t.Rows {
			ref := Ref{Cell: r.Cell, Unit: t.Unit, DeltaPct: r.DeltaPct, P: r.P, PAdjusted: r.PAdjusted, N1: r.N1, N2: r.N2, Gate: r.Gate}
			if r.Gate == GateCount {
				ref.Time = timeVerdict(rep, r.Cell)
				ref.Basis = "deterministic count"
				if r.Spread != nil && r.Spread.Separated {
					ref.Basis = "count moved beyond its spread"
				}
			}
			switch r.Change {
			case ChangeRegression:
				v.Regressions = append(v.Regressions, ref)
			case ChangeImprovement:
				v.Improvements = append(v.Improvements, ref)
			}
			v.Compared++
		}
	}
	corr := ""
	if g := rep.Options.GatedTests; g > 1 {
		switch o.Correction {
		case CorrectionHolm:
			corr = fmt.Sprintf(" (Holm-adjusted over %d timed rows)", g)
		case CorrectionBH:
			corr = fmt.Sprintf(" (Benjamini-Hochberg over %d timed rows)", g)
		}
	}
	crit := fmt.Sprintf("significant at alpha=%g%s and worse by more than %g%%", o.Alpha, corr, o.MinEffect)
	if rep.Power != nil && rep.Power.CountRows > 0 {
		crit += fmt.Sprintf(", or a deterministic count up by more than %g%%", o.CountThreshold)
	}
	blind := o.FailOn == FailOnRegression && rep.Power != nil && (!rep.Power.CanFlagOne || rep.Power.TimeRows+rep.Power.CountRows == 0)
	switch {
	case len(problems) > 0:
		v.Status, v.ExitCode = StatusBadInput, ExitBadInput
		v.Summary = problems[0]
		if len(problems) > 1 {
			v.Summary += fmt.Sprintf(" (and %d more problem(s))", len(problems)-1)
		}
	case len(v.Regressions) > 0:
		v.Status = StatusRegression
		if o.FailOn == FailOnRegression {
			v.ExitCode = ExitRegression
		}
		v.Summary = fmt.Sprintf("%d regression(s): %s", len(v.Regressions), crit)
	case blind:
		// No regression found, but the gate could not have found one in a
		// single cell: "OK" would be a claim it cannot make.
		v.Status, v.ExitCode = StatusBadInput, ExitBadInput
		v.Summary = "the gate " + rep.Power.Statement
		v.Problems = append(v.Problems, v.Summary)
	default:
		v.Status, v.ExitCode = StatusOK, ExitOK
		v.Summary = fmt.Sprintf("no regression: none of %d rows is %s", v.Compared, crit)
	}
}

// timeVerdict describes the change of cell's timed row, shown beside a
// count's verdict ("time not significant").
func timeVerdict(rep *Report, cell string) string {
	for _, t := range rep.Tables {
		for _, r := range t.Rows {
			if r.Cell != cell || r.Gate != GateTime {
				continue
			}
			switch r.Change {
			case ChangeNotSignificant, ChangeNotSigCorrected:
				return fmt.Sprintf("time not significant (%s %s, p=%.2g)", t.Unit, pct(r.DeltaPct), float64(r.P))
			case ChangeBelowMinEffect:
				return fmt.Sprintf("time %s %s, below the minimum effect", t.Unit, pct(r.DeltaPct))
			default:
				return fmt.Sprintf("time %s %s (%s)", t.Unit, pct(r.DeltaPct), strings.ReplaceAll(r.Change, "_", " "))
			}
		}
	}
	return "no timed row"
}
