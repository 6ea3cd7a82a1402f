package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/report"
)

func init() {
	register(command{name: "report", summary: "write an HTML and Markdown report with plots from result directories", run: reportCmd})
}

const reportExamples = `  # One run: report.html, report.md and plots/ into results/<run-id>/report
  bench report results/20261127T040000Z-1a2b

  # Runs from several machines (one per DCsv2 VM) into one report
  bench report -o report-dcsv2 results/dc1 results/dc2 results/dc4 results/dc8

  # Sizing advice within 10% of native, PDF plots for a paper
  bench report --tolerance 10% --pdf results/run1

  # The Markdown report on stdout (no plots), e.g. for a CI job summary
  bench report -o - results/run1 >> "$GITHUB_STEP_SUMMARY"

Merging: samples of the same cell from runs on one host are pooled; runs on
different hosts are kept apart and labelled by host (--merge run keeps every
run apart, --merge all pools everything). Directories that cannot be used
are named on stderr with the reason; the report says what was left out.
Exit status: 0 when a report was written, 2 when no directory had samples.
`

// tolerance is a flag.Value for "20%" or "0.2".
type tolerance float64

func (t *tolerance) String() string {
	return strconv.FormatFloat(float64(*t)*100, 'f', -1, 64) + "%"
}

func (t *tolerance) Set(s string) error {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return fmt.Errorf("%q is not a tolerance (e.g. 20%% or 0.2)", s)
	}
	if pct {
		f /= 100
	} else if f >= 1 {
		return fmt.Errorf("%q is ambiguous: write %s%% for a percentage", s, s)
	}
	if !(f > 0 && f <= 100) { // also NaN and Inf
		return fmt.Errorf("tolerance %q: want a positive finite slowdown, e.g. 20%% or 0.2", s)
	}
	*t = tolerance(f)
	return nil
}

func (t *tolerance) Type() string { return "percent" }

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report [flags] DIR...", reportExamples, stderr)
	o := report.DefaultOptions()
	tol := tolerance(o.Tolerance)
	out := fs.StringP("out", "o", "", "report directory (default <first DIR>/report); - writes report.md to stdout, without plots")
	fs.Var(&tol, "tolerance", "sizing advice: slowdown accepted against native, e.g. 20% or 0.2")
	fs.Float64Var(&o.Alpha, "alpha", o.Alpha, "significance level of the comparisons with native")
	fs.StringVar(&o.Merge, "merge", o.Merge, "pool samples of the same cell from: host (runs on one host), run (never pool), all")
	fs.BoolVar(&o.MixedVersions, "mixed-versions", false, "keep directories written by another harness version")
	fs.BoolVar(&o.PDF, "pdf", false, "also write each plot as PDF")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("report needs at least one result directory (e.g. bench report results/<run-id>)")
	}
	switch o.Merge {
	case report.MergeHost, report.MergeRun, report.MergeAll:
	default:
		return usagef("--merge %q: valid: host, run, all", o.Merge)
	}
	if !(o.Alpha > 0 && o.Alpha < 1) { // also NaN
		return usagef("--alpha %v: want a level between 0 and 1, e.g. 0.05", o.Alpha)
	}
	o.Tolerance = float64(tol)
	dirs := fs.Args()
	dir := *out
	if dir == "" {
		dir = filepath.Join(dirs[0], "report")
	}
	in := report.Load(dirs, o)
	for _, l := range in.LeftOut {
		fmt.Fprintf(stderr, "bench report: %s: %s\n", l.Dir, l.Reason)
	}
	for _, n := range in.Notes {
		fmt.Fprintf(stderr, "bench report: warning: %s\n", n)
	}
	if !in.Reportable() {
		return exitError{exitUsage, fmt.Sprintf("nothing to report: none of the %d director%s has samples", len(dirs), plural(len(dirs), "y", "ies"))}
	}
	r := report.Build(in, o)
	if dir == "-" {
		// The Markdown report names no plot files, so it stands alone.
		if err := report.WriteMarkdown(stdout, r); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: %d samples, %s (Markdown on stdout; plots are written only to a directory)\n", r.Samples, warningsText(r))
		return nil
	}
	w, err := report.Write(r, dir)
	if err != nil {
		return err
	}
	for _, f := range w.Failed {
		fmt.Fprintf(stderr, "bench report: warning: figure not drawn: %s\n", f)
	}
	fmt.Fprintf(stdout, "report: %s (%d samples, %d figures, %s; %s)\n",
		filepath.Join(dir, report.HTMLFile), r.Samples, w.Figures, warningsText(r), report.MarkdownFile)
	if len(in.LeftOut) > 0 {
		fmt.Fprintf(stdout, "left out %d director%s (see above and the report)\n", len(in.LeftOut), plural(len(in.LeftOut), "y", "ies"))
	}
	return nil
}

// warningsText counts the report's warnings, those that change a
// conclusion first, and names their kinds.
func warningsText(r *report.Report) string {
	if len(r.Warnings) == 0 {
		return "no warnings"
	}
	var matters []string
	n := 0
	for _, g := range r.WarningGroups {
		if g.Matters {
			n += len(g.Items)
			matters = append(matters, fmt.Sprintf("%d %s", len(g.Items), g.Kind))
		}
	}
	if n == 0 {
		return fmt.Sprintf("%d warning(s), none that changes a conclusion", len(r.Warnings))
	}
	return fmt.Sprintf("%d warning(s), %d that change a conclusion: %s", len(r.Warnings), n, strings.Join(matters, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
