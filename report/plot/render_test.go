package plot

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func sample() *Figure {
	return &Figure{
		Name: "t", Kind: KindXY, Title: `cliff <script>alert(1)</script>`,
		X: Axis{Label: "working set (MiB)", Log: true}, Y: Axis{Label: "MB/s", Log: true},
		Series: []Series{
			{Label: `DC1s_v2 · sgx <img src=x>`, Color: 0, Style: 1, Line: true, ErrAxis: "y", Points: []Point{
				{X: 7, Y: 200, Err: true, Lo: 180, Hi: 230}, {X: 14, Y: 190}, {X: 28, Y: 60, Err: true, Lo: -5, Hi: 70}, {X: 0, Y: 5}}},
		},
		Marks: []Mark{{Axis: "x", Value: 28, Label: "EPC of DC1s_v2", Color: 0}},
		Width: 6, Height: 4,
	}
}

func TestRender(t *testing.T) {
	out, err := Render(sample(), SVG, PNG, PDF)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SVG, PNG, PDF} {
		if len(out[f]) < 500 {
			t.Errorf("%s: %d bytes", f, len(out[f]))
		}
	}
	if !bytes.HasPrefix(out[PNG], []byte("\x89PNG")) || !bytes.HasPrefix(out[PDF], []byte("%PDF")) {
		t.Error("PNG or PDF header missing")
	}
	svg := string(out[SVG])
	if strings.Contains(svg, "<script") || strings.Contains(svg, "<img") {
		t.Error("SVG text not escaped")
	}
	if !strings.Contains(svg, "&lt;script&gt;") {
		t.Error("title missing from the SVG")
	}
}

func TestRenderRefusesEmptyAndBadFigures(t *testing.T) {
	empty := &Figure{Name: "e", Kind: KindXY, Series: []Series{{Label: "x"}}}
	if _, err := Render(empty, SVG); err == nil {
		t.Error("empty figure rendered")
	}
	f := sample()
	f.Series[0].Points[1].Y = math.Inf(1)
	if _, err := Render(f, SVG); err == nil {
		t.Error("figure with an infinite value rendered")
	}
	f = sample()
	if _, err := Render(f, "gif"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestBoxAndFactoredLegend(t *testing.T) {
	f := &Figure{Name: "b", Kind: KindBox, Title: "boxes", X: Axis{Label: "call", Ticks: []Tick{{0, "read\nDC1s_v2"}, {1, "clock\nDC1s_v2"}}},
		Y: Axis{Label: "ns/op", Log: true},
		Series: []Series{
			{Label: "native", Boxes: []Box{{Pos: 0, Values: []float64{300, 310, 320, 900}}, {Pos: 1, Values: []float64{50, 55}}}},
			{Label: "sgx", Color: 1, Style: 1, Boxes: []Box{{Pos: 0, Values: []float64{9000, 9100, 9400}}}},
		},
		Legend: []LegendEntry{{Kind: LegendColor, Label: "DC1s_v2"}, {Kind: LegendStyle, Label: "sgx", Style: 1}, {Kind: LegendMark, Label: "EPC"}},
		Width:  6, Height: 4}
	out, err := Render(f, SVG)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(out[SVG])
	for _, want := range []string{"DC1s_v2", "EPC", "clock"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestLogTicks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var l []string
		for _, tk := range logTicks(lo, hi) {
			if tk.Label != "" {
				l = append(l, tk.Label)
			}
		}
		return l
	}
	if got := strings.Join(labels(7, 400), " "); got != "10 20 50 100 200" {
		t.Errorf("7..400: %s", got)
	}
	if got := strings.Join(labels(1, 1e8), " "); got != "1 10 100 1000 10k 100k 1M 10M 100M" {
		t.Errorf("1..1e8: %s", got)
	}
	if got := labels(1.1, 1.3); len(got) < 2 {
		t.Errorf("narrow range labels %v", got)
	}
}
