package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/gotest"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

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
		hint := ""
		if was.Name == "published" && was.Version == 2 {
			// The built-in profile's previous version, kept in the
			// repository with the content (digest) its runs recorded.
			hint = " (published v2 is the repository's bench/sim/profiles/published-v2.json)"
		}
		return inputf("%s: the run's sim cells are priced with cost profile %s v%d (%s); this resume would use %s v%d: pass the same --profile-file%s",
			dir, was.Name, was.Version, was.Source, now.Name, now.Version, hint)
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
