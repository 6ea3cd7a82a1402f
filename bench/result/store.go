package result

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Store appends records to a result directory as they finish. Each record
// is one line written with one write(2) on an O_APPEND file, so a killed
// harness loses at most the record in flight and never leaves half of one
// in the middle of the file.
type Store struct {
	Dir     string
	mu      sync.Mutex
	samples *os.File
	cells   *os.File
	// Tee, when set, also receives every record as a stream line (-o -).
	Tee io.Writer
}

// OpenStore creates dir if needed and opens its record files for appending.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	s := &Store{Dir: dir}
	var err error
	if s.samples, err = openAppend(filepath.Join(dir, SamplesFile)); err != nil {
		return nil, err
	}
	if s.cells, err = openAppend(filepath.Join(dir, CellsFile)); err != nil {
		s.samples.Close()
		return nil, err
	}
	return s, nil
}

func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return f, nil
}

// AppendSample stores one sample.
func (s *Store) AppendSample(x *Sample) error {
	return s.append(s.samples, x, StreamRecord{Sample: x})
}

// AppendCell stores the outcome of one cell attempt.
func (s *Store) AppendCell(c *CellResult) error {
	return s.append(s.cells, c, StreamRecord{Cell: c})
}

func (s *Store) append(f *os.File, v any, rec StreamRecord) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("results: writing %s: %w", f.Name(), err)
	}
	if s.Tee != nil {
		if err := EncodeStream(s.Tee, rec); err != nil {
			return err
		}
	}
	return nil
}

// WriteRun replaces run.json atomically (write a temporary file, rename).
func (s *Store) WriteRun(r *Run) error {
	if s.Tee != nil {
		if err := EncodeStream(s.Tee, StreamRecord{Run: r}); err != nil {
			return err
		}
	}
	return WriteJSONFile(filepath.Join(s.Dir, RunFile), r)
}

// WriteJSONFile writes v as indented JSON to path atomically.
func WriteJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// WriteFileAtomic writes data to path through a temporary file and a
// rename, so readers never see a partial file.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// Close closes the record files.
func (s *Store) Close() error {
	return errors.Join(s.samples.Close(), s.cells.Close())
}

// StreamRecord is one line of the single-stream form of a run (`bench run
// -o -`, pod logs): exactly one field is set.
type StreamRecord struct {
	Run    *Run        `json:"run,omitempty"`
	Sample *Sample     `json:"sample,omitempty"`
	Cell   *CellResult `json:"cell,omitempty"`
}

// StreamPrefix starts every stream line, so stream lines can be picked out
// of logs that mix them with other output.
const StreamPrefix = "@enclavebench-result/1 "

// EncodeStream writes one stream line.
func EncodeStream(w io.Writer, rec StreamRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	line := append([]byte(StreamPrefix), b...)
	_, err = w.Write(append(line, '\n'))
	return err
}
