package main

import (
	"context"
	"fmt"
	"io"

	"github.com/enclavebench/enclavebench/bench/export"
	"github.com/enclavebench/enclavebench/bench/textfmt"
)

func init() {
	register(command{name: "export", summary: "export medians and CIs for trackers (github-action-benchmark, Bencher)", run: exportCmd})
}

const exportExamples = `  # github-action-benchmark, tool customSmallerIsBetter (times: ns/op, ...)
  bench export results/run1 --format gab --direction smaller -o bench-smaller.json

  # ... and customBiggerIsBetter (throughputs: MB/s, ...) in a second file
  bench export results/run1 --format gab --direction bigger -o bench-bigger.json

  # Bencher Metric Format (every unit; ns/op is Bencher's "latency"), for bencher run --adapter json
  bench export results/run1 --format bmf -o bmf.json

  # Only some units; a unit of unknown direction exported as smaller-is-better
  bench export results/run1 --format gab --units ns/op,epc_loads/op
`

func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "export DIR --format gab|bmf [flags]\n\nDIR is a result directory, a bench.txt file, or a directory of result directories.", exportExamples, stderr)
	var format, direction, out string
	var units []string
	fs.StringVar(&format, "format", "", "gab (github-action-benchmark custom JSON) or bmf (Bencher Metric Format)")
	fs.StringVar(&direction, "direction", export.Smaller, "gab only: smaller (customSmallerIsBetter: lower-is-better units) or bigger (customBiggerIsBetter)")
	fs.StringSliceVar(&units, "units", nil, "export only these units, comma-separated (default: every unit of a known direction)")
	fs.StringVarP(&out, "out", "o", "-", "write to a file; - is stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("export takes one argument, the result directory, got %d", fs.NArg())
	}
	if format != "gab" && format != "bmf" {
		return usagef("--format %q: want gab or bmf", format)
	}
	if fs.Changed("direction") && format != "gab" {
		return usagef("--direction applies to --format gab only (a Bencher file holds every direction)")
	}
	set, err := loadSide("DIR", fs.Arg(0))
	if err != nil {
		return err
	}
	for _, w := range set.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	for _, n := range set.NotRun {
		fmt.Fprintf(stderr, "warning: %s: not exported: %s %s\n", n.Cell, n.Status, textfmt.FirstLine(n.Reason))
	}
	for _, c := range set.Cells {
		for _, f := range set.Flaws(c) {
			fmt.Fprintf(stderr, "warning: %s: not exported: its values are suspect: %s\n", c.Name, f)
		}
	}
	points := export.Points(set, units)
	if len(units) > 0 {
		have := map[string]bool{}
		for _, p := range points {
			have[p.Unit] = true
		}
		for _, u := range units {
			if !have[u] {
				return usagef("--units: no cell of %s has values in %s", fs.Arg(0), u)
			}
		}
	}
	var write func(io.Writer) error
	switch format {
	case "gab":
		kept, left, err := export.Select(points, direction, units)
		if err != nil {
			return usageError{err}
		}
		for _, l := range left {
			fmt.Fprintf(stderr, "not exported (--direction %s): %s\n", direction, l)
		}
		if len(kept) == 0 {
			return usagef("nothing to export with --direction %s", direction)
		}
		entries := export.GAB(kept)
		write = func(w io.Writer) error { return export.EncodeGAB(w, entries) }
	case "bmf":
		var kept []export.Point
		for _, p := range points {
			if p.Better != "" || len(units) > 0 {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			return usagef("nothing to export: no unit of a known direction (name units with --units)")
		}
		b := export.ToBMF(kept)
		write = func(w io.Writer) error { return export.EncodeBMF(w, b) }
	}
	return writeOut(out, stdout, write)
}
