package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/enclavebench/enclavebench/bench/compare"
	"github.com/enclavebench/enclavebench/bench/result"
)

func init() {
	register(command{name: "compare", summary: "compare two runs cell by cell (benchstat statistics) and gate on regressions", run: compareCmd})
}

const compareExamples = `  # Two result directories, benchstat-style tables on the terminal
  bench compare results/base results/pr

  # CI gate: exit 1 on a significant regression larger than 5% (or a
  # deterministic count up by more than 1%), Markdown for the PR comment;
  # exit 2 when the samples cannot flag a regression of one cell
  bench compare base/ pr/ --fail-on regression --format markdown -o comment.md

  # bench.txt files (or any Go benchmark format output), JSON for tools
  bench compare old/bench.txt new/bench.txt --format json

  # What the sim model predicts against a native run: match cells across modes
  bench compare native-run/ sim-run/ --ignore mode

Exit codes: 0 no regression (or --fail-on none), 1 regression, 2 bad input
(missing or unreadable files, other schema versions, no samples, cells on
one side only, cells of different cost profiles) or, with --fail-on
regression, too few samples to flag a regression of one cell (the rounds
needed are named).
`

func compareCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "compare OLD NEW [flags]\n\nOLD and NEW are result directories, bench.txt files, or directories of result\ndirectories (pooled rounds).", compareExamples, stderr)
	o := compare.DefaultOptions()
	var ignore []string
	var format, out string
	fs.Float64Var(&o.Alpha, "alpha", compare.DefaultAlpha, "significance level of the Mann-Whitney U test")
	fs.Float64Var(&o.MinEffect, "min-effect", compare.DefaultMinEffect, "smallest change of the median, in percent, that counts as a regression")
	fs.StringVar(&o.FailOn, "fail-on", compare.FailOnNone, "exit 1 on: regression, or none")
	fs.StringVar(&o.Correction, "correction", compare.CorrectionBH, "multiple-comparison correction over the timed rows (one per cell): bh (Benjamini-Hochberg), holm (Holm-Bonferroni), none (per row, like benchstat)")
	fs.Float64Var(&o.CountThreshold, "count-threshold", compare.DefaultCountThreshold, "smallest change, in percent, of a deterministic count (spread <= half of it) that is a regression")
	fs.StringSliceVar(&ignore, "ignore", nil, "match or compare cells across these, comma-separated: mode, size, profile (cost profile, name or content), settings (mode settings such as --ego-trace-ocalls)")
	fs.BoolVar(&o.AllowUnmatched, "allow-unmatched", false, "list cells present on one side only without making it bad input (exit 2)")
	fs.StringVar(&format, "format", compare.FormatText, "output: "+strings.Join(compare.Formats, ", "))
	fs.StringVarP(&out, "out", "o", "-", "write the report to a file; - is stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("compare takes two arguments, OLD and NEW, got %d (see bench compare --help)", fs.NArg())
	}
	var err error
	if o.Ignore, err = compare.ParseIgnore(ignore); err != nil {
		return usageError{err}
	}
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	if format != compare.FormatText && format != compare.FormatMarkdown && format != compare.FormatJSON {
		return usagef("--format %q: want %s", format, strings.Join(compare.Formats, ", "))
	}
	old, err := loadSide("OLD", fs.Arg(0))
	if err != nil {
		return err
	}
	new, err := loadSide("NEW", fs.Arg(1))
	if err != nil {
		return err
	}
	rep, err := compare.Compare(old, new, o)
	if err != nil {
		return usageError{err}
	}
	if err := writeOut(out, stdout, func(w io.Writer) error { return compare.Write(w, rep, format) }); err != nil {
		return err
	}
	switch rep.Verdict.ExitCode {
	case compare.ExitOK:
		return nil
	case compare.ExitRegression:
		return exitError{exitFailed, fmt.Sprintf("%d regression(s)", len(rep.Verdict.Regressions))}
	default:
		return exitError{exitUsage, "bad input: " + rep.Verdict.Summary}
	}
}

// loadSide loads one input, naming the side in errors.
func loadSide(name, path string) (*compare.Set, error) {
	s, err := compare.Load(path)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, os.ErrNotExist) {
			msg += " (want a result directory, a bench.txt file, or a directory of result directories)"
		}
		if errors.Is(err, result.ErrNoRun) {
			msg += " (bench run -o DIR writes one)"
		}
		return nil, usagef("%s: %s", name, msg)
	}
	return s, nil
}

// writeOut writes to stdout for "-" or "", else to the file (atomically).
func writeOut(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	var b strings.Builder
	if err := write(&b); err != nil {
		return err
	}
	if err := result.WriteFileAtomic(path, []byte(b.String())); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
