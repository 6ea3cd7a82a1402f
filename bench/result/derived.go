package result

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/enclavebench/enclavebench/bench/textfmt"
)

// FewerRowsError is WriteDerived refusing to replace a derived file with
// one that has fewer rows: samples were lost since it was written, and
// rewriting it would lose the figures a second time.
type FewerRowsError struct {
	Path      string
	Have, New int
}

func (e *FewerRowsError) Error() string {
	return fmt.Sprintf("%s has %d rows and would be rewritten with %d: left as it was (samples were lost since it was written, or an older harness wrote figures it no longer publishes; pass --rewrite-derived to replace it anyway)",
		e.Path, e.Have, e.New)
}

// WriteDerived (re)writes bench.txt and results.csv of a loaded directory
// from its selected samples. A file that has more rows than its rewrite
// would is left alone and reported as a *FewerRowsError (neither file is
// written).
func WriteDerived(d *Dir) error { return writeDerived(d, false) }

// RewriteDerived is WriteDerived that replaces the files even when they
// lose rows: for a user who asked for it.
func RewriteDerived(d *Dir) error { return writeDerived(d, true) }

func writeDerived(d *Dir, fewerOK bool) error {
	var txt, csvb bytes.Buffer
	if err := WriteBenchfmt(&txt, &d.Run, d.Samples, Flaws(d)); err != nil {
		return err
	}
	if err := WriteCSV(&csvb, d.Run.ID, d.Samples); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		rows func([]byte) (int, error)
	}{{BenchFile, txt.Bytes(), benchRows}, {CSVFile, csvb.Bytes(), csvRows}}
	if !fewerOK {
		var errs []error
		for _, f := range files {
			path := filepath.Join(d.Path, f.name)
			old, err := os.ReadFile(path)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			have, err := f.rows(old)
			if err != nil {
				continue // not ours to keep: an unreadable derived file is replaced
			}
			if n, _ := f.rows(f.data); n < have {
				errs = append(errs, &FewerRowsError{Path: path, Have: have, New: n})
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := WriteFileAtomic(filepath.Join(d.Path, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// benchRows counts the result lines of a Go benchmark format file.
func benchRows(b []byte) (int, error) {
	n := 0
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		if bytes.HasPrefix(l, []byte("Benchmark")) {
			n++
		}
	}
	return n, nil
}

// csvRows counts the data rows of a CSV file (the header aside).
func csvRows(b []byte) (int, error) {
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return 0, err
	}
	return max(len(recs)-1, 0), nil
}

// Flaws says, per cell key, why the selected samples of d's cells are
// suspect: an attempt that failed or did not finish (its samples are kept
// as partial), or a recorded sample count that does not match the samples
// present (lost, or added to), or samples a model could not predict
// (Sample.NotPredicted). bench.txt marks these cells; compare and export
// refuse them.
func Flaws(d *Dir) map[string]string {
	out := map[string]string{}
	add := func(cell, why string) {
		if prev, ok := out[cell]; ok {
			why = prev + "; " + why
		}
		out[cell] = why
	}
	for _, k := range d.Partial {
		why := "samples from an attempt that did not finish (the run stopped mid-cell)"
		if c, ok := d.Cells[k]; ok && c.Status == StatusFailed {
			why = fmt.Sprintf("samples from a failed attempt (attempt %d: %s)", c.Attempt, textfmt.FirstLine(c.Reason))
		}
		add(k, why)
	}
	told := map[string]bool{}
	for i := range d.Samples {
		s := &d.Samples[i]
		if why := s.NotPredicted(); why != "" && !told[s.Cell] {
			told[s.Cell] = true
			add(s.Cell, "not predicted ("+textfmt.FirstLine(why)+"): its figures would be unpriced measurements, left out")
		}
	}
	for _, sc := range d.Short {
		add(sc.Cell, strings.TrimPrefix(sc.String(), sc.Cell+": "))
	}
	return out
}
