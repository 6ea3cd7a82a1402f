package report

import (
	"math"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/report/plot"
)

// dcsv2EPC is the EPC of DC1s_v2, DC2s_v2, DC4s_v2 and DC8_v2 (bench/sizes).
var dcsv2EPC = [4]int64{28 << 20, 56 << 20, 112 << 20, 168 << 20}

// footprintTable is kvstore run with --footprint on the four DCsv2 sizes:
// slowdowns by footprint and size (NaN: no cell).
func footprintTable(slow map[string][4]float64) *WorkloadTable {
	t := &WorkloadTable{Name: "kvstore", Params: []string{"dataset", "dist", "mix"}, FootprintParam: "dataset"}
	szs := []string{"DC1s_v2", "DC2s_v2", "DC4s_v2", "DC8_v2"}
	for fp, row := range slow {
		for i, sz := range szs {
			if math.IsNaN(row[i]) {
				continue
			}
			p := map[string]string{"dataset": fp, "dist": "uniform", "mix": "read95"}
			sf := &result.SizeFacts{Family: "DCsv2", VCPUs: 1 << i, EPCBytes: dcsv2EPC[i]}
			t.Rows = append(t.Rows,
				&Group{Workload: "kvstore", Params: p, ParamText: "dataset=" + fp, Size: sz, SizeFacts: sf, Mode: mode.Native, ModeLabel: "native", ModeFacts: result.ModeFacts{Label: "native"}, Footprint: footprintBytes(fp)},
				&Group{Workload: "kvstore", Params: p, ParamText: "dataset=" + fp, Size: sz, SizeFacts: sf, Mode: modeSim, ModeLabel: "sim", ModeFacts: result.ModeFacts{Label: "sim", Enclave: true, Kind: result.KindModel}, Footprint: footprintBytes(fp),
					Baseline: &Ratio{Slowdown: row[i]}})
		}
	}
	return t
}

func TestSizingFootprint(t *testing.T) {
	const mib = 1 << 20
	usable := map[string]int64{"DC1s_v2": 21 * mib, "DC2s_v2": 49 * mib, "DC4s_v2": 105 * mib, "DC8_v2": 161 * mib}
	nan := math.NaN()
	for _, tc := range []struct {
		name      string
		slow      map[string][4]float64
		usable    map[string]int64
		fp, size  string
		headroom  string // at the chosen (or best) size
		perSize   string
		noteHas   string
		cellsGood int
	}{
		{name: "64MiB fits DC4s_v2", slow: map[string][4]float64{"64MiB": {31, 24, 1.04, 1.02}}, usable: usable,
			fp: "64MiB", size: "DC4s_v2", headroom: "41 MiB", cellsGood: 2,
			perSize: "DC1s_v2 31× (over by 43 MiB), DC2s_v2 24× (over by 15 MiB), DC4s_v2 1.04× (41 MiB), DC8_v2 1.02× (97 MiB)"},
		{name: "200MiB fits none", slow: map[string][4]float64{"200MiB": {40, 35, 30, 9}}, usable: usable,
			fp: "200MiB", size: "", headroom: "over by 39 MiB", noteHas: "exceeds the usable EPC (161 MiB)"},
		{name: "no usable EPC recorded", slow: map[string][4]float64{"64MiB": {31, 24, 1.04, 1.02}}, usable: nil,
			fp: "64MiB", size: "DC4s_v2", headroom: "usable EPC not recorded (sim runs record it)", cellsGood: 2,
			perSize: "DC1s_v2 31×, DC2s_v2 24×, DC4s_v2 1.04×, DC8_v2 1.02×"},
		{name: "a size without cells", slow: map[string][4]float64{"64MiB": {nan, 24, 1.04, 1.02}}, usable: usable,
			fp: "64MiB", size: "DC4s_v2", headroom: "41 MiB", cellsGood: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := footprintTable(tc.slow)
			as := sizing([]*WorkloadTable{tab}, nil, 0.2, tc.usable, baselineMode{"native", "native"})
			if len(as) != 1 {
				t.Fatalf("%d advices, want 1: %+v", len(as), as)
			}
			a := as[0]
			if a.Footprint != tc.fp || a.Size != tc.size || a.Relative {
				t.Errorf("footprint %q size %q relative %v, want %q %q false", a.Footprint, a.Size, a.Relative, tc.fp, tc.size)
			}
			if got := fmtHeadroom(a); got != tc.headroom {
				t.Errorf("headroom %q, want %q", got, tc.headroom)
			}
			if tc.perSize != "" {
				if got := perSizeText(a); got != tc.perSize {
					t.Errorf("per size %q, want %q", got, tc.perSize)
				}
			}
			if !strings.Contains(a.Note, tc.noteHas) {
				t.Errorf("note %q lacks %q", a.Note, tc.noteHas)
			}
			r := &Report{Options: Options{Tolerance: 0.2}, Sizing: as}
			figs := (&figs{r: r, b: &builder{}, names: map[string]int{}}).footprints()
			if len(figs) != 1 || figs[0].Kind != plot.KindHeat {
				t.Fatalf("figures %+v", figs)
			}
			good := 0
			for _, c := range figs[0].Cells {
				if c.Good {
					good++
				}
			}
			if n := len(a.PerSize); len(figs[0].Cells) != n || good != tc.cellsGood {
				t.Errorf("%d cells (%d good), want %d (%d good)", len(figs[0].Cells), good, n, tc.cellsGood)
			}
			if _, err := plot.Render(&figs[0], plot.SVG); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSizingRelativeOnly: EPC-relative footprints answer nothing about a
// named working set; absolute ones, where present, take over.
func TestSizingRelativeOnly(t *testing.T) {
	tab := footprintTable(map[string][4]float64{"0.5xEPC": {1.05, 1.04, 1.03, 1.02}, "2xEPC": {30, 25, 20, 15}})
	as := sizing([]*WorkloadTable{tab}, nil, 0.2, nil, baselineMode{"native", "native"})
	if len(as) != 1 || !as[0].Relative || as[0].Size != "" {
		t.Fatalf("%+v", as)
	}
	a := as[0]
	want := "bench run --workloads kvstore --sizes DC1s_v2,DC2s_v2,DC4s_v2,DC8_v2 --modes native,sim --footprint " + ExampleFootprints
	if a.Command != want {
		t.Errorf("command %q, want %q", a.Command, want)
	}
	for _, s := range []string{"dataset=0.5xEPC: 1.02×–1.05×", "dataset=2xEPC: 15×–30×", "not which size"} {
		if !strings.Contains(a.Note, s) {
			t.Errorf("note %q lacks %q", a.Note, s)
		}
	}
	both := footprintTable(map[string][4]float64{"0.5xEPC": {1.05, 1.04, 1.03, 1.02}, "64MiB": {31, 24, 1.04, 1.02}})
	as = sizing([]*WorkloadTable{both}, nil, 0.2, nil, baselineMode{"native", "native"})
	if len(as) != 1 || as[0].Relative || as[0].Footprint != "64MiB" {
		t.Errorf("with an absolute footprint: %+v", as)
	}
}

// TestBaseStrays: a sim group's measured base is flagged only when it
// differs from the native cell significantly and beyond the tolerance.
func TestBaseStrays(t *testing.T) {
	o := Options{Tolerance: 0.2, Alpha: 0.05}
	native := []float64{100, 101, 99, 100, 102, 98}
	scale := func(f float64) []float64 {
		out := make([]float64, len(native))
		for i, v := range native {
			out[i] = v * f
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		base  []float64
		stray bool
	}{
		{"same", scale(1), false},
		{"within tolerance", scale(1.1), false},
		{"twice", scale(2), true},
		{"half", scale(0.5), true},
		{"too few to tell", []float64{200}, false},
	} {
		if got := baseStrays("sim", "native", native, tt.base, "ns/op", o); (got != "") != tt.stray {
			t.Errorf("%s: %q, want stray %v", tt.name, got, tt.stray)
		}
	}
}
