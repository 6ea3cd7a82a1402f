package plot

import (
	"bytes"
	"image/color"
	"image/png"
	"io"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

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
