package result

import (
	"bytes"
	"path/filepath"
)

// WriteDerived (re)writes bench.txt and results.csv of a loaded directory
// from its selected samples.
func WriteDerived(d *Dir) error {
	var b bytes.Buffer
	if err := WriteBenchfmt(&b, &d.Run, d.Samples); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(d.Path, BenchFile), b.Bytes()); err != nil {
		return err
	}
	b.Reset()
	if err := WriteCSV(&b, d.Run.ID, d.Samples); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(d.Path, CSVFile), b.Bytes())
}
