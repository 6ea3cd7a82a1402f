package compare

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Compare compares the cells of old and new. Problems with the inputs
// (cells on one side only, cells priced by different cost profiles, cells
// that collide once components are ignored) are reported in the verdict
// with ExitBadInput; an error is returned only for invalid options.
func Compare(old, new *Set, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.Ignore, _ = ParseIgnore(o.Ignore)
	x := &comparison{old: old, new: new, o: o, rep: newReport(old, new, o)}
	for _, c := range []string{IgnoreMode, IgnoreSize} {
		if o.ignores(c) {
			x.drop = append(x.drop, c)
		}
	}
	x.m = newMatcher(x.drop...)
	var p1, p2 []string
	x.oldBy, p1 = byMatchKey(old, x.m, x.drop, "old")
	x.newBy, p2 = byMatchKey(new, x.m, x.drop, "new")
	x.problems = append(p1, p2...)

	pairs := x.pair()
	x.tables(pairs)
	classify(x.rep, o)

	if len(pairs) == 0 && len(x.problems) == 0 {
		x.problems = append(x.problems, "no cell in common between old and new"+commonHint(x.rep.Unmatched))
	}
	x.problems = append(x.problems, sideProblems(old, new)...)
	x.unmatchedProblems()
	x.suspect()
	for _, r := range x.rep.Refused {
		x.problems = append(x.problems, r.Cell+": "+r.Reason)
	}
	x.rep.Models = append(models("old", old), models("new", new)...)
	verdict(x.rep, x.problems, o)
	return x.rep, nil
}

// comparison is one Compare under way: its inputs, how cells are matched,
// the report it fills and the problems with the inputs found so far.
type comparison struct {
	old, new     *Set
	o            Options
	drop         []string // name components dropped when matching (--ignore mode,size)
	m            *matcher
	oldBy, newBy map[string]*cells.Cell // cells by the name they are matched by
	rep          *Report
	problems     []string
}

// pair is a cell of old and its counterpart in new, matched as key.
type pair struct {
	key      string
	old, new *cells.Cell
}

// newReport is the report of comparing old and new under o, before any
// cell is compared: the options, the sides and what they warn of.
func newReport(old, new *Set, o Options) *Report {
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
	if !slices.Equal(slices.Sorted(slices.Values(old.CountsHidden)), slices.Sorted(slices.Values(new.CountsHidden))) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the counting pass's Valgrind hid other CPU features from old's workload (%s) than from new's (%s): code that picks its path by feature may have been counted on different paths",
			featureList(old.CountsHidden), featureList(new.CountsHidden)))
	}
	return rep
}

func featureList(fs []string) string {
	if len(fs) == 0 {
		return "none"
	}
	return strings.Join(fs, ", ")
}

// pair matches the cells of old and new, in old's order then new's:
// cells on one side only are unmatched, pairs that measure different
// things refused.
func (x *comparison) pair() []pair {
	var pairs []pair
	unrecorded := map[string]bool{} // cells whose mode settings one side did not record
	for _, c := range x.old.Cells {
		k := x.m.key(c.Name)
		if x.oldBy[k] != c { // a collision, reported by byMatchKey
			continue
		}
		nc := x.newBy[k]
		if nc == nil {
			x.rep.Unmatched = append(x.rep.Unmatched, Unmatched{Side: "old", Cell: c.Name, Reason: missingReason(c.Name, x.new, x.m, x.drop, "new")})
			continue
		}
		if why := refusal(c, nc, x.o); why != "" {
			x.rep.Refused = append(x.rep.Refused, Refused{Cell: k, Reason: why})
			continue
		}
		if (c.Settings == "") != (nc.Settings == "") && !x.o.ignores(IgnoreSettings) {
			unrecorded[k] = true
		}
		pairs = append(pairs, pair{k, c, nc})
	}
	if n := len(unrecorded); n > 0 {
		x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("%d cell(s) (first: %s) have mode settings recorded on one side only (a run from before run.json recorded mode_settings): compared, but whether they were measured alike cannot be checked",
			n, slices.Min(slices.Collect(maps.Keys(unrecorded)))))
	}
	for _, c := range x.new.Cells {
		k := x.m.key(c.Name)
		if x.newBy[k] != c {
			continue
		}
		if x.oldBy[k] == nil {
			x.rep.Unmatched = append(x.rep.Unmatched, Unmatched{Side: "new", Cell: c.Name, Reason: missingReason(c.Name, x.old, x.m, x.drop, "old")})
		}
	}
	return pairs
}

// refusal says why cells c (old) and nc (new) must not be compared: a
// prediction against a measurement, figures priced by other cost profiles,
// or measured under other mode settings; "" when they may.
func refusal(c, nc *cells.Cell, o Options) string {
	switch {
	case isPrediction(c) != isPrediction(nc):
		pred, measured := c, nc
		if !isPrediction(c) {
			pred, measured = nc, c
		}
		return fmt.Sprintf("%s is a model's prediction and %s a measurement: a prediction's slowdown is over its own measured base, repetition by repetition (its model line), never against another process's measurement", pred.Name, measured.Name)
	case c.Profile != nc.Profile && c.Profile != "" && nc.Profile != "" && !o.ignores(IgnoreProfile):
		return fmt.Sprintf("priced by cost profile %s in old and %s in new: a model change is not a code change (pass --ignore profile to compare anyway)", c.Profile, nc.Profile)
	case c.ProfileDigest != nc.ProfileDigest && c.ProfileDigest != "" && nc.ProfileDigest != "" && !o.ignores(IgnoreProfile):
		return fmt.Sprintf("priced by cost profile %s in both, but its content differs (sha256 %s in old, %s in new): a model change is not a code change (pass --ignore profile to compare anyway)", c.Profile, short(c.ProfileDigest), short(nc.ProfileDigest))
	case c.Settings != nc.Settings && c.Settings != "" && nc.Settings != "" && !o.ignores(IgnoreSettings):
		return fmt.Sprintf("measured under other mode settings (old %s, new %s; run.json mode_settings): a different measurement, not a code change (pass --ignore settings to compare anyway)", settingsDiff(c.Settings, nc.Settings), settingsDiff(nc.Settings, c.Settings))
	}
	return ""
}

// tables compares the pairs unit by unit: one table per unit, in order of
// first appearance, each row under the gate its unit is read by.
func (x *comparison) tables(pairs []pair) {
	old, new := x.old, x.new
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
				info.Better = protocol.Lower // more events per operation cost more
			}
			t = &Table{Unit: u, Better: info.Better, Rows: []Row{}}
			tables[u] = t
			unitOrder = append(unitOrder, u)
		}
		return t
	}
	for _, p := range pairs {
		tu := timeUnit(p.old, p.new, old, new)
		for _, u := range p.old.Units {
			_, ok := p.new.Values[u]
			if !ok {
				x.rep.Unmatched = append(x.rep.Unmatched, Unmatched{Side: "old", Cell: p.old.Name, Unit: u, Reason: "new has no values in " + u})
				continue
			}
			if ob, nb := old.Units[u].Better, new.Units[u].Better; ob != nb && ob != "" && nb != "" {
				x.problems = append(x.problems, fmt.Sprintf("unit %s is better=%s in old and better=%s in new", u, ob, nb))
				continue
			}
			t := table(u)
			t.Rows = append(t.Rows, x.row(p, u, tu, t.Better))
		}
		for _, u := range p.new.Units {
			if _, ok := p.old.Values[u]; !ok {
				x.rep.Unmatched = append(x.rep.Unmatched, Unmatched{Side: "new", Cell: p.new.Name, Unit: u, Reason: "old has no values in " + u})
			}
		}
	}
	single := 0
	for _, p := range pairs {
		if x.old.processes(p.old) == 1 && x.new.processes(p.new) == 1 {
			single++
		}
	}
	if single > 0 {
		x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf(
			"%d cell(s) have their values from one run (one process) per side: repetitions in one process share its luck (memory placement, CPU, neighbours), which the p-values do not see; "+
				"compare several interleaved rounds per side for a sound gate (docs/ci.md)", single))
	}
	for _, u := range unitOrder {
		t := tables[u]
		t.Geomean = geomean(t.Rows)
		x.rep.Tables = append(x.rep.Tables, *t)
	}
	if x.rep.Tables == nil {
		x.rep.Tables = []Table{}
	}
}

// row compares pair p in unit u and puts the row under its gate: a count
// by its spread, the cell's timed unit tu by a test, the others shown.
// better is the unit's direction.
func (x *comparison) row(p pair, u, tu, better string) Row {
	old, new := x.old, x.new
	nv := p.new.Values[u]
	var assume benchmath.Assumption = benchmath.AssumeNothing
	if old.Units[u].Assume == "exact" || new.Units[u].Assume == "exact" {
		assume = benchmath.AssumeExact
	}
	row := compareRow(p.old.Values[u], nv, assume, x.o)
	row.Cell = p.key
	if p.old.Name != p.key || p.new.Name != p.key {
		row.OldCell, row.NewCell = p.old.Name, p.new.Name
	}
	switch {
	case isCount(old, new, u):
		iOld, iNew := len(p.old.Values[u]), len(nv)
		pass := perRunUnit(u)
		factor := float64(SeparationFactor)
		switch {
		case passUnit(u):
			// The counting pass gives a run K values per cell
			// (segments of one process; one in runs from before),
			// carried by its samples in turn. Segments of one
			// process spread less than processes do where the
			// Go runtime's clock-driven work drifts (docs/ci.md),
			// so moving beyond their spread says nothing without
			// several processes a side.
			iOld, iNew = passValues(p.old), passValues(p.new)
			if len(p.old.Runs) < MinCountSamples || len(p.new.Runs) < MinCountSamples {
				factor = OneProcessSeparationFactor
			}
		case pass:
			// -benchmem's figures hang on the b.N calibrated once
			// per run: only runs are independent.
			iOld, iNew = len(p.old.Runs), len(p.new.Runs)
		}
		row.Spread = countSpread(p.old.Values[u], nv, iOld, iNew, factor, x.o)
		switch {
		case row.Spread.Deterministic, row.Spread.Separated:
			row.Gate = GateCount
		case pass && min(iOld, iNew) < MinCountSamples:
			row.GateNote = fmt.Sprintf("%s: %d+%d independent value(s), and its spread can be judged from %d per side or more; shown, not gated",
				perRunWhy(u), iOld, iNew, MinCountSamples)
		default:
			row.GateNote = "a count that is not deterministic: shown with the statistics of time, not gated"
		}
	case u == tu:
		row.Gate = GateTime
		row.oldVals = p.old.Values[u]
	case better != "":
		row.GateNote = "gated through " + tu + " (one timed unit per cell; this one is derived from the same samples or secondary)"
	}
	return row
}

// unmatchedProblems turns what new lost into problems, whatever
// --allow-unmatched says: a cell that vanished, failed or became not
// applicable, a unit it stopped reporting. Only what new adds can be
// accepted.
func (x *comparison) unmatchedProblems() {
	added := 0
	passOnly := map[string]bool{}
	// ll_misses in one side and ll_misses_pf in the other: one side
	// counted without the prefetcher model, the other with it. Never one
	// against the other; the other counts and time still gate.
	llUnit := map[string]string{}
	for _, u := range x.rep.Unmatched {
		if otherCacheModel(u.Unit) != "" {
			llUnit[u.Side] = u.Unit
		}
	}
	models := llUnit["old"] != "" && llUnit["new"] == otherCacheModel(llUnit["old"])
	streamOnly := ""
	for _, u := range x.rep.Unmatched {
		if models && otherCacheModel(u.Unit) != "" {
			continue
		}
		if u.Unit == result.EventLLMissesStream+"/op" {
			// Split on one side only: the other's counting pass is from
			// before ll_misses_stream. Its total, ll_misses_pf, still gates.
			streamOnly = u.Side
			continue
		}
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
		x.problems = append(x.problems, fmt.Sprintf("%s is in old but not in new: %s (--allow-unmatched accepts only what new adds)", what, u.Reason))
	}
	if models {
		x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("%s/op (a simulated LLC without a prefetcher: counting passes before the prefetcher model) and %s/op (with Callgrind's stream prefetcher) count misses of two cache models: not compared against each other (re-run the baseline with this version's --counts to gate LLC misses); the other counts and time are gated",
			result.EventLLMisses, result.EventLLMissesPF))
	}
	if streamOnly != "" {
		x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("%s/op (the streamed part of %s/op) is in %s only: a counting pass from before the split on the other side; not compared, %s/op and the other counts are",
			result.EventLLMissesStream, result.EventLLMissesPF, streamOnly, result.EventLLMissesPF))
	}
	for _, sd := range []string{"old", "new"} {
		if passOnly[sd] {
			x.rep.Warnings = append(x.rep.Warnings, fmt.Sprintf("the counting pass's counts (bench run --counts) are in %s only: not compared; the gate reads time and the other counts", sd))
		}
	}
	if added > 0 && !x.o.AllowUnmatched {
		x.problems = append(x.problems, fmt.Sprintf("%d cell(s) or unit(s) only in new (listed below; --allow-unmatched accepts them)", added))
	}
}

// suspect lists the cells whose values are suspect (flawed, or failed in
// new only): with a gate, problems; without, warnings.
func (x *comparison) suspect() {
	var suspect []string
	for _, sd := range []struct {
		name string
		s    *Set
	}{{"new", x.new}, {"old", x.old}} {
		for _, c := range sd.s.Cells {
			for _, f := range sd.s.Flaws(c) {
				suspect = append(suspect, fmt.Sprintf("%s cell %s: %s", sd.name, c.Name, f))
			}
		}
	}
	oldNotRun := map[string]result.Status{}
	for _, n := range x.old.NotRun {
		oldNotRun[x.m.key(n.Cell)] = n.Status
	}
	for _, n := range x.new.NotRun {
		k := x.m.key(n.Cell)
		if n.Status != result.StatusFailed || x.oldBy[k] != nil || oldNotRun[k] == result.StatusFailed {
			continue // named above (old has values), or failed on both sides
		}
		suspect = append(suspect, fmt.Sprintf("new cell %s failed: %s", n.Cell, textfmt.FirstLine(n.Reason)))
	}
	if x.o.FailOn == FailOnRegression {
		x.problems = append(x.problems, suspect...)
	} else {
		x.rep.Warnings = append(x.rep.Warnings, suspect...)
	}
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
func byMatchKey(s *Set, m *matcher, drop []string, name string) (map[string]*cells.Cell, []string) {
	by := map[string]*cells.Cell{}
	var problems []string
	for _, c := range s.Cells {
		k := m.key(c.Name)
		if prev, ok := by[k]; ok {
			problems = append(problems, fmt.Sprintf("with --ignore %s, %s has two cells that match as %s: %s and %s (compare one %s at a time)",
				strings.Join(drop, ","), name, k, prev.Name, c.Name, strings.Join(drop, "/")))
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
			if c.Name != key && wider.key(c.Name) == stripped {
				return fmt.Sprintf("%s has it with %s=%s, not %s=%s: cells of different %ss are not compared (pass --ignore %s to compare them)",
					otherName, comp, wider.component(c.Name, comp), comp, wider.component(key, comp), comp, comp)
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

// models lists the paired accounts of a side's model cells.
func models(side string, s *Set) []Model {
	var out []Model
	for _, c := range s.Cells {
		pc := c.Paired()
		if pc.N == 0 {
			continue
		}
		m := Model{Side: side, Cell: c.Name, Mode: c.Mode, Pairs: pc.N, Slowdown: Num(pc.Slowdown.Center),
			Lo: Num(pc.Slowdown.Lo), Hi: Num(pc.Slowdown.Hi), Verdict: pc.Verdict()}
		for _, p := range pc.Parts {
			m.Parts = append(m.Parts, ModelPart{Event: p.Event, Label: p.Label, Share: p.Share})
		}
		out = append(out, m)
	}
	return out
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
