// Package session carries a run from its spec to its result directories:
// a new run (Run), the rest of an interrupted or failed one (Resume), and
// the interleaved pair of a --baseline run. It plans the cells, checks and
// prepares the modes, holds the directory's lock, drives the runner and
// writes run.json and the derived files. Printing the progress and the
// summary is the caller's (Options.Output).
package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/counts"
	"github.com/enclavebench/enclavebench/bench/facts"
	"github.com/enclavebench/enclavebench/bench/gotest"
	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runner"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Options configure a run.
type Options struct {
	// Spec is the request as the user wrote it (New) or nothing (Resume
	// replays run.json's).
	Spec runspec.Spec
	// Out is the result directory: "" for results/<run-id>, "-" to stream
	// the records to Stdout (and the summary to Stderr).
	Out string
	// WorkloadBin is the workload binary ("" finds it, see FindWorkloadBin).
	WorkloadBin string
	// Baseline is a second workload binary, run interleaved with
	// WorkloadBin into DIR/base and DIR/new.
	Baseline string
	// Timeout replaces the plan's per-cell timeout on --resume (0: keep).
	Timeout time.Duration
	// RewriteDerived rewrites bench.txt and results.csv even when they
	// would lose rows (result.RewriteDerived).
	RewriteDerived bool
	Modes          ModeOptions
	// Command, HarnessVersion and HarnessCommit are recorded in run.json.
	Command                       []string
	HarnessVersion, HarnessCommit string
	Output                        Output
	Stdout, Stderr                io.Writer
}

// Output shows a run to its user.
type Output interface {
	Progress(runner.Event)
	// Done ends the progress display.
	Done()
	// Summary prints a finished directory's cells.
	Summary(w io.Writer, d *result.Dir)
}

// InputError is bad input found before any cell ran (exit 2).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputf(format string, args ...any) error { return &InputError{fmt.Errorf(format, args...)} }

// Interrupted reports a run stopped by a signal; Dir resumes it.
type Interrupted struct{ Dir string }

func (e *Interrupted) Error() string {
	return fmt.Sprintf("interrupted: finished cells are in %s; continue with: bench run --resume %s", e.Dir, e.Dir)
}

// CellsFailed reports a run that finished with failed cells.
type CellsFailed struct {
	Failed, Total int
	CellsFile     string
}

func (e *CellsFailed) Error() string {
	return fmt.Sprintf("%d of %d cells failed (see above; details in %s)", e.Failed, e.Total, e.CellsFile)
}

// side is one result directory a run writes: the only one, or the
// candidate and the baseline of a --baseline run.
type side struct {
	dir      string
	run      *result.Run
	modes    map[string]mode.Mode
	bin      string
	attempts map[string]int
}

// Resolve turns a request into the resolved spec run.json records and the
// cells it expands to (plan.Resolve): the profile fills in what the
// request leaves to it, "auto" becomes this host's modes, a zero seed a
// random one, --gotest patterns absolute paths whose benchmarks are built.
func Resolve(ctx context.Context, spec runspec.Spec, fp *host.Fingerprint, stderr io.Writer) (runspec.Spec, []plan.Cell, []result.GoTestBuild, error) {
	var set *gotest.Set
	var prepErr error
	run, err := plan.Resolve(plan.Request{Spec: spec, HostMem: fp.MemBytes, Prepare: func(s *runspec.Spec) (workload.Registry, error) {
		if s.Seed == 0 {
			s.Seed = randomSeed()
		}
		s.Modes = ExpandModes(s.Modes, fp, stderr)
		if len(s.GoTest) > 0 {
			cwd, err := os.Getwd()
			if err != nil {
				prepErr = err
				return nil, err
			}
			if s.GoTest, err = gotest.Abs(s.GoTest, cwd); err != nil {
				prepErr = &InputError{err}
				return nil, err
			}
		}
		var reg workload.Registry
		reg, set, prepErr = registry(ctx, *s, stderr)
		if set != nil && len(s.Workloads) == 0 {
			s.Workloads = set.Names() // --gotest alone: its benchmarks, not the suite
		}
		return reg, prepErr
	}})
	if prepErr != nil {
		return spec, nil, nil, prepErr
	}
	if err != nil {
		return spec, nil, nil, &InputError{err}
	}
	var builds []result.GoTestBuild
	if set != nil {
		builds = set.Builds
	}
	return run.Spec, run.Cells, builds, nil
}

// registry is the workloads a spec can name: the suite's, and with
// --gotest the user's Go benchmarks (bench/gotest builds and finds them).
func registry(ctx context.Context, spec runspec.Spec, stderr io.Writer) (workload.Registry, *gotest.Set, error) {
	if len(spec.GoTest) == 0 {
		return suite.Workloads, nil, nil
	}
	fmt.Fprintf(stderr, "gotest: building and listing the benchmarks of %s\n", strings.Join(spec.GoTest, " "))
	set, err := gotest.Load(ctx, gotest.Request{Patterns: spec.GoTest, Bench: spec.Bench, Tags: spec.Tags, Timeout: spec.Timeout()})
	if err != nil {
		var ie *gotest.InputError
		if errors.As(err, &ie) {
			return nil, nil, &InputError{err}
		}
		return nil, nil, err
	}
	reg, err := set.Registry(suite.Workloads)
	if err != nil {
		return nil, nil, &InputError{err}
	}
	return reg, set, nil
}

// New plans and executes a fresh run.
func New(ctx context.Context, o Options) error {
	stream := o.Out == "-"
	if (o.Baseline != "" || o.Spec.Rounds > 0) && stream {
		return inputf("--baseline and --rounds write two directories or several rounds; they cannot stream to -o -")
	}
	if o.Baseline != "" && len(o.Spec.GoTest) > 0 {
		// Both sides would run the same test binary: --baseline swaps the
		// workload binary, not the user's code.
		return inputf("--baseline compares two workload binaries; with --gotest both sides would run the same test binary of your package: run each version of your code into its own directory and compare them with bench compare")
	}
	fp, err := collectHost(ctx)
	if err != nil {
		return err
	}
	spec, cells, goTest, err := Resolve(ctx, o.Spec, &fp, o.Stderr)
	if err != nil {
		return err
	}
	if o.Baseline != "" || spec.Rounds > 0 {
		spec.Rounds = max(spec.Rounds, 1)
		if o.Baseline != "" && o.Spec.Rounds == 0 {
			spec.Rounds = spec.Reps // one repetition per process, pairs back to back
		}
	}
	bin, err := FindWorkloadBin(o.WorkloadBin)
	if err != nil {
		return &InputError{err}
	}
	o.Modes.Stderr = o.Stderr
	modes, err := o.Modes.Build(ctx, spec.Modes, &fp, bin)
	if err != nil {
		return err
	}
	id := NewRunID()
	dir := o.Out
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
	run := &result.Run{
		SchemaVersion: result.SchemaVersion, ID: id, HarnessVersion: o.HarnessVersion, HarnessCommit: o.HarnessCommit,
		Command: o.Command, Start: time.Now().UTC(), Status: result.RunRunning, Host: fp,
		Plan: result.Plan{Spec: spec, Digest: spec.Digest()}, GoTest: goTest,
	}
	for _, c := range cells {
		run.Plan.Cells = append(run.Plan.Cells, c.Key())
	}
	o.Modes.describe(run, modes)
	run.Facts = facts.Record(run, cells)
	var sides []*side
	if o.Baseline == "" {
		sum, err := result.FileSHA256(bin)
		if err != nil {
			return &InputError{err}
		}
		run.Build = &result.Build{WorkloadBin: bin, SHA256: sum}
		if run.Build.ModeBinaries, err = modeBinaries(modes); err != nil {
			return err
		}
		sides = []*side{{dir: dir, run: run, modes: modes, bin: bin, attempts: map[string]int{}}}
	} else if sides, err = baselineSides(ctx, o, run, dir, bin, modes, &fp); err != nil {
		return err
	}
	if len(sides) > 1 { // the top directory of DIR/base and DIR/new
		if err := checkFreshDir(dir, false); err != nil {
			return &InputError{err}
		}
	}
	for _, sd := range sides {
		unlock, err := lockDir(sd.dir)
		if err != nil {
			return err
		}
		defer unlock()
		if err := checkFreshDir(sd.dir, len(sides) == 1 && !stream); err != nil {
			return &InputError{err}
		}
	}
	return execute(ctx, o, sides, cells, spec)
}

// baselineSides splits a run into its candidate (DIR/new) and baseline
// (DIR/base) sides.
func baselineSides(ctx context.Context, o Options, run *result.Run, dir, bin string, modes map[string]mode.Mode,
	fp *host.Fingerprint) ([]*side, error) {
	for _, m := range run.Plan.Modes {
		if d, ok := mode.Lookup(m); ok && d.BuildsWorkload {
			return nil, inputf("--baseline compares two workload binaries in %s modes; %s builds its own from source", binaryModes(), m)
		}
	}
	base, err := filepath.Abs(o.Baseline)
	if err != nil {
		return nil, &InputError{err}
	}
	if _, err := os.Stat(base); err != nil {
		return nil, inputf("--baseline: %v", err)
	}
	baseModes, err := o.Modes.Build(ctx, run.Plan.Modes, fp, base)
	if err != nil {
		return nil, err
	}
	var sides []*side
	for _, sd := range []struct {
		name, bin string
		modes     map[string]mode.Mode
	}{{"new", bin, modes}, {"base", base, baseModes}} {
		r := *run
		sum, err := result.FileSHA256(sd.bin)
		if err != nil {
			return nil, &InputError{err}
		}
		r.Build = &result.Build{Side: sd.name, WorkloadBin: sd.bin, SHA256: sum}
		if r.Build.ModeBinaries, err = modeBinaries(sd.modes); err != nil {
			return nil, err
		}
		sides = append(sides, &side{dir: filepath.Join(dir, sd.name), run: &r, modes: sd.modes, bin: sd.bin, attempts: map[string]int{}})
	}
	if err := sharedModeBinary(sides[0].run.Build, sides[1].run.Build); err != nil {
		return nil, err
	}
	return sides, nil
}

// sharedModeBinary refuses a --baseline run of two workload binaries
// whose sides would run one and the same mode binary (the sim mode's
// workload-sim named by $ENCLAVEBENCH_WORKLOAD_SIM or a flag, which apply
// to both sides): the candidate's build of it would never run, and the
// comparison would show no change whatever the candidate did. Two paths
// are two builds, even with equal content: a candidate may differ from
// its base in its sim build alone.
func sharedModeBinary(cand, base *result.Build) error {
	if cand.WorkloadBin == base.WorkloadBin {
		return nil // one workload binary on both sides (an A/A run)
	}
	for _, c := range cand.ModeBinaries {
		for _, b := range base.ModeBinaries {
			if c.Mode == b.Mode && c.Path == b.Path {
				return inputf("--baseline: both sides would run the same %s binary %s (named by a flag or the environment, which apply to both sides), so the candidate's build of it would never run; "+
					"unset it and put each side's build next to its workload binary (%s next to %s and next to %s)", c.Mode, c.Path, filepath.Base(c.Path), cand.WorkloadBin, base.WorkloadBin)
			}
		}
	}
	return nil
}

// ResumeDirs are the result directories a --resume of dir writes: dir, or
// dir/new and dir/base for a --baseline run.
func ResumeDirs(dir string) []string {
	if _, err := os.Stat(filepath.Join(dir, result.RunFile)); err != nil {
		if _, berr := os.Stat(filepath.Join(dir, "base", result.RunFile)); berr == nil {
			return []string{filepath.Join(dir, "new"), filepath.Join(dir, "base")}
		}
	}
	return []string{dir}
}

// Resume replays the plan of the run in dir and runs the cells CellsToRun
// selects (on either side of a --baseline run). The plan must be the one
// the run recorded (its digest) and still expand to the cells it listed;
// each side's workload binary must be the build the run started with.
func Resume(ctx context.Context, dir string, o Options) error {
	dirs := ResumeDirs(dir)
	var loaded []*result.Dir
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, result.RunFile)); err != nil {
			return &InputError{err}
		}
		unlock, err := lockDir(d)
		if err != nil {
			return err
		}
		defer unlock()
		ld, err := result.Load(d)
		if err != nil {
			return &InputError{err}
		}
		for _, p := range ld.Problems {
			fmt.Fprintln(o.Stderr, "warning:", p)
		}
		for _, s := range ld.Short {
			fmt.Fprintln(o.Stderr, "warning:", s)
		}
		loaded = append(loaded, ld)
	}
	spec := loaded[0].Run.Plan.Spec
	for _, d := range loaded {
		if err := checkPlan(d, spec); err != nil {
			return &InputError{fmt.Errorf("%s: %v", d.Path, err)}
		}
		if err := checkHarness(d, o.HarnessVersion); err != nil {
			return err
		}
	}
	fp, err := collectHost(ctx)
	if err != nil {
		return err
	}
	var prepErr error
	run, err := plan.Resolve(plan.Request{Spec: spec, Stored: true, HostMem: fp.MemBytes, Prepare: func(s *runspec.Spec) (workload.Registry, error) {
		var reg workload.Registry
		var set *gotest.Set
		if reg, set, prepErr = registry(ctx, *s, o.Stderr); prepErr == nil && set != nil {
			if err := gotest.CheckSame(loaded[0].Run.GoTest, set.Builds); err != nil {
				prepErr = inputf("%s: %v", dir, err)
			}
		}
		return reg, prepErr
	}})
	if prepErr != nil {
		return prepErr
	}
	if err != nil {
		return inputf("%s: %v", dir, err)
	}
	cells := run.Cells
	for _, d := range loaded {
		if err := checkCells(cells, d.Run.Plan.Cells); err != nil {
			return inputf("%s: %v", d.Path, err)
		}
	}
	todo := CellsToRun(cells, loaded)
	fmt.Fprintf(o.Stderr, "resuming %s: %d of %d cells to run\n", dir, len(todo), len(cells))
	o.Modes.Stderr = o.Stderr
	var sides []*side
	for _, d := range loaded {
		bin, err := resumeBin(d, o.WorkloadBin)
		if err != nil {
			return err
		}
		modes, err := o.Modes.Build(ctx, spec.Modes, &fp, bin)
		if err != nil {
			return err
		}
		if err := checkCostProfile(d, o.Modes, modes); err != nil {
			return err
		}
		if err := checkModeSettings(d, o.Modes, modes, o.Stderr); err != nil {
			return err
		}
		if err := checkModeBinaries(d, modes); err != nil {
			return err
		}
		samples, cellResults, _ := result.ReadAll(d.Path)
		if len(todo) > 0 || d.Run.Status != result.RunComplete {
			// A complete run with nothing to run keeps its end time.
			d.Run.Status, d.Run.End = result.RunRunning, time.Time{}
		}
		sides = append(sides, &side{dir: d.Path, run: &d.Run, modes: modes, bin: bin,
			attempts: result.MaxAttempts(samples, cellResults)})
	}
	if o.Timeout > 0 {
		spec.TimeoutNS = o.Timeout.Nanoseconds() // for this resume only: run.json keeps the plan
		if err := spec.CheckTimes("--min-time is the run's"); err != nil {
			return &InputError{err}
		}
	}
	return execute(ctx, o, sides, todo, spec)
}

// checkPlan checks a run.json's plan before it is replayed: the spec its
// digest was made of, the same on both sides of a --baseline run
// (plan.Resolve checks that it is complete).
func checkPlan(d *result.Dir, spec runspec.Spec) error {
	p := d.Run.Plan
	if p.Digest != "" && p.Spec.Digest() != p.Digest {
		return fmt.Errorf("run.json's plan was changed after the run started (its digest is %s, the run recorded %s): "+
			"resume replays the plan a run started with; start a new run for another plan", p.Spec.Digest(), p.Digest)
	}
	if p.Spec.Digest() != spec.Digest() {
		return errors.New("the two sides of the --baseline run have different plans")
	}
	return nil
}

// checkHarness refuses to resume a run with another harness build than
// the one that started it: its cells would be measured by two harnesses
// under one run (a run.json without a version predates the record).
func checkHarness(d *result.Dir, version string) error {
	was := d.Run.HarnessVersion
	if was == "" || version == "" || was == version {
		return nil
	}
	return inputf("%s: the run was started by harness version %s; this bench is %s: resume it with the build that started it "+
		"(figures from two harness builds are not comparable), or start a new run", d.Path, was, version)
}

// checkCells checks that the plan expands to the cells run.json lists.
func checkCells(cells []plan.Cell, listed []string) error {
	want := map[string]bool{}
	for _, k := range listed {
		want[k] = true
	}
	have := map[string]bool{}
	for _, c := range cells {
		have[c.Key()] = true
		if !want[c.Key()] {
			return fmt.Errorf("the plan expands to cell %s, which run.json's plan.cells does not list (edited, or planned by another harness version): resume runs only the cells a run planned", c.Key())
		}
	}
	for _, k := range listed {
		if !have[k] {
			return fmt.Errorf("run.json's plan.cells lists %s, which the plan does not expand to (edited, or planned by another harness version)", k)
		}
	}
	return nil
}

// CellsToRun selects the cells a resume runs: those without a successful
// or not-applicable outcome in every directory, and those whose finished
// attempt lost samples.
func CellsToRun(cells []plan.Cell, dirs []*result.Dir) []plan.Cell {
	var todo []plan.Cell
	for _, c := range cells {
		finished := true
		for _, d := range dirs {
			cr, ok := d.Cells[c.Key()]
			finished = finished && ok && (cr.Status == result.StatusOK || cr.Status == result.StatusNA) && !lostSamples(d, c.Key())
		}
		if !finished {
			todo = append(todo, c)
		}
	}
	return todo
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

// resumeBin is the workload binary a resumed side runs: the one asked for
// (the baseline side keeps its own), else the one recorded, and its
// SHA-256 must be the one the run started with.
func resumeBin(d *result.Dir, asked string) (string, error) {
	b := d.Run.Build
	bin := asked
	if b != nil && (bin == "" || b.Side == "base") {
		if _, err := os.Stat(b.WorkloadBin); err == nil || b.Side == "base" {
			bin = b.WorkloadBin
		}
	}
	bin, err := FindWorkloadBin(bin)
	if err != nil {
		return "", &InputError{err}
	}
	if b == nil { // runs from before the binary was recorded
		return bin, nil
	}
	sum, err := result.FileSHA256(bin)
	if err != nil {
		return "", &InputError{err}
	}
	if sum != b.SHA256 {
		what := "workload binary"
		if b.Side != "" {
			what = "the " + b.Side + " workload binary"
		}
		return "", inputf("%s: %s %s (sha256 %s) is not the build the run started with (%s, sha256 %s); resume needs the same build",
			d.Path, what, bin, sum, b.WorkloadBin, b.SHA256)
	}
	return bin, nil
}

// modeBinaries hashes the binaries the modes run besides the workload
// binary (mode.BinaryUser).
func modeBinaries(modes map[string]mode.Mode) ([]result.ModeBinary, error) {
	var out []result.ModeBinary
	for _, name := range slices.Sorted(maps.Keys(modes)) {
		bu, ok := modes[name].(mode.BinaryUser)
		if !ok || bu.Binary() == "" {
			continue
		}
		sum, err := result.FileSHA256(bu.Binary())
		if err != nil {
			return nil, &InputError{fmt.Errorf("mode %s: %v", name, err)}
		}
		out = append(out, result.ModeBinary{Mode: name, Path: bu.Binary(), SHA256: sum})
	}
	return out, nil
}

// checkModeBinaries refuses to resume with a mode binary (the sim mode's
// workload-sim) other than the build the run started with.
func checkModeBinaries(d *result.Dir, modes map[string]mode.Mode) error {
	if d.Run.Build == nil || len(d.Run.Build.ModeBinaries) == 0 {
		return nil // runs from before mode binaries were recorded
	}
	now, err := modeBinaries(modes)
	if err != nil {
		return err
	}
	for _, was := range d.Run.Build.ModeBinaries {
		i := slices.IndexFunc(now, func(b result.ModeBinary) bool { return b.Mode == was.Mode })
		if i < 0 {
			continue
		}
		if now[i].SHA256 != was.SHA256 {
			return inputf("%s: the %s mode's binary %s (sha256 %s) is not the build the run started with (%s, sha256 %s); resume needs the same build",
				d.Path, was.Mode, now[i].Path, now[i].SHA256, was.Path, was.SHA256)
		}
	}
	return nil
}

// checkCostProfile refuses to price a resumed run's sim cells with another
// cost profile than its first cells (run.json names one profile per run):
// another name or version, or the same ones with other content (digest).
func checkCostProfile(d *result.Dir, mo ModeOptions, modes map[string]mode.Mode) error {
	var now result.Run
	mo.describe(&now, modes)
	return sameCostProfile(d.Path, d.Run.Profile, now.Profile)
}

func sameCostProfile(dir string, was, now *result.CostProfileRef) error {
	if was == nil || now == nil {
		return nil
	}
	if was.Name != now.Name || was.Version != now.Version {
		return inputf("%s: the run's sim cells are priced with cost profile %s v%d (%s); this resume would use %s v%d: pass the same --profile-file",
			dir, was.Name, was.Version, was.Source, now.Name, now.Version)
	}
	if was.Digest != "" && was.Digest != now.Digest { // runs from before the digest was recorded have none
		return inputf("%s: cost profile %s v%d was edited since the run started (its content's digest was %s, now %s): "+
			"its sim cells would be priced two ways under one name; restore the profile, or give the edited one a new version and start a new run",
			dir, was.Name, was.Version, was.Digest, now.Digest)
	}
	return nil
}

// checkModeSettings refuses a resume whose mode flags differ from those
// the run recorded: its new cells would measure something else than the
// old ones (a traced enclave among untraced ones) under the same name.
func checkModeSettings(d *result.Dir, mo ModeOptions, modes map[string]mode.Mode, stderr io.Writer) error {
	var now result.Run
	mo.describe(&now, modes)
	var diffs, unknown []string
	for _, name := range slices.Sorted(maps.Keys(now.ModeSettings)) {
		was, ok := d.Run.ModeSettings[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		for _, flag := range slices.Sorted(maps.Keys(now.ModeSettings[name])) {
			if v := now.ModeSettings[name][flag]; was[flag] != v {
				diffs = append(diffs, fmt.Sprintf("--%s=%s (this resume: %s)", flag, was[flag], v))
			}
		}
	}
	if len(diffs) > 0 {
		return inputf("%s: the run's cells ran with %s: pass the same flags to --resume", d.Path, strings.Join(diffs, ", "))
	}
	if len(unknown) > 0 {
		fmt.Fprintf(stderr, "warning: %s: the run did not record the settings of mode %s (written before they were): the resume uses the flags given\n",
			d.Path, strings.Join(unknown, ", "))
	}
	return nil
}

// buildPinner is a mode that builds the workload itself from sources (the
// ego modes): after Prepare it names what it built.
type buildPinner interface {
	BuildPin() (result.ModeBinary, bool)
}

// pinBuilds records in a side's run.json what each mode that builds the
// workload built it from, and refuses a resume whose build comes from
// other sources than the run's (another --source-dir, an edited tree):
// its cells would measure another program under the same name. The
// binary's SHA-256 is recorded, not compared: a rebuild of the same
// sources after the build cache was cleared need not be byte-identical.
func pinBuilds(sd *side) error {
	for _, name := range slices.Sorted(maps.Keys(sd.modes)) {
		bp, ok := sd.modes[name].(buildPinner)
		if !ok {
			continue
		}
		pin, ok := bp.BuildPin()
		if !ok {
			continue // built nothing (no cell of it to run)
		}
		if sd.run.Build == nil {
			sd.run.Build = &result.Build{}
		}
		bins := sd.run.Build.ModeBinaries
		i := slices.IndexFunc(bins, func(b result.ModeBinary) bool { return b.Mode == name })
		switch {
		case i < 0:
			sd.run.Build.ModeBinaries = append(bins, pin)
		case bins[i].SourceDigest == "": // recorded before builds were pinned
			bins[i] = pin
		case bins[i].SourceDigest != pin.SourceDigest:
			return inputf("%s: the %s mode's workload was built from %s (source digest %s); this resume builds it from %s (source digest %s): "+
				"resume with the same --source-dir and sources, or start a new run",
				sd.dir, name, bins[i].SourceDir, bins[i].SourceDigest, pin.SourceDir, pin.SourceDigest)
		}
	}
	return nil
}

// execute runs cells into the sides' directories and writes the derived
// files and the summary of each.
func execute(ctx context.Context, o Options, sides []*side, cells []plan.Cell, spec runspec.Spec) error {
	stream := o.Out == "-"
	main := sides[0]
	attempts := main.attempts
	for _, sd := range sides[1:] { // one attempt number per cell across sides
		for k, v := range sd.attempts {
			attempts[k] = max(attempts[k], v)
		}
	}
	cfg := &runner.Config{Cells: cells, Modes: main.modes, WorkloadBin: main.bin, HarnessVersion: o.HarnessVersion,
		Spec: spec, Attempts: attempts, ProvenancePath: provenancePath(main.modes)}
	if spec.Counts {
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
	}
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
					return inputf("mode %s: %v", name, err)
				}
				return fmt.Errorf("preparing mode %s: %w", name, err)
			}
		}
		if err := pinBuilds(sd); err != nil {
			return err
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
			fmt.Fprintln(o.Stderr, "warning:", t)
		}
		if stream {
			st.Tee = o.Stdout
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
	summaryOut := o.Stdout
	if stream {
		summaryOut = o.Stderr
	}
	if !stream {
		fmt.Fprintf(o.Stderr, "run %s: %d cells (%s) into %s\n", main.run.ID, len(cells), spec.Profile, strings.Join(sideDirs(sides), " and "))
	}
	cfg.Progress = o.Output.Progress
	sum, runErr := runner.Run(ctx, cfg)
	o.Output.Done()
	var errs []error
	for i, sd := range sides {
		if len(cells) == 0 && sd.run.Status == result.RunComplete && !sd.run.End.IsZero() {
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
		if len(cells) > 0 {
			// The sim cells' bases, estimated across sizes now that the
			// cells have run (recorded: readers never re-estimate them).
			d, err := result.Load(sd.dir)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sd.run.SimBases = paired.Pools(d)
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
			if o.RewriteDerived {
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
		o.Output.Summary(summaryOut, d)
	}
	if err := errors.Join(append([]error{runErr}, errs...)...); err != nil && !sum.Interrupted {
		return err
	}
	resumeDir := main.dir
	if len(sides) > 1 {
		resumeDir = filepath.Dir(main.dir)
	}
	if sum.Interrupted {
		return &Interrupted{Dir: resumeDir}
	}
	if sum.Failed > 0 {
		return &CellsFailed{Failed: sum.Failed, Total: len(cells), CellsFile: filepath.Join(main.dir, result.CellsFile)}
	}
	if !stream {
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

// resultFiles are the files a run writes into its directory, run.json
// first: any one of them makes a directory another run's.
var resultFiles = []string{result.RunFile, result.SamplesFile, result.CellsFile, result.BenchFile, result.CSVFile, ProvenanceDir}

// ProvenanceDir is where the sgx mode keeps the sample lines its remote
// reports cover (bench/ego.ProvenanceDir, named here so that session
// does not import a mode).
const ProvenanceDir = "provenance"

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
	for _, name := range resultFiles {
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

// collectHost takes this host's fingerprint with the environment's
// metadata service setting (host.IMDSEnv), refusing one it cannot read.
func collectHost(ctx context.Context) (host.Fingerprint, error) {
	ho := host.DefaultOptions()
	if err := ho.Check(); err != nil {
		return host.Fingerprint{}, &InputError{err}
	}
	return host.Collect(ctx, ho), nil
}

// NewRunID makes a run ID: the UTC time and 4 random hex digits.
func NewRunID() string {
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

// WorkloadEnv names the environment variable that points at the workload binary.
const WorkloadEnv = "ENCLAVEBENCH_WORKLOAD"

// FindWorkloadBin locates the workload binary: the flag, the environment,
// or next to the bench executable.
func FindWorkloadBin(flag string) (string, error) {
	for _, p := range []string{flag, os.Getenv(WorkloadEnv)} {
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
	return "", errors.New("cannot find the workload binary: build it with `go build -o bin/workload ./workloads/cmd/workload` (./run.sh does), then pass --workload-bin bin/workload or set $" + WorkloadEnv)
}
