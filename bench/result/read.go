package result

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// LineError is a record line that could not be used.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// maxLine bounds one record line; a longer one is reported, not read.
const maxLine = 16 << 20

// readNumbered decodes JSON lines of type T from r with decode (which also
// checks them), with each record's line number. Bad lines (malformed,
// truncated, failing the check) are returned as *LineError with their line
// numbers and are never used. Lines are decoded in parallel (a report reads
// hundreds of thousands), and returned in file order.
func readNumbered[T any](r io.Reader, name string, decode func([]byte, *T) error) ([]T, []int, []error) {
	lines, bad := splitLines(r, name)
	type slot struct {
		v   T
		err error
	}
	slots := make([]slot, len(lines))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(lines)/256))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(lines); i += workers {
				s := &slots[i]
				s.err = decode(lines[i].text, &s.v)
			}
		}(w)
	}
	wg.Wait()
	out := make([]T, 0, len(lines))
	nos := make([]int, 0, len(lines))
	for i, l := range lines {
		switch err := slots[i].err; {
		case err != nil && l.truncated:
			bad = append(bad, &LineError{name, l.no, fmt.Errorf("truncated record (the writer stopped mid-line): %v", err)})
		case err != nil:
			bad = append(bad, &LineError{name, l.no, err})
		default:
			out = append(out, slots[i].v)
			nos = append(nos, l.no)
		}
	}
	SortByLine(bad)
	return out, nos, bad
}

// SortByLine puts errors in the order of their lines (LineError; others
// first), keeping the order of errors of one line.
func SortByLine(errs []error) {
	sort.SliceStable(errs, func(i, j int) bool { return lineOf(errs[i]) < lineOf(errs[j]) })
}

func lineOf(err error) int {
	var le *LineError
	if errors.As(err, &le) {
		return le.Line
	}
	return 0
}

// DecodeStrict decodes one JSON record the way result files are read:
// unknown fields (another schema) and trailing data are errors.
func DecodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the record")
	}
	return nil
}

type rawLine struct {
	no        int
	text      []byte
	truncated bool // no newline: the writer died mid-line
}

// splitLines reads r into non-blank lines with their numbers. Lines longer
// than maxLine are reported, not returned.
func splitLines(r io.Reader, name string) ([]rawLine, []error) {
	var bad []error
	data, err := io.ReadAll(r)
	if err != nil {
		bad = append(bad, &LineError{name, 0, err})
	}
	var lines []rawLine
	for no := 1; len(data) > 0; no++ {
		i := bytes.IndexByte(data, '\n')
		line, truncated := data, true
		if i >= 0 {
			line, data, truncated = data[:i], data[i+1:], false
		} else {
			data = nil
		}
		if len(line) > maxLine {
			bad = append(bad, &LineError{name, no, fmt.Errorf("line longer than %d bytes", maxLine)})
			continue
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			lines = append(lines, rawLine{no, t, truncated})
		}
	}
	return lines, bad
}

// Dir is a result directory read back: the run, the samples each cell's
// figures come from, the latest outcome of each cell, and what was left out.
type Dir struct {
	Path    string
	Run     Run
	Samples []Sample              // selected: one attempt per cell
	Cells   map[string]CellResult // latest outcome per cell key
	// Partial lists cells whose samples come from an attempt that did not
	// finish (the harness was stopped mid-cell).
	Partial []string
	// Short lists cells whose selected attempt has fewer (or more) samples
	// on disk than its outcome in cells.jsonl recorded.
	Short []ShortCell
	// Problems are bad lines and other things left out, with positions.
	Problems []error
	// Facts interpret the cells: run.json's, or for schema version 1 the
	// frozen facts of that version.
	Facts Facts
}

// ShortCell is a cell whose recorded sample count does not match the
// samples present: lines were lost from (or added to) samples.jsonl.
type ShortCell struct {
	Cell     string
	Attempt  int
	Status   Status // the attempt's recorded status
	Recorded int    // cells.jsonl "samples"
	Present  int    // usable samples of that attempt in samples.jsonl
}

func (s ShortCell) String() string {
	if s.Present > s.Recorded {
		return fmt.Sprintf("%s: attempt %d recorded %d samples but %s holds %d: samples.jsonl was added to; its figures are suspect",
			s.Cell, s.Attempt, s.Recorded, SamplesFile, s.Present)
	}
	return fmt.Sprintf("%s: attempt %d recorded %s, %d samples but %s holds %d usable: samples were lost or left out (bench run --resume reruns the cell)",
		s.Cell, s.Attempt, s.Status, s.Recorded, SamplesFile, s.Present)
}

// Lost reports whether samples the cell recorded are missing.
func (s ShortCell) Lost() bool { return s.Present < s.Recorded }

// ErrNoRun is returned by Load for a directory without run.json.
var ErrNoRun = errors.New("no run.json: not an enclavebench result directory")

// ReadRun reads and validates run.json of dir: strictly (unknown fields
// are another schema), with the fields every reader relies on.
func ReadRun(dir string) (*Run, error) {
	path := filepath.Join(dir, RunFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, fmt.Errorf("%s: %w", dir, serr)
		}
		return nil, fmt.Errorf("%s: %w", dir, ErrNoRun)
	}
	if err != nil {
		return nil, err
	}
	// The version first: a newer schema may have fields this one refuses.
	var v struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: malformed %s: %v", dir, RunFile, err)
	}
	if v.SchemaVersion == nil {
		return nil, fmt.Errorf("%s: malformed %s: no schema_version", dir, RunFile)
	}
	if !Readable(*v.SchemaVersion) {
		return nil, fmt.Errorf("%s: schema version %d, this harness reads versions %d to %d", dir, *v.SchemaVersion, MinSchemaVersion, SchemaVersion)
	}
	var r Run
	if err := DecodeStrict(b, &r); err != nil {
		return nil, fmt.Errorf("%s: malformed %s: %v", dir, RunFile, err)
	}
	if err := CheckRun(&r); err != nil {
		return nil, fmt.Errorf("%s: malformed %s: %v", dir, RunFile, err)
	}
	if r.SchemaVersion >= 2 && r.Facts == nil {
		return nil, fmt.Errorf("%s: malformed %s: schema version %d without facts", dir, RunFile, r.SchemaVersion)
	}
	return &r, nil
}

// Load reads a result directory. It fails only when the directory cannot be
// used at all (missing, no valid run.json, unknown schema version); bad
// lines, duplicates and cells short of samples are reported in Problems
// and Short.
func Load(dir string) (*Dir, error) {
	r, err := ReadRun(dir)
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: dir, Run: *r, Cells: map[string]CellResult{}}
	samples, cells, bad := readAll(dir, recordCodec{r.SchemaVersion, r.Facts})
	d.Problems = bad
	d.Samples, d.Partial = Select(samples, cells, d.Cells)
	d.Short = shortCells(samples, cells)
	if d.Run.Facts != nil {
		d.Facts = *d.Run.Facts
	} else {
		d.Facts = factsV1(d, cells)
	}
	if d.Facts.Sizes == nil {
		d.Facts.Sizes = frozenSizes(d, cells)
	}
	if d.Facts.Baseline == "" {
		d.Facts.Baseline = frozenBaseline
	}
	attachPools(d)
	return d, nil
}

func readFile[T any](path string, decode func([]byte, *T) error) ([]T, []int, []error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, []error{err}
	}
	defer f.Close()
	return readNumbered(f, path, decode)
}

// dropDuplicates leaves out every record whose key another record also
// has: which of two copies is the real one cannot be known, so neither is
// used, and both line numbers are reported.
func dropDuplicates[T any, K comparable](recs []T, lines []int, path string, key func(*T) K, describe func(K) string) ([]T, []error) {
	first := make(map[K]int, len(recs))
	dup := map[K]bool{}
	for i := range recs {
		k := key(&recs[i])
		if _, ok := first[k]; ok {
			dup[k] = true
			continue
		}
		first[k] = i
	}
	if len(dup) == 0 {
		return recs, nil
	}
	var bad []error
	out := recs[:0:0]
	for i := range recs {
		k := key(&recs[i])
		if !dup[k] {
			out = append(out, recs[i])
			continue
		}
		if j := first[k]; j != i {
			bad = append(bad, &LineError{path, lines[i], fmt.Errorf("duplicate %s, also at line %d: neither is used", describe(k), lines[j])})
		}
	}
	return out, bad
}

// SampleKey identifies a sample within a run: no two may share one.
type SampleKey struct {
	Cell    string
	Attempt int
	Rep     int
}

// Key is the sample's SampleKey.
func (s *Sample) Key() SampleKey { return SampleKey{s.Cell, s.Attempt, s.Rep} }

// CellKey identifies one attempt at a cell within a run.
type CellKey struct {
	Cell    string
	Attempt int
}

// Key is the outcome's CellKey.
func (c *CellResult) Key() CellKey { return CellKey{c.Cell, c.Attempt} }

// ReadAll reads the raw samples and cells of dir (every attempt) in the
// schema version its run.json names, with its facts (the current version
// without facts when run.json is missing or unreadable: Load refuses such
// a directory). Bad lines and duplicated keys are left out and returned as
// problems.
func ReadAll(dir string) ([]Sample, []CellResult, []error) {
	rc := recordCodec{schema: SchemaVersion}
	if b, err := os.ReadFile(filepath.Join(dir, RunFile)); err == nil {
		var head struct {
			SchemaVersion int    `json:"schema_version"`
			Facts         *Facts `json:"facts"`
		}
		if json.Unmarshal(b, &head) == nil && head.SchemaVersion > 0 {
			rc = recordCodec{head.SchemaVersion, head.Facts}
		}
	}
	return readAll(dir, rc)
}

func readAll(dir string, rc recordCodec) ([]Sample, []CellResult, []error) {
	sp := filepath.Join(dir, SamplesFile)
	s, sl, bad1 := readFile(sp, rc.sample)
	s, dup1 := dropDuplicates(s, sl, sp, (*Sample).Key,
		func(k SampleKey) string {
			return fmt.Sprintf("sample (cell %s, attempt %d, rep %d)", k.Cell, k.Attempt, k.Rep)
		})
	cp := filepath.Join(dir, CellsFile)
	c, cl, bad2 := readFile(cp, rc.cell)
	c, dup2 := dropDuplicates(c, cl, cp, (*CellResult).Key,
		func(k CellKey) string { return fmt.Sprintf("outcome (cell %s, attempt %d)", k.Cell, k.Attempt) })
	bad := slices.Concat(bad1, dup1, bad2, dup2)
	return s, c, bad
}

// shortCells compares, for each cell's attempt whose samples are used (the
// finished one, else the latest recorded), the sample count cells.jsonl
// recorded with the samples present.
func shortCells(samples []Sample, cells []CellResult) []ShortCell {
	present := map[CellKey]int{}
	for _, s := range samples {
		present[CellKey{s.Cell, s.Attempt}]++
	}
	use := map[string]CellResult{}
	for _, c := range cells {
		u, ok := use[c.Cell]
		cOK, uOK := c.Status == StatusOK, u.Status == StatusOK
		if !ok || cOK && !uOK || cOK == uOK && c.Attempt > u.Attempt {
			use[c.Cell] = c
		}
	}
	var short []ShortCell
	for _, c := range use {
		if n := present[c.Key()]; n != c.Samples {
			short = append(short, ShortCell{Cell: c.Cell, Attempt: c.Attempt, Status: c.Status, Recorded: c.Samples, Present: n})
		}
	}
	sort.Slice(short, func(i, j int) bool { return short[i].Cell < short[j].Cell })
	return short
}

// Select picks, per cell, the samples of the attempt that finished ("ok"),
// or else of the latest attempt that has samples (marked partial). latest
// receives the latest outcome of each cell.
func Select(samples []Sample, cells []CellResult, latest map[string]CellResult) (selected []Sample, partial []string) {
	okAttempt := map[string]int{}
	for _, c := range cells {
		if prev, ok := latest[c.Cell]; !ok || c.Attempt >= prev.Attempt {
			latest[c.Cell] = c
		}
		if c.Status == StatusOK {
			okAttempt[c.Cell] = max(okAttempt[c.Cell], c.Attempt)
		}
	}
	maxAttempt := map[string]int{}
	for _, s := range samples {
		if _, ok := okAttempt[s.Cell]; !ok {
			maxAttempt[s.Cell] = max(maxAttempt[s.Cell], s.Attempt)
		}
	}
	partialSet := map[string]bool{}
	for _, s := range samples {
		if a, ok := okAttempt[s.Cell]; ok {
			if s.Attempt == a {
				selected = append(selected, s)
			}
			continue
		}
		if s.Attempt == maxAttempt[s.Cell] {
			selected = append(selected, s)
			partialSet[s.Cell] = true
		}
	}
	for c := range partialSet {
		partial = append(partial, c)
	}
	sort.Strings(partial)
	return selected, partial
}

// MaxAttempts returns the highest attempt number seen per cell.
func MaxAttempts(samples []Sample, cells []CellResult) map[string]int {
	m := map[string]int{}
	for _, s := range samples {
		m[s.Cell] = max(m[s.Cell], s.Attempt)
	}
	for _, c := range cells {
		m[c.Cell] = max(m[c.Cell], c.Attempt)
	}
	return m
}

// attachPools points each sample at the sim base pool run.json recorded
// for its cell and attempt (Run.SimBases): readers then price its slowdown
// over the base the run estimated, never one they would estimate today.
func attachPools(d *Dir) {
	type at struct {
		cell    string
		attempt int
	}
	pools := map[at]*SimBase{}
	for i := range d.Run.SimBases {
		p := &d.Run.SimBases[i]
		for _, c := range p.Cells {
			pools[at{c.Cell, c.Attempt}] = p
		}
	}
	if len(pools) == 0 {
		return
	}
	for i := range d.Samples {
		s := &d.Samples[i]
		if s.Model != nil {
			s.Pool = pools[at{s.Cell, s.Attempt}]
		}
	}
}
