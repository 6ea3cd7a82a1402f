package result

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Store appends records to a result directory as they finish. Each record
// is one line written with one write(2) on an O_APPEND file. Appending
// starts after the last complete line (a torn tail left by a killed or
// starved writer is cut off when the store is opened), and a write that
// fails part-way is undone, so a later record never fuses with half a line.
type Store struct {
	Dir string
	// Schema is the schema version records are written in: the run's
	// (WriteRun; run.json's when the store is opened on a run), so a
	// resumed directory keeps one format.
	Schema  int
	mu      sync.Mutex
	samples *appendFile
	cells   *appendFile
	// Tee, when set, also receives every record as a stream line (-o -).
	Tee io.Writer
	// Torn describes the incomplete last lines cut off when the store was
	// opened; the caller reports them.
	Torn []string
}

// appendFile is a record file opened for appending.
type appendFile struct {
	f *os.File
	// broken is set when a failed write could not be undone: the file's
	// end is unknown, so nothing more is appended.
	broken error
}

// OpenStore creates dir if needed and opens its record files for appending.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	s := &Store{Dir: dir, Schema: SchemaVersion}
	if b, err := os.ReadFile(filepath.Join(dir, RunFile)); err == nil {
		var head struct {
			SchemaVersion int `json:"schema_version"`
		}
		if json.Unmarshal(b, &head) == nil && Readable(head.SchemaVersion) {
			s.Schema = head.SchemaVersion
		}
	}
	var err error
	var torn string
	if s.samples, torn, err = openAppend(filepath.Join(dir, SamplesFile)); err != nil {
		return nil, err
	}
	if torn != "" {
		s.Torn = append(s.Torn, torn)
	}
	if s.cells, torn, err = openAppend(filepath.Join(dir, CellsFile)); err != nil {
		s.samples.f.Close()
		return nil, err
	}
	if torn != "" {
		s.Torn = append(s.Torn, torn)
	}
	return s, nil
}

// maxTornShown bounds how much of a cut-off line is quoted.
const maxTornShown = 120

// openAppend opens path for appending after its last complete line,
// cutting off (and describing in torn) an incomplete last line.
func openAppend(path string) (af *appendFile, torn string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("results: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	keep, tail, err := lastCompleteLine(f)
	if err != nil {
		return nil, "", fmt.Errorf("results: reading %s: %w", path, err)
	}
	if len(tail) > 0 {
		if err := f.Truncate(keep); err != nil {
			return nil, "", fmt.Errorf("results: %s ends with an incomplete line that cannot be cut off: %w", path, err)
		}
		line, err := lineAt(f, keep)
		if err != nil {
			return nil, "", fmt.Errorf("results: reading %s: %w", path, err)
		}
		shown := tail[:min(len(tail), maxTornShown)]
		torn = fmt.Sprintf("%s:%d: cut off an incomplete last line (%d bytes; the writer stopped mid-line): %q",
			path, line, len(tail), shown)
	}
	return &appendFile{f: f}, torn, nil
}

// lastCompleteLine returns the length of f up to its last newline and the
// bytes after it, reading backwards from the end.
func lastCompleteLine(f *os.File) (keep int64, tail []byte, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, nil, err
	}
	end := st.Size()
	const block = 64 << 10
	for pos := end; pos > 0; {
		n := min(pos, block)
		pos -= n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, pos); err != nil {
			return 0, nil, err
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			keep = pos + int64(i) + 1
			break
		}
	}
	tail = make([]byte, end-keep)
	if _, err := f.ReadAt(tail, keep); err != nil && !errors.Is(err, io.EOF) {
		return 0, nil, err
	}
	return keep, tail, nil
}

// lineAt returns the number of the line that starts at offset off.
func lineAt(f *os.File, off int64) (int, error) {
	n := 1
	buf := make([]byte, 64<<10)
	for pos := int64(0); pos < off; {
		m, err := f.ReadAt(buf[:min(int64(len(buf)), off-pos)], pos)
		n += bytes.Count(buf[:m], []byte{'\n'})
		pos += int64(m)
		if err != nil && !(errors.Is(err, io.EOF) && pos >= off) {
			return 0, err
		}
	}
	return n, nil
}

// AppendSample stores one sample; an invalid one is refused.
func (s *Store) AppendSample(x *Sample) error {
	if err := CheckSample(x); err != nil {
		return fmt.Errorf("results: refusing sample: %w", err)
	}
	b, err := EncodeSample(x, s.schema())
	if err != nil {
		return err
	}
	return s.append(s.samples, b, StreamRecord{Sample: x})
}

// AppendCell stores the outcome of one cell attempt; an invalid one is refused.
func (s *Store) AppendCell(c *CellResult) error {
	if err := CheckCell(c); err != nil {
		return fmt.Errorf("results: refusing cell outcome: %w", err)
	}
	b, err := EncodeCell(c, s.schema())
	if err != nil {
		return err
	}
	return s.append(s.cells, b, StreamRecord{Cell: c})
}

func (s *Store) schema() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Schema
}

func (s *Store) append(af *appendFile, b []byte, rec StreamRecord) error {
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if af.broken != nil {
		return af.broken
	}
	st, err := af.f.Stat()
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	prev := st.Size()
	if n, err := af.f.Write(b); err != nil {
		werr := fmt.Errorf("results: writing %s: %w", af.f.Name(), err)
		if n > 0 {
			// Undo the part that was written, or a later record would
			// continue this half line.
			if terr := af.f.Truncate(prev); terr != nil {
				af.broken = fmt.Errorf("%w; the %d bytes written could not be undone (%v): nothing more is appended", werr, n, terr)
				return af.broken
			}
		}
		return werr
	}
	if s.Tee != nil {
		if err := EncodeStream(s.Tee, rec); err != nil {
			return err
		}
	}
	return nil
}

// WriteRun replaces run.json atomically (write a temporary file, rename);
// a run that readers would refuse is not written.
func (s *Store) WriteRun(r *Run) error {
	if err := CheckRun(r); err != nil {
		return fmt.Errorf("results: refusing %s: %w", RunFile, err)
	}
	if s.Tee != nil {
		if err := EncodeStream(s.Tee, StreamRecord{Run: r}); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.Schema = r.SchemaVersion
	s.mu.Unlock()
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
	return errors.Join(s.samples.f.Close(), s.cells.f.Close())
}

// StreamRecord is one line of the single-stream form of a run (`bench run
// -o -`, pod logs): exactly one field is set.
type StreamRecord struct {
	Run    *Run        `json:"run,omitempty"`
	Sample *Sample     `json:"sample,omitempty"`
	Cell   *CellResult `json:"cell,omitempty"`
	// Profile is a cell's profile file (Store.WriteProfile).
	Profile *StreamFile `json:"profile,omitempty"`
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
