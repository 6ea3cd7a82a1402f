package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/bench/textfmt"
)

// cellSummary is the statistics of one cell in its primary unit.
type cellSummary struct {
	Cell, Unit, Better string
	stats.Summary
	// Model is a model cell's account: its measured base and the
	// predicted slowdown over it, pair by pair ("" for other modes); Mode
	// is the cell's mode.
	Model, Mode string
}

// summarize computes the statistics of each cell of t in its primary unit
// (cells.Cell.PrimaryUnit of its samples' figures), from
// the values, sim pairs and measured bases the table holds.
func summarize(t *cells.Table) []cellSummary {
	var out []cellSummary
	for _, c := range t.Cells {
		u, better := c.PrimaryUnit()
		vals := c.Values[u]
		if len(vals) == 0 {
			continue
		}
		cs := cellSummary{Cell: c.Name, Mode: c.Mode, Unit: u, Better: better, Summary: stats.Summarize(vals)}
		if c.Predicted() {
			cs.Model = c.Paired().Verdict()
			if b := stats.Summarize(c.Bases(u)); b.N > 0 {
				cs.Model = "base " + textfmt.Figure(b.Center, u) + ", " + cs.Model
			}
		}
		out = append(out, cs)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Cell < out[j].Cell })
	return out
}

// printSummary writes the end-of-run table: median ± CI, n, and warnings.
func printSummary(w io.Writer, d *result.Dir) {
	t := cells.FromDir(d)
	sums := summarize(t)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "cell\tmedian\t95% CI\tn\tnote"
	var models []string // the modes of the cells with a model's account
	for _, s := range sums {
		if s.Model != "" && !slices.Contains(models, s.Mode) {
			models = append(models, s.Mode)
		}
	}
	if len(models) > 0 {
		header += "\t" + strings.Join(models, ", ") + ": measured base, predicted slowdown over it"
	}
	fmt.Fprintln(tw, header)
	var warnings []string
	for _, s := range sums {
		note := ""
		if len(s.Warnings) > 0 {
			note = "!"
			for _, wr := range s.Warnings {
				warnings = append(warnings, s.Cell+": "+wr)
			}
		}
		model := ""
		if s.Model != "" {
			model = "\t" + s.Model
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s%s\n", s.Cell, textfmt.Figure(s.Center, s.Unit), ciString(s.Summary), s.N, note, model)
	}
	for _, c := range t.Outcomes {
		if c.Status != result.StatusOK {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s: %s\n", c.Cell, c.Status, textfmt.FirstLine(c.Reason))
		}
	}
	var notPredicted []*cells.Cell
	for _, c := range t.Cells {
		if c.NotPredicted > 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tnot predicted: %s\n", c.Name, textfmt.FirstLine(c.NotPredictedWhy))
			notPredicted = append(notPredicted, c)
		}
	}
	tw.Flush()
	sort.SliceStable(notPredicted, func(i, j int) bool { return notPredicted[i].Name < notPredicted[j].Name })
	for _, c := range notPredicted {
		warnings = append(warnings, fmt.Sprintf("%s: %d sample(s) not predicted (%s): their figures would be unpriced measurements, left out", c.Name, c.NotPredicted, textfmt.FirstLine(c.NotPredictedWhy)))
	}
	in := t.Inputs[0]
	for _, p := range in.Partial {
		warnings = append(warnings, p+": samples from an unfinished attempt (resume the run to complete it)")
	}
	for _, s := range in.Short {
		warnings = append(warnings, s.String())
	}
	// Outliers are common with few repetitions on a shared machine: list
	// a handful, count the rest, and say once what to do.
	var outliers, other []string
	for _, wr := range warnings {
		if strings.Contains(wr, "outlier") {
			outliers = append(outliers, wr)
		} else {
			other = append(other, wr)
		}
	}
	const listed = 5
	if len(warnings) > 0 {
		fmt.Fprintln(w, "\nwarnings:")
		for _, wr := range other {
			fmt.Fprintln(w, "  "+wr)
		}
		for i, wr := range outliers {
			if i == listed {
				fmt.Fprintf(w, "  ... and %d more cells with outliers (all in the report)\n", len(outliers)-listed)
				break
			}
			fmt.Fprintln(w, "  "+wr)
		}
		if len(outliers) > 0 {
			fmt.Fprintln(w, "hint: "+stats.OutlierHint)
		}
	}
}

func ciString(s stats.Summary) string {
	r := s.RelCI()
	if r > 10 {
		return "∞"
	}
	return fmt.Sprintf("±%.1f%%", 100*r)
}
