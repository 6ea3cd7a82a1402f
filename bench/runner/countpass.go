package runner

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/enclavebench/enclavebench/bench/counts"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
)

// countAll runs the counting pass of every cell on every side, several at
// a time (it is untimed), before any timed cell: the cell in the native
// mode, so that its modes share one count (Counter caches by arguments).
func (c *Config) countAll(ctx context.Context, sides []*Side) ([]map[string]*counts.Result, error) {
	out := make([]map[string]*counts.Result, len(sides))
	for i := range out {
		out[i] = map[string]*counts.Result{}
	}
	if c.Counter == nil || c.Counter.Unavailable != "" {
		return out, nil
	}
	start := time.Now()
	if c.Notice != nil {
		for _, sd := range sides {
			if counts.DynamicallyLinked(sd.WorkloadBin) {
				c.Notice(fmt.Sprintf("counting pass: %s is dynamically linked, and Valgrind reads its C library's debug information at every counted process's start: build it with CGO_ENABLED=0 (as run.sh does) for a faster pass", sd.WorkloadBin))
			}
		}
	}
	scratchRoot := c.ScratchDir
	if scratchRoot == "" {
		scratchRoot = os.TempDir()
	}
	type task struct {
		side int
		cell plan.Cell
	}
	tasks := make(chan task)
	var mu sync.Mutex
	var wg sync.WaitGroup
	workers := c.CountWorkers
	if workers <= 0 {
		cpus, _ := cpuSet(runtime.NumCPU())
		workers = max(1, len(cpus))
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				r := c.countCell(ctx, scratchRoot, sides[t.side].WorkloadBin, t.cell)
				mu.Lock()
				out[t.side][t.cell.Key()] = r
				mu.Unlock()
			}
		}()
	}
	// Largest footprint first: the longest counted processes are those
	// whose setup is large, and one of them started last would keep the
	// others' workers idle at the end.
	order := slices.Clone(c.Cells)
	slices.SortStableFunc(order, func(a, b plan.Cell) int { return cmp.Compare(b.Footprint, a.Footprint) })
feed:
	for _, cell := range order {
		for si := range sides {
			select {
			case tasks <- task{si, cell}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(tasks)
	wg.Wait()
	if c.Notice != nil && ctx.Err() == nil {
		failed := 0
		for _, m := range out {
			for _, r := range m {
				if r.Err != "" {
					failed++
				}
			}
		}
		c.Notice(fmt.Sprintf("counting pass: %d cells x %d builds in %s with %d at a time (%d without counts, see cells.jsonl counts_error)",
			len(c.Cells), len(sides), time.Since(start).Round(time.Second), workers, failed))
	}
	return out, ctx.Err()
}

func (c *Config) countCell(ctx context.Context, scratchRoot, bin string, cell plan.Cell) *counts.Result {
	if cell.Spec != nil && cell.Spec.LaunchArgs != nil {
		return &counts.Result{Err: "a user's Go benchmark (--gotest) is not counted: its test binary runs as a child of the workload process, which the counting pass does not follow"}
	}
	dir, err := os.MkdirTemp(scratchRoot, "enclavebench-count-*")
	if err != nil {
		return &counts.Result{Err: "scratch directory: " + err.Error()}
	}
	defer os.RemoveAll(dir)
	plain := cell
	plain.Mode = mode.Baseline()
	l := c.launch(plain, dir, bin, 1)
	return c.Counter.Count(ctx, bin, l.Args, l.Env, dir)
}
