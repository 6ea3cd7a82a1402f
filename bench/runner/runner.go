// Package runner executes the cells of a run: one workload process per cell,
// launched by the cell's mode with the size's vCPUs (GOMAXPROCS and CPU
// affinity), under a timeout, reading the line protocol from its stdout and
// appending every sample to the store as it arrives.
package runner

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/enclavebench/enclavebench/bench/counts"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
)

// Config configures a run of cells.
type Config struct {
	Cells       []plan.Cell
	Modes       map[string]mode.Mode
	WorkloadBin string
	Store       *result.Store
	// Spec is the resolved run spec (plan.Resolve): its repetitions,
	// warmup, minimum time, per-cell timeout, rounds and seed.
	Spec runspec.Spec
	// Attempts holds the attempt numbers already used per cell (resume).
	Attempts map[string]int
	// ScratchDir holds per-cell scratch directories (default: os.TempDir()).
	ScratchDir string
	// Progress receives progress events (may be nil).
	Progress func(Event)
	// ExtraArgs are appended to every workload's arguments (tests).
	ExtraArgs []string
	// Env is added to every workload's environment (tests).
	Env []string
	// ProvenancePath, when set, names the file that keeps the raw sample
	// lines of a cell whose workload reported an enclave report over them
	// (bench verify recomputes the digest from it).
	ProvenancePath func(dir, cellKey string) string

	// Baseline, when set, is a second build run against the same cells
	// (bench run --baseline): every round of a cell runs both builds back
	// to back, in a seeded random order (Spec.Seed), so drift cancels
	// out. Spec.Rounds splits each cell's repetitions over this many
	// processes (default 1); with a baseline, each round runs both builds.
	Baseline *Side
	// HarnessVersion is recorded in every cell's outcome.
	HarnessVersion string
	// Counter, when set, runs the counting pass (bench run --counts) of
	// every cell and side before the timed cells, and its per-op counts
	// go on every sample of the cell.
	Counter *counts.Counter
	// CountWorkers is how many counting processes run at once (default:
	// the CPUs this process may use; the pass is untimed).
	CountWorkers int
	// Notice, when set, receives one-line notices (the counting pass's
	// duration).
	Notice func(string)
}

// Side is one build under test: its workload binary, its modes and where
// its results go.
type Side struct {
	WorkloadBin string
	Modes       map[string]mode.Mode
	Store       *result.Store
}

// job is one workload process: a cell, on one side, for some repetitions.
type job struct {
	side      *Side
	reps      int
	repOffset int            // added to the process's repetition numbers
	counts    *counts.Result // the cell's counting pass on this side (nil: none)
}

// Event reports progress.
type Event struct {
	Index, Total int
	Cell         string
	Done         bool              // the cell finished (Result set)
	Result       result.CellResult // when Done
	Elapsed      time.Duration     // since the run started
}

// Launch builds the mode.Launch of a cell.
func (c *Config) Launch(cell plan.Cell, dir string) mode.Launch {
	return c.launch(cell, dir, c.WorkloadBin, c.Spec.Reps)
}

// warmup is the spec's warmup repetitions (none when unset).
func (c *Config) warmup() int {
	if c.Spec.Warmup == nil {
		return 0
	}
	return *c.Spec.Warmup
}

func (c *Config) launch(cell plan.Cell, dir, bin string, reps int) mode.Launch {
	args := []string{cell.Workload}
	for _, k := range cell.ParamOrder {
		args = append(args, "--param", k+"="+cell.Params[k])
	}
	args = append(args,
		"--size", cell.WorkloadSize().String(),
		"--reps", strconv.Itoa(reps), "--warmup", strconv.Itoa(c.warmup()),
		"--min-time", c.Spec.MinTime().String(), "--tmpdir", dir)
	if cell.Spec != nil && cell.Spec.LaunchArgs != nil {
		args = append(args, cell.Spec.LaunchArgs(cell.Params)...)
	}
	args = append(args, c.ExtraArgs...)
	env := append([]string{"GOMAXPROCS=" + strconv.Itoa(cell.SizeInfo.VCPUs)}, c.Env...)
	return mode.Launch{Cell: cell.Cell, Size: cell.SizeInfo, Binary: bin, Args: args,
		Memory: cell.Memory, Env: env, Dir: dir}
}

// Summary is what Run did.
type Summary struct {
	Done, Failed, NA, Skipped int
	Interrupted               bool
}

// Run executes the cells in order. It returns ctx.Err() when interrupted;
// finished cells and their samples are on disk either way.
func Run(ctx context.Context, c *Config) (Summary, error) {
	var sum Summary
	start := time.Now()
	scratchRoot := c.ScratchDir
	if scratchRoot == "" {
		scratchRoot = os.TempDir()
	}
	// Scratch directories of harnesses killed mid-cell (best effort: a
	// directory that cannot be removed is no reason not to run).
	removeStaleScratch(scratchRoot)
	sides := []*Side{{WorkloadBin: c.WorkloadBin, Modes: c.Modes, Store: c.Store}}
	if c.Baseline != nil {
		sides = append(sides, c.Baseline)
	}
	reps := c.Spec.Reps
	rounds := min(max(c.Spec.Rounds, 1), reps)
	perRound := (reps + rounds - 1) / rounds
	rng := rand.New(rand.NewPCG(uint64(c.Spec.Seed), 0x726f756e6473)) // "rounds"
	counted, err := c.countAll(ctx, sides)
	if err != nil {
		sum.Interrupted = ctx.Err() != nil
		return sum, err
	}
	for i, cell := range c.Cells {
		if ctx.Err() != nil {
			sum.Interrupted = true
			return sum, ctx.Err()
		}
		key := cell.Key()
		if c.Progress != nil {
			c.Progress(Event{Index: i, Total: len(c.Cells), Cell: key, Elapsed: time.Since(start)})
		}
		c.Attempts[key]++
		outcomes := make([]*result.CellResult, len(sides))
		for r := 0; r < rounds; r++ {
			reps := min(perRound, reps-r*perRound)
			if reps <= 0 {
				break
			}
			for _, si := range rng.Perm(len(sides)) {
				if o := outcomes[si]; o != nil && o.Status != result.StatusOK {
					continue // this side already failed or does not apply
				}
				cr, err := c.runCell(ctx, cell, c.Attempts[key], job{side: sides[si], reps: reps, repOffset: r * perRound, counts: counted[si][key]})
				if ctx.Err() != nil {
					// Interrupted mid-cell: record nothing, so --resume redoes it;
					// the samples it streamed stay on disk as a partial attempt.
					sum.Interrupted = true
					return sum, ctx.Err()
				}
				if err != nil {
					return sum, err // the store failed: nothing more can be kept
				}
				outcomes[si] = mergeRound(outcomes[si], cr)
			}
		}
		for si, cr := range outcomes {
			if err := sides[si].Store.AppendCell(cr); err != nil {
				return sum, err
			}
		}
		cr := *outcomes[0]
		for _, o := range outcomes[1:] {
			if o.Status == result.StatusFailed {
				cr = *o
			}
		}
		switch cr.Status {
		case result.StatusOK:
			sum.Done++
		case result.StatusNA:
			sum.NA++
		default:
			sum.Failed++
		}
		if c.Progress != nil {
			c.Progress(Event{Index: i + 1, Total: len(c.Cells), Cell: key, Done: true, Result: cr, Elapsed: time.Since(start)})
		}
	}
	return sum, nil
}

// mergeRound folds the outcome of one more round of a cell into acc: times
// and samples add up, and a failed or not-applicable round decides the status.
func mergeRound(acc *result.CellResult, cr result.CellResult) *result.CellResult {
	if acc == nil {
		return &cr
	}
	acc.Samples += cr.Samples
	acc.WallNS += cr.WallNS
	acc.ChildNS += cr.ChildNS
	if cr.Status != result.StatusOK {
		acc.Status, acc.Reason, acc.ExitCode, acc.Stderr = cr.Status, cr.Reason, cr.ExitCode, cr.Stderr
	}
	return acc
}
