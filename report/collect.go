package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

type variantKey struct {
	src  *Source
	mode string
}

// modeVariants finds the modes whose runs measured or priced them
// differently: other mode settings (run.json mode_settings: a traced
// enclave, another clock) or another content of the same cost profile.
// Their figures are kept apart under labels that name the difference:
// never pooled, and each compared with the baseline on its own.
func (b *builder) modeVariants() {
	b.variant = map[variantKey]string{}
	type variant struct {
		settings map[string]string
		sha      string
	}
	byLabel := map[string]map[*Source]variant{}
	var labels []string
	for _, src := range b.in.Sources {
		r := &src.Dir.Run
		for _, m := range r.Plan.Modes {
			mf := b.input[src].Modes[m]
			v := variant{settings: r.ModeSettings[m]}
			if mf.Kind == result.KindModel && r.Profile != nil {
				v.sha = r.Profile.Digest
			}
			if byLabel[mf.Label] == nil {
				byLabel[mf.Label] = map[*Source]variant{}
				labels = append(labels, mf.Label)
			}
			byLabel[mf.Label][src] = v
		}
	}
	for _, label := range labels {
		vs := byLabel[label]
		// The settings whose values differ between the runs, and whether
		// the profile content does.
		keys := map[string]bool{}
		shas := map[string]bool{}
		recorded := map[bool]bool{}
		for _, v := range vs {
			shas[v.sha] = true
			recorded[v.settings != nil] = true
			for _, w := range vs {
				for k, x := range v.settings {
					if y, ok := w.settings[k]; !ok || x != y {
						keys[k] = true
					}
				}
			}
		}
		if len(recorded) > 1 { // a run from before settings were recorded
			for _, v := range vs {
				for k := range v.settings {
					keys[k] = true
				}
			}
		}
		if len(keys) == 0 && len(shas) < 2 {
			continue
		}
		var texts []string
		seen := map[string]bool{}
		for _, src := range b.in.Sources {
			v, ok := vs[src]
			if !ok {
				continue
			}
			var parts []string
			if len(keys) > 0 {
				if v.settings == nil {
					parts = append(parts, "settings not recorded")
				}
				for _, k := range slices.Sorted(maps.Keys(keys)) {
					if x, ok := v.settings[k]; ok {
						parts = append(parts, k+"="+x)
					}
				}
			}
			if len(shas) > 1 {
				if v.sha == "" {
					parts = append(parts, "profile content not recorded")
				} else {
					parts = append(parts, "profile sha256 "+v.sha[:min(12, len(v.sha))])
				}
			}
			suffix := "[" + strings.Join(parts, ", ") + "]"
			b.variant[variantKey{src, label}] = suffix
			if !seen[suffix] {
				seen[suffix] = true
				texts = append(texts, suffix)
			}
		}
		b.variantNotes = append(b.variantNotes, Warning{"settings differ", label, fmt.Sprintf(
			"the runs measured %s differently (%s): a different measurement, so their figures are kept apart under these labels, never pooled, and each is compared with %s on its own",
			label, strings.Join(texts, "; "), b.r.Baseline)})
	}
}

// labelled is mf, the facts of a mode of src, with the label of the
// source's variant of the mode (modeVariants).
func (b *builder) labelled(src *Source, mf result.ModeFacts) result.ModeFacts {
	if v := b.variant[variantKey{src, mf.Label}]; v != "" {
		mf.Label += " " + v
	}
	return mf
}

type loadRecord struct {
	origin, originLabel string
	workload            string
	params              string
	size                string
	mode, modeLabel     string
	heapBytes           int64
	heapFromExtra       bool
	loadNS              int64
}

// units picks each workload's primary unit (cells.PrimaryUnit) from the
// figures of its cells, in the order the table holds them.
func (b *builder) units() {
	seen := map[string][]protocol.Value{}
	for _, c := range b.tab.Cells {
		us := seen[c.Workload]
		for _, f := range c.Figures {
			if !slices.ContainsFunc(us, func(u protocol.Value) bool { return u.Unit == f.Unit }) {
				us = append(us, f)
			}
		}
		seen[c.Workload] = us
	}
	b.unit = map[string]protocol.Value{}
	for w, us := range seen {
		u, bt := cells.PrimaryUnit(us)
		b.unit[w] = protocol.Value{Unit: u, Better: bt}
	}
}

// group makes the row of a cell of the table.
func (b *builder) group(c *cells.Cell, src *Source) *Group {
	u := b.unit[c.Workload]
	mf := b.labelled(src, c.ModeFacts)
	g := &Group{Origin: c.Origin, OriginLabel: src.OriginLabel, Workload: c.Workload, Params: c.Params,
		ParamOrder: c.ParamOrder, ParamText: paramText(c.Params, c.ParamOrder), Size: c.Size, Mode: c.Mode,
		ModeLabel: mf.Label, ModeFacts: mf, Unit: u.Unit, Better: u.Better,
		Footprint: c.Facts.FootprintBytes, Count: c.Facts.Count, Cells: c.Names, Runs: c.Runs,
		Partial: c.Partial, Short: c.Lost, Oversubscribed: c.Oversubscribed, CPUs: c.CPUs}
	if c.SizeKnown {
		sf := c.SizeFacts
		g.SizeFacts = &sf
	}
	b.order = append(b.order, g)
	if b.modes == nil {
		b.modes, b.modeNames = map[string]result.ModeFacts{}, map[string]string{}
	}
	b.modes[mf.Label], b.modeNames[mf.Label] = mf, c.Mode
	if p := c.WorkloadFacts.FootprintParam; p != "" {
		b.footprintParam[g.Workload] = p
	}
	for _, f := range c.WorkloadFacts.Figures {
		if !slices.Contains(b.figures[g.Workload], f) {
			b.figures[g.Workload] = append(b.figures[g.Workload], f)
		}
	}
	return g
}

// table builds the one cell table of the sources (each its own origin),
// which every later stage reads.
func (b *builder) table() {
	tb := cells.NewBuilder()
	b.input = map[*Source]*cells.Input{}
	for _, src := range b.in.Sources {
		tb.AddDir(src.Dir, src.Origin)
		b.input[src] = tb.Table().Inputs[len(tb.Table().Inputs)-1]
	}
	b.tab = tb.Table()
}

// groupKey identifies a row: origin, workload, parameters, size, mode.
type groupKey struct{ origin, workload, params, size, mode string }

// collect makes one row of each cell of the table of the sources' samples
// and attaches the cell outcomes.
func (b *builder) collect() {
	srcOf := map[string]*Source{}
	for _, src := range b.in.Sources {
		srcOf[src.Dir.Path] = src
	}
	t := b.tab
	for _, c := range t.Cells {
		g := b.group(c, srcOf[c.Dir])
		g.NotPredicted, g.NotPredictedWhy = c.NotPredicted, c.NotPredictedWhy
		g.Values = slices.Clone(c.Values[g.Unit])
		b.r.Samples += len(g.Values)
		if c.Predicted() { // predictions: each paired with its own measured base
			g.paired = c.Paired()
			g.Uncounted = g.paired.Uncounted
			g.ModelBase = c.Bases(g.Unit)
		}
	}
	for _, o := range t.Outcomes {
		src := srcOf[o.Dir]
		c := &o.CellResult
		mf := b.labelled(src, o.Mode)
		out := CellOutcome{Origin: src.OriginLabel, Run: o.Run, Cell: c.Cell, Workload: c.Workload,
			Params: paramText(c.Params, o.ParamOrder), Size: c.Size, Mode: mf.Label, Status: c.Status,
			Reason: c.Reason, ExitCode: c.ExitCode, Stderr: c.Stderr}
		b.addSites(src, o.Dir, c)
		switch c.Status {
		case result.StatusFailed:
			b.r.Failures = append(b.r.Failures, out)
		case result.StatusNA, result.StatusSkipped:
			b.r.NotApplicable = append(b.r.NotApplicable, out)
		}
		if c.LoadNS > 0 && mf.Enclave {
			rec := loadRecord{origin: src.Origin, originLabel: src.OriginLabel, workload: c.Workload,
				params: out.Params, size: c.Size, mode: c.Mode, modeLabel: out.Mode, loadNS: c.LoadNS, heapBytes: -1}
			if h, ok := mf.HeapBytes(c.Extra); ok {
				rec.heapBytes, rec.heapFromExtra = h, true
			} else {
				rec.heapBytes = o.Facts.FootprintBytes
			}
			b.loads = append(b.loads, rec)
		}
	}
	for _, g := range b.order {
		g.Summary = stats.Summarize(g.Values)
		g.nValues = len(g.Values)
		if len(g.ModelBase) != len(g.Values) { // a base for every value, or none
			g.ModelBase = nil
		}
	}
}

func paramText(params map[string]string, order []string) string {
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, k+"="+params[k])
	}
	return strings.Join(parts, " ")
}
