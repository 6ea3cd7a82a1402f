package report

import (
	"fmt"
	"math"
	"sort"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/report/plot"
)

// overhead: the slowdown of each enclave figure against native, per
// workload, parameter set, size and mode (a forest plot).
func (f *figs) overhead() []plot.Figure {
	var out []plot.Figure
	for _, t := range f.r.Workloads {
		var gs []*Group
		for _, g := range t.Rows {
			if g.Baseline != nil && !math.IsNaN(g.Baseline.Slowdown) && g.Baseline.Slowdown > 0 {
				gs = append(gs, g)
			}
		}
		if len(gs) == 0 {
			continue
		}
		var allRows []string
		seen := map[string]bool{}
		for _, g := range gs {
			if !seen[g.ParamText] {
				seen[g.ParamText] = true
				allRows = append(allRows, g.ParamText)
			}
		}
		// At most overheadRows parameter sets per figure, so each stays legible.
		parts := (len(allRows) + overheadRows - 1) / overheadRows
		per := (len(allRows) + parts - 1) / parts
		for part := 0; part < parts; part++ {
			rows := allRows[part*per : min(len(allRows), (part+1)*per)]
			rowOf := map[string]int{}
			for i, r := range rows {
				rowOf[r] = i
			}
			ss := newSeriesSet()
			var these []*Group
			for _, g := range gs {
				i, ok := rowOf[g.ParamText]
				if !ok {
					continue
				}
				these = append(these, g)
				s := ss.get(f, g.Size, g.Mode, g.ModeLabel, g.OriginLabel)
				s.Line, s.ErrAxis = false, "x"
				p := plot.Point{X: g.Baseline.Slowdown, Y: float64(len(rows) - 1 - i)}
				if g.Baseline.CI && g.Baseline.SLo > 0 {
					p.Err, p.Lo, p.Hi = true, g.Baseline.SLo, g.Baseline.SHi
				}
				s.Points = append(s.Points, p)
			}
			series := ss.list()
			// Spread the series within a row so intervals do not overlap.
			n := len(series)
			step := math.Min(0.7/float64(max(n, 1)), 0.18)
			for i := range series {
				off := (float64(i) - float64(n-1)/2) * -step
				for j := range series[i].Points {
					series[i].Points[j].Y += off
				}
			}
			var ticks []plot.Tick
			for i, r := range rows {
				label := r
				if label == "" {
					label = t.Name
				}
				ticks = append(ticks, plot.Tick{Value: float64(len(rows) - 1 - i), Label: label})
			}
			title := "Enclave overhead: " + t.Name
			name := f.name("overhead", t.Name)
			if parts > 1 {
				title += fmt.Sprintf(" (%d of %d)", part+1, parts)
			}
			h := 1.9 + float64(len(rows))*math.Max(0.4, 0.1*float64(n))
			fig := plot.Figure{
				Name: name, Kind: plot.KindXY, Title: title,
				X:      plot.Axis{Label: "slowdown vs " + f.r.Baseline + " (×, log scale; > 1: enclave slower; " + t.Unit + ")", Log: true},
				Y:      plot.Axis{Label: "parameters", Ticks: ticks},
				Series: series,
				Marks:  []plot.Mark{{Axis: "x", Value: 1, Label: f.r.Baseline + " (×1.0)", Color: -1}},
				Width:  9, Height: math.Min(h, 20),
			}
			dropErrOnLog(fig.Series)
			against := ""
			if anySim(these) {
				against = " Sim slowdowns are each prediction over its own measured base, repetition by repetition (median and 95% interval of the per-repetition ratios): never below 1."
			}
			inverted := ""
			if t.Better == "higher" {
				inverted = " (" + t.Unit + " is a throughput: slowdown = " + f.r.Baseline + " ÷ enclave)"
			}
			fig.Caption = fmt.Sprintf("Ratio of each enclave figure to %s on the same host, as a slowdown%s; the grey line marks 1.0 (as fast as %s). Error bars: conservative 95%% interval from both medians' intervals.%s %s",
				f.r.Baseline, inverted, f.r.Baseline, against, f.modesCaption(ss.modes))
			f.legend(&fig, ss, f.r.Baseline+" (×1.0)", true)
			out = append(out, fig)
		}
	}
	return out
}

// overheadRows bounds the parameter sets of one overhead figure.
const overheadRows = 10

func anySim(gs []*Group) bool {
	for _, g := range gs {
		if g.ModeFacts.Kind == result.KindModel {
			return true
		}
	}
	return false
}

// transitions: per-call-class distributions of the workloads that ask for
// them (the syscall workload's call parameter), native against the enclave
// modes.
func (f *figs) transitions() []plot.Figure {
	var out []plot.Figure
	for _, t := range f.r.Workloads {
		param := t.figureParam(result.FigureTransitions)
		if param == "" {
			continue
		}
		type category struct{ params, size string }
		catOf := map[category]int{}
		var cats []plot.Tick
		type sk struct{ origin, label string }
		boxes := map[sk]*plot.Series{}
		var keys []sk
		var all []float64
		modes := map[string]bool{}
		for _, g := range t.Rows {
			if len(g.Values) == 0 {
				continue
			}
			ck := category{g.ParamText, g.Size}
			c, ok := catOf[ck]
			if !ok {
				c = len(cats)
				catOf[ck] = c
				label := g.Params[param]
				if rest := otherText(g, map[string]bool{param: true}); rest != "" {
					label += " " + rest
				}
				cats = append(cats, plot.Tick{Value: float64(c), Label: label + "\n" + g.Size})
			}
			k := sk{g.OriginLabel, g.ModeLabel}
			s := boxes[k]
			if s == nil {
				l := g.ModeLabel
				if g.OriginLabel != "" {
					l += " · " + shortOrigin(g.OriginLabel)
				}
				s = &plot.Series{Label: l, Color: g.ModeFacts.Rank, Style: g.ModeFacts.Rank}
				boxes[k] = s
				keys = append(keys, k)
			}
			s.Boxes = append(s.Boxes, plot.Box{Pos: float64(c), Values: g.Values})
			all = append(all, g.Values...)
			modes[g.ModeLabel] = true
		}
		if len(keys) == 0 {
			continue
		}
		var series []plot.Series
		for _, k := range keys {
			series = append(series, *boxes[k])
		}
		sort.SliceStable(series, func(i, j int) bool { return series[i].Style < series[j].Style })
		for i := range series {
			series[i].Color = i
			if len(keys) <= 4 {
				series[i].Color = series[i].Style
			}
		}
		fig := plot.Figure{
			Name: f.name("transitions", t.Name), Kind: plot.KindBox,
			Title:  "Transition costs: " + t.Name + " per call class",
			X:      plot.Axis{Label: "call class and size", Ticks: cats},
			Y:      plot.Axis{Label: unitLabel(t.Unit, t.Better) + ", one value per repetition", Log: wide(all, logYSpan)},
			Series: series,
			Width:  math.Min(math.Max(8, 2.5+0.3*float64(len(cats)*len(series))), 14), Height: 5.5,
		}
		if fig.Y.Log {
			fig.Y.Label += ", log scale"
		}
		fig.Caption = fmt.Sprintf("Distribution of %s per call class (the `call` parameter: which syscall, forwarded as an OCALL in an enclave) and size: box = quartiles, thick line = median, whiskers to 1.5 IQR, dots = outliers. %s",
			t.Unit, f.modesCaption(modes))
		out = append(out, fig)
	}
	return out
}
