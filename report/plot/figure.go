// Package plot draws the report's figures with gonum.org/v1/plot.
//
// A Figure is plain data (the points, intervals and boxes fed to gonum,
// the axes, the reference marks), built by package report and serialisable
// as JSON: the golden tests compare that data, not rendered bytes. Render
// turns a Figure into SVG, PNG or PDF.
package plot

import (
	"encoding/json"
	"math"
)

// Figure kinds.
const (
	// KindXY draws points (optionally joined by lines) with optional error
	// bars along ErrAxis.
	KindXY = "xy"
	// KindBox draws Tukey box plots at categorical X positions.
	KindBox = "box"
	// KindHeat draws Cells as coloured, labelled squares on categorical
	// X and Y axes (sizing: slowdown by footprint and size).
	KindHeat = "heat"
)

// Figure is one plot, described by its data.
type Figure struct {
	// Name is the file stem: plots/<name>.svg, .png, .pdf.
	Name string `json:"name"`
	// Section groups figures in the report (cliff, overhead, transitions,
	// scaling, load).
	Section string `json:"section"`
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	// Caption is shown under the figure in the HTML report: what is
	// plotted, what the marks mean, which figures are modelled.
	Caption string `json:"caption,omitempty"`
	X       Axis   `json:"x"`
	Y       Axis   `json:"y"`
	// Series are drawn in order; each has a legend entry.
	Series []Series `json:"series"`
	// Marks are reference lines (the EPC of a size, ratio 1.0).
	Marks []Mark `json:"marks,omitempty"`
	// Legend, when set, replaces the per-series and per-mark legend
	// entries with a factored one: colours name sizes, line styles name
	// modes.
	Legend []LegendEntry `json:"legend,omitempty"`
	// Cells are the squares of a heat figure.
	Cells []Cell `json:"cells,omitempty"`
	// Width and Height are the figure's size in inches.
	Width  float64 `json:"width_in"`
	Height float64 `json:"height_in"`
}

// Axis describes one axis.
type Axis struct {
	Label string `json:"label"`
	// Log selects a logarithmic scale (all values must be positive).
	Log bool `json:"log,omitempty"`
	// Ticks, when set, replace the automatic ticks (categorical axes).
	Ticks []Tick `json:"ticks,omitempty"`
}

// Tick is one labelled position on a categorical axis.
type Tick struct {
	Value float64 `json:"value"`
	Label string  `json:"label"`
}

// Series is one legend entry: points or boxes in one style.
type Series struct {
	Label string `json:"label"`
	// Color indexes the palette (colour-blind safe, Okabe-Ito).
	Color int `json:"color"`
	// Style indexes the line dash and glyph shape (one per mode).
	Style int `json:"style"`
	// Line joins the points in X order.
	Line bool `json:"line,omitempty"`
	// ErrAxis is "y" or "x" when points carry intervals on that axis.
	ErrAxis string  `json:"err_axis,omitempty"`
	Points  []Point `json:"points,omitempty"`
	Boxes   []Box   `json:"boxes,omitempty"`
}

// Point is one data point with an optional interval [Lo, Hi] on the
// series' ErrAxis (95% confidence interval of the median).
type Point struct {
	X   float64 `json:"x"`
	Y   float64 `json:"y"`
	Err bool    `json:"err,omitempty"`
	Lo  float64 `json:"lo,omitempty"`
	Hi  float64 `json:"hi,omitempty"`
}

// Box is the distribution of Values drawn as a box at X = Pos.
type Box struct {
	Pos    float64   `json:"pos"`
	Values []float64 `json:"values"`
}

// Cell is one square of a heat figure at categorical position (X, Y):
// its colour follows Value (1: white, larger: warmer, on a log scale up to
// 32), Good cells are drawn green whatever their value, Label is printed
// in the square.
type Cell struct {
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Value float64 `json:"value"`
	Good  bool    `json:"good,omitempty"`
	Label string  `json:"label"`
}

// Mark is a reference line across the plot.
type Mark struct {
	// Axis is "x" for a vertical line at X = Value, "y" for a horizontal one.
	Axis  string  `json:"axis"`
	Value float64 `json:"value"`
	Label string  `json:"label"`
	Color int     `json:"color"`
	// Color -1 draws the mark in grey.
}

// Legend entry kinds.
const (
	LegendColor = "color" // a palette colour (Color)
	LegendStyle = "style" // a dash and glyph (Style)
	LegendMark  = "mark"  // the dashed reference lines
)

// LegendEntry is one entry of a factored legend.
type LegendEntry struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Color int    `json:"color,omitempty"`
	Style int    `json:"style,omitempty"`
	// Solid draws a mark entry as a solid line (as marks with Color -1).
	Solid bool `json:"solid,omitempty"`
}

// MarshalFigures encodes figures as indented JSON with a trailing newline
// (the golden-file and plotdata.json format).
func MarshalFigures(figs []Figure) ([]byte, error) {
	b, err := json.MarshalIndent(figs, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Finite reports whether every number of the figure can be drawn (and
// encoded as JSON).
func (f *Figure) Finite() bool {
	ok := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for _, s := range f.Series {
		for _, p := range s.Points {
			if !ok(p.X) || !ok(p.Y) || !ok(p.Lo) || !ok(p.Hi) {
				return false
			}
		}
		for _, b := range s.Boxes {
			for _, v := range b.Values {
				if !ok(v) {
					return false
				}
			}
		}
	}
	for _, m := range f.Marks {
		if !ok(m.Value) {
			return false
		}
	}
	for _, c := range f.Cells {
		if !ok(c.X) || !ok(c.Y) || !ok(c.Value) {
			return false
		}
	}
	return true
}

// Empty reports whether the figure has nothing to draw.
func (f *Figure) Empty() bool {
	if len(f.Cells) > 0 {
		return false
	}
	for _, s := range f.Series {
		if len(s.Points) > 0 {
			return false
		}
		for _, b := range s.Boxes {
			if len(b.Values) > 0 {
				return false
			}
		}
	}
	return true
}
