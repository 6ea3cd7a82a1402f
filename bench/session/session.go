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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/facts"
	"github.com/enclavebench/enclavebench/bench/gotest"
	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runner"
	"github.com/enclavebench/enclavebench/bench/runspec"
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
	set, err := gotest.Load(ctx, gotest.Request{Patterns: spec.GoTest, Bench: spec.Bench, Tags: spec.Tags, Timeout: spec.Timeout(),
		Sim: slices.ContainsFunc(spec.Modes, func(m string) bool { d, ok := mode.Lookup(m); return ok && d.GoTestSim })})
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
