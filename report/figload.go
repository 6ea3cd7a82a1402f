package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"

	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/report/plot"
)

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
	fig.Caption = "Time from the launcher's start to the workload's first line (enclave creation, measurement, heap commit), per cell. Without EDMM the whole heap is committed at creation, so a heap larger than the EPC pages during load; dashed verticals mark each size's EPC, in the size's colour. " + f.noLoadSentence() + loadFit(keys, vals, func(k key) (string, float64) { return k.label, float64(k.heap) / (1 << 20) }) + f.modesCaption(ss.modes)
	f.legend(&fig, ss, f.epcMarkName(), false)
	return []plot.Figure{fig}
}
