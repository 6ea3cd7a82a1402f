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

// ReadLines decodes JSON lines of type T from r. Bad lines (malformed,
// truncated, failing check) are returned as *LineError with their line
// numbers and are never used. Lines are decoded in parallel (a report reads
// hundreds of thousands), and returned in file order.
func ReadLines[T any](r io.Reader, name string, check func(*T) error) ([]T, []error) {
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
				s.err = DecodeStrict(lines[i].text, &s.v)
				if s.err == nil && check != nil {
					s.err = check(&s.v)
				}
			}
		}(w)
	}
	wg.Wait()
	out := make([]T, 0, len(lines))
	for i, l := range lines {
		switch err := slots[i].err; {
		case err != nil && l.truncated:
			bad = append(bad, &LineError{name, l.no, fmt.Errorf("truncated record (the writer stopped mid-line): %v", err)})
		case err != nil:
			bad = append(bad, &LineError{name, l.no, err})
		default:
			out = append(out, slots[i].v)
		}
	}
	sort.SliceStable(bad, func(i, j int) bool { return lineOf(bad[i]) < lineOf(bad[j]) })
	return out, bad
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

// CheckSample validates a stored sample.
func CheckSample(s *Sample) error {
	if s.Cell == "" || s.Workload == "" || s.Size == "" || s.Mode == "" {
		return errors.New("sample without cell, workload, size or mode")
	}
	if s.Iters <= 0 {
		return fmt.Errorf("sample with %d iterations", s.Iters)
	}
	if len(s.Values) == 0 {
		return errors.New("sample without values")
	}
	for _, v := range s.Values {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// CheckCell validates a stored cell outcome.
func CheckCell(c *CellResult) error {
	if c.Cell == "" {
		return errors.New("cell result without a cell")
	}
	switch c.Status {
	case StatusOK, StatusFailed, StatusNA, StatusSkipped:
	default:
		return fmt.Errorf("cell result with unknown status %q", c.Status)
	}
	return nil
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
	// Problems are bad lines and other things left out, with positions.
	Problems []error
}

// ErrNoRun is returned by Load for a directory without run.json.
var ErrNoRun = errors.New("no run.json: not an enclavebench result directory")

// Load reads a result directory. It fails only when the directory cannot be
// used at all (missing, no run.json, unknown schema version); bad lines are
// reported in Problems.
func Load(dir string) (*Dir, error) {
	d := &Dir{Path: dir, Cells: map[string]CellResult{}}
	b, err := os.ReadFile(filepath.Join(dir, RunFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, fmt.Errorf("%s: %w", dir, serr)
		}
		return nil, fmt.Errorf("%s: %w", dir, ErrNoRun)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &d.Run); err != nil {
		return nil, fmt.Errorf("%s: malformed %s: %v", dir, RunFile, err)
	}
	if d.Run.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schema version %d, this harness reads version %d", dir, d.Run.SchemaVersion, SchemaVersion)
	}
	samples, bad := readFile(filepath.Join(dir, SamplesFile), CheckSample)
	d.Problems = append(d.Problems, bad...)
	cells, bad := readFile(filepath.Join(dir, CellsFile), CheckCell)
	d.Problems = append(d.Problems, bad...)
	d.Samples, d.Partial = Select(samples, cells, d.Cells)
	return d, nil
}

func readFile[T any](path string, check func(*T) error) ([]T, []error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{err}
	}
	defer f.Close()
	return ReadLines(f, path, check)
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

// ReadAll reads the raw samples and cells of dir (every attempt).
func ReadAll(dir string) ([]Sample, []CellResult, []error) {
	s, bad1 := readFile(filepath.Join(dir, SamplesFile), CheckSample)
	c, bad2 := readFile(filepath.Join(dir, CellsFile), CheckCell)
	return s, c, append(bad1, bad2...)
}
