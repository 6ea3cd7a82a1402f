package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/facts"
	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runner"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/suite"
)

func init() {
	register(command{name: "run", summary: "run workloads across sizes and modes into a result directory", run: runCmd})
}

const runExamples = `  # The quick suite on every DCsv2 size, natively, into results/<run-id>/
  bench run

  # Two workloads, two sizes, native mode, the quick profile, into a chosen directory
  bench run --workloads syscall,memsweep --sizes DC1s_v2,DC2s_v2 --modes native -o /tmp/r1

  # Which DCsv2 size does a 64 MiB or 200 MiB enclave working set need? (then: bench report DIR)
  bench run --footprint 64MiB,200MiB --modes native,sim

  # Override a parameter grid, more repetitions
  bench run --workloads memsweep --param memsweep.ws=0.25xEPC,1xEPC,2xEPC --reps 10

  # Finish the cells an interrupted or killed run left out
  bench run --resume results/20261127T040000Z-1a2b

  # Stream records to stdout (pod logs), summary on stderr
  bench run --sizes DC2s_v2 -o - > run.log

  # A/B: the base branch's workload binary against this one, interleaved, then the gate
  bench run --baseline /tmp/base/workload --workload-bin bin/workload --modes sim -o /tmp/ab
  bench compare /tmp/ab/base /tmp/ab/new --fail-on regression
`

// runOptions are the flags of bench run.
type runOptions struct {
	workloads, sizes, modes []string
	params                  []string
	footprints              []string
	profile                 string
	reps, warmup            int
	minTime, timeout        time.Duration
	out, resume             string
	seed                    int64
	workloadBin             string
	progress                string
	baseline                string
	rounds                  int
	rewriteDerived          bool
	modeOpts                modeOptions
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "run [flags]", runExamples, stderr)
	var o runOptions
	fs.StringSliceVar(&o.workloads, "workloads", nil, "workloads to run, comma-separated (default: all; see bench list)")
	fs.StringSliceVar(&o.sizes, "sizes", []string{"dcsv2"}, "sizes: all, dcsv2, dcsv3, dcdsv3, or names (see bench sizes)")
	fs.StringSliceVar(&o.modes, "modes", []string{mode.Native}, "modes: "+strings.Join(mode.Names(), ", ")+", or auto (native + the best enclave mode here)")
	fs.StringVar(&o.profile, "profile", "quick", "profile: "+strings.Join(plan.ProfileNames(), ", "))
	fs.StringArrayVar(&o.params, "param", nil, "override a grid: workload.param=v1,v2 (repeatable)")
	fs.StringSliceVar(&o.footprints, "footprint", nil, "absolute enclave memory sizes, e.g. 64MiB,200MiB: set the footprint parameter of every workload that has one (memsweep.ws, kvstore.dataset, aesgcm.dataset) on every size, for sizing")
	fs.IntVar(&o.reps, "reps", 0, "measured repetitions per cell (default: the profile's)")
	fs.IntVar(&o.warmup, "warmup", -1, "warmup repetitions per cell (default: the profile's)")
	fs.DurationVar(&o.minTime, "min-time", 0, "minimum duration of a repetition (default: the profile's)")
	fs.DurationVar(&o.timeout, "timeout", 0, "per-cell timeout (default: the profile's)")
	fs.StringVarP(&o.out, "out", "o", "", "result directory (default results/<run-id>); - streams records to stdout")
	fs.StringVar(&o.resume, "resume", "", "finish the missing and failed cells of an earlier run directory")
	fs.Int64Var(&o.seed, "seed", 0, "seed of the cell order (default: random, recorded in run.json)")
	fs.StringVar(&o.workloadBin, "workload-bin", "", "the workload binary (default: next to bench, or $ENCLAVEBENCH_WORKLOAD)")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar: auto (only on a terminal), always, never")
	fs.StringVar(&o.baseline, "baseline", "", "a baseline workload binary: run it and the candidate (--workload-bin) interleaved, into DIR/base and DIR/new (native and sim modes)")
	fs.BoolVar(&o.rewriteDerived, "rewrite-derived", false, "rewrite bench.txt and results.csv even when they would lose rows (samples lost since they were written)")
	fs.IntVar(&o.rounds, "rounds", 0, "processes per cell, each measuring reps/rounds repetitions (default 1; with --baseline, one per repetition)")
	o.modeOpts.addFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes no arguments, got %q (did you mean --workloads %s?)", fs.Args(), strings.Join(fs.Args(), ","))
	}
	if o.resume != "" {
		return resumeRun(ctx, o, fs.Changed, stdout, stderr)
	}
	return newRun(ctx, o, stdout, stderr)
}

// newRun plans and executes a fresh run.
func newRun(ctx context.Context, o runOptions, stdout, stderr io.Writer) error {
	prof, err := plan.LookupProfile(o.profile)
	if err != nil {
		return usageError{err}
	}
	applyProfileOverrides(&prof, o)
	if prof.Reps <= 0 || prof.Warmup < 0 || prof.MinTime <= 0 || prof.Timeout <= 0 {
		return usagef("--reps, --min-time and --timeout must be positive and --warmup not negative")
	}
	sz, err := sizes.Select(strings.Join(o.sizes, ","))
	if err != nil {
		return usageError{err}
	}
	overrides, err := plan.ParseOverrides(o.params)
	if err != nil {
		return usageError{err}
	}
	footprints, err := plan.ParseFootprints(o.footprints)
	if err != nil {
		return usageError{err}
	}
	if overrides, err = plan.FootprintOverrides(suite.Workloads, o.workloads, footprints, overrides); err != nil {
		return usageError{err}
	}
	seed := o.seed
	if seed == 0 {
		seed = randomSeed()
	}
	fp := host.Collect(ctx, host.DefaultOptions())
	o.modes = expandModes(o.modes, &fp, stderr)
	req := plan.Request{Registry: suite.Workloads, Workloads: o.workloads, Sizes: sz, Modes: o.modes,
		Profile: prof, Overrides: overrides, HostMem: fp.MemBytes, Seed: seed}
	cells, err := plan.Expand(req)
	if err != nil {
		return usageError{err}
	}
	bin, err := findWorkloadBin(o.workloadBin)
	if err != nil {
		return usageError{err}
	}
	o.modeOpts.stderr = stderr
	modes, err := o.modeOpts.build(ctx, o.modes, &fp, bin)
	if err != nil {
		return err
	}
	id := newRunID()
	stream := o.out == "-"
	dir := o.out
	if dir == "" {
		dir = filepath.Join("results", id)
	}
	if stream {
		dir, err = os.MkdirTemp("", "enclavebench-run-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	if !stream {
		if err := checkEmptyDir(dir); err != nil {
			return usageError{err}
		}
	}
	run := &result.Run{
		SchemaVersion: result.SchemaVersion, ID: id, HarnessVersion: harnessVersion(), HarnessCommit: harnessCommit(),
		Command: append([]string{"bench", "run"}, os.Args[min(2, len(os.Args)):]...), Start: time.Now().UTC(),
		Status: "running", Host: fp,
		Plan: result.Plan{Workloads: workloadNames(cells, o.workloads), Sizes: sizeNames(sz), Modes: o.modes,
			Profile: prof.Name, Overrides: overrides, Footprints: footprints, Reps: prof.Reps, Warmup: prof.Warmup,
			MinTimeNS: prof.MinTime.Nanoseconds(), TimeoutNS: prof.Timeout.Nanoseconds(), Seed: seed},
	}
	for _, c := range cells {
		run.Plan.Cells = append(run.Plan.Cells, c.Key())
	}
	o.modeOpts.describe(run, modes)
	run.Facts = facts.Record(run, cells)
	sides := []*runSide{{dir: dir, run: run, modes: modes, bin: bin, attempts: map[string]int{}}}
	if o.baseline != "" || o.rounds > 0 {
		if stream {
			return usagef("--baseline and --rounds write two directories or several rounds; they cannot stream to -o -")
		}
		run.Plan.Rounds = max(o.rounds, 1)
	}
	if o.baseline != "" {
		if o.rounds == 0 {
			run.Plan.Rounds = prof.Reps // one repetition per process, pairs back to back
		}
		if sides, err = baselineSides(ctx, o, run, dir, bin, modes, &fp, stderr); err != nil {
			return err
		}
	}
	return execute(ctx, sides, cells, prof, o, stdout, stderr)
}

// runSide is one result directory a run writes: the only one, or the
// candidate and the baseline of a --baseline run.
type runSide struct {
	dir      string
	run      *result.Run
	modes    map[string]mode.Mode
	bin      string
	attempts map[string]int
}

// baselineSides splits a run into its candidate (DIR/new) and baseline
// (DIR/base) sides.
func baselineSides(ctx context.Context, o runOptions, run *result.Run, dir, bin string, modes map[string]mode.Mode,
	fp *host.Fingerprint, stderr io.Writer) ([]*runSide, error) {
	for _, m := range run.Plan.Modes {
		if d, ok := mode.Lookup(m); ok && d.BuildsWorkload {
			return nil, usagef("--baseline compares two workload binaries in %s modes; %s builds its own from source", binaryModes(), m)
		}
	}
	base, err := filepath.Abs(o.baseline)
	if err != nil {
		return nil, usageError{err}
	}
	if _, err := os.Stat(base); err != nil {
		return nil, usagef("--baseline: %v", err)
	}
	baseModes, err := o.modeOpts.build(ctx, run.Plan.Modes, fp, base)
	if err != nil {
		return nil, err
	}
	var sides []*runSide
	for _, sd := range []struct {
		name, bin string
		modes     map[string]mode.Mode
	}{{"new", bin, modes}, {"base", base, baseModes}} {
		r := *run
		sum, err := result.FileSHA256(sd.bin)
		if err != nil {
			return nil, usageError{err}
		}
		r.Build = &result.Build{Side: sd.name, WorkloadBin: sd.bin, SHA256: sum}
		d := filepath.Join(dir, sd.name)
		if err := checkEmptyDir(d); err != nil {
			return nil, usageError{err}
		}
		sides = append(sides, &runSide{dir: d, run: &r, modes: sd.modes, bin: sd.bin, attempts: map[string]int{}})
	}
	return sides, nil
}

// resumeRun replays an earlier run's plan and runs the cells that have no
// successful or not-applicable outcome yet (on either side of a --baseline
// run).
func resumeRun(ctx context.Context, o runOptions, changed func(string) bool, stdout, stderr io.Writer) error {
	for _, f := range []string{"workloads", "sizes", "modes", "profile", "param", "footprint", "seed", "out", "baseline", "rounds"} {
		if changed(f) {
			return usagef("--resume replays the run's own plan; --%s cannot be changed", f)
		}
	}
	dirs := []string{o.resume}
	if _, err := os.Stat(filepath.Join(o.resume, result.RunFile)); err != nil {
		if _, berr := os.Stat(filepath.Join(o.resume, "base", result.RunFile)); berr == nil {
			dirs = []string{filepath.Join(o.resume, "new"), filepath.Join(o.resume, "base")}
		}
	}
	var loaded []*result.Dir
	for _, dir := range dirs {
		d, err := result.Load(dir)
		if err != nil {
			return usageError{err}
		}
		for _, p := range d.Problems {
			fmt.Fprintln(stderr, "warning:", p)
		}
		for _, s := range d.Short {
			fmt.Fprintln(stderr, "warning:", s)
		}
		loaded = append(loaded, d)
	}
	run := &loaded[0].Run
	p := run.Plan
	prof := plan.Profile{Name: p.Profile, Reps: p.Reps, Warmup: p.Warmup, MinTime: time.Duration(p.MinTimeNS), Timeout: time.Duration(p.TimeoutNS)}
	if bp, err := plan.LookupProfile(p.Profile); err == nil {
		prof.Full = bp.Full
	}
	if o.timeout > 0 {
		prof.Timeout = o.timeout
	}
	sz, err := sizes.Select(strings.Join(p.Sizes, ","))
	if err != nil {
		return usageError{fmt.Errorf("%s: %v", o.resume, err)}
	}
	fp := host.Collect(ctx, host.DefaultOptions())
	cells, err := plan.Expand(plan.Request{Registry: suite.Workloads, Workloads: p.Workloads, Sizes: sz, Modes: p.Modes,
		Profile: prof, Overrides: p.Overrides, HostMem: fp.MemBytes, Seed: p.Seed})
	if err != nil {
		return usageError{fmt.Errorf("%s: the plan no longer expands: %v", o.resume, err)}
	}
	var todo []plan.Cell
	for _, c := range cells {
		finished := true
		for _, d := range loaded {
			cr, ok := d.Cells[c.Key()]
			finished = finished && ok && (cr.Status == result.StatusOK || cr.Status == result.StatusNA) && !lostSamples(d, c.Key())
		}
		if !finished {
			todo = append(todo, c)
		}
	}
	fmt.Fprintf(stderr, "resuming %s: %d of %d cells to run\n", o.resume, len(todo), len(cells))
	o.modeOpts.stderr = stderr
	o.rounds = p.Rounds
	var sides []*runSide
	for i, d := range loaded {
		bin := o.workloadBin
		if d.Run.Build != nil && (bin == "" || d.Run.Build.Side == "base") {
			bin = d.Run.Build.WorkloadBin // each side keeps its own build
		}
		if bin, err = findWorkloadBin(bin); err != nil {
			return usageError{err}
		}
		if d.Run.Build != nil {
			if sum, err := result.FileSHA256(bin); err != nil || sum != d.Run.Build.SHA256 {
				return usagef("%s: the %s workload binary %s changed since the run started; resume needs the same build", d.Path, d.Run.Build.Side, bin)
			}
		}
		modes, err := o.modeOpts.build(ctx, p.Modes, &fp, bin)
		if err != nil {
			return err
		}
		samples, cellResults, _ := result.ReadAll(d.Path)
		d.Run.Status, d.Run.End = "running", time.Time{}
		sides = append(sides, &runSide{dir: d.Path, run: &loaded[i].Run, modes: modes, bin: bin,
			attempts: result.MaxAttempts(samples, cellResults)})
	}
	return execute(ctx, sides, todo, prof, o, stdout, stderr)
}

// lostSamples reports whether samples that key's finished attempt recorded
// are missing from d: such a cell is run again.
func lostSamples(d *result.Dir, key string) bool {
	for _, s := range d.Short {
		if s.Cell == key && s.Lost() {
			return true
		}
	}
	return false
}

// execute runs cells into the sides' directories and writes the derived
// files and the summary of each.
func execute(ctx context.Context, sides []*runSide, cells []plan.Cell, prof plan.Profile, o runOptions, stdout, stderr io.Writer) error {
	stream := o.out == "-"
	main := sides[0]
	attempts := main.attempts
	for _, sd := range sides[1:] { // one attempt number per cell across sides
		for k, v := range sd.attempts {
			attempts[k] = max(attempts[k], v)
		}
	}
	cfg := &runner.Config{Cells: cells, Modes: main.modes, WorkloadBin: main.bin,
		Reps: prof.Reps, Warmup: prof.Warmup, MinTime: prof.MinTime, Timeout: prof.Timeout, Attempts: attempts,
		ProvenancePath: provenancePath(main.modes), Rounds: main.run.Plan.Rounds, Seed: main.run.Plan.Seed}
	// Prepare (build, sign) before anything is written: a mode that cannot
	// prepare leaves no half-made result directory behind.
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
					return usagef("mode %s: %v", name, err)
				}
				return fmt.Errorf("preparing mode %s: %w", name, err)
			}
		}
	}
	stores := make([]*result.Store, len(sides))
	for i, sd := range sides {
		st, err := result.OpenStore(sd.dir)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, t := range st.Torn {
			fmt.Fprintln(stderr, "warning:", t)
		}
		if stream {
			st.Tee = stdout
		}
		if err := st.WriteRun(sd.run); err != nil {
			return err
		}
		stores[i] = st
	}
	cfg.Store = stores[0]
	if len(sides) > 1 {
		cfg.Baseline = &runner.Side{WorkloadBin: sides[1].bin, Modes: sides[1].modes, Store: stores[1]}
	}
	summaryOut := stdout
	if stream {
		summaryOut = stderr
	}
	if !stream {
		fmt.Fprintf(stderr, "run %s: %d cells (%s) into %s\n", main.run.ID, len(cells), prof.Name, strings.Join(sideDirs(sides), " and "))
	}
	prog := newProgress(stderr, o.progress)
	cfg.Progress = prog.update
	sum, runErr := runner.Run(ctx, cfg)
	prog.finish()
	var errs []error
	for i, sd := range sides {
		sd.run.End = time.Now().UTC()
		switch {
		case sum.Interrupted:
			sd.run.Status = "interrupted"
		case runErr != nil:
			sd.run.Status = "failed"
		default:
			sd.run.Status = "complete"
		}
		if err := stores[i].WriteRun(sd.run); err != nil {
			errs = append(errs, err)
			continue
		}
		d, err := result.Load(sd.dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !stream {
			write := result.WriteDerived
			if o.rewriteDerived {
				write = result.RewriteDerived
			}
			if err := write(d); err != nil {
				errs = append(errs, err)
			}
		}
		fmt.Fprintln(summaryOut)
		if len(sides) > 1 {
			fmt.Fprintf(summaryOut, "%s (%s):\n", sd.run.Build.Side, sd.bin)
		}
		printSummary(summaryOut, d)
	}
	if err := errors.Join(append([]error{runErr}, errs...)...); err != nil && !sum.Interrupted {
		return err
	}
	resumeDir := main.dir
	if len(sides) > 1 {
		resumeDir = filepath.Dir(main.dir)
	}
	if sum.Interrupted {
		return exitError{exitSignal, fmt.Sprintf("interrupted: finished cells are in %s; continue with: bench run --resume %s", resumeDir, resumeDir)}
	}
	if sum.Failed > 0 {
		return exitError{exitFailed, fmt.Sprintf("%d of %d cells failed (see above; details in %s)", sum.Failed, len(cells), filepath.Join(main.dir, result.CellsFile))}
	}
	if !stream {
		fmt.Fprintf(stderr, "\nresults: %s (%s, %s, %s, %s)\n", strings.Join(sideDirs(sides), ", "), result.SamplesFile, result.RunFile, result.BenchFile, result.CSVFile)
		if len(sides) > 1 {
			fmt.Fprintf(stderr, "compare: bench compare %s %s\n", sides[1].dir, sides[0].dir)
		}
	}
	return nil
}

func sideDirs(sides []*runSide) []string {
	var d []string
	for _, sd := range sides {
		d = append(d, sd.dir)
	}
	return d
}

func applyProfileOverrides(p *plan.Profile, o runOptions) {
	if o.reps != 0 {
		p.Reps = o.reps
	}
	if o.warmup >= 0 {
		p.Warmup = o.warmup
	}
	if o.minTime != 0 {
		p.MinTime = o.minTime
	}
	if o.timeout != 0 {
		p.Timeout = o.timeout
	}
}

func checkEmptyDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, result.RunFile)); err == nil {
		return fmt.Errorf("%s already holds a run; use --resume %s to finish it, or another -o", dir, dir)
	}
	return nil
}

func newRunID() string {
	var b [2]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func randomSeed() int64 {
	var b [8]byte
	rand.Read(b[:])
	s := int64(0)
	for _, x := range b {
		s = s<<8 | int64(x)
	}
	if s < 0 {
		s = -s
	}
	return s | 1
}

func sizeNames(sz []sizes.Size) []string {
	n := make([]string, len(sz))
	for i, s := range sz {
		n[i] = s.Name
	}
	return n
}

func workloadNames(cells []plan.Cell, asked []string) []string {
	if len(asked) > 0 {
		return asked
	}
	return suite.Workloads.Names()
}

// WorkloadEnv names the environment variable that points at the workload binary.
const workloadEnv = "ENCLAVEBENCH_WORKLOAD"

// findWorkloadBin locates the workload binary: the flag, the environment,
// or next to the bench executable.
func findWorkloadBin(flag string) (string, error) {
	for _, p := range []string{flag, os.Getenv(workloadEnv)} {
		if p != "" {
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("workload binary %s: %v", p, err)
			}
			return filepath.Abs(p)
		}
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "workload")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("cannot find the workload binary: build it with `go build -o bin/workload ./workloads/cmd/workload` (./run.sh does), then pass --workload-bin bin/workload or set $" + workloadEnv)
}
