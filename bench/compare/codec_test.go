package compare

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
	"pgregory.net/rapid"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// writeSet writes s in the Go benchmark format (the inverse of ReadBenchfmt).
func writeSet(t interface{ Fatal(...any) }, s *Set) []byte {
	var b bytes.Buffer
	w := benchfmt.NewWriter(&b)
	for _, u := range sortedUnits(s) {
		info := s.Units[u]
		if info.Better != "" {
			w.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u, Key: "better"}, OrigUnit: u, Value: info.Better})
		}
		if info.Assume != "" {
			w.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u, Key: "assume"}, OrigUnit: u, Value: info.Assume})
		}
	}
	for _, c := range s.Cells {
		res := &benchfmt.Result{Name: benchfmt.Name(c.Name), Iters: 1}
		if c.Profile != "" {
			res.Config = []benchfmt.Config{{Key: "cost-profile", Value: []byte(c.Profile), File: true}}
		} else {
			res.Config = []benchfmt.Config{}
		}
		// One line per value index; a unit with fewer values drops out.
		for i := 0; ; i++ {
			res.Values = res.Values[:0]
			for _, u := range c.Units {
				if i < len(c.Values[u]) {
					res.Values = append(res.Values, benchfmt.Value{Value: c.Values[u][i], Unit: u})
				}
			}
			if len(res.Values) == 0 {
				break
			}
			if err := w.Write(res); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.Bytes()
}

func sortedUnits(s *Set) []string {
	var us []string
	for u := range s.Units {
		us = append(us, u)
	}
	// deterministic
	for i := range us {
		for j := i + 1; j < len(us); j++ {
			if us[j] < us[i] {
				us[i], us[j] = us[j], us[i]
			}
		}
	}
	return us
}

var genUnits = []string{"ns/op", "MB/s", "B/op", "allocs/op", "minflt/op", "widgets/op", "ops/s", "epc_loads/op"}

func defaultBetter(u string) string {
	switch u {
	case "ns/op", "B/op", "allocs/op":
		return protocol.Lower
	case "MB/s":
		return protocol.Higher
	}
	return ""
}

// genSet draws a Set that the benchmark format can carry: keys without
// spaces, finite values, the first unit of a cell present in every line.
func genSet(t *rapid.T) *Set {
	s := newSet("gen")
	nCells := rapid.IntRange(1, 5).Draw(t, "cells")
	for i := 0; i < nCells; i++ {
		mode := rapid.SampledFrom([]string{"native", "sim", "sgx", ""}).Draw(t, "mode")
		key := fmt.Sprintf("W%d/p=%s/size=%s", i, rapid.StringMatching(`[a-z0-9.]{1,6}`).Draw(t, "p"), rapid.SampledFrom([]string{"DC1s_v2", "DC2s_v3"}).Draw(t, "size"))
		if mode != "" {
			key += "/mode=" + mode
		}
		profile := ""
		if mode == "sim" {
			profile = rapid.SampledFrom([]string{"", "hotcalls/v1", "ocall-x/v2"}).Draw(t, "profile")
		}
		c := &cells.Cell{Key: cells.Key{Profile: profile}, Name: key, Values: map[string][]float64{}}
		if err := s.add(c); err != nil {
			t.Fatal(err)
		}
		units := rapid.SliceOfNDistinct(rapid.SampledFrom(genUnits), 1, 3, rapid.ID[string]).Draw(t, "units")
		n := rapid.IntRange(1, 8).Draw(t, "n")
		for j, u := range units {
			m := n
			if j > 0 {
				m = rapid.IntRange(1, n).Draw(t, "m")
			}
			for k := 0; k < m; k++ {
				v := rapid.Float64Range(-1e12, 1e12).Draw(t, "v")
				if _, ok := c.Values[u]; !ok {
					c.Units = append(c.Units, u)
				}
				c.Values[u] = append(c.Values[u], v)
			}
			if _, ok := s.Units[u]; !ok {
				better := rapid.SampledFrom([]string{"", protocol.Lower, protocol.Higher}).Draw(t, "better")
				assume := rapid.SampledFrom([]string{"", "exact"}).Draw(t, "assume")
				s.Units[u] = Unit{Name: u, Better: better, Assume: assume, Count: countUnit(u)}
			}
		}
	}
	return s
}

// TestBenchfmtRoundTrip: writing a Set in the benchmark format and reading
// it back gives the same cells, values, units, directions and profiles.
func TestBenchfmtRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSet(t)
		text := writeSet(t, s)
		back, err := ReadBenchfmt(bytes.NewReader(text), "rt")
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		for u, info := range s.Units {
			if info.Better == "" {
				info.Better = defaultBetter(u)
				s.Units[u] = info
			}
		}
		if !sameSet(s, back) || len(back.Units) != len(s.Units) {
			t.Fatalf("round trip differs:\n%s\nunits %v vs %v", text, s.Units, back.Units)
		}
	})
}

// FuzzReadBenchfmt: any input either fails cleanly or reads as a Set of
// finite values that survives a write and a second read unchanged.
func FuzzReadBenchfmt(f *testing.F) {
	f.Add([]byte("BenchmarkA/size=S/mode=native 1 2 ns/op 3 MB/s\n"))
	f.Add([]byte("Unit MB/s better=higher\ncost-profile: p/v1\nBenchmarkA/mode=sim 10 1.5e3 ns/op\nBenchmarkA/mode=sim 10 1e3 ns/op\n"))
	f.Add([]byte("goos: linux\nBenchmarkX-8 1 NaN ns/op\nPASS\n"))
	f.Add([]byte("Unit x assume=exact\nUnit x better=lower\nBenchmarkB 5 1 x\n"))
	f.Add([]byte("BenchmarkA 1 2 ns/op\nBenchmarkA x 2 ns/op\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadBenchfmt(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: ") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, c := range s.Cells {
			if len(c.Units) == 0 {
				t.Fatalf("cell %q without values", c.Name)
			}
			for _, u := range c.Units {
				for _, v := range c.Values[u] {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("non-finite value accepted: %v", v)
					}
				}
			}
		}
		text := writeSet(t, s)
		back, err := ReadBenchfmt(bytes.NewReader(text), "again")
		if err != nil {
			// Names benchfmt cannot carry back (spaces in keys after
			// interning, etc.) are not our format; but our own output
			// must read.
			t.Fatalf("re-reading our own output: %v\n%s", err, text)
		}
		if !sameSet(s, back) {
			t.Fatalf("second read differs\nfirst: %q\nwritten:\n%s", data, text)
		}
	})
}

// genReport draws a report with every kind of field, including undefined
// numbers (NaN, written as null).
func genReport(t *rapid.T) *Report {
	num := func(name string) Num {
		if rapid.IntRange(0, 5).Draw(t, name+"?") == 0 {
			return Num(math.NaN())
		}
		return Num(rapid.Float64().Draw(t, name))
	}
	str := func(name string) string { return rapid.String().Draw(t, name) }
	strs := func(name string) []string { return rapid.SliceOfN(rapid.String(), 0, 3).Draw(t, name) }
	sum := func(name string) Summary {
		return Summary{N: rapid.IntRange(0, 100).Draw(t, name+"n"), Median: num(name + "m"), Lo: num(name + "lo"), Hi: num(name + "hi"), Range: str(name + "r")}
	}
	ref := func() Ref {
		return Ref{Cell: str("cell"), Unit: str("unit"), DeltaPct: num("d"), P: num("p"), PAdjusted: num("pa"), N1: rapid.Int().Draw(t, "n1"), N2: rapid.Int().Draw(t, "n2")}
	}
	refs := func() []Ref {
		out := []Ref{}
		for i := rapid.IntRange(0, 2).Draw(t, "refs"); i > 0; i-- {
			out = append(out, ref())
		}
		return out
	}
	r := &Report{SchemaVersion: SchemaVersion, Kind: Kind,
		Verdict: Verdict{Status: rapid.SampledFrom([]string{StatusOK, StatusRegression, StatusBadInput}).Draw(t, "status"),
			ExitCode: rapid.IntRange(0, 2).Draw(t, "exit"), Summary: str("summary"), Compared: rapid.IntRange(0, 1000).Draw(t, "compared"),
			Regressions: refs(), Improvements: refs(), Problems: append([]string{}, strs("problems")...)},
		Old:     Side{Path: str("old"), Runs: append([]string{}, strs("oldruns")...), Cells: rapid.IntRange(0, 50).Draw(t, "oc")},
		New:     Side{Path: str("new"), Runs: append([]string{}, strs("newruns")...), Cells: rapid.IntRange(0, 50).Draw(t, "nc")},
		Options: ReportOptions{Alpha: rapid.Float64Range(0, 1).Draw(t, "alpha"), Confidence: 0.95, MinEffectPct: rapid.Float64Range(0, 100).Draw(t, "min"), Correction: CorrectionHolm, GatedTests: rapid.IntRange(0, 99).Draw(t, "gated"), Ignore: append([]string{}, strs("ignore")...), AllowUnmatched: rapid.Bool().Draw(t, "allow"), FailOn: FailOnRegression},
		Tables:  []Table{}, Unmatched: []Unmatched{}, Refused: []Refused{}, Warnings: append([]string{}, strs("warnings")...),
	}
	for i := rapid.IntRange(0, 3).Draw(t, "tables"); i > 0; i-- {
		tab := Table{Unit: str("tunit"), Better: rapid.SampledFrom([]string{"", protocol.Lower, protocol.Higher}).Draw(t, "better"), Rows: []Row{}}
		for j := rapid.IntRange(0, 3).Draw(t, "rows"); j > 0; j-- {
			row := Row{Cell: str("rcell"), OldCell: str("oc"), NewCell: str("nc"), Old: sum("old"), New: sum("new"), DeltaPct: num("delta"),
				Delta: str("ds"), P: num("p"), PAdjusted: num("pa"), PString: str("pn"), N1: rapid.IntRange(0, 99).Draw(t, "n1"), N2: rapid.IntRange(0, 99).Draw(t, "n2"),
				Significant: rapid.Bool().Draw(t, "sig"), Change: str("change")}
			if w := strs("rw"); len(w) > 0 {
				row.Warnings = w
			}
			tab.Rows = append(tab.Rows, row)
		}
		if rapid.Bool().Draw(t, "geo") {
			tab.Geomean = &Geomean{Old: num("go"), New: num("gn"), DeltaPct: num("gd")}
			if w := strs("gw"); len(w) > 0 {
				tab.Geomean.Warnings = w
			}
		}
		r.Tables = append(r.Tables, tab)
	}
	for i := rapid.IntRange(0, 2).Draw(t, "unmatched"); i > 0; i-- {
		r.Unmatched = append(r.Unmatched, Unmatched{Side: rapid.SampledFrom([]string{"old", "new"}).Draw(t, "side"), Cell: str("uc"), Unit: str("uu"), Reason: str("ur")})
	}
	for i := rapid.IntRange(0, 2).Draw(t, "refused"); i > 0; i-- {
		r.Refused = append(r.Refused, Refused{Cell: str("rc"), Reason: str("rr")})
	}
	return r
}

// canon re-encodes a report with undefined numbers normalised, so that
// two reports compare with reflect.DeepEqual (NaN != NaN).
func canon(r *Report) *Report {
	c := *r
	fix := func(n *Num) {
		if !n.Finite() {
			*n = Num(-0.5) // a value no generator draws as "undefined"
		}
	}
	fixRefs := func(rs []Ref) []Ref {
		out := append([]Ref{}, rs...)
		for i := range out {
			fix(&out[i].DeltaPct)
			fix(&out[i].P)
			fix(&out[i].PAdjusted)
		}
		return out
	}
	c.Verdict.Regressions = fixRefs(r.Verdict.Regressions)
	c.Verdict.Improvements = fixRefs(r.Verdict.Improvements)
	c.Tables = nil
	for _, t := range r.Tables {
		t.Rows = append([]Row{}, t.Rows...)
		for i := range t.Rows {
			row := &t.Rows[i]
			for _, n := range []*Num{&row.DeltaPct, &row.P, &row.PAdjusted, &row.Old.Median, &row.Old.Lo, &row.Old.Hi, &row.New.Median, &row.New.Lo, &row.New.Hi} {
				fix(n)
			}
		}
		if t.Geomean != nil {
			g := *t.Geomean
			fix(&g.Old)
			fix(&g.New)
			fix(&g.DeltaPct)
			t.Geomean = &g
		}
		c.Tables = append(c.Tables, t)
	}
	if c.Tables == nil {
		c.Tables = []Table{}
	}
	return &c
}

// TestReportJSONRoundTrip: WriteJSON then ReadJSON gives the same report
// (undefined numbers stay undefined), and the bytes are stable.
func TestReportJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genReport(t)
		var b bytes.Buffer
		if err := WriteJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		first := b.String()
		back, err := ReadJSON(&b)
		if err != nil {
			t.Fatalf("%v\n%s", err, first)
		}
		if !reflect.DeepEqual(canon(r), canon(back)) {
			t.Fatalf("round trip differs:\n%+v\n%+v", canon(r), canon(back))
		}
		var again bytes.Buffer
		WriteJSON(&again, back)
		if again.String() != first {
			t.Fatalf("second encoding differs")
		}
	})
}

// FuzzReadJSON: any input fails cleanly or decodes to a report whose
// encoding decodes to the same report.
func FuzzReadJSON(f *testing.F) {
	var b bytes.Buffer
	WriteJSON(&b, &Report{SchemaVersion: 1, Tables: []Table{{Unit: "ns/op", Rows: []Row{{Cell: "A", P: 0.5, DeltaPct: Num(math.NaN())}}}}})
	f.Add(b.Bytes())
	f.Add([]byte(`{"schema_version":2,"kind":"enclavebench.compare"}`))
	f.Add([]byte(`{"schema_version":1,"kind":"enclavebench.compare","tables":[{"rows":[{"p":null}]}]}`))
	f.Add([]byte(`{"kind":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		back, err := ReadJSON(&b)
		if err != nil {
			t.Fatalf("re-reading our encoding: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(canon(r), canon(back)) {
			t.Fatalf("decode/encode/decode differs")
		}
	})
}
