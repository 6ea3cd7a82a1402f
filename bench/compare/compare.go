package compare

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/textfmt"
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

// Compare compares the cells of old and new. Problems with the inputs
// (cells on one side only, cells priced by different cost profiles, cells
// that collide once components are ignored) are reported in the verdict
// with ExitBadInput; an error is returned only for invalid options.
func Compare(old, new *Set, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.Ignore, _ = ParseIgnore(o.Ignore)
	rep := &Report{
		SchemaVersion: SchemaVersion, Kind: Kind,
		Old: side(old), New: side(new),
		Options: ReportOptions{Alpha: o.Alpha, Confidence: o.Confidence, MinEffectPct: o.MinEffect,
			Correction: o.Correction, CountThresholdPct: o.CountThreshold, Ignore: append([]string{}, o.Ignore...), AllowUnmatched: o.AllowUnmatched, FailOn: o.FailOn},
	}
	if rep.Options.Ignore == nil {
		rep.Options.Ignore = []string{}
	}
	for _, w := range old.Warnings {
		rep.Warnings = append(rep.Warnings, "old: "+w)
	}
	for _, w := range new.Warnings {
		rep.Warnings = append(rep.Warnings, "new: "+w)
	}
	if len(old.CPUs) > 0 && len(new.CPUs) > 0 && !overlap(old.CPUs, new.CPUs) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("old ran on %s, new on %s: differences between machines show up as changes",
			strings.Join(old.CPUs, ", "), strings.Join(new.CPUs, ", ")))
	}
	var drop []string
	for _, c := range []string{IgnoreMode, IgnoreSize} {
		if o.ignores(c) {
			drop = append(drop, c)
		}
	}
	var problems []string
	m := newMatcher(drop...)
	oldBy, p1 := byMatchKey(old, m, drop, "old")
	newBy, p2 := byMatchKey(new, m, drop, "new")
	problems = append(problems, p1...)
	problems = append(problems, p2...)

	// Pair the cells, in old's order then new's.
	type pair struct {
		key      string
		old, new *Cell
	}
	var pairs []pair
	unrecorded := map[string]bool{} // cells whose mode settings one side did not record
	for _, c := range old.Cells {
		k := m.key(c.Key)
		if oldBy[k] != c { // a collision, reported above
			continue
		}
		nc := newBy[k]
		if nc == nil {
			rep.Unmatched = append(rep.Unmatched, Unmatched{Side: "old", Cell: c.Key, Reason: missingReason(c.Key, new, m, drop, "new")})
			continue
		}
		if isSim(c) != isSim(nc) {
			sim, measured := c, nc
			if !isSim(c) {
				sim, measured = nc, c
			}
			rep.Refused = append(rep.Refused, Refused{Cell: k, Reason: fmt.Sprintf(
				"%s is a sim prediction and %s a measurement: a prediction's slowdown is over its own measured base, repetition by repetition (its model line), never against another process's measurement", sim.Key, measured.Key)})
			continue
		}
		if c.Profile != nc.Profile && c.Profile != "" && nc.Profile != "" && !o.ignores(IgnoreProfile) {
			rep.Refused = append(rep.Refused, Refused{Cell: k, Reason: fmt.Sprintf(
				"priced by cost profile %s in old and %s in new: a model change is not a code change (pass --ignore profile to compare anyway)", c.Profile, nc.Profile)})
			continue
		}
		if c.ProfileSHA256 != nc.ProfileSHA256 && c.ProfileSHA256 != "" && nc.ProfileSHA256 != "" && !o.ignores(IgnoreProfile) {
			rep.Refused = append(rep.Refused, Refused{Cell: k, Reason: fmt.Sprintf(
				"priced by cost profile %s in both, but its content differs (sha256 %s in old, %s in new): a model change is not a code change (pass --ignore profile to compare anyway)", c.Profile, short(c.ProfileSHA256), short(nc.ProfileSHA256))})
			continue
		}
		if c.Settings != nc.Settings && c.Settings != "" && nc.Settings != "" && !o.ignores(IgnoreSettings) {
			rep.Refused = append(rep.Refused, Refused{Cell: k, Reason: fmt.Sprintf(
				"measured under other mode settings (old %s, new %s; run.json mode_settings): a different measurement, not a code change (pass --ignore settings to compare anyway)", settingsDiff(c.Settings, nc.Settings), settingsDiff(nc.Settings, c.Settings))})
			continue
		}
		if (c.Settings == "") != (nc.Settings == "") && !o.ignores(IgnoreSettings) {
			unrecorded[k] = true
		}
		pairs = append(pairs, pair{k, c, nc})
	}
	if n := len(unrecorded); n > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d cell(s) (first: %s) have mode settings recorded on one side only (a run from before run.json recorded mode_settings): compared, but whether they were measured alike cannot be checked",
			n, slices.Min(slices.Collect(maps.Keys(unrecorded)))))
	}
	for _, c := range new.Cells {
		k := m.key(c.Key)
		if newBy[k] != c {
			continue
		}
		if oldBy[k] == nil {
			rep.Unmatched = append(rep.Unmatched, Unmatched{Side: "new", Cell: c.Key, Reason: missingReason(c.Key, old, m, drop, "old")})
		}
	}

	// Build one table per unit, in order of first appearance.
	tables := map[string]*Table{}
	var unitOrder []string
	table := func(u string) *Table {
		t, ok := tables[u]
		if !ok {
			info := old.Units[u]
			if info.Better == "" {
				info.Better = new.Units[u].Better
			}
			if info.Better == "" && isCount(old, new, u) {
				info.Better = Lower // more events per operation cost more
			}
			t = &Table{Unit: u, Better: info.Better, Rows: []Row{}}
			tables[u] = t
			unitOrder = append(unitOrder, u)
		}
		return t
	}
	for _, p := range pairs {
		tu := timeUnit(p.old, p.new, old, new)
		for _, u := range p.old.UnitOrder {
			nv, ok := p.new.Values[u]
			if !ok {
				rep.Unmatched = append(rep.Unmatched, Unmatched{Side: "old", Cell: p.old.Key, Unit: u, Reason: "new has no values in " + u})
				continue
			}
			if ob, nb := old.Units[u].Better, new.Units[u].Better; ob != nb && ob != "" && nb != "" {
				problems = append(problems, fmt.Sprintf("unit %s is better=%s in old and better=%s in new", u, ob, nb))
				continue
			}
			var assume benchmath.Assumption = benchmath.AssumeNothing
			if old.Units[u].Assume == "exact" || new.Units[u].Assume == "exact" {
				assume = benchmath.AssumeExact
			}
			t := table(u)
			row := compareRow(p.old.Values[u], nv, assume, o)
			row.Cell = p.key
			if p.old.Key != p.key || p.new.Key != p.key {
				row.OldCell, row.NewCell = p.old.Key, p.new.Key
			}
			switch {
			case isCount(old, new, u):
				iOld, iNew := len(p.old.Values[u]), len(nv)
				pass := perRunUnit(u)
				if pass {
					// One counting pass per run puts the same per-op
					// figure on every sample, and -benchmem's figures
					// hang on the b.N calibrated once per run: only
					// runs are independent.
					iOld, iNew = len(p.old.runIDs), len(p.new.runIDs)
				}
				row.Spread = countSpread(p.old.Values[u], nv, iOld, iNew, o)
				switch {
				case row.Spread.Deterministic, row.Spread.Separated:
					row.Gate = GateCount
				case pass && min(iOld, iNew) < MinCountSamples:
					row.GateNote = fmt.Sprintf("%s, once per run: %d+%d run(s), and its spread from run to run can be judged from %d per side or more; shown, not gated",
						perRunWhy(u), iOld, iNew, MinCountSamples)
				default:
					row.GateNote = "a count that is not deterministic: shown with the statistics of time, not gated"
				}
			case u == tu:
				row.Gate = GateTime
				row.oldVals = p.old.Values[u]
			case t.Better != "":
				row.GateNote = "gated through " + tu + " (one timed unit per cell; this one is derived from the same samples or secondary)"
			}
			t.Rows = append(t.Rows, row)
		}
		for _, u := range p.new.UnitOrder {
			if _, ok := p.old.Values[u]; !ok {
				rep.Unmatched = append(rep.Unmatched, Unmatched{Side: "new", Cell: p.new.Key, Unit: u, Reason: "old has no values in " + u})
			}
		}
	}
	single := 0
	for _, p := range pairs {
		if p.old.Runs == 1 && p.new.Runs == 1 {
			single++
		}
	}
	if single > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(
			"%d cell(s) have their values from one run (one process) per side: repetitions in one process share its luck (memory placement, CPU, neighbours), which the p-values do not see; "+
				"compare several interleaved rounds per side for a sound gate (docs/ci.md)", single))
	}
	for _, u := range unitOrder {
		t := tables[u]
		t.Geomean = geomean(t.Rows)
		rep.Tables = append(rep.Tables, *t)
	}
	if rep.Tables == nil {
		rep.Tables = []Table{}
	}
	classify(rep, o)

	if len(pairs) == 0 && len(problems) == 0 {
		problems = append(problems, "no cell in common between old and new"+commonHint(rep.Unmatched))
	}
	problems = append(problems, sideProblems(old, new)...)
	// What new lost is a failure whatever --allow-unmatched says: a cell
	// that vanished, failed or became not applicable, a unit it stopped
	// reporting. Only what new adds can be accepted.
	added := 0
	passOnly := map[string]bool{}
	for _, u := range rep.Unmatched {
		if u.Unit != "" && passUnit(u.Unit) {
			// The counting pass ran on one side only (no --counts, or no
			// valgrind there): those counts are shown, time still gates.
			passOnly[u.Side] = true
			continue
		}
		if u.Side == "new" {
			added++
			continue
		}
		what := "cell " + u.Cell
		if u.Unit != "" {
			what = "unit " + u.Unit + " of " + u.Cell
		}
		problems = append(problems, fmt.Sprintf("%s is in old but not in new: %s (--allow-unmatched accepts only what new adds)", what, u.Reason))
	}
	for _, sd := range []string{"old", "new"} {
		if passOnly[sd] {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("the counting pass's counts (bench run --counts) are in %s only: not compared; the gate reads time and the other counts", sd))
		}
	}
	if added > 0 && !o.AllowUnmatched {
		problems = append(problems, fmt.Sprintf("%d cell(s) or unit(s) only in new (listed below; --allow-unmatched accepts them)", added))
	}
	// Suspect values: with a gate, bad input; without, a warning.
	var suspect []string
	for _, x := range []struct {
		name string
		s    *Set
	}{{"new", new}, {"old", old}} {
		for _, c := range x.s.Cells {
			for _, f := range c.Flaws {
				suspect = append(suspect, fmt.Sprintf("%s cell %s: %s", x.name, c.Key, f))
			}
		}
	}
	oldNotRun := map[string]result.Status{}
	for _, n := range old.NotRun {
		oldNotRun[m.key(n.Cell)] = n.Status
	}
	for _, n := range new.NotRun {
		k := m.key(n.Cell)
		if n.Status != result.StatusFailed || oldBy[k] != nil || oldNotRun[k] == result.StatusFailed {
			continue // named above (old has values), or failed on both sides
		}
		suspect = append(suspect, fmt.Sprintf("new cell %s failed: %s", n.Cell, textfmt.FirstLine(n.Reason)))
	}
	if o.FailOn == FailOnRegression {
		problems = append(problems, suspect...)
	} else {
		rep.Warnings = append(rep.Warnings, suspect...)
	}
	for _, r := range rep.Refused {
		problems = append(problems, r.Cell+": "+r.Reason)
	}
	rep.Models = append(models("old", old), models("new", new)...)
	verdict(rep, problems, o)
	return rep, nil
}

// sideProblems refuses a run compared with itself and the sides of a
// --baseline run swapped.
func sideProblems(old, new *Set) []string {
	var out []string
	// The two sides of one --baseline run share its ID; they are told
	// apart by the side each was recorded as.
	twoSides := len(old.Sides) > 0 && len(new.Sides) > 0 && !overlap(old.Sides, new.Sides)
	for _, id := range old.Runs {
		if slices.Contains(new.Runs, id) && !twoSides {
			out = append(out, fmt.Sprintf("run %s is on both sides (the same directory, a copy or a link to it): a run compared with itself shows nothing", id))
		}
	}
	if slices.Contains(old.Sides, "new") || slices.Contains(new.Sides, "base") {
		out = append(out, fmt.Sprintf("the sides are swapped: old (%s) was recorded as the %s side and new (%s) as the %s side of a --baseline run (bench compare DIR/base DIR/new)",
			old.Label, strings.Join(old.Sides, "+"), new.Label, strings.Join(new.Sides, "+")))
	}
	return out
}

func overlap(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func side(s *Set) Side {
	runs := s.Runs
	if runs == nil {
		runs = []string{}
	}
	return Side{Path: s.Label, Runs: runs, Cells: len(s.Cells)}
}

// byMatchKey indexes the cells of s by the name m matches them by,
// reporting cells that collide.
func byMatchKey(s *Set, m *matcher, drop []string, name string) (map[string]*Cell, []string) {
	by := map[string]*Cell{}
	var problems []string
	for _, c := range s.Cells {
		k := m.key(c.Key)
		if prev, ok := by[k]; ok {
			problems = append(problems, fmt.Sprintf("with --ignore %s, %s has two cells that match as %s: %s and %s (compare one %s at a time)",
				strings.Join(drop, ","), name, k, prev.Key, c.Key, strings.Join(drop, "/")))
			continue
		}
		by[k] = c
	}
	return by, problems
}

// missingReason says why key has no counterpart in other.
func missingReason(key string, other *Set, m *matcher, drop []string, otherName string) string {
	k := m.key(key)
	for _, n := range other.NotRun {
		if m.key(n.Cell) == k {
			r := fmt.Sprintf("%s has no samples for it: %s", otherName, n.Status)
			if n.Reason != "" {
				r += " (" + textfmt.FirstLine(n.Reason) + ")"
			}
			return r
		}
	}
	for _, comp := range []string{IgnoreMode, IgnoreSize} {
		wider := newMatcher(append([]string{comp}, drop...)...)
		stripped := wider.key(key)
		for _, c := range other.Cells {
			if c.Key != key && wider.key(c.Key) == stripped {
				return fmt.Sprintf("%s has it with %s=%s, not %s=%s: cells of different %ss are not compared (pass --ignore %s to compare them)",
					otherName, comp, wider.component(c.Key, comp), comp, wider.component(key, comp), comp, comp)
			}
		}
	}
	return "not in " + otherName
}

func commonHint(un []Unmatched) string {
	for _, u := range un {
		if strings.Contains(u.Reason, "--ignore") {
			return ": " + u.Reason
		}
	}
	return ""
}

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
func timeUnit(oc, nc *Cell, old, new *Set) string {
	if _, ok := oc.Values["ns/op"]; ok {
		if _, ok := nc.Values["ns/op"]; ok {
			return "ns/op"
		}
	}
	for _, u := range oc.UnitOrder {
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

// countSpread measures how far a count's values spread on each side: the
// range in percent of the median. A count is deterministic when both sides
// have MinCountSamples independent values or more (iOld, iNew: samples, or
// counting passes) and spread by at most half of the count threshold: a
// change beyond the threshold then lies outside both ranges.
func countSpread(oldVals, newVals []float64, iOld, iNew int, o Options) *Spread {
	sp := &Spread{Old: Num(spreadPct(oldVals)), New: Num(spreadPct(newVals)), BoundPct: o.CountThreshold / 2,
		IndependentOld: iOld, IndependentNew: iNew}
	enough := iOld >= MinCountSamples && iNew >= MinCountSamples
	sp.Deterministic = enough && float64(sp.Old) <= sp.BoundPct && float64(sp.New) <= sp.BoundPct
	sp.Separated = enough && !sp.Deterministic && separated(oldVals, newVals) &&
		changePct(oldVals, newVals) > SeparationFactor*math.Max(float64(sp.Old), float64(sp.New))
	return sp
}

// SeparationFactor is how many times its wider side's spread a count that
// is not deterministic must move, with its sides apart, to be gated.
// Measured with scripts/detection.sh (docs/ci.md): one more system call
// per operation moved process_syscalls/op by 98% on a spread of 1-3%,
// while runs of an unchanged syscall cell taken at another time moved it
// by up to 3% with their sides apart (run-to-run drift of the Go
// runtime's clock-driven calls under Valgrind): at 1x that drift was
// flagged in 5 of 20 draws, at 5x in none.
const SeparationFactor = 5

// separated says whether the two sides' values lie apart by more than the
// wider side's range: every value of one side beyond every value of the
// other, with a gap larger than either side's own spread.
func separated(a, b []float64) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	aLo, aHi := slices.Min(a), slices.Max(a)
	bLo, bHi := slices.Min(b), slices.Max(b)
	gap := math.Max(bLo-aHi, aLo-bHi)
	return gap > math.Max(aHi-aLo, bHi-bLo)
}

// changePct is the change of the median from a to b in percent of a's
// (+Inf around a zero median).
func changePct(a, b []float64) float64 {
	ma, mb := median(a), median(b)
	if ma == 0 {
		return math.Inf(1)
	}
	return math.Abs(mb-ma) / math.Abs(ma) * 100
}

func median(vals []float64) float64 {
	s := slices.Clone(vals)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + m) / 2
	}
	return m
}

// perRunUnit says whether u's figure is fixed once per run rather than
// measured per repetition: the counting pass's events, and the Go testing
// package's B/op and allocs/op, which divide allocations made outside the
// benchmark loop by a b.N the harness calibrates once per run, so two runs
// of one build differ while the repetitions of one run agree exactly.
func perRunUnit(u string) bool { return passUnit(u) || u == "B/op" || u == "allocs/op" }

// perRunWhy says why u's figure is one per run.
func perRunWhy(u string) string {
	if passUnit(u) {
		return "taken by the counting pass"
	}
	return "its b.N is calibrated"
}

// passUnit says whether u is an event of the counting pass (bench run
// --counts: result.CountEvents), taken once per run and cell, not per
// repetition.
func passUnit(u string) bool {
	e, ok := strings.CutSuffix(u, "/op")
	return ok && slices.Contains(result.CountEvents, e)
}

// spreadPct is (max-min)/|median| in percent: 0 when all values are equal,
// +Inf when they differ around a zero median.
func spreadPct(vals []float64) float64 {
	if len(vals) == 0 {
		return math.Inf(1)
	}
	lo, hi := slices.Min(vals), slices.Max(vals)
	if lo == hi {
		return 0
	}
	med := median(vals)
	if med == 0 {
		return math.Inf(1)
	}
	return (hi - lo) / math.Abs(med) * 100
}

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

// classify adjusts the p-values of the gated time rows for their number,
// sets each row's change, and says whether the gate can flag a regression
// of a single cell at all (rep.Power).
func classify(rep *Report, o Options) {
	type ref struct{ t, r int }
	var gated []ref
	counts := 0
	for ti := range rep.Tables {
		t := &rep.Tables[ti]
		for ri := range t.Rows {
			switch t.Rows[ri].Gate {
			case GateTime:
				gated = append(gated, ref{ti, ri})
			case GateCount:
				counts++
			}
		}
	}
	m := len(gated)
	rep.Options.GatedTests = m
	sort.SliceStable(gated, func(i, j int) bool {
		return rep.Tables[gated[i].t].Rows[gated[i].r].P < rep.Tables[gated[j].t].Rows[gated[j].r].P
	})
	adj := make([]float64, m)
	for i, g := range gated {
		adj[i] = float64(rep.Tables[g.t].Rows[g.r].P)
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
	for i, g := range gated {
		rep.Tables[g.t].Rows[g.r].PAdjusted = Num(adj[i])
	}

	pw := &Power{TimeRows: m, CountRows: counts, NeedP: Num(neededP(m, o)), WorstMinP: Num(math.NaN()), WorstRatio: Num(math.NaN()), CanFlagOne: true}
	for _, g := range gated {
		row := &rep.Tables[g.t].Rows[g.r]
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
	for _, g := range gated {
		row := &rep.Tables[g.t].Rows[g.r]
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
	rep.Power = pw

	for ti := range rep.Tables {
		t := &rep.Tables[ti]
		for ri := range t.Rows {
			row := &t.Rows[ri]
			d := float64(row.DeltaPct)
			worse := (t.Better == Lower && d > 0) || (t.Better == Higher && d < 0)
			switch {
			case row.Gate == GateCount:
				switch {
				case d == 0:
					row.Change = ChangeNotSignificant
				case !(math.Abs(d) > o.CountThreshold):
					row.Change = ChangeBelowMinEffect
				case worse:
					row.Change = ChangeRegression
				default:
					row.Change = ChangeImprovement
				}
			case !row.Significant:
				row.Change = ChangeNotSignificant
			case t.Better == "":
				row.Change = ChangeDirectionUnknown
			case row.Gate != GateTime:
				row.Change = ChangeNotGated
			case float64(row.PAdjusted) > o.Alpha:
				row.Change = ChangeNotSigCorrected
			case !(math.Abs(d) > o.MinEffect):
				row.Change = ChangeBelowMinEffect
			case worse:
				row.Change = ChangeRegression
			default:
				row.Change = ChangeImprovement
			}
		}
	}
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

// Summarize returns the median of the cell's values in unit and its
// confidence interval at level confidence (benchstat's summary).
func (s *Set) Summarize(c *Cell, unit string, confidence float64) Summary {
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

// models lists the paired accounts of a side's sim cells.
func models(side string, s *Set) []Model {
	var out []Model
	for _, c := range s.Cells {
		if c.Model == nil || c.Model.N == 0 {
			continue
		}
		m := Model{Side: side, Cell: c.Key, Pairs: c.Model.N, Slowdown: Num(c.Model.Slowdown.Center),
			Lo: Num(c.Model.Slowdown.Lo), Hi: Num(c.Model.Slowdown.Hi), Verdict: c.Model.Verdict()}
		for _, p := range c.Model.Parts {
			m.Parts = append(m.Parts, ModelPart{Event: p.Event, Label: p.Label, Share: p.Share})
		}
		out = append(out, m)
	}
	return out
}

// isSim says whether a cell holds sim predictions.
func isSim(c *Cell) bool {
	return c.Model != nil || c.Profile != "" || newMatcher(IgnoreMode).component(c.Key, IgnoreMode) == simMode
}

// settingsDiff lists the settings of a (canonical "k=v,k=v") that b does
// not have, or a whole when they share none.
func settingsDiff(a, b string) string {
	have := map[string]bool{}
	for _, kv := range strings.Split(b, ",") {
		have[kv] = true
	}
	var out []string
	for _, kv := range strings.Split(a, ",") {
		if !have[kv] {
			out = append(out, kv)
		}
	}
	if len(out) == 0 {
		return a
	}
	return strings.Join(out, ",")
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
