package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/bench/fleet/collect"
)

func init() {
	register(command{name: "collect", summary: "turn saved pod logs (bench run -o - streams) into result directories", run: collectCmd})
}

const collectExamples = `  # All pods of a plan (--tail=-1: with -l, kubectl keeps only 10 lines by default)
  kubectl logs -l enclavebench.io/plan=20261127-041121 --prefix --tail=-1 > pods.log
  bench collect pods.log -o results/

  # One log per pod, a directory of them, or stdin
  bench collect logs/ -o results/
  kubectl logs job/enclavebench-dc2s-v2-20261127-041121 | bench collect - -o results/

  # Then one report across the sizes
  bench report results/<run-id> results/<run-id> ...
`

func collectCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("collect", "collect LOG... [-o DIR]", collectExamples, stderr)
	out := flags.StringP("out", "o", "results", "directory to write one result directory per run into")
	strict := flags.Bool("strict", false, "exit 2 when any line or record could not be used (default: warn, keep what is valid)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() == 0 {
		return usagef("collect needs logs: files, directories of them, or - for stdin")
	}
	var logs []collect.Log
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	stdinUsed := false
	for _, arg := range flags.Args() {
		if arg == "-" {
			if stdinUsed {
				return usagef("- (stdin) given twice")
			}
			stdinUsed = true
			logs = append(logs, collect.Log{Name: "stdin", R: os.Stdin})
			continue
		}
		files, err := logFiles(arg)
		if err != nil {
			return usageError{err}
		}
		for _, p := range files {
			f, err := os.Open(p)
			if err != nil {
				return usageError{err}
			}
			closers = append(closers, f)
			logs = append(logs, collect.Log{Name: p, R: f})
		}
	}
	c := collect.Collect(logs)
	for _, p := range c.Problems {
		fmt.Fprintln(stderr, "warning:", p)
	}
	if c.Duplicates > 0 {
		fmt.Fprintf(stderr, "note: %d record(s) seen more than once with the same content were kept once\n", c.Duplicates)
	}
	written, failed, conflicting := 0, 0, 0
	var dirs []string
	for _, r := range c.Runs {
		for _, e := range r.Conflicts {
			fmt.Fprintln(stderr, "conflict:", e)
		}
		path, problems, err := r.Write(*out)
		for _, p := range problems {
			fmt.Fprintln(stderr, "warning:", p)
		}
		if errors.Is(err, collect.ErrSame) {
			fmt.Fprintf(stdout, "%s: run %s already collected, identical\n", path, r.Run.ID)
			dirs = append(dirs, path)
			continue
		}
		if errors.Is(err, collect.ErrConflict) {
			fmt.Fprintf(stderr, "bench collect: %v\n", err)
			conflicting++
			continue
		}
		if err != nil {
			fmt.Fprintf(stderr, "bench collect: run %s: %v\n", r.Run.ID, err)
			failed++
			continue
		}
		written++
		dirs = append(dirs, path)
		status := r.Run.Status
		fmt.Fprintf(stdout, "%s: run %s, %s, %d samples, %d cell outcomes, %s (from %s)\n",
			path, r.Run.ID, strings.Join(r.Sizes(), ","), len(r.Samples), len(r.Cells), status, strings.Join(r.Files, ", "))
	}
	switch {
	case len(c.Runs) == 0:
		return usagef("no runs found in %s: no stream lines of this harness (%s)", strings.Join(flags.Args(), ", "), "lines starting @enclavebench-result/1, written by bench run -o -")
	case conflicting > 0:
		return exitError{exitUsage, fmt.Sprintf("%d of %d run(s) not written: their logs hold conflicting records of a cell (see above)", conflicting, len(c.Runs))}
	case failed > 0:
		return exitError{exitFailed, fmt.Sprintf("%d of %d run(s) not written (see above)", failed, len(c.Runs))}
	case *strict && len(c.Problems) > 0:
		return exitError{exitUsage, fmt.Sprintf("%d problem(s) in the logs (see above; --strict)", len(c.Problems))}
	}
	if len(c.Problems) > 0 {
		fmt.Fprintf(stderr, "bench collect: %d run(s) written; %d problem(s) above (what was valid is kept)\n", written, len(c.Problems))
	}
	fmt.Fprintf(stdout, "\nnext: bench report %s\n", strings.Join(dirs, " "))
	return nil
}

// logFiles expands a log argument: a file, or every regular file under a
// directory (hidden ones skipped), in name order.
func logFiles(arg string) ([]string, error) {
	fi, err := os.Stat(arg)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{arg}, nil
	}
	var files []string
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != arg && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New(arg + ": no files in the directory")
	}
	sort.Strings(files)
	return files, nil
}
