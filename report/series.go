package report

import (
	"cmp"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/report/plot"
)

// seriesSet collects series by key in a stable order.
type seriesSet struct {
	byKey map[seriesKey]*plot.Series
	keys  []seriesKey
	rank  map[seriesKey][3]int
	modes map[string]bool
	meta  map[seriesKey]seriesMeta
}

// seriesKey identifies a series: one origin, size and mode.
type seriesKey struct{ origin, size, modeLabel string }

func (k seriesKey) compare(o seriesKey) int {
	return cmp.Or(strings.Compare(k.origin, o.origin), strings.Compare(k.size, o.size), strings.Compare(k.modeLabel, o.modeLabel))
}

type seriesMeta struct{ size, mode, modeLabel, origin string }

func newSeriesSet() *seriesSet {
	return &seriesSet{byKey: map[seriesKey]*plot.Series{}, rank: map[seriesKey][3]int{}, modes: map[string]bool{}, meta: map[seriesKey]seriesMeta{}}
}

func (ss *seriesSet) get(f *figs, size, m, modeLabel, origin string) *plot.Series {
	k := seriesKey{origin, size, modeLabel}
	s := ss.byKey[k]
	if s == nil {
		rank := f.b.modes[modeLabel].Rank
		s = &plot.Series{Label: seriesLabel(size, modeLabel, origin), Color: f.colors[size], Style: rank, Line: true, ErrAxis: "y"}
		ss.byKey[k] = s
		ss.keys = append(ss.keys, k)
		ss.rank[k] = [3]int{f.b.sizeOrder.rank(size), rank, 0}
		ss.modes[modeLabel] = true
		ss.meta[k] = seriesMeta{size, m, modeLabel, origin}
	}
	return s
}

func (ss *seriesSet) list() []plot.Series {
	keys := append([]seriesKey(nil), ss.keys...)
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := ss.rank[keys[i]], ss.rank[keys[j]]
		if a != b {
			if a[0] != b[0] {
				return a[0] < b[0]
			}
			return a[1] < b[1]
		}
		return keys[i].compare(keys[j]) < 0
	})
	origins := map[string]bool{}
	for _, m := range ss.meta {
		origins[m.origin] = true
	}
	out := make([]plot.Series, 0, len(keys))
	for _, k := range keys {
		s := ss.byKey[k]
		if len(origins) == 1 { // the figure names its one host instead
			s.Label = seriesLabel(ss.meta[k].size, ss.meta[k].modeLabel, "")
		}
		sort.SliceStable(s.Points, func(i, j int) bool { return s.Points[i].X < s.Points[j].X })
		out = append(out, *s)
	}
	return out
}

// origin is the one origin of the figure's series ("" if none or several).
func (ss *seriesSet) origin() (string, bool) {
	o, n := "", 0
	seen := map[string]bool{}
	for _, m := range ss.meta {
		if !seen[m.origin] {
			seen[m.origin] = true
			o = m.origin
			n++
		}
	}
	return o, n <= 1
}

// legend factors the legend of a figure from one origin: a colour per
// size, a line style per mode, and the marks; with several origins each
// series keeps its own entry. It also names the figure's host.
func (f *figs) legend(fig *plot.Figure, ss *seriesSet, mark string, solidMark bool) {
	origin, single := ss.origin()
	if origin != "" && single {
		fig.Caption += " Host: " + origin + "."
	}
	if !single {
		// Runs from one VM per size (a fleet): the size names the host,
		// so the legend can still be factored.
		hostOf := map[string]map[string]bool{}
		for _, m := range ss.meta {
			if hostOf[m.size] == nil {
				hostOf[m.size] = map[string]bool{}
			}
			hostOf[m.size][m.origin] = true
		}
		var names []string
		for s, hs := range hostOf {
			if len(hs) > 1 {
				return // a size measured on several hosts: one entry per series
			}
			names = append(names, s)
		}
		sort.Slice(names, func(i, j int) bool { return f.b.sizeOrder.less(names[i], names[j]) })
		var parts []string
		for _, s := range names {
			for h := range hostOf[s] {
				parts = append(parts, s+" on "+h)
			}
		}
		fig.Caption += " Hosts: " + strings.Join(parts, "; ") + "."
	}
	szs := map[string]bool{}
	modes := map[string]string{}
	for _, m := range ss.meta {
		szs[m.size] = true
		modes[m.modeLabel] = m.mode
	}
	var names []string
	for s := range szs {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool { return f.b.sizeOrder.less(names[i], names[j]) })
	for _, s := range names {
		fig.Legend = append(fig.Legend, plot.LegendEntry{Kind: plot.LegendColor, Label: s, Color: f.colors[s]})
	}
	var labels []string
	for l := range modes {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		ri, rj := f.b.modes[labels[i]].Rank, f.b.modes[labels[j]].Rank
		if ri != rj {
			return ri < rj
		}
		return labels[i] < labels[j]
	})
	for _, l := range labels {
		fig.Legend = append(fig.Legend, plot.LegendEntry{Kind: plot.LegendStyle, Label: l, Style: f.b.modes[l].Rank})
	}
	if mark != "" && len(fig.Marks) > 0 {
		fig.Legend = append(fig.Legend, plot.LegendEntry{Kind: plot.LegendMark, Label: mark, Solid: solidMark})
	}
}

// axisValues lists the Y values (medians and intervals) of series.
func axisValues(series []plot.Series, axis string) []float64 {
	var v []float64
	for _, s := range series {
		for _, p := range s.Points {
			if axis == "x" {
				v = append(v, p.X)
			} else {
				v = append(v, p.Y)
			}
			if p.Err && s.ErrAxis == axis {
				v = append(v, p.Lo, p.Hi)
			}
		}
	}
	return v
}

// dropErrOnLog removes intervals a log axis cannot draw.
func dropErrOnLog(series []plot.Series) {
	for i := range series {
		for j := range series[i].Points {
			p := &series[i].Points[j]
			if p.Err && p.Lo <= 0 {
				p.Err, p.Lo, p.Hi = false, 0, 0
			}
		}
	}
}

// otherText is the text of a group's parameters except the named ones.
func otherText(g *Group, except map[string]bool) string {
	var parts []string
	for _, k := range g.ParamOrder {
		if !except[k] {
			parts = append(parts, k+"="+g.Params[k])
		}
	}
	return strings.Join(parts, " ")
}
