package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/report/plot"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Report is everything the HTML and Markdown renderings show.
type Report struct {
	Generated time.Time
	Options   Options
	Runs      []RunInfo
	LeftOut   []LeftOut
	Notes     []string
	// Origins are the hosts (or runs) figures are labelled with; empty
	// when there is only one.
	Origins   []string
	Modes     []ModeInfo
	Workloads []*WorkloadTable
	Headlines []Headline
	Sizing    []Advice
	Figures   []plot.Figure
	Omitted   []Omission
	Warnings  []Warning
	// WarningGroups are Warnings by kind, those that change a conclusion
	// first.
	WarningGroups []WarningGroup
	Failures      []CellOutcome
	// NotApplicable lists cells that do not apply (na) or were skipped.
	NotApplicable []CellOutcome
	// Samples is the number of samples used.
	Samples int
}

// RunInfo is the metadata of one input run.
type RunInfo struct {
	Dir, ID, Origin              string
	Host, CPU, Microcode, Kernel string
	AzureSize, SGX, EGo          string
	Modes, Profile, CostProfile  string
	// Sizes are the sizes the run planned: with hosts of one name (a
	// fleet of VMs cloned from one image), they tell the runs apart.
	Sizes          string
	Harness, Start string
	Status         result.RunStatus
	Samples, Cells int
}

// ModeInfo says what the figures of a mode are.
type ModeInfo struct {
	Label string
	Kind  result.ModeKind // "" when the run did not say
	Doc   string
	// Cannot says what the mode's figures cannot tell ("" none recorded).
	Cannot string
}

// WorkloadTable is the summary table of one workload.
type WorkloadTable struct {
	Name   string
	Unit   string
	Better string
	Params []string // parameter names in declaration order
	// Figures are the figures the workload asks for (recorded facts).
	Figures []result.FigureRole
	// FootprintParam is the parameter that sets the footprint ("" none).
	FootprintParam string
	Rows           []*Group
}

// Group is the samples of one workload, parameter set, size and mode from
// one origin: one row of a summary table.
type Group struct {
	Origin      string
	OriginLabel string
	Workload    string
	Params      map[string]string
	ParamOrder  []string
	ParamText   string // "ws=0.5xEPC access=seq" ("" without parameters)
	Size        string
	Mode        string // native, sgx, ego-sim, sim
	ModeLabel   string // "sim (model, profile X)" for sim
	// ModeFacts are the recorded facts of the mode (kind, rank, enclave).
	ModeFacts result.ModeFacts
	Unit      string
	Better    string
	Values    []float64
	// ModelNative are the measured bases the sim predictions started
	// from, in Unit (one per sample, when every sample has one).
	ModelNative []float64
	// Paired is the paired summary of a sim group: its predicted slowdown
	// over its own measured base, per repetition, and the events that
	// make it up (nil for other modes).
	Paired   *paired.Cell
	Summary  stats.Summary
	Baseline *Ratio
	Cells    []string
	Runs     []string
	Partial  bool
	// Short is set when samples its cells recorded are missing.
	Short          bool
	Oversubscribed bool
	// CPUs is the fewest CPUs an oversubscribed cell of the group ran on.
	CPUs int
	// SizeFacts are the recorded facts of Size (nil when unknown).
	SizeFacts *result.SizeFacts
	Footprint int64 // enclave memory the workload allocates at this size; -1 unknown
	// Count is the value of the workload's scaling parameter at this size
	// (threads), 0 when none.
	Count int
	Notes []string

	// NotPredicted counts sim samples the model could not predict
	// (Model.CountsOnly: their values are native measurements), left out.
	NotPredicted    int
	NotPredictedWhy string
	// Uncounted names enclave costs its sim predictions leave out
	// (result.Model.Uncounted: a user's Go benchmark's EPC paging); such
	// a group says nothing about which size is needed.
	Uncounted string
	// BaseStrays says how a sim group's measured base strays from the
	// run's native cell ("" when it does not).
	BaseStrays string

	nValues int
	sims    []*result.Sample
}

// Ratio compares an enclave group with its native baseline.
type Ratio struct {
	// Against is AgainstNative (the run's native cell) or AgainstPairs
	// (a sim prediction over its own measured base, repetition by
	// repetition).
	Against string
	// Ratio is enclave/native in the workload's unit, with a conservative
	// 95% interval; CI is false when either median has no interval.
	Ratio, Lo, Hi float64
	CI            bool
	// Slowdown is the ratio in time (throughput ratios inverted): > 1
	// means the enclave is slower.
	Slowdown, SLo, SHi float64
	P                  float64
	N1, N2             int
	Significant        bool
	// Parts are the events a paired (sim) slowdown is made of.
	Parts []paired.Part
	// Paired is the sim group's paired account this ratio came from.
	Paired *paired.Cell
}

// What a Ratio is against.
const (
	AgainstNative = "native"
	AgainstPairs  = "paired base"
)

// Headline summarises one workload in one enclave mode: the geometric
// mean and the range of its slowdowns against native.
type Headline struct {
	Workload, Mode string
	// Compared is the number of cells with a native baseline; Slower and
	// Faster count the significant differences.
	Compared, Slower, Faster int
	GeoMean, Min, Max        float64
	Worst                    string // the cell with the largest slowdown
	// Predicted says the slowdowns are a model's, each over its own
	// paired base, so none can be below 1.
	Predicted bool
	// NoEPC is set for modes whose figures neither measure nor model the
	// EPC (ModeFacts.EPC): their overhead is the runtime's software path
	// only, never a paging or sizing answer.
	NoEPC bool
}

// Significance counts the cells whose slowdown is significant. A model's
// headline has no "faster" to count: a prediction only adds to its base.
func (h Headline) Significance() string {
	if h.Predicted {
		return fmt.Sprintf("%d of %d predicted slower", h.Slower, h.Compared)
	}
	return fmt.Sprintf("%d slower, %d faster of %d", h.Slower, h.Faster, h.Compared)
}

// Advice is the sizing advice for one workload and enclave mode (and one
// footprint, for a workload whose footprint is a parameter).
type Advice struct {
	Workload string
	Mode     string
	Family   string
	// Footprint is the footprint parameter's absolute value this advice
	// is for ("64MiB"); "" when it covers all of the workload's cells.
	Footprint string
	// Size is the smallest size within the tolerance ("" if none).
	Size string
	// Slowdown is the worst median slowdown of the workload's cells at
	// Size (or at the best size when none is within the tolerance), set
	// by the cell Limiting.
	Slowdown float64
	Limiting string
	At       string // the size Slowdown and the headroom refer to
	// EPCMiB is the usable EPC at At (the sim mode's cap: catalog EPC less
	// the enclave's baseline, recorded in run.json); UsableKnown is false
	// when no input run recorded it.
	EPCMiB      float64
	UsableKnown bool
	// FootprintMiB is the largest footprint of the workload's cells at At
	// (arena memory the workload declares); Known is false when unknown.
	FootprintMiB float64
	Known        bool
	HeadroomMiB  float64 // EPCMiB - FootprintMiB
	Tested       []string
	// PerSize is the verdict at each tested size, smallest first.
	PerSize []SizeVerdict
	Note    string
	// Relative is set when the run has only EPC-relative footprints for
	// the workload: Note says what it can and cannot answer, Command is
	// the run that would answer "which size".
	Relative bool
	Command  string
}

// SizeVerdict is a workload's sizing verdict at one size.
type SizeVerdict struct {
	Size string
	// Slowdown is the worst median slowdown at the size (NaN: no cell
	// compared with native), set by the cell Limiting.
	Slowdown float64
	Limiting string
	OK       bool   // within the tolerance
	Reason   string // why the size does not qualify besides its slowdown
	// UsableMiB is the size's usable EPC (UsableKnown), FootprintMiB the
	// cells' footprint (FootprintKnown), HeadroomMiB the difference.
	UsableMiB, FootprintMiB, HeadroomMiB float64
	UsableKnown, FootprintKnown          bool
}

// Omission is a figure that was not drawn and why.
type Omission struct {
	Section string
	Reason  string
}

// Warning is one thing the reader should know about the figures.
type Warning struct {
	Kind    string
	Subject string
	Text    string
}

// CellOutcome is a failed, not applicable or skipped cell.
type CellOutcome struct {
	Origin   string
	Run      string
	Cell     string
	Workload string
	Params   string
	Size     string
	Mode     string
	Status   result.Status
	Reason   string
	ExitCode int
	Stderr   string
}

// Section names of figures.
const (
	SectionCliff       = "cliff"
	SectionFootprint   = "footprint"
	SectionOverhead    = "overhead"
	SectionTransitions = "transitions"
	SectionScaling     = "scaling"
	SectionLoad        = "load"
)

// KindText names the mode's kind in the report: measured, simulation (an
// emulated platform: EGo's simulation mode), model or unknown.
func (m ModeInfo) KindText() string {
	switch m.Kind {
	case result.KindMeasured, result.KindModel:
		return string(m.Kind)
	case result.KindEmulated:
		return "simulation"
	}
	return "unknown"
}

// modeInfo says what the figures of a mode are, from its recorded facts.
func modeInfo(label string, mf result.ModeFacts) ModeInfo {
	kind := mf.Kind
	switch kind {
	case result.KindMeasured, result.KindModel, result.KindEmulated:
	default:
		kind = ""
	}
	return ModeInfo{label, kind, mf.Summary, mf.Cannot}
}

// sizeRank orders sizes by the catalog (unknown sizes last).
var sizeRanks = func() map[string]int {
	m := map[string]int{}
	for i, s := range sizes.All() {
		m[s.Name] = i
	}
	return m
}()

func sizeRank(s string) int {
	if r, ok := sizeRanks[s]; ok {
		return r
	}
	return len(sizeRanks)
}

func lessSize(a, b string) bool {
	ra, rb := sizeRank(a), sizeRank(b)
	if ra != rb {
		return ra < rb
	}
	return a < b
}

// Build computes the report from what Load kept.
func Build(in *Input, o Options) *Report {
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.Alpha <= 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	r := &Report{Generated: o.Now, Options: o, LeftOut: in.LeftOut, Notes: in.Notes}
	b := &builder{r: r, o: o, in: in, figures: map[string][]result.FigureRole{}, footprintParam: map[string]string{}}
	b.sizes = map[string]result.SizeFacts{}
	for _, s := range in.Sources {
		for name, sf := range s.Dir.Facts.Sizes {
			if _, ok := b.sizes[name]; !ok {
				b.sizes[name] = sf
			}
		}
	}
	b.units()
	b.modeVariants()
	b.collect()
	b.baselines()
	b.tables()
	b.runs()
	b.warnings()
	r.WarningGroups = groupWarnings(r.Warnings)
	r.Headlines = headlines(r.Workloads)
	r.Sizing = sizing(r.Workloads, r.Failures, o.Tolerance, b.usableEPC())
	buildFigures(r, b)
	return r
}

type builder struct {
	r     *Report
	o     Options
	in    *Input
	order []*Group
	// unit per workload
	unit map[string]protocol.Value
	// load-time records
	loads []loadRecord
	// the modes seen, by label
	modes map[string]result.ModeFacts
	// the figures each workload asks for, over every source
	figures map[string][]result.FigureRole
	// the footprint parameter of each workload
	footprintParam map[string]string
	// the recorded facts of each size, over every source (the first
	// source that has a size wins)
	sizes map[string]result.SizeFacts
	// variant is the label suffix of a source's mode where runs of that
	// mode measured it otherwise (mode settings, cost profile content);
	// variantNotes say so, one per mode label.
	variant      map[variantKey]string
	variantNotes []Warning
}

type variantKey struct {
	src  *Source
	mode string
}

// modeVariants finds the modes whose runs measured or priced them
// differently: other mode settings (run.json mode_settings: a traced
// enclave, another clock) or another content of the same cost profile.
// Their figures are kept apart under labels that name the difference:
// never pooled, and each compared with native on its own.
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
			mf := cells.ModeFacts(src.Dir, m)
			v := variant{settings: r.ModeSettings[m]}
			if mf.Kind == result.KindModel && r.Profile != nil {
				v.sha = r.Profile.SHA256
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
			"the runs measured %s differently (%s): a different measurement, so their figures are kept apart under these labels, never pooled, and each is compared with native on its own",
			label, strings.Join(texts, "; "))})
	}
}

// modeFacts is cells.ModeFacts with the label of the source's variant of the
// mode (modeVariants).
func (b *builder) modeFacts(src *Source, m string) result.ModeFacts {
	mf := cells.ModeFacts(src.Dir, m)
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

func (b *builder) units() {
	seen := map[string][]protocol.Value{}
	for _, s := range b.in.Sources {
		for i := range s.Dir.Samples {
			x := &s.Dir.Samples[i]
			us := seen[x.Workload]
			for _, v := range x.Values {
				found := false
				for _, u := range us {
					if u.Unit == v.Unit {
						found = true
						break
					}
				}
				if !found {
					us = append(us, protocol.Value{Unit: v.Unit, Better: v.Better})
				}
			}
			seen[x.Workload] = us
		}
	}
	b.unit = map[string]protocol.Value{}
	for w, us := range seen {
		u, bt := result.PrimaryUnit(us)
		b.unit[w] = protocol.Value{Unit: u, Better: bt}
	}
}

// group makes the row of a cell of the table.
func (b *builder) group(c *cells.Cell, src *Source) *Group {
	u := b.unit[c.Workload]
	mf := c.ModeFacts
	mf.Label = b.modeFacts(src, c.Mode).Label
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
		b.modes = map[string]result.ModeFacts{}
	}
	b.modes[mf.Label] = mf
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

// groupKey identifies a row: origin, workload, parameters, size, mode.
type groupKey struct{ origin, workload, params, size, mode string }

// collect makes one row of each cell of the table of the sources' samples
// and attaches the cell outcomes.
func (b *builder) collect() {
	tb := cells.NewBuilder()
	srcOf := map[string]*Source{}
	for _, src := range b.in.Sources {
		tb.AddDir(src.Dir, src.Origin)
		srcOf[src.Dir.Path] = src
	}
	t := tb.Table()
	for _, c := range t.Cells {
		g := b.group(c, srcOf[c.Dir])
		for _, x := range c.Samples {
			if x.Model != nil && x.Model.CountsOnly != "" {
				g.NotPredicted++
				g.NotPredictedWhy = x.Model.CountsOnly
				continue
			}
			if x.Model != nil && x.Model.Uncounted != "" {
				g.Uncounted = x.Model.Uncounted
			}
			v, ok := x.Value(g.Unit)
			if !ok {
				continue
			}
			g.Values = append(g.Values, v.Value)
			if x.Model != nil { // a prediction: paired with its own measured base
				g.sims = append(g.sims, x)
				if bv, ok := paired.BaseValue(x, g.Unit); ok {
					g.ModelNative = append(g.ModelNative, bv)
				}
			}
			b.r.Samples++
		}
	}
	for _, o := range t.Outcomes {
		src := srcOf[o.Dir]
		d := src.Dir
		c := &o.CellResult
		mf := b.modeFacts(src, c.Mode)
		order := result.ParamOrder(d.Facts.Workload(c.Workload).Params, c.Params)
		out := CellOutcome{Origin: src.OriginLabel, Run: o.Run, Cell: c.Cell, Workload: c.Workload,
			Params: paramText(c.Params, order), Size: c.Size, Mode: mf.Label, Status: c.Status,
			Reason: c.Reason, ExitCode: c.ExitCode, Stderr: c.Stderr}
		switch c.Status {
		case result.StatusFailed:
			b.r.Failures = append(b.r.Failures, out)
		case result.StatusNA, result.StatusSkipped:
			b.r.NotApplicable = append(b.r.NotApplicable, out)
		}
		if c.LoadNS > 0 && mf.Enclave {
			rec := loadRecord{origin: src.Origin, originLabel: src.OriginLabel, workload: c.Workload,
				params: out.Params, size: c.Size, mode: c.Mode, modeLabel: out.Mode, loadNS: c.LoadNS, heapBytes: -1}
			if h, ok := heapFromExtra(c.Extra); ok {
				rec.heapBytes, rec.heapFromExtra = h, true
			} else {
				rec.heapBytes = d.Facts.Cell(c.Cell).FootprintBytes
			}
			b.loads = append(b.loads, rec)
		}
	}
	for _, g := range b.order {
		g.Summary = stats.Summarize(g.Values)
		g.nValues = len(g.Values)
		if len(g.ModelNative) != len(g.Values) {
			g.ModelNative = nil
		}
	}
}

// HeapKeys are the CellResult.Extra keys read as the enclave heap size, in
// order. The ego modes record "ego_heap_mb", enclave.json's heapSize: EGo's
// MB are MiB (ego sign writes heapSize*256 pages of 4 KiB).
var HeapKeys = []string{"ego_heap_mb", "heap_bytes", "heap_mib", "heap_mb"}

func heapFromExtra(extra map[string]string) (int64, bool) {
	for _, k := range HeapKeys {
		v, ok := extra[k]
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			continue
		}
		if k != "heap_bytes" {
			f *= 1 << 20
		}
		return int64(f), true
	}
	return 0, false
}

func paramText(params map[string]string, order []string) string {
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, k+"="+params[k])
	}
	return strings.Join(parts, " ")
}

// baselines compares each enclave group with its native baseline.
func (b *builder) baselines() {
	native := map[groupKey]*Group{}
	key := func(g *Group) groupKey { return groupKey{g.Origin, g.Workload, g.ParamText, g.Size, ""} }
	for _, g := range b.order {
		if !g.ModeFacts.Enclave {
			native[key(g)] = g
		}
	}
	for _, g := range b.order {
		if !g.ModeFacts.Enclave || len(g.Values) == 0 {
			continue
		}
		// A sim figure is its own measured base plus priced events: its
		// slowdown comes from those pairs, never from the native cell,
		// which another process measured.
		if g.ModeFacts.Kind == result.KindModel {
			if c := paired.Summarize(g.sims); c.N > 0 {
				g.Paired = &c
				g.Baseline = pairedRatio(c, g.Better)
			} else {
				g.Notes = append(g.Notes, "no paired base")
			}
			if n := native[key(g)]; n != nil && len(n.Values) > 0 && len(g.ModelNative) > 0 {
				g.BaseStrays = baseStrays(n.Values, g.ModelNative, g.Unit, b.o)
			}
			continue
		}
		// The native cell measured in the same run is the baseline.
		var base []float64
		against := AgainstNative
		if n := native[key(g)]; n != nil && len(n.Values) > 0 {
			base = n.Values
		}
		if base == nil {
			g.Notes = append(g.Notes, "no native baseline")
			continue
		}
		g.Baseline = compare(base, g.Values, g.Summary, g.Better, b.o.Alpha)
		g.Baseline.Against = against
	}
}

// baseStrays says how a sim group's measured bases differ from the run's
// native cell, when they differ significantly and by more than the
// tolerance ("" otherwise): the emulation then changes the workload, and
// a prediction over that base is not a prediction over native.
func baseStrays(native, base []float64, unit string, o Options) string {
	ns, bs := stats.Summarize(native), stats.Summarize(base)
	if !(ns.Center > 0) || !(bs.Center > 0) {
		return ""
	}
	r := bs.Center / ns.Center
	if r <= 1+o.Tolerance && r >= 1/(1+o.Tolerance) || !stats.Compare(native, base, o.Alpha).Significant {
		return ""
	}
	return fmt.Sprintf("the sim pass measured a median of %s %s against the native cell's %s %s (%.2fx, beyond the %s tolerance): the emulation changed this workload or the host's load changed between the two processes; the predicted slowdown is over the sim pass's own base, not over the native cell",
		fmtNum(bs.Center), unit, fmtNum(ns.Center), unit, r, fmtPct(o.Tolerance))
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

// tables sorts the groups into one table per workload.
func (b *builder) tables() {
	by := map[string]*WorkloadTable{}
	for _, g := range b.order {
		t := by[g.Workload]
		if t == nil {
			t = &WorkloadTable{Name: g.Workload, Unit: g.Unit, Better: g.Better, Figures: b.figures[g.Workload], FootprintParam: b.footprintParam[g.Workload]}
			by[g.Workload] = t
			b.r.Workloads = append(b.r.Workloads, t)
		}
		t.Rows = append(t.Rows, g)
		if len(g.ParamOrder) > len(t.Params) {
			t.Params = g.ParamOrder
		}
	}
	sort.Slice(b.r.Workloads, func(i, j int) bool { return b.r.Workloads[i].Name < b.r.Workloads[j].Name })
	for _, t := range b.r.Workloads {
		sort.SliceStable(t.Rows, func(i, j int) bool { return lessGroup(t.Rows[i], t.Rows[j]) })
	}
	for label, mf := range b.modes {
		b.r.Modes = append(b.r.Modes, modeInfo(label, mf))
	}
	sort.Slice(b.r.Modes, func(i, j int) bool {
		mi, mj := b.modes[b.r.Modes[i].Label], b.modes[b.r.Modes[j].Label]
		if mi.Rank != mj.Rank {
			return mi.Rank < mj.Rank
		}
		return b.r.Modes[i].Label < b.r.Modes[j].Label
	})
	b.r.Origins = nil
	for _, l := range originLabels(b.in.Sources) {
		if l != "" {
			b.r.Origins = append(b.r.Origins, l)
		}
	}
}

// lessGroup orders rows: parameters (natural order), size (catalog
// order), origin, mode (native first).
func lessGroup(a, b *Group) bool {
	if c := compareParams(a, b); c != 0 {
		return c < 0
	}
	if a.Size != b.Size {
		return lessSize(a.Size, b.Size)
	}
	if a.OriginLabel != b.OriginLabel {
		return a.OriginLabel < b.OriginLabel
	}
	if a.ModeFacts.Rank != b.ModeFacts.Rank {
		return a.ModeFacts.Rank < b.ModeFacts.Rank
	}
	return a.ModeLabel < b.ModeLabel
}

func compareParams(a, b *Group) int {
	for _, k := range a.ParamOrder {
		va, vb := a.Params[k], b.Params[k]
		if va == vb {
			continue
		}
		return compareValues(va, vb)
	}
	return strings.Compare(a.ParamText, b.ParamText)
}

// compareValues orders parameter values naturally: multiples of the EPC,
// then byte counts and numbers by magnitude, then text.
func compareValues(a, b string) int {
	ka, na := valueRank(a)
	kb, nb := valueRank(b)
	if ka != kb {
		return ka - kb
	}
	if ka < 3 && na != nb {
		if na < nb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func valueRank(v string) (int, float64) {
	if f, ok := strings.CutSuffix(v, "xEPC"); ok {
		if x, err := strconv.ParseFloat(f, 64); err == nil {
			return 0, x
		}
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		return 1, x
	}
	if n, ok := result.ByteCount(v); ok {
		return 2, float64(n)
	}
	return 3, 0
}

// runs lists the metadata of every input run.
// usableEPC is the usable EPC per size the input runs recorded (the
// smallest where runs disagree: the baseline differs between hosts).
func (b *builder) usableEPC() map[string]int64 {
	out := map[string]int64{}
	for _, s := range b.in.Sources {
		if p := s.Dir.Run.Profile; p != nil {
			for size, v := range p.UsableEPC {
				if old, ok := out[size]; !ok || v < old {
					out[size] = v
				}
			}
		}
	}
	return out
}

func (b *builder) runs() {
	for _, s := range b.in.Sources {
		r := &s.Dir.Run
		h := r.Host
		ego := h.EGo.Describe()
		sgx := "no SGX"
		switch {
		case h.SGX.SGX2:
			sgx = "SGX2"
		case h.SGX.SGX1:
			sgx = "SGX1"
		}
		if h.SGX.SGX1 || h.SGX.SGX2 {
			sgx += fmt.Sprintf(", EPC %s", fmtMiB(float64(h.SGX.EPCBytes)/(1<<20)))
			if !h.SGX.Usable {
				sgx += ", no enclave device"
			}
		}
		cost := ""
		if p := r.Profile; p != nil {
			cost = p.Name
			if p.Version > 0 {
				cost += fmt.Sprintf("/v%d", p.Version)
			}
			if p.Source != "" {
				cost += " (" + p.Source + ")"
			}
		}
		harness := r.HarnessVersion
		if r.HarnessCommit != "" {
			harness += " (" + shortCommit(r.HarnessCommit) + ")"
		}
		azure := h.AzureSize
		if azure == "" && h.AzureNote != "" {
			azure = "unknown: " + h.AzureNote
		}
		b.r.Runs = append(b.r.Runs, RunInfo{
			Dir: s.Path, ID: r.ID, Origin: s.OriginLabel, Host: h.Hostname, CPU: textfmt.OneLine(h.CPUModel),
			Microcode: h.Microcode, Kernel: textfmt.OneLine(h.Kernel), AzureSize: azure, SGX: sgx, EGo: ego,
			Modes: strings.Join(r.Plan.Modes, ", "), Sizes: strings.Join(r.Plan.Sizes, ", "), Profile: r.Plan.Profile, CostProfile: cost, Harness: harness,
			Start: r.Start.UTC().Format("2006-01-02 15:04:05Z"), Status: r.Status,
			Samples: len(s.Dir.Samples), Cells: len(s.Dir.Cells),
		})
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// warnings collects what the reader should know.
func (b *builder) warnings() {
	w := &b.r.Warnings
	add := func(kind, subject, text string) { *w = append(*w, Warning{kind, subject, text}) }
	for _, l := range b.in.LeftOut {
		add("left out", l.Dir, l.Reason)
	}
	for _, n := range b.in.Notes {
		if slices.Contains(b.in.ShortNotes, n) {
			add("samples lost", "", n)
			continue
		}
		add("input", "", n)
	}
	hosts := map[string]bool{}
	for _, s := range b.in.Sources {
		r := &s.Dir.Run
		h := r.Host
		hosts[strings.Join([]string{h.Hostname, h.CPUModel, h.Microcode, h.Kernel, h.AzureSize}, "\x00")] = true
		switch r.Status {
		case result.RunComplete, "":
		default:
			add("run", s.Path, fmt.Sprintf("run %s is %s: some cells may be missing", r.ID, r.Status))
		}
	}
	*w = append(*w, b.variantNotes...)
	if b.o.Merge == MergeAll && len(hosts) > 1 {
		add("merge", "", fmt.Sprintf("--merge all pooled samples from %d different hosts: figures mix machines", len(hosts)))
	}
	type oversub struct{ origin, size string }
	over := map[oversub][]*Group{}
	var overKeys []oversub
	for _, t := range b.r.Workloads {
		for _, g := range t.Rows {
			subj := g.subject()
			if len(g.Runs) > 1 {
				add("pooled", subj, fmt.Sprintf("samples pooled from %d runs on the same host (%s)", len(g.Runs), strings.Join(g.Runs, ", ")))
			}
			if g.Uncounted != "" {
				add("uncounted", subj, "the prediction does not count "+g.Uncounted+": left out of the sizing advice")
			}
			if g.NotPredicted > 0 {
				add("not predicted", subj, fmt.Sprintf("%d sim sample(s) could not be predicted (%s): their values are native measurements, left out", g.NotPredicted, g.NotPredictedWhy))
				g.Notes = append(g.Notes, fmt.Sprintf("%d not predicted", g.NotPredicted))
			}
			if g.Summary.N == 0 {
				add("no samples", subj, "no samples in the unit "+g.Unit)
				g.Notes = append(g.Notes, "no samples")
				continue
			}
			if g.Summary.N < 6 {
				add("few samples", subj, fmt.Sprintf("%d samples: at least 6 are needed for a 95%% confidence interval, 4 to detect a change; use more --reps", g.Summary.N))
				g.Notes = append(g.Notes, "few samples")
			}
			if g.Summary.Outliers > 0 {
				add("outliers", subj, fmt.Sprintf("%d outlier(s) beyond 1.5 IQR", g.Summary.Outliers))
				g.Notes = append(g.Notes, fmt.Sprintf("%d outlier(s)", g.Summary.Outliers))
			}
			if g.Oversubscribed {
				k := oversub{g.OriginLabel, g.Size}
				if over[k] == nil {
					overKeys = append(overKeys, k)
				}
				over[k] = append(over[k], g)
				g.Notes = append(g.Notes, "oversubscribed")
			}
			if g.Partial {
				add("partial", subj, "samples from an attempt that did not finish (bench run --resume completes it)")
				g.Notes = append(g.Notes, "partial")
			}
			if g.Short {
				g.Notes = append(g.Notes, "samples lost")
			}
			if g.BaseStrays != "" {
				add("base strays", subj, g.BaseStrays)
				g.Notes = append(g.Notes, "base strays")
			}
			switch g.ModeFacts.Kind {
			case result.KindEmulated:
				g.Notes = append(g.Notes, "not hardware")
			case result.KindModel:
				g.Notes = append(g.Notes, "predicted")
			}
			if g.ModeFacts.Enclave && !g.ModeFacts.EPC() {
				g.Notes = append(g.Notes, "no EPC limit")
			}
		}
	}
	for _, k := range overKeys {
		gs := over[k]
		vcpus := "its"
		if sz := gs[0].SizeFacts; sz != nil {
			vcpus = strconv.Itoa(sz.VCPUs)
		}
		cpus := "fewer"
		if n := gs[0].CPUs; n > 0 {
			cpus = "only " + strconv.Itoa(n)
		}
		subj := k.size
		if k.origin != "" {
			subj += " @ " + k.origin
		}
		add("oversubscribed", subj, fmt.Sprintf("%d group(s) ran on %s CPU(s) for the size's %s vCPUs (the host has fewer CPUs): their figures do not represent the size", len(gs), cpus, vcpus))
	}
	for _, f := range b.r.Failures {
		add("failed", f.Cell, textfmt.FirstLine(f.Reason))
	}
	noEPC := map[string]bool{}
	for _, g := range b.order {
		if g.ModeFacts.Enclave && !g.ModeFacts.EPC() && !noEPC[g.ModeLabel] {
			noEPC[g.ModeLabel] = true
			why := g.ModeFacts.Cannot
			if why == "" {
				why = "the run records that this mode neither measures nor models the EPC"
			}
			add("no EPC", g.ModeLabel, why+"; so the sizing advice and the EPC cliff leave it out, and its overhead is the enclave runtime's software path only")
		}
	}
}

func (g *Group) subject() string {
	s := g.Workload
	if g.ParamText != "" {
		s += " " + g.ParamText
	}
	s += " " + g.Size + " " + g.ModeLabel
	if g.OriginLabel != "" {
		s += " @ " + g.OriginLabel
	}
	return s
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
