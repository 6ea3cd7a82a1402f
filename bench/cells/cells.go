// Package cells builds the one table every reader of results reads: the run
// summary of bench run, bench report, bench compare and bench export. A
// Builder takes result directories (result.Load, one attempt selected per
// cell) and groups their records into cells keyed by a comparable Key
// derived from each record's own fields; a cell holds its samples, their
// values by unit (bench.txt's units: the figures, then events per
// operation), its sim pairs, its outcomes and the facts the run recorded
// about it. Readers summarise cells; none groups samples again.
//
// This follows benchstat's benchtab.Builder (golang.org/x/perf/cmd/benchstat),
// which builds one table from benchfmt results that every output format
// reads.
package cells

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchunit"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Key identifies a cell. Params is the canonical form of the parameters
// (name=value pairs sorted by name, joined by "/"), so the key does not
// depend on the order a record wrote them in.
type Key struct {
	// Origin is the pool the cell belongs to when a reader keeps several
	// inputs apart (the report's hosts); "" when everything is pooled.
	Origin   string
	Workload string
	Params   string
	Size     string
	Mode     string
	// Profile is the cost profile that priced a model's figures
	// ("name/vN"); "" for measured figures. Figures priced by two
	// profiles are two cells.
	Profile string
	// Variant is how the run set the mode up: its recorded mode settings
	// (run.json mode_settings, "k=v,..." sorted; "" when none were
	// recorded) and, for priced figures, the cost profile's content
	// digest. Figures measured or priced otherwise are other cells.
	Variant string
	// Name is the benchmark name of a cell read from a file in the Go
	// benchmark format, which has names only (AddBenchfmt); "" for cells
	// of result directories, keyed by their records' fields.
	Name string
}

// CanonicalParams is the Params of a Key for params.
func CanonicalParams(params map[string]string) string {
	names := slices.Sorted(maps.Keys(params))
	for i, k := range names {
		names[i] = k + "=" + params[k]
	}
	return strings.Join(names, "/")
}

// Cell is one row of the table: the samples of one workload, parameter set,
// size, mode (and origin) pooled over the runs added.
type Cell struct {
	Key
	// Name is the benchmark name (without "Benchmark") the cell's first
	// record carries: Workload/param=value/.../size=S/mode=M.
	Name string
	// Dir is the directory of the first run added that holds the cell
	// (the file's name for AddBenchfmt); Line is, in a file, the line of
	// the cell's first result.
	Dir  string
	Line int
	// Names are every record name pooled into the cell, sorted.
	Names []string
	// Params are the parameters; ParamOrder their declared order (the
	// recorded facts).
	Params     map[string]string
	ParamOrder []string
	// Runs are the IDs of the runs with samples in the cell, sorted;
	// RunSamples counts its samples per run, and CountValues is, per run,
	// how many independent values of each counting pass event a counted
	// cell has (result.Counts.PerCellValues; bench.txt's
	// enclavebench-count-values).
	Runs        []string
	RunSamples  map[string]int
	CountValues map[string]int
	// samples are the selected samples, in the order they were read:
	// unexported so that readers take what the cell offers (Values,
	// Figures, NotPredicted, Paired, Bases) and none groups samples again.
	samples []*result.Sample
	// Units are the units of Values in order of first appearance: each
	// sample's figures, then its events per operation (result.EventUnits).
	Units []string
	// Values holds one value per sample that has the unit.
	Values map[string][]float64
	// Figures are the units of the samples' figures (result.Sample.Figures)
	// and which way each is better, in order of first appearance; their
	// Value is 0. PrimaryUnit picks the cell's headline unit among them.
	Figures []protocol.Value
	// NotPredicted counts the samples a model could not predict
	// (result.Sample.NotPredicted), which have no figures in Values;
	// NotPredictedWhy is the first one's reason.
	NotPredicted    int
	NotPredictedWhy string
	// ModeFacts and WorkloadFacts are the recorded facts of the cell's
	// mode and workload, Facts those of the cell itself (footprint,
	// count), all from the first run added that holds the cell.
	ModeFacts     result.ModeFacts
	WorkloadFacts result.WorkloadFacts
	Facts         result.CellFacts
	// SizeFacts are the recorded facts of the cell's size (vCPUs, EPC,
	// family); SizeKnown is false when the run has none for it.
	SizeFacts result.SizeFacts
	SizeKnown bool
	// Partial is set when samples come from an attempt that did not
	// finish; Lost when samples a run recorded for the cell are missing.
	Partial, Lost bool
	// Oversubscribed is set when an attempt whose samples are used ran
	// with more vCPUs than host CPUs; CPUs is then the fewest CPUs it had.
	Oversubscribed bool
	CPUs           int
	// Flaws say why the cell's values are suspect (result.Flaws; in a Go
	// benchmark format file, its enclavebench-flaw configuration).
	Flaws []Flaw
	// Settings are the recorded settings of the cell's mode
	// (result.SettingsText), ProfileDigest the content digest of the cost
	// profile that priced its figures; "" when none were recorded.
	Settings, ProfileDigest string
	// Priced is set when the cell's figures are a model's, priced by a
	// cost profile: its samples carry a model, or the run recorded its
	// mode's kind as a model.
	Priced bool

	names, runs map[string]bool
}

// Outcome is a cell's latest recorded outcome in one run.
type Outcome struct {
	result.CellResult
	// Run is the run's ID, Dir its directory.
	Run, Dir string
	// Row is the table's cell the outcome belongs to (nil when no run
	// added has samples of it).
	Row *Cell
	// Sampled is set when the run's samples of the cell are in the table.
	Sampled bool
	// Mode are the facts of the outcome's mode in its run, Facts those of
	// its cell; ParamOrder its parameters in their declared order.
	Mode       result.ModeFacts
	Facts      result.CellFacts
	ParamOrder []string
}

// Table is the cells of the runs added, in order of their first sample,
// then the cells with outcomes only, by name.
type Table struct {
	Cells []*Cell
	// Outcomes are the latest outcome of each cell of each run, run by
	// run in the order added, by cell name within a run.
	Outcomes []*Outcome
	// Samples counts the samples in the table.
	Samples int
	// Runs, CPUs and Sides are the IDs of the runs added, the CPU models
	// they ran on and the --baseline sides they were recorded as, in the
	// order added.
	Runs, CPUs, Sides []string
	// Units holds what the inputs say of units: their direction
	// ("better"; keyed by the unit as benchfmt tidies it), and in a Go
	// benchmark format file whatever else its Unit lines say (the last
	// input's where two say otherwise; Inputs keeps each one's).
	Units benchfmt.UnitMetadataMap
	// Inputs are the result directories and files added, in order.
	Inputs []*Input

	index map[Key]*Cell
}

// Input is a result directory or a Go benchmark format file added to a
// table, with what a reader pooling several needs to check them against
// each other and to say what each left out.
type Input struct {
	// Name is the directory's path or the file's name.
	Name string
	// Runs are the IDs of the runs it holds.
	Runs []string
	// Units are the units of its values, in order of first appearance,
	// and what it says of them (as Table.Units).
	Units    []string
	UnitMeta benchfmt.UnitMetadataMap
	// LeftOut are its records left out (bad lines, duplicates).
	LeftOut []error
	// Modes are the recorded facts of each mode a result directory's run
	// planned or described (labelled with the mode's name where the facts
	// have none; a planned mode without facts is unknown, ranked after the
	// others); nil for a file.
	Modes map[string]result.ModeFacts
	// Unsampled are the flaws of its cells that have no samples in it.
	Unsampled []Flaw
	// What a result directory's run recorded of itself, which readers
	// show beside its cells (zero for a file): its baseline mode
	// (facts.baseline), the facts of each size it used (the frozen
	// catalog of its schema for old runs), its --rounds, why it has no
	// counting pass and the CPU features Valgrind hid from the counted
	// workload (result.Counts), the cells whose samples come from an
	// unfinished attempt and those short of the samples the run recorded
	// (result.Dir.Partial, result.Dir.Short).
	Baseline     string
	Sizes        map[string]result.SizeFacts
	Rounds       int
	NoCounts     string
	CountsHidden []string
	Partial      []string
	Short        []result.ShortCell
}

// Flaw says why the values of a cell of an input are suspect.
type Flaw struct {
	Input, Cell, Why string
}

// input starts a new input of the table.
func (b *Builder) input(name string) *Input {
	in := &Input{Name: name, UnitMeta: benchfmt.UnitMetadataMap{}}
	b.t.Inputs = append(b.t.Inputs, in)
	return in
}

// see records that the input has values in unit.
func (in *Input) see(unit string) {
	if !slices.Contains(in.Units, unit) {
		in.Units = append(in.Units, unit)
	}
}

// Cell returns the cell with key k, or nil.
func (t *Table) Cell(k Key) *Cell { return t.index[k] }

// Builder builds a Table.
type Builder struct{ t *Table }

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	return &Builder{t: &Table{index: map[Key]*Cell{}, Units: benchfmt.UnitMetadataMap{}}}
}

// Table returns the table built so far.
func (b *Builder) Table() *Table { return b.t }

// FromDir is the table of one result directory.
func FromDir(d *result.Dir) *Table {
	b := NewBuilder()
	b.AddDir(d, "")
	return b.Table()
}

// profileName is the "name/vN" of the run's cost profile, "" without one.
func profileName(r *result.Run) string {
	if p := r.Profile; p != nil {
		return fmt.Sprintf("%s/v%d", p.Name, p.Version)
	}
	return ""
}

// dirFacts is what the table takes from a result directory about all its
// cells, read once when the directory is added (so that adding a sample
// looks nothing up in bench/result): the facts of each mode and its
// recorded settings, the cost profile, the counting pass, each cell's
// facts and parameter order, and the flaws.
type dirFacts struct {
	d      *result.Dir
	origin string
	// modes are the recorded facts of every mode the run planned or
	// described, labelled (Input.Modes).
	modes map[string]result.ModeFacts
	// settings are each mode's recorded settings (result.SettingsText).
	settings map[string]string
	// profile is the cost profile's "name/vN" and digest ("" without one).
	profile, digest string
	// countValues is how many values of each counting pass event a
	// counted cell has (result.Counts.PerCellValues).
	countValues int
	// cells are the facts of each cell, by name, of the samples and the
	// outcomes; flaws say why a cell's values are suspect (result.Flaws).
	cells map[string]cellFacts
	flaws map[string]string
}

// cellFacts are a cell's recorded facts and its parameters' declared order.
type cellFacts struct {
	facts result.CellFacts
	order []string
}

// readDir reads the facts of d that every cell of it shares.
func readDir(d *result.Dir, origin string) *dirFacts {
	f := &dirFacts{d: d, origin: origin, modes: map[string]result.ModeFacts{}, settings: map[string]string{},
		profile: profileName(&d.Run), countValues: d.Run.Counts.PerCellValues()}
	for m, mf := range d.Facts.Modes {
		if mf.Label == "" {
			mf.Label = m
		}
		f.modes[m] = mf
	}
	for _, m := range d.Run.Plan.Modes {
		f.modes[m] = f.mode(m)
	}
	for m, set := range d.Run.ModeSettings {
		f.settings[m] = result.SettingsText(set)
	}
	if p := d.Run.Profile; p != nil {
		f.digest = p.Digest
	}
	f.cells = map[string]cellFacts{}
	describe := func(name, workload string, params map[string]string) {
		if _, ok := f.cells[name]; !ok {
			f.cells[name] = cellFacts{d.Facts.Cell(name), result.ParamOrder(d.Facts.Workloads[workload].Params, params)}
		}
	}
	for i := range d.Samples {
		x := &d.Samples[i]
		describe(x.Cell, x.Workload, x.Params)
	}
	for name, cr := range d.Cells {
		describe(name, cr.Workload, cr.Params)
	}
	f.flaws = result.Flaws(d)
	return f
}

// mode is the facts of mode m; a mode the run did not describe is
// unknown, ranked after the others.
func (f *dirFacts) mode(m string) result.ModeFacts {
	if mf, ok := f.modes[m]; ok {
		return mf
	}
	return result.ModeFacts{Rank: 4, Enclave: true, Label: m, Summary: "a mode this report does not know"}
}

// key is the table key of a record with these fields; priced says the
// record's figures are a model's (priced by the run's cost profile).
func (f *dirFacts) key(workload string, params map[string]string, size, mode string, priced bool) Key {
	k := Key{Origin: f.origin, Workload: workload, Params: CanonicalParams(params), Size: size, Mode: mode}
	digest := ""
	if priced {
		k.Profile, digest = f.profile, f.digest
	}
	k.Variant = variantText(f.settings[mode], digest)
	return k
}

// variantText is Key.Variant of mode settings and a cost profile's digest.
func variantText(settings, profileDigest string) string {
	if profileDigest != "" {
		return settings + ";profile-sha256=" + profileDigest
	}
	return settings
}

// cell returns the cell for k, creating it from a record of f's directory
// named name.
func (b *Builder) cell(f *dirFacts, k Key, name string, params map[string]string) *Cell {
	c := b.t.index[k]
	if c == nil {
		d := f.d
		cf := f.cells[name]
		c = &Cell{Key: k, Name: name, Dir: d.Path, Params: params, ParamOrder: cf.order,
			Values: map[string][]float64{}, ModeFacts: f.mode(k.Mode), WorkloadFacts: d.Facts.Workloads[k.Workload], Facts: cf.facts,
			Settings: f.settings[k.Mode], names: map[string]bool{}, runs: map[string]bool{}}
		c.SizeFacts, c.SizeKnown = d.Facts.Sizes[k.Size]
		if k.Profile != "" {
			c.ProfileDigest = f.digest
		}
		c.Priced = k.Profile != "" || c.ModeFacts.Kind == result.KindModel
		b.t.index[k] = c
		b.t.Cells = append(b.t.Cells, c)
	}
	if !c.names[name] {
		c.names[name] = true
		c.Names = append(c.Names, name)
		sort.Strings(c.Names)
	}
	return c
}

// AddDir adds the selected samples and latest outcomes of d to the table,
// in the pool origin.
func (b *Builder) AddDir(d *result.Dir, origin string) {
	f := readDir(d, origin)
	b.addRun(d)
	in := b.input(d.Path)
	if d.Run.ID != "" {
		in.Runs = []string{d.Run.ID}
	}
	in.LeftOut, in.Modes = d.Problems, f.modes
	in.Baseline, in.Sizes, in.Rounds = d.Facts.Baseline, d.Facts.Sizes, d.Run.Plan.Rounds
	if c := d.Run.Counts; c != nil {
		in.NoCounts, in.CountsHidden = c.Unavailable, c.CPUHidden
	}
	in.Partial, in.Short = d.Partial, d.Short
	byName := map[string]*Cell{}
	for i := range d.Samples {
		x := &d.Samples[i]
		c := byName[x.Cell]
		if c == nil {
			c = b.cell(f, f.key(x.Workload, x.Params, x.Size, x.Mode, x.Model != nil), x.Cell, x.Params)
			if x.Model != nil {
				c.Priced = true
			}
			byName[x.Cell] = c
			if d.Run.ID != "" && !c.runs[d.Run.ID] {
				c.runs[d.Run.ID] = true
				c.Runs = append(c.Runs, d.Run.ID)
				sort.Strings(c.Runs)
			}
		}
		for _, u := range c.add(x) {
			in.see(u)
		}
		c.addRunSample(d.Run.ID, f.countValues)
		for _, v := range x.Figures() {
			b.t.unit(in, v)
		}
		b.t.Samples++
	}
	for _, p := range d.Partial {
		if c := byName[p]; c != nil {
			c.Partial = true
		}
	}
	for _, s := range d.Short {
		if c := byName[s.Cell]; c != nil && s.Lost() {
			c.Lost = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(f.flaws)) {
		fl := Flaw{Input: d.Path, Cell: name, Why: f.flaws[name]}
		if c := byName[name]; c != nil {
			c.Flaws = append(c.Flaws, fl)
		} else {
			in.Unsampled = append(in.Unsampled, fl)
		}
	}
	names := slices.Sorted(maps.Keys(d.Cells))
	for _, name := range names {
		cr := d.Cells[name]
		cf := f.cells[name]
		o := &Outcome{CellResult: cr, Run: d.Run.ID, Dir: d.Path, Mode: f.mode(cr.Mode), Facts: cf.facts, ParamOrder: cf.order}
		if c := byName[name]; c != nil {
			o.Row, o.Sampled = c, true
			if cr.Oversubscribed {
				if !c.Oversubscribed || cr.CPUs > 0 && cr.CPUs < c.CPUs {
					c.CPUs = cr.CPUs
				}
				c.Oversubscribed = true
			}
		} else {
			if c := b.t.index[f.key(cr.Workload, cr.Params, cr.Size, cr.Mode, false)]; c != nil {
				o.Row = c
			} else if o.Mode.Kind == result.KindModel {
				// A model cell without samples: keyed as its samples would be.
				o.Row = b.t.index[f.key(cr.Workload, cr.Params, cr.Size, cr.Mode, true)]
			}
		}
		b.t.Outcomes = append(b.t.Outcomes, o)
	}
}

// addRun records the run of d: its ID, CPU model and side.
func (b *Builder) addRun(d *result.Dir) {
	t := b.t
	if cpu := textfmt.OneLine(d.Run.Host.CPUModel); cpu != "" && !slices.Contains(t.CPUs, cpu) {
		t.CPUs = append(t.CPUs, cpu)
	}
	if id := d.Run.ID; id != "" && !slices.Contains(t.Runs, id) {
		t.Runs = append(t.Runs, id)
	}
	if bd := d.Run.Build; bd != nil && bd.Side != "" && !slices.Contains(t.Sides, bd.Side) {
		t.Sides = append(t.Sides, bd.Side)
	}
}

// unit records the direction of a figure's unit, keyed by the unit as
// benchfmt.Reader keys them (tidied).
func (t *Table) unit(in *Input, v protocol.Value) {
	if v.Unit == "ns/op" { // benchfmt knows ns/op
		return
	}
	_, tidy := benchunit.Tidy(1, v.Unit)
	k := benchfmt.UnitMetadataKey{Unit: tidy, Key: "better"}
	md := &benchfmt.UnitMetadata{UnitMetadataKey: k, OrigUnit: v.Unit, Value: v.Better}
	t.Units[k], in.UnitMeta[k] = md, md
}

// add appends a sample's values: its figures, then its events per
// operation, as bench.txt writes them; it returns their units.
func (c *Cell) add(x *result.Sample) []string {
	c.samples = append(c.samples, x)
	if why := x.NotPredicted(); why != "" {
		if c.NotPredicted == 0 {
			c.NotPredictedWhy = why
		}
		c.NotPredicted++
	}
	units := make([]string, 0, len(x.Values)+len(x.Events))
	for _, v := range x.Figures() {
		c.addValue(v.Unit, v.Value)
		units = append(units, v.Unit)
		if !slices.ContainsFunc(c.Figures, func(f protocol.Value) bool { return f.Unit == v.Unit }) {
			c.Figures = append(c.Figures, protocol.Value{Unit: v.Unit, Better: v.Better})
		}
	}
	for _, e := range result.EventUnits {
		if n, ok := x.Events[e]; ok {
			c.addValue(e+"/op", float64(n)/float64(x.Iters))
			units = append(units, e+"/op")
		}
	}
	return units
}

// addRunSample counts a sample of run id, whose counted cells have k
// values of each counting pass event.
func (c *Cell) addRunSample(id string, k int) {
	if id == "" {
		return
	}
	if c.RunSamples == nil {
		c.RunSamples, c.CountValues = map[string]int{}, map[string]int{}
	}
	c.RunSamples[id]++
	c.CountValues[id] = max(c.CountValues[id], k)
}

func (c *Cell) addValue(unit string, v float64) {
	if _, ok := c.Values[unit]; !ok {
		c.Units = append(c.Units, unit)
	}
	c.Values[unit] = append(c.Values[unit], v)
}

// PrimaryUnit is the cell's headline unit and which way it is better
// (PrimaryUnit of its figures); "" when it has none.
func (c *Cell) PrimaryUnit() (unit, better string) { return PrimaryUnit(c.Figures) }

// PrimaryUnit picks the headline unit of figures: the first
// higher-is-better unit other than ns/op (a throughput), else ns/op, else
// the first unit. It is a reader's choice (the run summary's and the
// report's headline), so it lives with the table, not with the records.
func PrimaryUnit(figures []protocol.Value) (unit, better string) {
	for _, v := range figures {
		if v.Unit != "ns/op" && v.Better == protocol.Higher {
			return v.Unit, v.Better
		}
	}
	for _, v := range figures {
		if v.Unit == "ns/op" {
			return v.Unit, v.Better
		}
	}
	if len(figures) > 0 {
		return figures[0].Unit, figures[0].Better
	}
	return "", ""
}

// Predicted reports whether the cell's samples are a model's predictions
// (result.Sample.Model).
func (c *Cell) Predicted() bool { return len(c.modelSamples()) > 0 }

// Paired is the paired account of a sim cell (its predicted slowdown over
// its own measured base, repetition by repetition); N is 0 for other cells.
func (c *Cell) Paired() paired.Cell { return paired.Summarize(c.modelSamples()) }

// Bases are a sim cell's measured bases in unit, one per sample that has
// one (bench/sim/paired.BaseValue).
func (c *Cell) Bases(unit string) []float64 {
	var out []float64
	for _, x := range c.modelSamples() {
		if bv, ok := paired.BaseValue(x, unit); ok {
			out = append(out, bv)
		}
	}
	return out
}

func (c *Cell) modelSamples() []*result.Sample {
	var out []*result.Sample
	for _, x := range c.samples {
		if x.Model != nil && x.NotPredicted() == "" {
			out = append(out, x)
		}
	}
	return out
}
