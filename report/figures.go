package report

import (
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

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
	sort.Slice(szs, func(i, j int) bool { return b.sizeOrder.less(szs[i], szs[j]) })
	for i, s := range szs {
		f.colors[s] = i
	}
	sections := []struct {
		name  string
		build func() []plot.Figure
		none  func() string
	}{
		{SectionFootprint, f.footprints, func() string {
			return "No footprint heat map: no enclave-mode cells with an absolute footprint and a " + f.r.Baseline + " baseline (bench run --footprint " + ExampleFootprints + " --modes " + f.r.BaselineMode + ",sim gives one)."
		}},
		{SectionCliff, f.cliff, func() string {
			return "No EPC-cliff plot: no workload swept its enclave working set (memsweep's ws, kvstore's data set) over two or more values at one size and mode."
		}},
		{SectionOverhead, f.overhead, func() string {
			return "No enclave-overhead plot: no enclave-mode figures with a " + f.r.Baseline + " baseline from the same host (modes here: " + f.modeList() + ")."
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

// noLoadSentence says which of the report's modes have no enclave load
// (their recorded facts do not say LoadTime), by name: "Native and sim
// cells have no enclave load. "; "" when all of them record it.
func (f *figs) noLoadSentence() string {
	var names []string
	for _, m := range f.r.Modes {
		if !f.b.modes[m.Label].LoadTime && !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	l := names[0]
	if n := len(names); n > 1 {
		l = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return strings.ToUpper(l[:1]) + l[1:] + " cells have no enclave load. "
}

func (f *figs) noLoad() string {
	var enclave []string
	for _, m := range f.r.Modes {
		if f.b.modes[m.Label].LoadTime {
			enclave = append(enclave, m.Label)
		}
	}
	if len(enclave) == 0 {
		return "No enclave load-time plot: none of this report's modes (" + f.modeList() + ") records an enclave's load time."
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
