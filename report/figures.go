package report

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/report/plot"
)

// Log scales are used when the data span at least these factors.
const (
	logYSpan = 10
	logXSpan = 8
)

// figs builds every figure of a report.
type figs struct {
	r      *Report
	b      *builder
	colors map[string]int // size -> palette index
	names  map[string]int
	usable map[string]int64 // usable EPC per size, as the runs recorded it
}

func buildFigures(r *Report, b *builder) {
	f := &figs{r: r, b: b, colors: map[string]int{}, names: map[string]int{}, usable: b.usableEPC()}
	var szs []string
	seen := map[string]bool{}
	for _, g := range b.order {
		if !seen[g.Size] {
			seen[g.Size] = true
			szs = append(szs, g.Size)
		}
	}
	for _, l := range b.loads {
		if !seen[l.size] {
			seen[l.size] = true
			szs = append(szs, l.size)
		}
	}
	sort.Slice(szs, func(i, j int) bool { return lessSize(szs[i], szs[j]) })
	for i, s := range szs {
		f.colors[s] = i
	}
	sections := []struct {
		name  string
		build func() []plot.Figure
		none  func() string
	}{
		{SectionFootprint, f.footprints, func() string {
			return "No footprint heat map: no enclave-mode cells with an absolute footprint and a native baseline (bench run --footprint " + ExampleFootprints + " --modes native,sim gives one)."
		}},
		{SectionCliff, f.cliff, func() string {
			return "No EPC-cliff plot: no workload swept its enclave working set (memsweep's ws, kvstore's data set) over two or more values at one size and mode."
		}},
		{SectionOverhead, f.overhead, func() string {
			return "No enclave-overhead plot: no enclave-mode figures (sgx, ego-sim, sim) with a native baseline from the same host (modes here: " + f.modeList() + ")."
		}},
		{SectionTransitions, f.transitions, func() string {
			return "No transition-cost plot: no samples of a workload with a `call` parameter (the syscall workload's OCALL classes)."
		}},
		{SectionScaling, f.scaling, func() string {
			return "No scaling plot: no workload swept `threads` over two or more values (the threads workload)."
		}},
		{SectionLoad, f.load, f.noLoad},
	}
	for _, s := range sections {
		out := s.build()
		kept := 0
		for _, fig := range out {
			if fig.Empty() {
				continue
			}
			fig.Section = s.name
			r.Figures = append(r.Figures, fig)
			kept++
		}
		if kept == 0 {
			r.Omitted = append(r.Omitted, Omission{s.name, s.none()})
		}
	}
}

func (f *figs) modeList() string {
	var l []string
	for _, m := range f.r.Modes {
		l = append(l, m.Label)
	}
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func (f *figs) noLoad() string {
	var enclave []string
	for _, m := range f.r.Modes {
		if f.b.modes[m.Label].LoadTime {
			enclave = append(enclave, m.Label)
		}
	}
	if len(enclave) == 0 {
		return "No enclave load-time plot: load time is recorded only by enclave modes (sgx, ego-sim), and this report has " + f.modeList() + "."
	}
	return "No enclave load-time plot: the " + strings.Join(enclave, ", ") + " cells recorded no load time with a known heap size."
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// name returns a unique file stem made of safe characters.
func (f *figs) name(parts ...string) string {
	s := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(strings.Join(parts, "-")), "-"), "-")
	if len(s) > 80 {
		s = strings.TrimRight(s[:80], "-")
	}
	if s == "" {
		s = "figure"
	}
	f.names[s]++
	if n := f.names[s]; n > 1 {
		s += "-" + strconv.Itoa(n)
	}
	return s
}

func seriesLabel(size, modeLabel, origin string) string {
	s := size + " · " + modeLabel
	if origin != "" {
		s += " · " + shortOrigin(origin)
	}
	return s
}

// shortOrigin drops the Azure size from an origin label in legends
// ("vm1 (Standard_DC2s_v2)" -> "vm1"); the runs table has it.
func shortOrigin(label string) string {
	if i := strings.Index(label, " (Standard_"); i > 0 {
		rest := label[i:]
		if j := strings.Index(rest, ")"); j > 0 {
			return label[:i] + rest[j+1:]
		}
	}
	return label
}

// modesCaption says what the figures of the modes drawn are.
func (f *figs) modesCaption(labels map[string]bool) string {
	var parts []string
	for _, m := range f.r.Modes {
		if !labels[m.Label] {
			continue
		}
		switch m.Kind {
		case result.KindMeasured:
			parts = append(parts, m.Label+": measured")
		case result.KindEmulated:
			parts = append(parts, m.Label+": EGo simulation, not hardware figures")
		case result.KindModel:
			parts = append(parts, m.Label+": model prediction, not a measurement")
		default:
			parts = append(parts, m.Label)
		}
	}
	return "Modes: " + strings.Join(parts, "; ") + "."
}

func unitLabel(unit, better string) string {
	switch better {
	case "higher":
		return unit + " (higher is better)"
	case "lower":
		return unit + " (lower is better)"
	}
	return unit
}

// point is a median with its interval as a plot point.
func point(x float64, s stats.Summary, logY bool) plot.Point {
	p := plot.Point{X: x, Y: s.Center}
	if !math.IsInf(s.Lo, 0) && !math.IsInf(s.Hi, 0) && !math.IsNaN(s.Lo) && !math.IsNaN(s.Hi) && (!logY || s.Lo > 0) {
		p.Err, p.Lo, p.Hi = true, s.Lo, s.Hi
	}
	return p
}

// span returns min and max of positive values.
func spanOf(vals []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if v > 0 && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}

func wide(vals []float64, factor float64) bool {
	lo, hi := spanOf(vals)
	if lo > hi {
		return false
	}
	for _, v := range vals {
		if v <= 0 {
			return false // a log axis cannot show it
		}
	}
	return hi/lo >= factor
}

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
		ss.rank[k] = [3]int{sizeRank(size), rank, 0}
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
		sort.Slice(names, func(i, j int) bool { return lessSize(names[i], names[j]) })
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
	sort.Slice(names, func(i, j int) bool { return lessSize(names[i], names[j]) })
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

func (f *figs) epcMarks(szs map[string]bool) []plot.Mark {
	var names []string
	for s := range szs {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool { return lessSize(names[i], names[j]) })
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
				X:      plot.Axis{Label: "slowdown vs native (×, log scale; > 1: enclave slower; " + t.Unit + ")", Log: true},
				Y:      plot.Axis{Label: "parameters", Ticks: ticks},
				Series: series,
				Marks:  []plot.Mark{{Axis: "x", Value: 1, Label: "native (×1.0)", Color: -1}},
				Width:  9, Height: math.Min(h, 20),
			}
			dropErrOnLog(fig.Series)
			against := ""
			if anySim(these) {
				against = " Sim slowdowns are each prediction over its own measured base, repetition by repetition (median and 95% interval of the per-repetition ratios): never below 1."
			}
			inverted := ""
			if t.Better == "higher" {
				inverted = " (" + t.Unit + " is a throughput: slowdown = native ÷ enclave)"
			}
			fig.Caption = fmt.Sprintf("Ratio of each enclave figure to native on the same host, as a slowdown%s; the grey line marks 1.0 (as fast as native). Error bars: conservative 95%% interval from both medians' intervals.%s %s",
				inverted, against, f.modesCaption(ss.modes))
			f.legend(&fig, ss, "native (×1.0)", true)
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
			sort.Slice(names, func(i, j int) bool { return lessSize(names[i], names[j]) })
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

// loadFit describes, per mode label, the least-squares line of load time
// (ms) against heap size (MiB) over every cell of that label whose heap
// was recorded: what one more MiB of heap costs at enclave creation. It
// says nothing where a label has fewer than 3 cells or one heap size.
func loadFit[K comparable](keys []K, vals map[K][]float64, of func(K) (label string, heapMiB float64)) string {
	xs, ys := map[string][]float64{}, map[string][]float64{}
	var labels []string
	for _, k := range keys {
		l, h := of(k)
		if _, ok := xs[l]; !ok {
			labels = append(labels, l)
		}
		for _, v := range vals[k] {
			xs[l] = append(xs[l], h)
			ys[l] = append(ys[l], v)
		}
	}
	sort.Strings(labels)
	var parts []string
	for _, l := range labels {
		x, y := xs[l], ys[l]
		if len(x) < 3 || floats.Min(x) == floats.Max(x) {
			continue
		}
		a, b := stat.LinearRegression(x, y, nil, false)
		parts = append(parts, fmt.Sprintf("%s: %s ms + %s ms per 100 MiB of heap (least squares over %d cells, %s-%s MiB; r²=%.2f)",
			l, formatFit(a), formatFit(100*b), len(x), formatFit(floats.Min(x)), formatFit(floats.Max(x)), stat.RSquared(x, y, nil, a, b)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Load time against heap size, " + strings.Join(parts, "; ") + ". "
}

func formatFit(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// load: enclave load time against heap size, per size and mode.
func (f *figs) load() []plot.Figure {
	type key struct {
		origin, size, label string
		heap                int64
	}
	vals := map[key][]float64{}
	var keys []key
	mOf := map[string]string{}
	originOf := map[string]string{}
	fromExtra, fromFootprint := false, false
	for _, l := range f.b.loads {
		if l.heapBytes <= 0 {
			continue
		}
		k := key{l.origin, l.size, l.modeLabel, l.heapBytes}
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = append(vals[k], float64(l.loadNS)/1e6)
		mOf[l.modeLabel] = l.mode
		originOf[l.origin] = l.originLabel
		if l.heapFromExtra {
			fromExtra = true
		} else {
			fromFootprint = true
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ss := newSeriesSet()
	szs := map[string]bool{}
	for _, k := range keys {
		s := ss.get(f, k.size, mOf[k.label], k.label, originOf[k.origin])
		s.Points = append(s.Points, point(float64(k.heap)/(1<<20), stats.Summarize(vals[k]), false))
		szs[k.size] = true
	}
	series := ss.list()
	xl := "enclave heap size (MiB)"
	switch {
	case fromExtra && fromFootprint:
		xl = "enclave heap size (MiB; the workload's footprint where the heap was not recorded)"
	case fromFootprint:
		xl = "enclave memory the workload allocates (MiB; heap size not recorded)"
	}
	fig := plot.Figure{
		Name: f.name("load", "time"), Kind: plot.KindXY,
		Title:  "Enclave load time by size and heap size",
		X:      plot.Axis{Label: xl},
		Y:      plot.Axis{Label: "load time (ms, lower is better), median and 95% CI"},
		Series: series, Marks: f.epcMarks(szs), Width: 9, Height: 5.5,
	}
	var mx []float64
	for _, m := range fig.Marks {
		mx = append(mx, m.Value)
	}
	fig.X.Log = wide(append(axisValues(series, "x"), mx...), logXSpan)
	fig.Y.Log = wide(axisValues(series, "y"), logYSpan)
	if fig.Y.Log {
		dropErrOnLog(fig.Series)
		fig.Y.Label += ", log scale"
	}
	if fig.X.Log {
		fig.X.Label += ", log scale"
	}
	fig.Caption = "Time from the launcher's start to the workload's first line (enclave creation, measurement, heap commit), per cell. Without EDMM the whole heap is committed at creation, so a heap larger than the EPC pages during load; dashed verticals mark each size's EPC, in the size's colour. Native and sim cells have no enclave load. " + loadFit(keys, vals, func(k key) (string, float64) { return k.label, float64(k.heap) / (1 << 20) }) + f.modesCaption(ss.modes)
	f.legend(&fig, ss, f.epcMarkName(), false)
	return []plot.Figure{fig}
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
		sort.Slice(sizesSeen, func(i, j int) bool { return lessSize(sizesSeen[i], sizesSeen[j]) })
		fig := plot.Figure{
			Name: f.name("footprint", k.family, k.mode), Kind: plot.KindHeat,
			Title: "Slowdown by footprint and size: " + k.mode,
			X:     plot.Axis{Label: k.family + " size"},
			Y:     plot.Axis{Label: "workload, footprint"},
			Caption: "Worst median slowdown vs native of each workload's cells holding the footprint, per size; green: within " +
				fmtPct(f.r.Options.Tolerance) + " of native; —: no native baseline or failed cells.",
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
