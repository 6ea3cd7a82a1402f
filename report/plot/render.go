package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"sort"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
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
