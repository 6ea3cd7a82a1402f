package report

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/report/plot"
)

// scaling: throughput against threads per size, for workloads that ask
// for it (the threads workload), at the counts the run recorded.
func (f *figs) scaling() []plot.Figure {
	var out []plot.Figure
	for _, t := range f.r.Workloads {
		param := t.figureParam(result.FigureScaling)
		if param == "" {
			continue
		}
		byRest := map[string][]*Group{}
		var rests []string
		except := map[string]bool{param: true}
		for _, g := range t.Rows {
			if g.Count <= 0 || g.Summary.N == 0 {
				continue
			}
			k := otherText(g, except)
			if _, ok := byRest[k]; !ok {
				rests = append(rests, k)
			}
			byRest[k] = append(byRest[k], g)
		}
		for _, rest := range rests {
			ss := newSeriesSet()
			threads := map[int]bool{}
			szs := map[string]bool{}
			for _, g := range byRest[rest] {
				n := g.Count
				threads[n] = true
				szs[g.Size] = true
				s := ss.get(f, g.Size, g.Mode, g.ModeLabel, g.OriginLabel)
				s.Points = append(s.Points, point(float64(n), g.Summary, false))
			}
			if len(threads) < 2 {
				continue
			}
			series := ss.list()
			var ns []int
			for n := range threads {
				ns = append(ns, n)
			}
			sort.Ints(ns)
			var ticks []plot.Tick
			for _, n := range ns {
				ticks = append(ticks, plot.Tick{Value: float64(n), Label: strconv.Itoa(n)})
			}
			var marks []plot.Mark
			var names []string
			for s := range szs {
				names = append(names, s)
			}
			sort.Slice(names, func(i, j int) bool { return f.b.sizeOrder.less(names[i], names[j]) })
			for _, s := range names {
				if sz, ok := f.b.sizes[s]; ok {
					marks = append(marks, plot.Mark{Axis: "x", Value: float64(sz.VCPUs), Label: fmt.Sprintf("vCPUs of %s (%d)", s, sz.VCPUs), Color: f.colors[s]})
				}
			}
			fig := plot.Figure{
				Name: f.name("scaling", t.Name, rest), Kind: plot.KindXY,
				Title:  strings.TrimSpace("Scaling: " + t.Name + " " + rest),
				X:      plot.Axis{Label: "threads", Log: float64(ns[len(ns)-1])/float64(ns[0]) >= logXSpan, Ticks: ticks},
				Y:      plot.Axis{Label: unitLabel(t.Unit, t.Better) + ", median and 95% CI"},
				Series: series, Marks: marks, Width: 9, Height: 5.5,
			}
			fig.Y.Log = wide(axisValues(series, "y"), logYSpan)
			if fig.Y.Log {
				dropErrOnLog(fig.Series)
				fig.Y.Label += ", log scale"
			}
			if fig.X.Log {
				fig.X.Label += " (log scale)"
			}
			fig.Caption = fmt.Sprintf("%s against the number of threads, per size; dashed verticals mark each size's vCPUs, in the size's colour (more threads than vCPUs oversubscribe). Error bars: 95%% CI of the median. %s",
				t.Unit, f.modesCaption(ss.modes))
			f.legend(&fig, ss, "vCPUs of the size", false)
			out = append(out, fig)
		}
	}
	return out
}

// figureParam is the parameter of the figure of role a the workload asks
// for ("" when it asks for none).
func (t *WorkloadTable) figureParam(role string) string {
	for _, f := range t.Figures {
		if f.Role == role {
			if slices.Contains(t.Params, f.Param) {
				return f.Param
			}
		}
	}
	return ""
}
