package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/sizes"
)

// sizing finds, per workload, enclave mode and size family, the smallest
// size at which every cell of the workload stays within tolerance of
// native (median slowdown <= 1+tolerance, and no failed cell), and the EPC
// headroom there.
func sizing(tables []*WorkloadTable, failures []CellOutcome, tol float64) []Advice {
	failed := map[string]bool{} // workload, size, mode label
	for _, f := range failures {
		failed[f.Workload+"\x00"+f.Size+"\x00"+f.Mode] = true
	}
	var out []Advice
	for _, t := range tables {
		type key struct{ mode, family string }
		bySize := map[key]map[string][]*Group{}
		var keys []key
		for _, g := range t.Rows {
			if g.Mode == mode.Native {
				continue
			}
			sz, ok := sizes.Lookup(g.Size)
			if !ok {
				continue
			}
			k := key{g.ModeLabel, sz.Family}
			if bySize[k] == nil {
				bySize[k] = map[string][]*Group{}
				keys = append(keys, k)
			}
			bySize[k][sz.Name] = append(bySize[k][sz.Name], g)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].family != keys[j].family {
				return keys[i].family < keys[j].family
			}
			return keys[i].mode < keys[j].mode
		})
		for _, k := range keys {
			out = append(out, advise(t.Name, k.mode, k.family, bySize[k], failed, tol))
		}
	}
	return out
}

func advise(w, modeLabel, family string, bySize map[string][]*Group, failed map[string]bool, tol float64) Advice {
	a := Advice{Workload: w, Mode: modeLabel, Family: family}
	names := make([]string, 0, len(bySize))
	for s := range bySize {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool { return lessSize(names[i], names[j]) })
	a.Tested = names
	type verdict struct {
		size     string
		worst    float64
		limiting string
		lim      *Group
		ok       bool
		reason   string
	}
	var vs []verdict
	for _, s := range names {
		v := verdict{size: s, worst: math.Inf(-1)}
		compared := 0
		for _, g := range bySize[s] {
			if g.Baseline == nil || math.IsNaN(g.Baseline.Slowdown) {
				continue
			}
			compared++
			if g.Baseline.Slowdown > v.worst {
				v.worst, v.limiting, v.lim = g.Baseline.Slowdown, g.ParamText, g
			}
		}
		switch {
		case failed[w+"\x00"+s+"\x00"+modeLabel]:
			v.reason = "failed cells"
		case compared == 0:
			v.reason = "no native baseline"
		case v.worst <= 1+tol:
			v.ok = true
		}
		vs = append(vs, v)
	}
	var pick *verdict
	for i := range vs {
		if vs[i].ok {
			pick = &vs[i]
			break
		}
	}
	tolText := fmtPct(tol)
	if pick != nil {
		a.Size = pick.size
	} else {
		// The best size: the smallest worst slowdown among compared sizes.
		for i := range vs {
			if vs[i].reason == "" && (pick == nil || vs[i].worst < pick.worst) {
				pick = &vs[i]
			}
		}
		var why []string
		for _, v := range vs {
			if v.reason != "" {
				why = append(why, v.size+": "+v.reason)
			}
		}
		a.Note = fmt.Sprintf("no %s size stays within %s of native", family, tolText)
		if pick != nil {
			a.Note += fmt.Sprintf("; the best is %s at %s", pick.size, fmtSlowdown(pick.worst))
			if sz, ok := sizes.Lookup(pick.size); ok && pick.lim != nil && pick.lim.Footprint > sz.EPCBytes {
				a.Note += fmt.Sprintf(", where the limiting cell's working set (%s) exceeds the EPC (%s)",
					fmtMiB(float64(pick.lim.Footprint)/(1<<20)), fmtMiB(sz.EPCMiB()))
			}
		}
		if len(why) > 0 {
			a.Note += " (" + strings.Join(why, "; ") + ")"
		}
	}
	if pick == nil {
		return a
	}
	a.At, a.Slowdown, a.Limiting = pick.size, pick.worst, pick.limiting
	sz, _ := sizes.Lookup(pick.size)
	a.EPCMiB = sz.EPCMiB()
	var fp int64 = -1
	known := true
	for _, g := range bySize[pick.size] {
		if g.Footprint < 0 {
			known = false
		}
		fp = max(fp, g.Footprint)
	}
	if known && fp >= 0 {
		a.Known = true
		a.FootprintMiB = float64(fp) / (1 << 20)
		a.HeadroomMiB = a.EPCMiB - a.FootprintMiB
	}
	return a
}
