package plot

import (
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// dataRanges are the spans of everything the figure draws, in draw space.
func dataRanges(f *Figure) (xr, yr span) {
	xr, yr = newRange(), newRange()
	for _, s := range f.Series {
		for _, pt := range s.Points {
			xr.add(pt.X)
			yr.add(pt.Y)
			if pt.Err {
				r := &yr
				if s.ErrAxis == "x" {
					r = &xr
				}
				r.add(pt.Lo)
				r.add(pt.Hi)
			}
		}
		for _, b := range s.Boxes {
			xr.add(b.Pos)
			for _, v := range b.Values {
				yr.add(v)
			}
		}
	}
	for _, m := range f.Marks {
		if m.Axis == "x" {
			xr.add(m.Value)
		} else {
			yr.add(m.Value)
		}
	}
	for _, c := range f.Cells {
		xr.add(c.X - 0.5)
		xr.add(c.X + 0.5)
		yr.add(c.Y - 0.5)
		yr.add(c.Y + 0.5)
	}
	for _, t := range f.X.Ticks {
		xr.add(t.Value)
	}
	for _, t := range f.Y.Ticks {
		yr.add(t.Value)
	}
	return xr, yr
}

// newGrid is the background grid, left out along an axis with named ticks.
func newGrid(f *Figure) *plotter.Grid {
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{0xe0}
	grid.Horizontal.Color = color.Gray{0xe0}
	if len(f.X.Ticks) > 0 {
		grid.Vertical.Color = nil
	}
	if len(f.Y.Ticks) > 0 {
		grid.Horizontal.Color = nil
	}
	return grid
}

// span is a data range.
type span struct{ lo, hi float64 }

func newRange() span { return span{math.Inf(1), math.Inf(-1)} }

func (r *span) add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	r.lo = math.Min(r.lo, v)
	r.hi = math.Max(r.hi, v)
}

func (r span) ok() bool { return r.lo <= r.hi }

// setAxis sets the range (with a margin) and ticks of an axis; r is in
// drawing space (log10 of the data on a log axis).
func setAxis(a *gplot.Axis, log bool, ticks []Tick, r span, categorical bool) {
	lo, hi := r.lo, r.hi
	switch {
	case categorical || len(ticks) > 0 && !log:
		lo, hi = lo-0.6, hi+0.6
	default:
		d := hi - lo
		if d == 0 {
			d = math.Max(math.Abs(hi)*0.1, 1)
			if log {
				d = 0.2
			}
		}
		lo, hi = lo-0.05*d, hi+0.05*d
		if !log && r.lo >= 0 && lo < 0 {
			lo = 0
		}
	}
	a.Min, a.Max = lo, hi
	switch {
	case len(ticks) > 0:
		ts := make(gplot.ConstantTicks, len(ticks))
		for i, t := range ticks {
			ts[i] = gplot.Tick{Value: t.Value, Label: t.Label}
		}
		a.Tick.Marker = ts
	case log:
		a.Tick.Marker = gplot.TickerFunc(func(lo, hi float64) []gplot.Tick {
			ts := logTicks(math.Pow(10, lo), math.Pow(10, hi))
			for i := range ts {
				ts[i].Value = math.Log10(ts[i].Value)
			}
			return ts
		})
	default:
		a.Tick.Marker = gplot.TickerFunc(linearTicks)
	}
}

// toDrawSpace returns a copy of f with the values on log axes replaced by
// their log10 (values a log axis cannot show are dropped).
func toDrawSpace(f *Figure) *Figure {
	if !f.X.Log && !f.Y.Log {
		return f
	}
	tf := func(log bool) func(float64) float64 {
		if !log {
			return func(v float64) float64 { return v }
		}
		return func(v float64) float64 {
			if v <= 0 {
				return math.NaN()
			}
			return math.Log10(v)
		}
	}
	tx, ty := tf(f.X.Log), tf(f.Y.Log)
	g := *f
	g.Series = make([]Series, len(f.Series))
	for i, s := range f.Series {
		ns := s
		ns.Points = nil
		terr := ty
		if s.ErrAxis == "x" {
			terr = tx
		}
		for _, p := range s.Points {
			q := Point{X: tx(p.X), Y: ty(p.Y)}
			if math.IsNaN(q.X) || math.IsNaN(q.Y) {
				continue
			}
			if p.Err {
				q.Lo, q.Hi = terr(p.Lo), terr(p.Hi)
				q.Err = !math.IsNaN(q.Lo) && !math.IsNaN(q.Hi)
				if !q.Err {
					q.Lo, q.Hi = 0, 0
				}
			}
			ns.Points = append(ns.Points, q)
		}
		ns.Boxes = nil
		for _, b := range s.Boxes {
			nb := Box{Pos: tx(b.Pos)}
			for _, v := range b.Values {
				if t := ty(v); !math.IsNaN(t) {
					nb.Values = append(nb.Values, t)
				}
			}
			if !math.IsNaN(nb.Pos) {
				ns.Boxes = append(ns.Boxes, nb)
			}
		}
		g.Series[i] = ns
	}
	g.Marks = nil
	for _, m := range f.Marks {
		t := tx
		if m.Axis != "x" {
			t = ty
		}
		if v := t(m.Value); !math.IsNaN(v) {
			m.Value = v
			g.Marks = append(g.Marks, m)
		}
	}
	tt := func(ts []Tick, t func(float64) float64) []Tick {
		var out []Tick
		for _, k := range ts {
			if v := t(k.Value); !math.IsNaN(v) {
				out = append(out, Tick{v, k.Label})
			}
		}
		return out
	}
	g.X.Ticks, g.Y.Ticks = tt(f.X.Ticks, tx), tt(f.Y.Ticks, ty)
	return &g
}

// logTicks labels 1-2-5 steps when the range spans few decades, powers of
// ten otherwise, with unlabelled minor ticks.
func logTicks(lo, hi float64) []gplot.Tick {
	var ticks []gplot.Tick
	decades := math.Log10(hi / lo)
	steps := []float64{1, 2, 5}
	switch {
	case decades > 4:
		steps = []float64{1}
	case decades < 1:
		steps = []float64{1, 1.5, 2, 3, 5, 7}
	}
	labelled := map[int]bool{}
	for _, s := range steps {
		labelled[int(s*10)] = true
	}
	for e := math.Floor(math.Log10(lo)) - 1; e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			add := func(k float64) {
				v := k * base
				if v < lo || v > hi {
					return
				}
				t := gplot.Tick{Value: v}
				if labelled[int(k*10)] {
					t.Label = fmtTick(v)
				}
				ticks = append(ticks, t)
			}
			add(float64(m))
			if decades < 1 && (m == 1 || m == 7) {
				add(float64(m) + 0.5)
			}
		}
	}
	n := 0
	for _, t := range ticks {
		if t.Label != "" {
			n++
		}
	}
	if n < 2 { // a narrow range: linear steps read better
		return linearTicks(lo, hi)
	}
	return ticks
}

// linearTicks is gonum's default ticker with readable labels.
func linearTicks(lo, hi float64) []gplot.Tick {
	ticks := gplot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = fmtTick(ticks[i].Value)
		}
	}
	return ticks
}

// fmtTick prints a tick value compactly: 0.5, 20, 1500, 2e+06 -> 2M.
func fmtTick(v float64) string {
	av := math.Abs(v)
	switch {
	case av >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 4, 64) + "G"
	case av >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case av >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
