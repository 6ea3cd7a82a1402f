package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/report/plot"
)

func (f *figs) epcMarks(szs map[string]bool) []plot.Mark {
	var names []string
	for s := range szs {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool { return f.b.sizeOrder.less(names[i], names[j]) })
	var marks []plot.Mark
	for _, s := range names {
		// The usable EPC (where the cliff is) when a run recorded it, else
		// the catalog EPC, said so in the label.
		if u, ok := f.usable[s]; ok && u > 0 {
			v := float64(u) / (1 << 20)
			marks = append(marks, plot.Mark{Axis: "x", Value: v, Label: fmt.Sprintf("usable EPC of %s (%s)", s, fmtMiB(v)), Color: f.colors[s]})
		} else if sz, ok := f.b.sizes[s]; ok {
			marks = append(marks, plot.Mark{Axis: "x", Value: sz.EPCMiB(), Label: fmt.Sprintf("EPC of %s (%s)", s, fmtMiB(sz.EPCMiB())), Color: f.colors[s]})
		}
	}
	return marks
}

// epcMarkName names the EPC marks in a legend.
func (f *figs) epcMarkName() string {
	if len(f.usable) > 0 {
		return "usable EPC of the size"
	}
	return "EPC of the size"
}

// cliff: throughput against the working set, per size and mode, for every
// workload whose footprint varies with a parameter.
func (f *figs) cliff() []plot.Figure {
	var out []plot.Figure
	for _, t := range f.r.Workloads {
		var gs []*Group
		for _, g := range t.Rows {
			// A mode without an EPC limit has no cliff to show.
			if g.Footprint > 0 && g.Summary.N > 0 && (!g.ModeFacts.Enclave || g.ModeFacts.EPC()) {
				gs = append(gs, g)
			}
		}
		if len(gs) < 2 {
			continue
		}
		// The parameters that change the footprint at fixed size.
		wsParams := map[string]bool{}
		for _, p := range t.Params {
			type rest struct{ origin, size, mode, others string }
			fps := map[rest]map[int64]bool{}
			for _, g := range gs {
				k := rest{g.Origin, g.Size, g.ModeLabel, otherText(g, map[string]bool{p: true})}
				if fps[k] == nil {
					fps[k] = map[int64]bool{}
				}
				fps[k][g.Footprint] = true
			}
			for _, set := range fps {
				if len(set) > 1 {
					wsParams[p] = true
					break
				}
			}
		}
		if len(wsParams) == 0 {
			continue
		}
		var wsNames []string
		for _, p := range t.Params {
			if wsParams[p] {
				wsNames = append(wsNames, p)
			}
		}
		byRest := map[string][]*Group{}
		var rests []string
		for _, g := range gs {
			k := otherText(g, wsParams)
			if _, ok := byRest[k]; !ok {
				rests = append(rests, k)
			}
			byRest[k] = append(byRest[k], g)
		}
		for _, rest := range rests {
			ss := newSeriesSet()
			szs := map[string]bool{}
			for _, g := range byRest[rest] {
				s := ss.get(f, g.Size, g.Mode, g.ModeLabel, g.OriginLabel)
				s.Points = append(s.Points, point(float64(g.Footprint)/(1<<20), g.Summary, false))
				szs[g.Size] = true
			}
			series := ss.list()
			swept := false
			for _, s := range series {
				xs := map[float64]bool{}
				for _, p := range s.Points {
					xs[p.X] = true
				}
				if len(xs) >= 2 {
					swept = true
				}
			}
			if !swept {
				continue
			}
			fig := plot.Figure{
				Name: f.name("cliff", t.Name, rest), Kind: plot.KindXY,
				Title: strings.TrimSpace("EPC cliff: " + t.Name + " " + rest),
				X:     plot.Axis{Label: "working set (MiB; " + strings.Join(wsNames, ", ") + " converted with each size's EPC)"},
				Y:     plot.Axis{Label: unitLabel(t.Unit, t.Better) + ", median and 95% CI"},
				Marks: f.epcMarks(szs), Width: 9, Height: 5.5,
			}
			marksX := []float64{}
			for _, m := range fig.Marks {
				marksX = append(marksX, m.Value)
			}
			fig.X.Log = wide(append(axisValues(series, "x"), marksX...), logXSpan)
			fig.Y.Log = wide(axisValues(series, "y"), logYSpan)
			if fig.Y.Log {
				dropErrOnLog(series)
			}
			fig.Series = series
			if fig.X.Log {
				fig.X.Label += ", log scale"
			}
			if fig.Y.Log {
				fig.Y.Label += ", log scale"
			}
			fig.Caption = fmt.Sprintf("%s against the working set (%s, in MiB at each size). Dashed verticals mark each size's EPC (usable EPC where the run recorded it: the catalog EPC less the enclave's own baseline), in the size's colour: past it, enclave pages are evicted to normal memory. Error bars: 95%% confidence interval of the median. %s",
				t.Unit, strings.Join(wsNames, ", "), f.modesCaption(ss.modes))
			f.legend(&fig, ss, f.epcMarkName(), false)
			out = append(out, fig)
		}
	}
	return out
}

// footprints: the sizing advice as a heat map per enclave mode and size
// family: a row per workload and absolute footprint, a column per size,
// each square the worst median slowdown there.
func (f *figs) footprints() []plot.Figure {
	type key struct{ mode, family string }
	var keys []key
	rows := map[key][]Advice{}
	for _, a := range f.r.Sizing {
		if a.Footprint == "" || a.Relative {
			continue
		}
		k := key{a.Mode, a.Family}
		if rows[k] == nil {
			keys = append(keys, k)
		}
		rows[k] = append(rows[k], a)
	}
	var out []plot.Figure
	for _, k := range keys {
		as := rows[k]
		sort.SliceStable(as, func(i, j int) bool {
			if as[i].Workload != as[j].Workload {
				return as[i].Workload < as[j].Workload
			}
			return footprintBytes(as[i].Footprint) < footprintBytes(as[j].Footprint)
		})
		col := map[string]int{}
		var sizesSeen []string
		for _, a := range as {
			for _, v := range a.PerSize {
				if _, ok := col[v.Size]; !ok {
					col[v.Size] = 0
					sizesSeen = append(sizesSeen, v.Size)
				}
			}
		}
		sort.Slice(sizesSeen, func(i, j int) bool { return f.b.sizeOrder.less(sizesSeen[i], sizesSeen[j]) })
		fig := plot.Figure{
			Name: f.name("footprint", k.family, k.mode), Kind: plot.KindHeat,
			Title: "Slowdown by footprint and size: " + k.mode,
			X:     plot.Axis{Label: k.family + " size"},
			Y:     plot.Axis{Label: "workload, footprint"},
			Caption: "Worst median slowdown vs " + f.r.Baseline + " of each workload's cells holding the footprint, per size; green: within " +
				fmtPct(f.r.Options.Tolerance) + " of " + f.r.Baseline + "; —: no " + f.r.Baseline + " baseline or failed cells.",
			Width: 2.6 + 1.3*float64(len(sizesSeen)), Height: 1.6 + 0.6*float64(max(len(as), 2)),
		}
		for i, s := range sizesSeen {
			col[s] = i
			fig.X.Ticks = append(fig.X.Ticks, plot.Tick{Value: float64(i), Label: s})
		}
		for i, a := range as {
			y := float64(len(as) - 1 - i) // first row on top
			fig.Y.Ticks = append(fig.Y.Ticks, plot.Tick{Value: y, Label: a.Workload + " " + a.Footprint})
			for _, v := range a.PerSize {
				c := plot.Cell{X: float64(col[v.Size]), Y: y, Value: 1, Label: "—"}
				if !math.IsNaN(v.Slowdown) {
					c.Value, c.Good, c.Label = v.Slowdown, v.OK, fmtRatioNum(v.Slowdown)+"×"
				}
				fig.Cells = append(fig.Cells, c)
			}
		}
		out = append(out, fig)
	}
	return out
}
