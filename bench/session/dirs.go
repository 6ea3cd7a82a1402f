package session

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
)

// resultFiles are the files a run writes into its directory, run.json
// first, and the folders the runner and the registered modes write
// (profiles, a mode's provenance: mode.ResultFolders): any one of them
// makes a directory another run's.
func resultFiles() []string {
	return append([]string{result.RunFile, result.SamplesFile, result.CellsFile, result.BenchFile, result.CSVFile, result.ProfileDir},
		mode.ResultFolders()...)
}

// checkFreshDir refuses a new run's directory that holds another run's
// records: a run appends to samples.jsonl and cells.jsonl, so it would
// adopt the old records as its own (each repeated sample a duplicate that
// readers drop) and keep the old rows in bench.txt under its run id. With
// sides, DIR/base and DIR/new are checked too: --resume DIR and the
// readers take them for a --baseline run's.
func checkFreshDir(dir string, sides bool) error {
	if _, err := os.Stat(filepath.Join(dir, result.RunFile)); err == nil {
		return fmt.Errorf("%s already holds a run; use --resume %s to finish it, or another -o", dir, dir)
	}
	var found []string
	for _, name := range resultFiles() {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			found = append(found, name)
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("%s holds the result files of another run (%s) but no %s: a new run would append to them and "+
			"take the old records for its own; choose another -o, or remove them if they are not wanted", dir, strings.Join(found, ", "), result.RunFile)
	}
	if sides {
		for _, side := range []string{"base", "new"} {
			if err := checkFreshDir(filepath.Join(dir, side), false); err != nil {
				return fmt.Errorf("%s holds a --baseline run (%s has result files; --resume %s finishes one): choose another -o",
					dir, filepath.Join(dir, side), dir)
			}
		}
	}
	return nil
}
