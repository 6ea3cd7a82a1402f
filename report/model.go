package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
	"github.com/enclavebench/enclavebench/bench/stats"
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
	// Sites are the sim cells' profiles: where the predicted extra time
	// comes from, by Go call site and EPC region.
	Sites    []CellSites
	Failures []CellOutcome
	// NotApplicable lists cells that do not apply (na) or were skipped.
	NotApplicable []CellOutcome
	// Samples is the number of samples used.
	Samples int
	// Baseline is the label of the mode enclave figures are compared with
	// (the runs' recorded facts.baseline: native), which the report's
	// prose names; BaselineMode is its recorded name, which the commands
	// the report suggests pass to --modes.
	Baseline, BaselineMode string
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
	Name  string // the mode's name (on the command line, in cell keys)
	Label string
	Kind  result.ModeKind // "" when the run did not say
	Doc   string
	// Cannot says what the mode's figures cannot tell ("" none recorded).
	Cannot string
	// Note is the line (Markdown) printed above the tables so that no
	// reader takes the figures for hardware measurements
	// (result.ModeFacts.FigureNote; "" for measured modes).
	Note string
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
	// ModelBase are the measured bases a model's predictions started
	// from, in Unit (one per sample, when every sample has one).
	ModelBase []float64
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
	// (Model.CountsOnly: their values are unpriced measurements), left out.
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
	// paired is the cell table's paired account of the group's sim
	// predictions (cells.Cell.Paired; N is 0 for other groups).
	paired paired.Cell
}

// Ratio compares an enclave group with its native baseline.
type Ratio struct {
	// Against is AgainstBaseline (the run's cell in the baseline mode,
	// native) or AgainstPairs
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
	AgainstBaseline = "baseline"
	AgainstPairs    = "paired base"
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

// modelModes names the report's modes of kind model, in rank order ("sim",
// "sim, toy"); "" when there are none.
func modelModes(r *Report) string {
	if m := modeNames(r, result.KindModel); m != string(result.KindModel) {
		return m
	}
	return ""
}

// modeNames are the names of the report's modes of kind k, in rank order,
// each once ("model" when there are none).
func modeNames(r *Report, k result.ModeKind) string {
	var names []string
	for _, m := range r.Modes {
		if m.Kind == k && !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		return string(k)
	}
	return strings.Join(names, ", ")
}

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
func modeInfo(name, label string, mf result.ModeFacts) ModeInfo {
	kind := mf.Kind
	switch kind {
	case result.KindMeasured, result.KindModel, result.KindEmulated:
	default:
		kind = ""
	}
	return ModeInfo{Name: name, Label: label, Kind: kind, Doc: mf.Summary, Cannot: mf.Cannot, Note: mf.FigureNote(name)}
}

// baselineMode is the mode enclave figures are compared with: its name
// (in commands) and its label (in prose).
type baselineMode struct{ name, label string }

// baseline is the baseline mode the sources' facts name
// (result.Facts.Baseline), labelled as their recorded mode facts label it.
func (b *builder) baseline() baselineMode {
	var m baselineMode
	for _, s := range b.in.Sources {
		if m.name = b.input[s].Baseline; m.name != "" {
			break
		}
	}
	for _, s := range b.in.Sources {
		if mf, ok := b.input[s].Modes[m.name]; ok && mf.Label != "" {
			m.label = mf.Label
			break
		}
	}
	m.label = cmp.Or(m.label, m.name, "the baseline")
	return m
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
	b := &builder{r: r, o: o, in: in, figures: map[string][]result.FigureRole{}, footprintParam: map[string]string{},
		siteCells: map[string]CellSites{}, siteAttempt: map[string]int{}}
	b.table()
	b.sizes = map[string]result.SizeFacts{}
	for _, s := range in.Sources {
		for name, sf := range b.input[s].Sizes {
			if _, ok := b.sizes[name]; !ok {
				b.sizes[name] = sf
			}
		}
	}
	b.sizeOrder = newSizeOrder(b.sizes)
	base := b.baseline()
	r.Baseline, r.BaselineMode = base.label, cmp.Or(base.name, base.label)
	b.units()
	b.modeVariants()
	b.collect()
	b.sites()
	b.baselines()
	b.tables()
	b.runs()
	b.warnings()
	r.WarningGroups = groupWarnings(r.Warnings, strings.NewReplacer("{model}", modeNames(r, result.KindModel), "{baseline}", r.Baseline))
	r.Headlines = headlines(r.Workloads)
	r.Sizing = sizing(r.Workloads, r.Failures, o.Tolerance, b.usableEPC(), base)
	buildFigures(r, b)
	return r
}

type builder struct {
	r *Report
	// sim cells' profiles by origin and cell, and the attempt each is of
	siteCells   map[string]CellSites
	siteAttempt map[string]int
	o           Options
	in          *Input
	// tab is the cell table of the sources
	tab *cells.Table
	// input is each source's input of the table
	input map[*Source]*cells.Input
	order []*Group
	// unit per workload
	unit map[string]protocol.Value
	// load-time records
	loads []loadRecord
	// the modes seen, by label, and the name of each label's mode
	modes     map[string]result.ModeFacts
	modeNames map[string]string
	// the figures each workload asks for, over every source
	figures map[string][]result.FigureRole
	// the footprint parameter of each workload
	footprintParam map[string]string
	// the recorded facts of each size, over every source (the first
	// source that has a size wins)
	sizes     map[string]result.SizeFacts
	sizeOrder sizeOrder
	// variant is the label suffix of a source's mode where runs of that
	// mode measured it otherwise (mode settings, cost profile content);
	// variantNotes say so, one per mode label.
	variant      map[variantKey]string
	variantNotes []Warning
}
