package result

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
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
// numbers and are never used.
func ReadLines[T any](r io.Reader, name string, check func(*T) error) ([]T, []error) {
	var out []T
	var bad []error
	br := bufio.NewReaderSize(r, 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Long line: gather it, bounded.
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(buf) <= maxLine {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			if len(buf) > maxLine {
				bad = append(bad, &LineError{name, lineNo, fmt.Errorf("line longer than %d bytes", maxLine)})
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = br.ReadSlice('\n')
				}
				if err != nil && err != io.EOF {
					bad = append(bad, &LineError{name, lineNo, err})
					return out, bad
				}
				if err == io.EOF {
					return out, bad
				}
				continue
			}
			line = buf
		}
		if len(line) == 0 && err == io.EOF {
			return out, bad
		}
		if err != nil && err != io.EOF {
			bad = append(bad, &LineError{name, lineNo, err})
			return out, bad
		}
		truncated := err == io.EOF // no newline: the writer died mid-line
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 {
			var v T
			dec := json.NewDecoder(bytes.NewReader(trimmed))
			dec.DisallowUnknownFields()
			derr := dec.Decode(&v)
			if derr == nil && dec.More() {
				derr = errors.New("trailing data after the record")
			}
			if derr == nil && check != nil {
				derr = check(&v)
			}
			switch {
			case derr != nil && truncated:
				bad = append(bad, &LineError{name, lineNo, fmt.Errorf("truncated record (the writer stopped mid-line): %v", derr)})
			case derr != nil:
				bad = append(bad, &LineError{name, lineNo, derr})
			default:
				out = append(out, v)
			}
		}
		if truncated {
			return out, bad
		}
	}
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
