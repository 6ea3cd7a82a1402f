package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"sort"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Formats Render writes.
const (
	SVG = "svg"
	PNG = "png"
	PDF = "pdf"
)

// PNGDPI is the resolution of PNG output (sharp on high-density screens and
// in print).
const PNGDPI = 150

// palette is Okabe and Ito's colour-blind safe palette (without yellow,
// which is unreadable on white), then grey.
var palette = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0x00, 0x00, 0x00, 0xff}, // black
	{0x88, 0x88, 0x88, 0xff}, // grey
}

var grey = color.RGBA{0x77, 0x77, 0x77, 0xff}

// Color returns palette entry i (wrapping); i < 0 is grey.
func Color(i int) color.Color {
	if i < 0 {
		return grey
	}
	return palette[i%len(palette)]
}

// styles are the dash patterns and glyphs of Series.Style: one per mode
// (native, sgx, ego-sim, sim, others), so modes stay distinguishable in
// greyscale print.
var styles = []struct {
	dashes []vg.Length
	glyph  draw.GlyphDrawer
}{
	{nil, draw.CircleGlyph{}},
	{[]vg.Length{vg.Points(6), vg.Points(3)}, draw.TriangleGlyph{}},
	{[]vg.Length{vg.Points(2), vg.Points(2)}, draw.SquareGlyph{}},
	{[]vg.Length{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}, draw.RingGlyph{}},
	{[]vg.Length{vg.Points(4), vg.Points(4)}, draw.CrossGlyph{}},
}

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Render draws f in each format (SVG, PNG, PDF) and returns the encoded
// bytes by format.
func Render(f *Figure, formats ...string) (out map[string][]byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("figure %s: drawing failed: %v", f.Name, p)
		}
	}()
	if f.Empty() {
		return nil, fmt.Errorf("figure %s has no data", f.Name)
	}
	if !f.Finite() {
		return nil, fmt.Errorf("figure %s has non-finite values", f.Name)
	}
	p, leg, err := build(f)
	if err != nil {
		return nil, fmt.Errorf("figure %s: %w", f.Name, err)
	}
	w, h := vg.Length(f.Width)*vg.Inch, vg.Length(f.Height)*vg.Inch
	if w <= 0 || h <= 0 {
		w, h = 8*vg.Inch, 5*vg.Inch
	}
	out = map[string][]byte{}
	for _, format := range formats {
		var c vg.CanvasWriterTo
		switch format {
		case SVG:
			c = vgsvg.New(w, h)
		case PNG:
			c = fastPNG{vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI))}
		case PDF:
			pc := vgpdf.New(w, h)
			pc.EmbedFonts(true)
			c = pc
		default:
			return nil, fmt.Errorf("unknown format %q (valid: svg, png, pdf)", format)
		}
		dc := draw.New(c)
		drawWithLegend(dc, p, leg)
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			return nil, fmt.Errorf("figure %s: writing %s: %w", f.Name, format, err)
		}
		out[format] = b.Bytes()
	}
	return out, nil
}

// drawWithLegend draws the plot with its legend in a column to the right,
// so the legend never hides data.
func drawWithLegend(dc draw.Canvas, p *gplot.Plot, leg *gplot.Legend) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	pad := vg.Points(6)
	maxW := (dc.Max.X - dc.Min.X) * 0.42
	width := func() vg.Length { r := leg.Rectangle(dc); return r.Max.X - r.Min.X }
	// Long labels get a smaller font rather than being cut off.
	for width() > maxW && leg.TextStyle.Font.Size > vg.Points(6.5) {
		leg.TextStyle.Font.Size -= vg.Points(0.5)
	}
	lw := min(width(), maxW)
	plotC := draw.Crop(dc, pad, -(lw + 3*pad), pad, -pad)
	p.Draw(plotC)
	if lw > 0 {
		legC := draw.Crop(dc, dc.Max.X-dc.Min.X-lw-pad, -pad, pad, -pad-vg.Points(18))
		leg.Draw(legC)
	}
}

func build(f *Figure) (*gplot.Plot, *gplot.Legend, error) {
	p := newPlot(f)
	leg := newLegend()

	// gonum's log scale mislays the axis label's glyph box (it centres it
	// at the arithmetic mean), so log axes are drawn as linear axes over
	// log10 of the data, with ticks labelled in data units.
	logX, logY := f.X.Log, f.Y.Log
	f = toDrawSpace(f)
	xr, yr := dataRanges(f)
	if !xr.ok() || !yr.ok() {
		return nil, nil, fmt.Errorf("no drawable values (a log axis needs positive values)")
	}
	setAxis(&p.X, logX, f.X.Ticks, xr, f.Kind == KindBox)
	setAxis(&p.Y, logY, f.Y.Ticks, yr, false)
	if len(f.Cells) > 0 {
		// The squares fill the data area edge to edge.
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xr.lo, xr.hi, yr.lo, yr.hi
		p.Add(heatCells{cells: f.Cells, font: font.From(sans, 10)})
	}
	p.Add(newGrid(f))
	addMarks(p, &leg, f)

	nBoxSeries := 0
	for _, s := range f.Series {
		if len(s.Boxes) > 0 {
			nBoxSeries++
		}
	}
	boxIdx := 0
	for _, s := range f.Series {
		var thumbs []gplot.Thumbnailer
		var err error
		if len(s.Boxes) > 0 {
			thumbs, err = addBoxes(p, f, s, nBoxSeries, boxIdx)
			boxIdx++
		} else {
			thumbs, err = addPoints(p, f, s)
		}
		if err != nil {
			return nil, nil, err
		}
		if len(f.Legend) == 0 {
			leg.Add(s.Label, thumbs...)
		}
	}
	addLegend(&leg, f)
	return p, &leg, nil
}

// newPlot is an empty plot with the figure's title, axis labels and fonts.
func newPlot(f *Figure) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = f.Title
	// Regular weight: gonum's PDF backend cannot embed the bold face.
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.Title.Padding = vg.Points(8)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 9.5)
		a.Label.Padding = vg.Points(4)
	}
	p.X.Label.Text = f.X.Label
	p.Y.Label.Text = f.Y.Label
	return p
}

// newLegend is an empty legend in the report's style.
func newLegend() gplot.Legend {
	leg := gplot.NewLegend()
	leg.TextStyle.Font = font.From(sans, 9.5)
	leg.Top = true
	leg.Left = true
	leg.ThumbnailWidth = vg.Points(24)
	leg.Padding = vg.Points(2)
	return leg
}

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

// addMarks draws the figure's marks (dashed lines at a value), in the
// legend unless the figure has its own.
func addMarks(p *gplot.Plot, leg *gplot.Legend, f *Figure) {
	for _, m := range f.Marks {
		ml := &markLine{axis: m.Axis, value: m.Value, style: draw.LineStyle{
			Color: Color(m.Color), Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}}
		if m.Color < 0 {
			ml.style.Dashes = nil
			ml.style.Width = vg.Points(1)
		}
		p.Add(ml)
		if m.Label != "" && len(f.Legend) == 0 {
			leg.Add(m.Label, ml)
		}
	}
}

// addBoxes draws a series of box plots, the boxIdx-th of nBoxSeries side by
// side, and returns its legend thumbnail.
func addBoxes(p *gplot.Plot, f *Figure, s Series, nBoxSeries, boxIdx int) ([]gplot.Thumbnailer, error) {
	col := Color(s.Color)
	st := styles[s.Style%len(styles)]
	w := boxWidth(f, nBoxSeries)
	for _, b := range s.Boxes {
		if len(b.Values) == 0 {
			continue
		}
		bp, err := plotter.NewBoxPlot(w, b.Pos, plotter.Values(b.Values))
		if err != nil {
			return nil, err
		}
		bp.Offset = (vg.Length(boxIdx) - vg.Length(nBoxSeries-1)/2) * (w + vg.Points(2))
		bp.BoxStyle.Color = col
		bp.BoxStyle.Width = vg.Points(1.2)
		bp.MedianStyle = bp.BoxStyle
		bp.MedianStyle.Width = vg.Points(2)
		bp.WhiskerStyle = bp.BoxStyle
		bp.WhiskerStyle.Dashes = nil
		bp.FillColor = lighten(col)
		bp.GlyphStyle.Color = col
		bp.GlyphStyle.Shape = st.glyph
		bp.GlyphStyle.Radius = vg.Points(2)
		p.Add(bp)
	}
	return []gplot.Thumbnailer{boxThumb{fill: lighten(col), line: col}}, nil
}

// addPoints draws a series of points (with their error bars, joined by a
// line if asked) and returns its legend thumbnails.
func addPoints(p *gplot.Plot, f *Figure, s Series) ([]gplot.Thumbnailer, error) {
	col := Color(s.Color)
	st := styles[s.Style%len(styles)]
	var thumbs []gplot.Thumbnailer
	pts := make([]Point, len(s.Points))
	copy(pts, s.Points)
	if s.Line {
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
	}
	xys := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		xys[i] = plotter.XY{X: pt.X, Y: pt.Y}
	}
	if s.Line && len(xys) > 1 {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1.5), Dashes: st.dashes}
		p.Add(l)
		thumbs = append(thumbs, l)
	}
	if eb := errorBars(pts, s.ErrAxis, f, col); eb != nil {
		p.Add(eb)
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: st.glyph}
	p.Add(sc)
	thumbs = append(thumbs, sc)
	return thumbs, nil
}

// addLegend adds the figure's own legend entries (colours, styles, marks).
func addLegend(leg *gplot.Legend, f *Figure) {
	for _, e := range f.Legend {
		switch e.Kind {
		case LegendColor:
			leg.Add(e.Label, lineThumb{draw.LineStyle{Color: Color(e.Color), Width: vg.Points(3)}, nil})
		case LegendStyle:
			st := styles[e.Style%len(styles)]
			ink := color.Gray{0x33}
			leg.Add(e.Label, lineThumb{draw.LineStyle{Color: ink, Width: vg.Points(1.5), Dashes: st.dashes},
				&draw.GlyphStyle{Color: ink, Radius: vg.Points(3), Shape: st.glyph}})
		case LegendMark:
			ls := draw.LineStyle{Color: grey, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
			if e.Solid {
				ls.Dashes, ls.Width = nil, vg.Points(1)
			}
			leg.Add(e.Label, lineThumb{ls, nil})
		}
	}
}

func boxWidth(f *Figure, nSeries int) vg.Length {
	cats := len(f.X.Ticks)
	if cats == 0 {
		cats = 1
	}
	avail := vg.Length(f.Width)*vg.Inch*0.6/vg.Length(cats) - vg.Points(8)
	w := avail / vg.Length(max(nSeries, 1))
	return max(vg.Points(4), min(w, vg.Points(22)))
}

// errorBars draws the points' intervals (skipping any a log axis cannot
// show).
func errorBars(pts []Point, axis string, f *Figure, col color.Color) gplot.Plotter {
	sty := draw.LineStyle{Color: col, Width: vg.Points(1)}
	var xys plotter.XYs
	var errs []struct{ Low, High float64 }
	for _, pt := range pts {
		if !pt.Err {
			continue
		}
		xys = append(xys, plotter.XY{X: pt.X, Y: pt.Y})
		center := pt.Y
		if axis == "x" {
			center = pt.X
		}
		errs = append(errs, struct{ Low, High float64 }{center - pt.Lo, pt.Hi - center})
	}
	if len(xys) == 0 {
		return nil
	}
	switch axis {
	case "y":
		return &plotter.YErrorBars{XYs: xys, YErrors: errs, LineStyle: sty, CapWidth: vg.Points(5)}
	case "x":
		return &plotter.XErrorBars{XYs: xys, XErrors: errs, LineStyle: sty, CapWidth: vg.Points(5)}
	}
	return nil
}

func lighten(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((v>>8)/4 + 0xff*3/4) }
	return color.RGBA{mix(r), mix(g), mix(b), 0xff}
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

// heatCells draws a heat figure's squares, each with its label.
type heatCells struct {
	cells []Cell
	font  font.Font
}

// heatColor is white at value 1 (or below), warming through yellow and
// orange to red at 32 and beyond (log2 scale); good cells are green.
func heatColor(c Cell) color.Color {
	if c.Good {
		return color.RGBA{0xc7, 0xe9, 0xc0, 0xff}
	}
	t := 0.0
	if c.Value > 1 {
		t = math.Min(math.Log2(c.Value)/5, 1)
	}
	// white (255,255,255) -> orange (253,174,97) -> red (215,48,39)
	lerp := func(a, b uint8, f float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*f) }
	if t < 0.5 {
		f := t / 0.5
		return color.RGBA{lerp(255, 253, f), lerp(255, 174, f), lerp(255, 97, f), 0xff}
	}
	f := (t - 0.5) / 0.5
	return color.RGBA{lerp(253, 215, f), lerp(174, 48, f), lerp(97, 39, f), 0xff}
}

func (h heatCells) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	edge := draw.LineStyle{Color: color.White, Width: vg.Points(2)}
	for _, cell := range h.cells {
		x0, x1 := trX(cell.X-0.5), trX(cell.X+0.5)
		y0, y1 := trY(cell.Y-0.5), trY(cell.Y+0.5)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(heatColor(cell), pts)
		c.StrokeLines(edge, append(pts, pts[0]))
		ts := text.Style{Color: color.Gray{0x22}, Font: h.font, XAlign: draw.XCenter, YAlign: draw.YCenter,
			Handler: p.Title.TextStyle.Handler}
		c.FillText(ts, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, cell.Label)
	}
}

// markLine is a reference line across the whole data area.
type markLine struct {
	axis  string
	value float64
	style draw.LineStyle
}

func (m *markLine) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	if m.axis == "x" {
		x := trX(m.value)
		c.StrokeLine2(m.style, x, c.Min.Y, x, c.Max.Y)
		return
	}
	y := trY(m.value)
	c.StrokeLine2(m.style, c.Min.X, y, c.Max.X, y)
}

func (m *markLine) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(m.style, c.Min.X, y, c.Max.X, y)
}

// fastPNG encodes the canvas with fast compression: plots are flat colour,
// so the files stay small, and encoding is a large part of a report's time.
type fastPNG struct{ *vgimg.Canvas }

func (c fastPNG) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, c.Image()); err != nil {
		return 0, err
	}
	return b.WriteTo(w)
}

// lineThumb is a legend thumbnail: a line, optionally with a glyph.
type lineThumb struct {
	line  draw.LineStyle
	glyph *draw.GlyphStyle
}

func (l lineThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.line, c.Min.X, y, c.Max.X, y)
	if l.glyph != nil {
		c.DrawGlyph(*l.glyph, c.Center())
	}
}

// boxThumb is the legend thumbnail of a box series.
type boxThumb struct{ fill, line color.Color }

func (b boxThumb) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{
		{X: c.Min.X + 2, Y: c.Min.Y + 1}, {X: c.Max.X - 2, Y: c.Min.Y + 1},
		{X: c.Max.X - 2, Y: c.Max.Y - 1}, {X: c.Min.X + 2, Y: c.Max.Y - 1},
	}
	c.FillPolygon(b.fill, pts)
	c.StrokeLines(draw.LineStyle{Color: b.line, Width: vg.Points(1.2)}, append(pts, pts[0]))
}
