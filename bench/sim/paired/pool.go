package paired

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/stats"
)

// PoolMethod is the estimator Pools records (result.SimBase.Method).
const PoolMethod = "median-per-op/v1"

// Pools finds the sim cells of d that do the same work with the same
// parallelism at two or more sizes (same mode, workload, parameters,
// footprint in bytes, and a declared parallelism: result.CellFacts) and
// estimates each group's native base once: the median over all their
// repetitions of base_ns / iters. On one host those cells time the same
// operations on the same number of goroutines, whatever vCPUs their size
// has, so their bases are one quantity; a process that ran while the host
// was busier (its base strays) then moves no cell's slowdown against its
// peers', and the slowdowns and the sizing answer keep the order of the
// priced events. Every pair stays base + priced events >= base.
//
// It reads each pair's own measured base (Model.BaseNS), never a pooled
// one, and uses only the selected samples of d (the latest attempt).
func Pools(d *result.Dir) []result.SimBase {
	type key struct {
		mode, workload, params string
		footprint              int64
		parallelism            int
	}
	type cellAcc struct {
		cell    result.SimBaseCell
		perOp   []float64
		attempt map[int]bool
	}
	groups := map[key]map[string]*cellAcc{}
	for i := range d.Samples {
		s := &d.Samples[i]
		m := s.Model
		if m == nil || m.CountsOnly != "" || m.BaseNS <= 0 || s.Iters <= 0 {
			continue
		}
		f := d.Facts.Cell(s.Cell)
		if f.Parallelism <= 0 {
			continue
		}
		k := key{s.Mode, s.Workload, canonical(s.Params), f.FootprintBytes, f.Parallelism}
		if groups[k] == nil {
			groups[k] = map[string]*cellAcc{}
		}
		c := groups[k][s.Cell]
		if c == nil {
			c = &cellAcc{cell: result.SimBaseCell{Cell: s.Cell, Size: s.Size, Attempt: s.Attempt}, attempt: map[int]bool{}}
			groups[k][s.Cell] = c
		}
		c.attempt[s.Attempt] = true
		c.perOp = append(c.perOp, float64(m.BaseNS)/float64(s.Iters))
	}
	var out []result.SimBase
	for k, cells := range groups {
		if len(cells) < 2 {
			continue
		}
		p := result.SimBase{Method: PoolMethod, Workload: k.workload, Params: k.params, Mode: k.mode,
			FootprintBytes: k.footprint, Parallelism: k.parallelism}
		var all []float64
		for _, name := range slices.Sorted(maps.Keys(cells)) {
			c := cells[name]
			if len(c.attempt) != 1 {
				// Selected samples come from one attempt; anything else is
				// not a cell this estimator knows how to record.
				continue
			}
			c.cell.BaseNSPerOp = median(c.perOp)
			c.cell.Pairs = len(c.perOp)
			p.Cells = append(p.Cells, c.cell)
			all = append(all, c.perOp...)
		}
		if len(p.Cells) < 2 {
			continue
		}
		sum := stats.Summarize(all)
		p.BaseNSPerOp, p.BaseLoNSPerOp, p.BaseHiNSPerOp, p.Pairs = sum.Center, sum.Lo, sum.Hi, len(all)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Workload, b.Workload), cmp.Compare(a.Params, b.Params),
			cmp.Compare(a.FootprintBytes, b.FootprintBytes), cmp.Compare(a.Parallelism, b.Parallelism)) < 0
	})
	return out
}

func median(v []float64) float64 { return stats.Summarize(v).Center }

// canonical is a parameter set's text: "k=v,k=v", keys sorted.
func canonical(params map[string]string) string {
	names := slices.Sorted(maps.Keys(params))
	for i, k := range names {
		names[i] = k + "=" + params[k]
	}
	return strings.Join(names, ",")
}
