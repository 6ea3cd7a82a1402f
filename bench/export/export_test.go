package export

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/enclavebench/enclavebench/bench/compare"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

func finite() *rapid.Generator[float64] {
	return rapid.Float64().Filter(func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) })
}

func genGAB(t *rapid.T) []GABEntry {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) GABEntry {
		return GABEntry{
			Name:  rapid.StringN(1, 40, -1).Draw(t, "name"),
			Unit:  rapid.String().Draw(t, "unit"),
			Value: finite().Draw(t, "value"),
			Range: rapid.String().Draw(t, "range"),
			Extra: rapid.String().Draw(t, "extra"),
		}
	}), 0, 8).Draw(t, "entries")
}

// TestGABRoundTrip: EncodeGAB then DecodeGAB gives the same entries.
func TestGABRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genGAB(t)
		var b bytes.Buffer
		if err := EncodeGAB(&b, in); err != nil {
			t.Fatal(err)
		}
		out, err := DecodeGAB(&b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b.String())
		}
		if len(in) == 0 && len(out) == 0 {
			return
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("round trip:\n%+v\n%+v", in, out)
		}
	})
}

func genBMF(t *rapid.T) BMF {
	b := BMF{}
	for i := rapid.IntRange(0, 5).Draw(t, "benches"); i > 0; i-- {
		name := rapid.StringN(1, 40, -1).Draw(t, "bench")
		ms := map[string]BMFMetric{}
		for j := rapid.IntRange(1, 3).Draw(t, "measures"); j > 0; j-- {
			m := BMFMetric{Value: finite().Draw(t, "value")}
			if rapid.Bool().Draw(t, "ci") {
				lo, hi := finite().Draw(t, "lo"), finite().Draw(t, "hi")
				m.LowerValue, m.UpperValue = &lo, &hi
			}
			ms[rapid.StringN(1, 20, -1).Draw(t, "measure")] = m
		}
		b[name] = ms
	}
	return b
}

// TestBMFRoundTrip: EncodeBMF then DecodeBMF gives the same document.
func TestBMFRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genBMF(t)
		var b bytes.Buffer
		if err := EncodeBMF(&b, in); err != nil {
			t.Fatal(err)
		}
		out, err := DecodeBMF(&b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("round trip:\n%+v\n%+v", in, out)
		}
	})
}

// TestPointsRoundTrip: medians and intervals survive both formats: what a
// tracker reads back is what the points said.
func TestPointsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var text strings.Builder
		text.WriteString("Unit MB/s better=higher\n")
		n := rapid.IntRange(1, 12).Draw(t, "n")
		for i := 0; i < n; i++ {
			text.WriteString("BenchmarkA/size=S/mode=native 1 ")
			text.WriteString(strings.TrimSpace(rapid.SampledFrom([]string{"1", "2.5", "3e3", "7"}).Draw(t, "ns")))
			text.WriteString(" ns/op 5 MB/s\n")
		}
		set, err := compare.ReadBenchfmt(strings.NewReader(text.String()), "x")
		if err != nil {
			t.Fatal(err)
		}
		points := Points(set, nil)
		var b bytes.Buffer
		EncodeBMF(&b, ToBMF(points))
		bmf, err := DecodeBMF(&b)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range points {
			m, ok := bmf[p.Bench][Measure(p.Unit)]
			if !ok || m.Value != p.Median || (m.LowerValue != nil) != p.HasCI() || (p.HasCI() && (*m.LowerValue != p.Lo || *m.UpperValue != p.Hi)) {
				t.Fatalf("BMF lost %+v: %+v", p, m)
			}
		}
		small, _, err := Select(points, Smaller, nil)
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		EncodeGAB(&b, GAB(small))
		gab, err := DecodeGAB(&b)
		if err != nil || len(gab) != 1 || gab[0].Value != points[0].Median || gab[0].Unit != "ns/op" || gab[0].Name != GABName("A/size=S/mode=native", "ns/op") {
			t.Fatalf("GAB %+v %v", gab, err)
		}
		if (gab[0].Range != "") != points[0].HasCI() {
			t.Fatalf("range %q with CI %v", gab[0].Range, points[0].HasCI())
		}
	})
}

func TestSelect(t *testing.T) {
	pts := []Point{{Bench: "A", Unit: "ns/op", Better: protocol.Lower}, {Bench: "A", Unit: "MB/s", Better: protocol.Higher}, {Bench: "A", Unit: "minflt/op"}}
	kept, left, err := Select(pts, Smaller, nil)
	if err != nil || len(kept) != 1 || kept[0].Unit != "ns/op" || len(left) != 2 {
		t.Fatalf("smaller: %v %v %v", kept, left, err)
	}
	kept, _, err = Select(pts, Bigger, nil)
	if err != nil || len(kept) != 1 || kept[0].Unit != "MB/s" {
		t.Fatalf("bigger: %v %v", kept, err)
	}
	kept, _, err = Select(pts, Smaller, []string{"minflt/op"})
	if err != nil || len(kept) != 2 {
		t.Fatalf("asked: %v %v", kept, err)
	}
	if _, _, err := Select(pts, Smaller, []string{"MB/s"}); err == nil {
		t.Fatal("MB/s accepted as smaller-is-better")
	}
	if _, _, err := Select(pts, "up", nil); err == nil {
		t.Fatal("direction up accepted")
	}
}

func TestEncodeRejectsNonFinite(t *testing.T) {
	if err := EncodeGAB(&bytes.Buffer{}, []GABEntry{{Name: "a", Unit: "u", Value: math.Inf(1)}}); err == nil {
		t.Error("GAB Inf accepted")
	}
	nan := math.NaN()
	if err := EncodeBMF(&bytes.Buffer{}, BMF{"a": {"m": {Value: 1, LowerValue: &nan}}}); err == nil {
		t.Error("BMF NaN accepted")
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range []string{``, `null`, `{}`, `[{"unit":"ns/op","value":1}]`, `[{"name":"a","value":1}]`, `[{"name":"a","unit":"u"}]`, `[{"name":"a","unit":"u","value":"1"}]`, `[] []`} {
		if _, err := DecodeGAB(strings.NewReader(in)); err == nil {
			t.Errorf("DecodeGAB(%q) accepted", in)
		}
	}
	for _, in := range []string{``, `null`, `[]`, `{"a":null}`, `{"a":{"m":{}}}`, `{"a":{"m":{"value":1,"x":2}}}`, `{"":{"m":{"value":1}}}`, `{"a":{"m":{"value":1e999}}}`} {
		if _, err := DecodeBMF(strings.NewReader(in)); err == nil {
			t.Errorf("DecodeBMF(%q) accepted", in)
		}
	}
}

// FuzzDecodeGAB: any input fails cleanly or re-encodes to the same entries.
func FuzzDecodeGAB(f *testing.F) {
	f.Add([]byte(`[{"name":"A (ns/op)","unit":"ns/op","value":12.5,"range":"± 1","extra":"n=6"}]`))
	f.Add([]byte(`[{"name":"x","unit":"","value":-0,"os":"linux"}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := DecodeGAB(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := EncodeGAB(&b, es); err != nil {
			t.Fatalf("decoded entries do not encode: %v", err)
		}
		back, err := DecodeGAB(&b)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(back) || (len(es) > 0 && !reflect.DeepEqual(es, back)) {
			t.Fatalf("decode/encode/decode differs")
		}
	})
}

// FuzzDecodeBMF: any input fails cleanly or re-encodes to the same document.
func FuzzDecodeBMF(f *testing.F) {
	f.Add([]byte(`{"A":{"latency":{"value":88.0,"lower_value":87.42,"upper_value":88.88}}}`))
	f.Add([]byte(`{"A":{"MB/s":{"value":1}},"B":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBMF(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := EncodeBMF(&buf, b); err != nil {
			t.Fatalf("decoded document does not encode: %v", err)
		}
		back, err := DecodeBMF(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(b, back) {
			t.Fatalf("decode/encode/decode differs")
		}
	})
}

// TestSimPoints: every sim cell of a result directory exports its
// predicted slowdown over its own measured base (>= 1, with the interval
// of its pairs) and says what its figures are.
func TestSimPoints(t *testing.T) {
	set, err := compare.Load("../../report/testdata/fixtures/dc-a")
	if err != nil {
		t.Fatal(err)
	}
	sims := 0
	for _, p := range Points(set, nil) {
		if !strings.HasSuffix(p.Bench, "/mode=sim") || strings.Contains(p.Bench, "call=clock/size=DC1s_v2") { // that cell was not predicted
			if p.Model != "" {
				t.Errorf("%s %s: a measured cell with a model account", p.Bench, p.Unit)
			}
			continue
		}
		if p.Model == "" || strings.Contains(p.Model, "faster") {
			t.Errorf("%s %s: model %q", p.Bench, p.Unit, p.Model)
		}
		if p.Unit == UnitPredictedSlowdown {
			sims++
			if p.Median < 1 || p.HasCI() && p.Lo < 1 || p.Better != protocol.Lower {
				t.Errorf("%s: predicted slowdown %+v", p.Bench, p)
			}
		}
	}
	if sims == 0 {
		t.Fatal("no predicted-slowdown point")
	}
	for _, e := range GAB(Points(set, []string{UnitPredictedSlowdown, "ns/op"})) {
		if strings.Contains(e.Name, "/mode=sim") && !strings.Contains(e.Name, "call=clock/size=DC1s_v2") && !strings.Contains(e.Extra, "sim model: ") {
			t.Errorf("%s: extra %q does not say what the figure is", e.Name, e.Extra)
		}
	}
	if b := ToBMF(Points(set, nil)); b["Syscall/call=read/size=DC1s_v2/mode=sim"][UnitPredictedSlowdown].Value < 1 {
		t.Errorf("BMF: %+v", b["Syscall/call=read/size=DC1s_v2/mode=sim"])
	}
}

// TestSuspectCellsNotExported: a cell that bench.txt marks as suspect (a
// crashed attempt's samples) is no point to track; the others are.
func TestSuspectCellsNotExported(t *testing.T) {
	text := "BenchmarkA/size=S/mode=native 1 100 ns/op\n" +
		"enclavebench-flaw: samples from a failed attempt (attempt 1: exit status 2)\n" +
		"BenchmarkB/size=S/mode=native 1 790 ns/op\n" +
		"enclavebench-flaw:\n" +
		"BenchmarkC/size=S/mode=native 1 100 ns/op\n"
	set, err := compare.ReadBenchfmt(strings.NewReader(text), "x")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range Points(set, nil) {
		got = append(got, p.Bench)
	}
	if strings.Join(got, ",") != "A/size=S/mode=native,C/size=S/mode=native" {
		t.Fatalf("exported %q, want A and C (B is suspect)", got)
	}
}
