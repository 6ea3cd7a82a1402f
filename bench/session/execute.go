package session

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/counts"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runner"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
)

// execute runs cells into the sides' directories and writes the derived
// files and the summary of each.
func execute(ctx context.Context, o Options, sides []*side, cells []plan.Cell, spec runspec.Spec) error {
	cfg := runnerConfig(ctx, o, sides, cells, spec)
	// Prepare (build, sign) before anything is written: a mode that cannot
	// prepare leaves no half-made result directory behind.
	if err := prepare(ctx, sides, cells, cfg); err != nil {
		return err
	}
	stores, closeStores, err := openStores(o, sides)
	defer closeStores()
	if err != nil {
		return err
	}
	cfg.Store = stores[0]
	if len(sides) > 1 {
		cfg.Baseline = &runner.Side{WorkloadBin: sides[1].bin, Modes: sides[1].modes, Store: stores[1]}
	}
	stream := o.Out == "-"
	if !stream {
		fmt.Fprintf(o.Stderr, "run %s: %d cells (%s) into %s\n", sides[0].run.ID, len(cells), spec.Profile, strings.Join(sideDirs(sides), " and "))
	}
	cfg.Progress = o.Output.Progress
	sum, runErr := runner.Run(ctx, cfg)
	o.Output.Done()
	errs := []error{runErr}
	for i, sd := range sides {
		if err := finishSide(o, sd, stores[i], len(sides), len(cells) > 0, sum, runErr); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil && !sum.Interrupted {
		return err
	}
	return outcome(o, sides, len(cells), sum)
}

// runnerConfig is the runner's configuration of a run's cells, with the
// counting pass when the spec asks for it (recorded in each side's
// run.json).
func runnerConfig(ctx context.Context, o Options, sides []*side, cells []plan.Cell, spec runspec.Spec) *runner.Config {
	main := sides[0]
	attempts := main.attempts
	for _, sd := range sides[1:] { // one attempt number per cell across sides
		for k, v := range sd.attempts {
			attempts[k] = max(attempts[k], v)
		}
	}
	cfg := &runner.Config{Cells: cells, Modes: main.modes, WorkloadBin: main.bin, HarnessVersion: o.HarnessVersion,
		Spec: spec, Attempts: attempts, ProvenancePath: provenancePath(main.modes)}
	if !spec.Counts {
		return cfg
	}
	cfg.Counter = counts.Find()
	cfg.Notice = func(msg string) { fmt.Fprintln(o.Stderr, msg) }
	info := cfg.Counter.Info()
	if cfg.Counter.Unavailable != "" {
		fmt.Fprintln(o.Stderr, "counts:", cfg.Counter.Unavailable)
	} else if hidden, err := cfg.Counter.HiddenCPU(ctx, main.bin); err != nil {
		fmt.Fprintln(o.Stderr, "counts: warning: could not compare the CPU features seen under valgrind:", err)
	} else {
		info.CPUHidden = hidden
	}
	for _, sd := range sides {
		sd.run.Counts = info
	}
	return cfg
}

// prepare has every mode of every side prepare its cells (build, sign),
// and pins what the modes built.
func prepare(ctx context.Context, sides []*side, cells []plan.Cell, cfg *runner.Config) error {
	for _, sd := range sides {
		for _, name := range sd.run.Plan.Modes {
			var these []mode.Launch
			for _, c := range cells {
				if c.Mode == name {
					these = append(these, cfg.Launch(c, ""))
				}
			}
			if err := sd.modes[name].Prepare(ctx, these); err != nil {
				if isConfigError(err) {
					return inputf("mode %s: %v", name, err)
				}
				return fmt.Errorf("preparing mode %s: %w", name, err)
			}
		}
		if err := pinBuilds(sd); err != nil {
			return err
		}
	}
	return nil
}

// openStores opens each side's store and writes its run.json; a streamed
// run's records also go to Stdout. closeAll closes those opened, even on
// error.
func openStores(o Options, sides []*side) (stores []*result.Store, closeAll func(), err error) {
	closeAll = func() {
		for _, st := range stores {
			st.Close()
		}
	}
	for _, sd := range sides {
		st, err := result.OpenStore(sd.dir)
		if err != nil {
			return stores, closeAll, err
		}
		stores = append(stores, st)
		for _, t := range st.Torn {
			fmt.Fprintln(o.Stderr, "warning:", t)
		}
		if o.Out == "-" {
			st.Tee = o.Stdout
		}
		if err := st.WriteRun(sd.run); err != nil {
			return stores, closeAll, err
		}
	}
	return stores, closeAll, nil
}

// finishSide stamps a side's run.json with its end and status (and the sim
// cells' bases when cells ran), rewrites the derived files and prints its
// summary.
func finishSide(o Options, sd *side, st *result.Store, nSides int, ran bool, sum runner.Summary, runErr error) error {
	stream := o.Out == "-"
	if !ran && sd.run.Status == result.RunComplete && !sd.run.End.IsZero() {
		// --resume of a complete run: nothing ran, nothing to restamp.
	} else {
		sd.run.End = time.Now().UTC()
	}
	switch {
	case sum.Interrupted:
		sd.run.Status = result.RunInterrupted
	case runErr != nil:
		sd.run.Status = result.RunFailed
	default:
		sd.run.Status = result.RunComplete
	}
	if ran {
		// The sim cells' bases, estimated across sizes now that the
		// cells have run (recorded: readers never re-estimate them).
		d, err := result.Load(sd.dir)
		if err != nil {
			return err
		}
		sd.run.SimBases = paired.Pools(d)
	}
	if err := st.WriteRun(sd.run); err != nil {
		return err
	}
	d, err := result.Load(sd.dir)
	if err != nil {
		return err
	}
	var derivedErr error
	if !stream {
		write := result.WriteDerived
		if o.RewriteDerived {
			write = result.RewriteDerived
		}
		derivedErr = write(d)
	}
	summaryOut := o.Stdout
	if stream {
		summaryOut = o.Stderr
	}
	fmt.Fprintln(summaryOut)
	if nSides > 1 {
		fmt.Fprintf(summaryOut, "%s (%s):\n", sd.run.Build.Side, sd.bin)
	}
	o.Output.Summary(summaryOut, d)
	return derivedErr
}

// outcome is what a run that wrote its directories returns: interrupted
// (with the directory to resume), cells failed, or done (naming the files).
func outcome(o Options, sides []*side, total int, sum runner.Summary) error {
	main := sides[0]
	resumeDir := main.dir
	if len(sides) > 1 {
		resumeDir = filepath.Dir(main.dir)
	}
	if sum.Interrupted {
		return &Interrupted{Dir: resumeDir}
	}
	if sum.Failed > 0 {
		return &CellsFailed{Failed: sum.Failed, Total: total, CellsFile: filepath.Join(main.dir, result.CellsFile)}
	}
	if o.Out != "-" {
		fmt.Fprintf(o.Stderr, "\nresults: %s (%s, %s, %s, %s)\n", strings.Join(sideDirs(sides), ", "), result.SamplesFile, result.RunFile, result.BenchFile, result.CSVFile)
		if len(sides) > 1 {
			fmt.Fprintf(o.Stderr, "compare: bench compare %s %s\n", sides[1].dir, sides[0].dir)
		}
	}
	return nil
}

func sideDirs(sides []*side) []string {
	var d []string
	for _, sd := range sides {
		d = append(d, sd.dir)
	}
	return d
}
