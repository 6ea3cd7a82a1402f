package result

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

func genFacts(t *rapid.T) Facts {
	name := rapid.StringMatching(`[a-z][a-z0-9-]{0,8}`)
	f := Facts{Workloads: map[string]WorkloadFacts{}, Modes: map[string]ModeFacts{}, Cells: map[string]CellFacts{}}
	for i := rapid.IntRange(0, 3).Draw(t, "workloads"); i > 0; i-- {
		wf := WorkloadFacts{Params: rapid.SliceOf(name).Draw(t, "params"),
			FootprintParam: rapid.SampledFrom([]string{"", "ws", "dataset"}).Draw(t, "fp")}
		for j := rapid.IntRange(0, 2).Draw(t, "metrics"); j > 0; j-- {
			wf.Metrics = append(wf.Metrics, protocol.Value{Unit: rapid.SampledFrom([]string{"ns/op", "MB/s", "ops/s"}).Draw(t, "unit"),
				Better: rapid.SampledFrom([]string{protocol.Lower, protocol.Higher}).Draw(t, "better")})
		}
		for j := rapid.IntRange(0, 2).Draw(t, "figures"); j > 0; j-- {
			wf.Figures = append(wf.Figures, FigureRole{rapid.SampledFrom([]string{FigureTransitions, FigureScaling}).Draw(t, "role"), name.Draw(t, "param")})
		}
		f.Workloads[name.Draw(t, "workload")] = wf
	}
	for i := rapid.IntRange(0, 3).Draw(t, "modes"); i > 0; i-- {
		f.Modes[name.Draw(t, "mode")] = ModeFacts{Rank: rapid.IntRange(0, 9).Draw(t, "rank"),
			Kind: rapid.SampledFrom([]ModeKind{KindMeasured, KindEmulated, KindModel}).Draw(t, "kind"), Enclave: rapid.Bool().Draw(t, "enclave"),
			LoadTime: rapid.Bool().Draw(t, "load"), Label: rapid.String().Draw(t, "label"), Summary: rapid.String().Draw(t, "summary"),
			Note: rapid.String().Draw(t, "note")}
	}
	for i := rapid.IntRange(0, 5).Draw(t, "cells"); i > 0; i-- {
		f.Cells[name.Draw(t, "cell")] = CellFacts{FootprintBytes: rapid.Int64Range(-1, 1<<40).Draw(t, "fp bytes"),
			Count: rapid.IntRange(0, 1024).Draw(t, "count")}
	}
	return f
}

// TestFactsRoundTrip: facts written to run.json read back the same.
func TestFactsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genFacts(t)
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out Facts
		if err := DecodeStrict(b, &out); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		for w, wf := range in.Workloads { // an empty list reads back as nil
			if len(wf.Params) == 0 {
				wf.Params = nil
				in.Workloads[w] = wf
			}
			if o := out.Workloads[w]; len(o.Params) == 0 {
				o.Params = nil
				out.Workloads[w] = o
			}
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("round trip:\n%+v\n%+v", in, out)
		}
	})
}

// FuzzV1Values: the frozen v1 readers of parameter values never panic and
// never return a negative byte count or thread count.
func FuzzV1Values(f *testing.F) {
	for _, s := range []string{"0.5xEPC", "2xEPC", "64KiB", "16MiB", "1GB", "4096", "vcpus", "2xvcpus", "0", "-1", "1e300", "NaNxEPC", "xvcpus"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if n, ok := ByteCount(v); ok && n <= 0 {
			t.Errorf("ByteCount(%q) = %d", v, n)
		}
		if n, err := v1Bytes(v, 168<<20); err == nil && n <= 0 {
			t.Errorf("v1Bytes(%q) = %d", v, n)
		}
		if n := v1Count(v, 4); n < 0 || n > 1024 {
			t.Errorf("v1Count(%q) = %d", v, n)
		}
		for _, w := range []string{"memsweep", "kvstore", "aesgcm", "fileio", "syscall", "unknown"} {
			if fp := v1Footprint(w, map[string]string{"ws": v, "dataset": v, "file": v, "fs": "memfs"}, 168<<20); fp < -1 {
				t.Errorf("v1Footprint(%s, %q) = %d", w, v, fp)
			}
		}
	})
}

// TestAttachPools: a sample gets the pool run.json recorded for its cell
// and attempt, nothing else does.
func TestAttachPools(t *testing.T) {
	d := &Dir{Run: Run{SimBases: []SimBase{{BaseNSPerOp: 1000, Cells: []SimBaseCell{{Cell: "a", Attempt: 2}, {Cell: "b", Attempt: 1}}}}},
		Samples: []Sample{
			{Cell: "a", Attempt: 2, Model: &Model{}}, // pooled
			{Cell: "a", Attempt: 1, Model: &Model{}}, // another attempt
			{Cell: "b", Attempt: 1},                  // not a sim sample
			{Cell: "c", Attempt: 1, Model: &Model{}}, // no pool
		}}
	attachPools(d)
	for i, want := range []bool{true, false, false, false} {
		if got := d.Samples[i].Pool != nil; got != want {
			t.Errorf("sample %d: pooled %v, want %v", i, got, want)
		}
	}
}

// TestPricedMode: bench.txt records each mode's kind, and a reader of it
// learns from them which cells a cost profile priced; files from before
// the kinds were recorded read through the frozen fact (sim).
func TestPricedMode(t *testing.T) {
	run := &Run{ID: "r", Facts: &Facts{Modes: map[string]ModeFacts{"native": {Kind: KindMeasured}, "toy": {Kind: KindModel}}}}
	var b strings.Builder
	x := Sample{Cell: "X/size=S/mode=toy", Workload: "x", Size: "S", Mode: "toy", Iters: 1,
		Values: []protocol.Value{{Value: 1, Unit: "ns/op", Better: protocol.Lower}}}
	if err := WriteBenchfmt(&b, run, []Sample{x}, nil); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]string{}
	for _, l := range strings.Split(b.String(), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			cfg[k] = v
		}
	}
	get := func(k string) string { return cfg[k] }
	none := func(string) string { return "" }
	for _, c := range []struct {
		mode   string
		config func(string) string
		want   bool
	}{
		{"toy", get, true}, {"native", get, false},
		{"sim", get, true}, // no kind recorded for it (an older file concatenated after): frozen
		{"sim", none, true}, {"toy", none, false}, {"native", none, false},
	} {
		if got := PricedMode(c.mode, c.config); got != c.want {
			t.Errorf("PricedMode(%s) = %v, want %v (config %v)", c.mode, got, c.want, cfg)
		}
	}
}

// TestHeapBytes: a cell's enclave heap is read under the key its mode
// recorded; runs from before modes recorded one read the frozen keys.
func TestHeapBytes(t *testing.T) {
	for _, c := range []struct {
		name  string
		mf    ModeFacts
		extra map[string]string
		want  int64
	}{
		{"recorded key", ModeFacts{HeapExtra: "toy_heap"}, map[string]string{"toy_heap": "3", "ego_heap_mb": "64"}, 3 << 20},
		{"recorded key absent: no frozen fallback", ModeFacts{HeapExtra: "toy_heap"}, map[string]string{"ego_heap_mb": "64"}, -1},
		{"old run: frozen ego key", ModeFacts{}, map[string]string{"ego_heap_mb": "64"}, 64 << 20},
		{"old run: frozen bytes key", ModeFacts{}, map[string]string{"heap_bytes": "4096"}, 4096},
		{"not a positive number", ModeFacts{}, map[string]string{"ego_heap_mb": "-1", "heap_mb": "x"}, -1},
	} {
		n, ok := c.mf.HeapBytes(c.extra)
		if !ok {
			n = -1
		}
		if n != c.want {
			t.Errorf("%s: %d, want %d", c.name, n, c.want)
		}
	}
}

// TestFigureNote: a recorded note is the mode's own; a run without one
// gets its kind's frozen note, worded with the mode's name, and measured
// modes or modes of no known kind get none.
func TestFigureNote(t *testing.T) {
	for _, c := range []struct {
		name string
		mf   ModeFacts
		want string
	}{
		{"toy", ModeFacts{Kind: KindModel, Note: "toy figures are guesses."}, "toy figures are guesses."},
		{"toy", ModeFacts{Kind: KindEmulated, Note: "toy figures stand in."}, "toy figures stand in."},
		{"sim", ModeFacts{Kind: KindModel}, "sim figures are **predictions** of enclavebench's model, not measurements."},
		{"ego-sim", ModeFacts{Kind: KindEmulated}, "ego-sim figures come from EGo's simulation mode: not hardware figures."},
		{"my_model", ModeFacts{Kind: KindModel}, "my\\_model figures are **predictions** of enclavebench's model, not measurements."},
		{"sgx", ModeFacts{Kind: KindMeasured}, ""},
		{"odd", ModeFacts{}, ""},
	} {
		if got := c.mf.FigureNote(c.name); got != c.want {
			t.Errorf("FigureNote(%q) of %+v = %q, want %q", c.name, c.mf, got, c.want)
		}
	}
}
