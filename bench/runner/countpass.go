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
// mode, so that its modes share one count (Counter caches by arguments),
// and once for the cells that do the same work on several sizes (sameWork).
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
	order, sameAs := sameWork(order)
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
	for _, m := range out {
		for key, rep := range sameAs {
			if r := m[rep]; r != nil {
				shared := *r
				shared.Cell = rep
				m[key] = &shared
			}
		}
	}
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

// sameWork keeps, of the cells that do the same work on several sizes
// (plan.Cell.SameWork: a workload that declares its Parallelism, equal
// parameters, footprint and parallelism), the first in order, and maps
// each other one's key to the kept cell's: their workload processes differ
// only in the size they are told, which such a workload does not read
// beyond its parameters, so one counted process gives all their counts.
// On the quick suite that is compute and syscall, counted once instead of
// on each of the four DCsv2 sizes.
func sameWork(cells []plan.Cell) (kept []plan.Cell, sameAs map[string]string) {
	sameAs = map[string]string{}
	first := map[string]string{}
	for _, cell := range cells {
		w, ok := cell.SameWork(0)
		// By mode too: the modes of one cell share one counted process
		// already (Counter caches by arguments), and counts_cell names
		// the same work on another size only.
		w = cell.Mode + "\x00" + w
		if !ok {
			kept = append(kept, cell)
			continue
		}
		if rep, seen := first[w]; seen {
			sameAs[cell.Key()] = rep
			continue
		}
		first[w] = cell.Key()
		kept = append(kept, cell)
	}
	return kept, sameAs
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
