package compare

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Set is one side of a comparison: the cells of the one table
// (bench/cells) read from a result directory, a Go benchmark format file
// (bench.txt), or several result directories pooled, with what the gate
// needs of their units and of the cells without values.
type Set struct {
	// Label names what was read, for messages.
	Label string
	// Runs are the run IDs the values come from (enclavebench-run).
	Runs []string
	// CPUs are the CPU models the values were measured on ("cpu:").
	CPUs []string
	// CountsHidden are the CPU features the counting pass's Valgrind hid
	// from the workload (run.json counts.cpu_hidden), over the runs read.
	CountsHidden []string
	// Cells are the table's cells, in order of first appearance; no two
	// share a name (Cell.Name: the full benchmark name without
	// "Benchmark", e.g. Syscall/call=read/size=DC1s_v2/mode=native).
	Cells []*cells.Cell
	// Units holds what is known about each unit, by unit name.
	Units map[string]Unit
	// NotRun lists cells a result directory planned but holds no values
	// for (failed, not applicable, skipped), with the reason.
	NotRun []NotRun
	// Warnings are things left out or worth knowing (bad record lines).
	Warnings []string
	// Sides are the sides of a --baseline run its runs were recorded as
	// ("base", "new"; run.json's build.side, bench.txt's enclavebench-side).
	Sides []string

	index map[string]*cells.Cell
	// pooled is set when the table pools several inputs: a flaw then
	// names its input.
	pooled bool
	// rounds is the --rounds of a result directory's run: each cell's
	// values come from that many processes (0 when not known).
	rounds int
}

// Unit is what a file says about a unit.
type Unit struct {
	Name string
	// Better is "lower", "higher", or "" when unknown: changes of a unit of
	// unknown direction are shown but never gate.
	Better string
	// Assume is "exact" when values are exact (benchmath AssumeExact), else
	// "" (AssumeNothing: median, Mann-Whitney U).
	Assume string
	// Count is set for units that count events per operation (syscalls/op,
	// instructions/op, allocs/op): the gate reads them by their spread and
	// a threshold, not only by a test.
	Count bool
}

// NotRun is a cell without values and why.
type NotRun struct {
	Cell   string        `json:"cell"`
	Status result.Status `json:"status"`
	Reason string        `json:"reason,omitempty"`
}

// InputError is bad input: a missing or unreadable file, a file that is not
// a result, a schema version this harness cannot read, no samples.
type InputError struct {
	Path string
	Err  error
}

func (e *InputError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ErrNoSamples is the error of an input without a single sample.
var ErrNoSamples = errors.New("no samples")

// Load reads one side of a comparison: a result directory (run.json), a
// file in the Go benchmark format (bench.txt, `go test -bench` output,
// concatenations of those), or a directory whose subdirectories are result
// directories (rounds of an interleaved run), which are pooled.
func Load(path string) (*Set, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &InputError{path, unwrapPath(err)}
	}
	var s *Set
	switch {
	case !st.IsDir():
		f, err := os.Open(path)
		if err != nil {
			return nil, &InputError{path, unwrapPath(err)}
		}
		defer f.Close()
		s, err = ReadBenchfmt(f, path)
		if err != nil {
			return nil, err
		}
	case exists(filepath.Join(path, result.RunFile)):
		s, err = LoadDir(path)
		if err != nil {
			return nil, err
		}
	default:
		s, err = loadRounds(path)
		if err != nil {
			return nil, err
		}
	}
	if len(s.Cells) == 0 {
		return nil, &InputError{path, noSamplesErr(s)}
	}
	return s, nil
}

func noSamplesErr(s *Set) error {
	if len(s.NotRun) > 0 {
		return fmt.Errorf("%w: all %d cells have none (first: %s %s: %s)", ErrNoSamples, len(s.NotRun),
			s.NotRun[0].Cell, s.NotRun[0].Status, textfmt.FirstLine(s.NotRun[0].Reason))
	}
	return fmt.Errorf("%w (not a result directory or a Go benchmark format file with Benchmark lines?)", ErrNoSamples)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loadRounds pools the result directories directly under dir: one table of
// all of them (a cell's values are the values of every round).
func loadRounds(dir string) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &InputError{dir, unwrapPath(err)}
	}
	b := cells.NewBuilder()
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if !e.IsDir() || !exists(filepath.Join(sub, result.RunFile)) {
			continue
		}
		d, err := loadResult(sub)
		if err != nil {
			return nil, err
		}
		b.AddDir(d, "")
	}
	t := b.Table()
	if len(t.Inputs) == 0 {
		return nil, &InputError{dir, fmt.Errorf("%w: neither a result directory (no %s) nor a directory of result directories", result.ErrNoRun, result.RunFile)}
	}
	s, err := fromTable(t, dir)
	if err != nil {
		return nil, &InputError{dir, err}
	}
	for _, in := range t.Inputs {
		s.countsInfo(in, filepath.Base(in.Name)+": ")
	}
	return s, nil
}

// countsInfo notes what an input's run recorded of its counting pass for
// the gate (the table's Input): why it has none (Valgrind missing: the gate
// reads time only), and the CPU features Valgrind hid from the counted
// workload.
func (s *Set) countsInfo(in *cells.Input, prefix string) {
	if in.NoCounts != "" {
		s.Warnings = append(s.Warnings, prefix+"no counting pass: "+in.NoCounts)
	}
	for _, f := range in.CountsHidden {
		if !slices.Contains(s.CountsHidden, f) {
			s.CountsHidden = append(s.CountsHidden, f)
		}
	}
}

// LoadDir reads a result directory: its selected samples, with the values
// bench.txt has (values, and event counts per operation), read from the
// records themselves, plus the cells that have no samples and why.
func LoadDir(dir string) (*Set, error) {
	d, err := loadResult(dir)
	if err != nil {
		return nil, err
	}
	t := cells.FromDir(d)
	s, err := fromTable(t, dir)
	if err != nil {
		return nil, &InputError{dir, err}
	}
	in := t.Inputs[0]
	s.countsInfo(in, "")
	// bench run --rounds: every cell's values come from r processes.
	s.rounds = in.Rounds
	return s, nil
}

// loadResult reads a result directory for a comparison: one that cannot
// be read, or holds no cell yet, is bad input naming it.
func loadResult(dir string) (*result.Dir, error) {
	d, err := result.Load(dir)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, &InputError{dir, pe.Err}
		}
		// result.Load names the directory itself.
		return nil, &InputError{dir, errors.New(strings.TrimPrefix(err.Error(), dir+": "))}
	}
	if len(d.Samples) == 0 && len(d.Cells) == 0 {
		return nil, &InputError{dir, fmt.Errorf("%w: the run (status %q, %d cells planned) recorded no cell yet", ErrNoSamples, d.Run.Status, len(d.Run.Plan.Cells))}
	}
	return d, nil
}

// fromTable builds a set from the cells of a table (bench/cells), whatever
// it was read from: result directories, or files in the Go benchmark
// format. Its cells are the table's; a name the table holds twice (values
// priced or measured otherwise) is refused. Inputs pooled must not hold
// one run twice nor disagree on a unit; what an input left out, and the
// flaws of a pooled input, name it.
func fromTable(t *cells.Table, label string) (*Set, error) {
	s := newSet(label)
	s.pooled = len(t.Inputs) > 1
	if err := checkPool(t); err != nil {
		return nil, err
	}
	s.CPUs = append(s.CPUs, t.CPUs...)
	s.Runs = append(s.Runs, t.Runs...)
	s.Sides = append(s.Sides, t.Sides...)
	for _, c := range t.Cells {
		if err := s.add(c); err != nil {
			if c.Line > 0 {
				err = fmt.Errorf("line %d: %w", c.Line, err)
			}
			return nil, err
		}
		for _, u := range c.Units {
			for _, x := range c.Values[u] {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, fmt.Errorf("%s: value %v %s is not a finite number", c.Name, x, u)
				}
			}
			if _, ok := s.Units[u]; !ok {
				s.Units[u] = Unit{Name: u}
			}
		}
	}
	s.setUnits(t.Units)
	s.notRun(t)
	for _, in := range t.Inputs {
		var ws []string
		for _, p := range in.LeftOut {
			ws = append(ws, "left out: "+p.Error())
		}
		for _, f := range in.Unsampled {
			ws = append(ws, f.Cell+": "+f.Why)
		}
		for _, w := range ws {
			if s.pooled {
				w = in.Name + ": " + w
			}
			s.Warnings = append(s.Warnings, w)
		}
	}
	return s, nil
}

// Flaws say why the values of cell c of s are suspect: they come from an
// attempt that failed or did not finish, or the cell's recorded sample
// count does not match the samples present; with the input's name when
// inputs are pooled. A gate refuses such cells.
func (s *Set) Flaws(c *cells.Cell) []string {
	var out []string
	for _, f := range c.Flaws {
		if why := flawText(f, s.pooled); !slices.Contains(out, why) {
			out = append(out, why)
		}
	}
	return out
}

// processes is how many runs (processes, rounds) the values of c come
// from, when known (enclavebench-run); 0 when not.
func (s *Set) processes(c *cells.Cell) int { return max(len(c.Runs), s.rounds) }

// passValues is how many independent values of a counting pass event the
// cell has: per run, its counting pass's values, or its samples when
// fewer (they carry the values in turn).
func passValues(c *cells.Cell) int {
	n := 0
	for id, k := range c.CountValues {
		n += min(k, c.RunSamples[id])
	}
	return n
}

// isPrediction says whether a cell holds a model's predictions (priced by
// a cost profile, or its mode's recorded kind is a model).
func isPrediction(c *cells.Cell) bool { return c.Predicted() || c.Profile != "" || c.Priced }

// flawText is a flaw as a cell of a set shows it: with its input's name
// when inputs are pooled.
func flawText(f cells.Flaw, pooled bool) string {
	if pooled {
		return f.Input + ": " + f.Why
	}
	return f.Why
}

// checkPool refuses inputs pooled into one table that hold one run twice
// (a copy: its samples would count twice) or disagree on a unit's
// direction or assumption.
func checkPool(t *cells.Table) error {
	if len(t.Inputs) < 2 {
		return nil
	}
	runFrom := map[string]string{}
	units := map[string]Unit{}
	for _, in := range t.Inputs {
		for _, id := range in.Runs {
			if first, ok := runFrom[id]; ok {
				return fmt.Errorf("run %s is in both %s and %s (a copy?): its samples would count twice; remove one", id, first, in.Name)
			}
			runFrom[id] = in.Name
		}
		for _, u := range in.Units {
			info := unitInfo(u, in.UnitMeta)
			if have, ok := units[u]; ok && (have.Better != info.Better || have.Assume != info.Assume) {
				return fmt.Errorf("unit %s is better=%s in one input and better=%s in %s", u, orNone(have.Better), orNone(info.Better), in.Name)
			}
			units[u] = info
		}
	}
	return nil
}

// notRun lists the cells of t's runs without values anywhere in s, by
// name (an input added later says why, where two do).
func (s *Set) notRun(t *cells.Table) {
	by := map[string]NotRun{}
	for _, o := range t.Outcomes {
		if !o.Sampled {
			by[o.Cell] = NotRun{Cell: o.Cell, Status: o.Status, Reason: o.Reason}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(by)) {
		if s.index[name] == nil {
			s.NotRun = append(s.NotRun, by[name])
		}
	}
}

// ReadBenchfmt reads values in the Go benchmark format into the cell
// table (cells.Builder.AddBenchfmt) and a set from it. Lines that are not
// benchmark, unit or configuration lines are ignored, as benchstat does; a
// malformed benchmark line or a value that is not finite is an error.
func ReadBenchfmt(r io.Reader, name string) (*Set, error) {
	b := cells.NewBuilder()
	if err := b.AddBenchfmt(r, name); err != nil {
		return nil, &InputError{name, err}
	}
	s, err := fromTable(b.Table(), name)
	if err != nil {
		return nil, &InputError{name, err}
	}
	return s, nil
}

// setUnits sets the direction and assumption of s's units from md.
func (s *Set) setUnits(md benchfmt.UnitMetadataMap) {
	for u := range s.Units {
		s.Units[u] = unitInfo(u, md)
	}
}

// unitInfo is what md says of unit u.
func unitInfo(u string, md benchfmt.UnitMetadataMap) Unit {
	info := Unit{Name: u}
	switch md.GetBetter(u) {
	case 1:
		info.Better = protocol.Higher
	case -1:
		info.Better = protocol.Lower
	}
	if a := md.Get(u, "assume"); a != nil && a.Value == "exact" {
		info.Assume = "exact"
	}
	if k := md.Get(u, "kind"); countUnit(u) || k != nil && k.Value == "count" {
		info.Count = true
	}
	return info
}

// countUnit says whether u, by its name, counts events per operation: the
// events the harness writes as units (result.EventUnits, "<event>/op") and
// the Go runtime's allocation counts (allocs/op, B/op of -benchmem).
func countUnit(u string) bool {
	if u == "allocs/op" || u == "B/op" {
		return true
	}
	e, ok := strings.CutSuffix(u, "/op")
	return ok && slices.Contains(result.EventUnits, e)
}

func newSet(label string) *Set {
	return &Set{Label: label, Units: map[string]Unit{}, index: map[string]*cells.Cell{}}
}

// add adds a cell of the table. Values of one cell measured or priced
// otherwise (another cost profile or profile content, other mode
// settings) are two cells of the table under one name: never pooled, and
// refused.
func (s *Set) add(c *cells.Cell) error {
	key := c.Name
	have, ok := s.index[key]
	if !ok {
		s.index[key] = c
		s.Cells = append(s.Cells, c)
		return nil
	}
	switch {
	case have.Profile != c.Profile:
		return fmt.Errorf("%s: values priced by two cost profiles (%s and %s) in one input", key, orNone(have.Profile), orNone(c.Profile))
	case have.ProfileDigest != c.ProfileDigest:
		return fmt.Errorf("%s: values priced by two versions of cost profile %s with other content (sha256 %s and %s) in one input", key, have.Profile, orNone(short(have.ProfileDigest)), orNone(short(c.ProfileDigest)))
	case have.Settings != c.Settings:
		return fmt.Errorf("%s: values measured under other mode settings (%s and %s) in one input: they measure different things and are not pooled", key, orNone(have.Settings), orNone(c.Settings))
	}
	return fmt.Errorf("%s: two cells of one name in one input", key)
}

// short abbreviates a digest for messages.
func short(sha string) string { return sha[:min(len(sha), 12)] }

// Cell returns the cell named name, or nil.
func (s *Set) Cell(name string) *cells.Cell { return s.index[name] }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
