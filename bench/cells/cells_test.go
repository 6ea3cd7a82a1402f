package cells

import (
	"slices"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

func sample(name, mode string, params map[string]string, ns float64, model bool) result.Sample {
	s := result.Sample{Cell: name, Attempt: 1, Workload: "memsweep", Params: params, Size: "DC1s_v2", Mode: mode,
		Iters: 10, ElapsedNS: 1000, Values: []protocol.Value{{Value: ns, Unit: "ns/op", Better: protocol.Lower}},
		Events: map[string]int64{"ocalls": 20}}
	if model {
		s.Model = &result.Model{Profile: "p", BaseNS: 1000, PredictedNS: 1500,
			Native: []protocol.Value{{Value: ns / 1.5, Unit: "ns/op", Better: protocol.Lower}}}
	}
	return s
}

func dir(id string, samples []result.Sample, outcomes ...result.CellResult) *result.Dir {
	d := &result.Dir{Path: "/r/" + id, Samples: samples, Cells: map[string]result.CellResult{}}
	d.Run.ID = id
	d.Run.Profile = &result.CostProfileRef{Name: "published", Version: 2}
	d.Facts = result.Facts{
		Workloads: map[string]result.WorkloadFacts{"memsweep": {Params: []string{"ws", "access"}}},
		Modes: map[string]result.ModeFacts{
			"native": {Rank: 0, Kind: result.KindMeasured, Label: "native"},
			"sim":    {Rank: 3, Kind: result.KindModel, Enclave: true, Label: "sim (model, profile published/v2)"},
		},
		Cells: map[string]result.CellFacts{"Memsweep/ws=1MiB/access=seq/size=DC1s_v2/mode=native": {FootprintBytes: 1 << 20}},
	}
	for _, c := range outcomes {
		d.Cells[c.Cell] = c
	}
	return d
}

func TestTable(t *testing.T) {
	p := map[string]string{"ws": "1MiB", "access": "seq"}
	native := "Memsweep/ws=1MiB/access=seq/size=DC1s_v2/mode=native"
	reordered := "Memsweep/access=seq/ws=1MiB/size=DC1s_v2/mode=native"
	simName := "Memsweep/ws=1MiB/access=seq/size=DC1s_v2/mode=sim"
	a := dir("a", []result.Sample{sample(native, "native", p, 100, false), sample(simName, "sim", p, 150, true),
		sample(reordered, "native", p, 110, false)},
		result.CellResult{Cell: native, Workload: "memsweep", Params: p, Size: "DC1s_v2", Mode: "native", Status: result.StatusOK, Oversubscribed: true, CPUs: 1},
		result.CellResult{Cell: "Memsweep/ws=2MiB/access=seq/size=DC1s_v2/mode=native", Workload: "memsweep",
			Params: map[string]string{"ws": "2MiB", "access": "seq"}, Size: "DC1s_v2", Mode: "native", Status: result.StatusFailed})
	b := dir("b", []result.Sample{sample(native, "native", p, 120, false)})

	tb := NewBuilder()
	tb.AddDir(a, "host1")
	tb.AddDir(b, "host1")
	tb.AddDir(b, "host2")
	tab := tb.Table()

	if len(tab.Cells) != 3 || tab.Samples != 5 {
		t.Fatalf("%d cells, %d samples; want 3 cells (native host1, sim host1, native host2), 5 samples", len(tab.Cells), tab.Samples)
	}
	n := tab.Cell(Key{Origin: "host1", Workload: "memsweep", Params: "access=seq/ws=1MiB", Size: "DC1s_v2", Mode: "native"})
	if n == nil {
		t.Fatal("no native cell in host1 under the canonical key")
	}
	if got := n.Values["ns/op"]; !slices.Equal(got, []float64{100, 110, 120}) {
		t.Errorf("native ns/op %v: want both names' samples and run b's pooled, in order", got)
	}
	if got := n.Values["ocalls/op"]; !slices.Equal(got, []float64{2, 2, 2}) {
		t.Errorf("ocalls/op %v: want events per operation", got)
	}
	if !slices.Equal(n.Units, []string{"ns/op", "ocalls/op"}) || !slices.Equal(n.Runs, []string{"a", "b"}) ||
		!slices.Equal(n.Names, []string{reordered, native}) || !slices.Equal(n.ParamOrder, []string{"ws", "access"}) {
		t.Errorf("units %v runs %v names %v order %v", n.Units, n.Runs, n.Names, n.ParamOrder)
	}
	if n.Facts.FootprintBytes != 1<<20 || !n.Oversubscribed || n.CPUs != 1 || n.ModeFacts.Label != "native" {
		t.Errorf("facts %+v oversubscribed %v cpus %d mode %+v", n.Facts, n.Oversubscribed, n.CPUs, n.ModeFacts)
	}
	if n.Predicted() || n.Paired().N != 0 || n.NotPredicted != 0 {
		t.Error("a native cell is not a prediction")
	}
	if u, better := n.PrimaryUnit(); len(n.Figures) != 1 || u != "ns/op" || better != protocol.Lower {
		t.Errorf("figures %v, primary unit %q %q: want ns/op alone (events per operation are no figure)", n.Figures, u, better)
	}
	s := tab.Cell(Key{Origin: "host1", Workload: "memsweep", Params: "access=seq/ws=1MiB", Size: "DC1s_v2", Mode: "sim", Profile: "published/v2"})
	if s == nil || !s.Predicted() {
		t.Fatal("the sim cell is keyed by its cost profile")
	}
	if pc := s.Paired(); pc.N != 1 || pc.Slowdown.Center != 1.5 {
		t.Errorf("paired %+v: want one pair of slowdown 1.5", pc)
	}
	if got := s.Bases("ns/op"); !slices.Equal(got, []float64{100}) {
		t.Errorf("bases %v: want the sample's native figure", got)
	}
	if len(tab.Outcomes) != 2 || tab.Outcomes[0].Row != n || !tab.Outcomes[0].Sampled || tab.Outcomes[1].Row != nil || tab.Outcomes[1].Run != "a" {
		t.Errorf("outcomes %+v: want the native cell's, then the failed cell without a row", tab.Outcomes)
	}
	// What readers take from the table, not from the directory: the failed
	// cell's own facts (none recorded: unknown footprint) and parameter
	// order, and each planned mode's facts (one the run did not describe
	// is unknown, ranked after the others).
	if f := tab.Outcomes[1]; f.Facts.FootprintBytes != -1 || !slices.Equal(f.ParamOrder, []string{"ws", "access"}) || f.Mode.Label != "native" {
		t.Errorf("failed cell's outcome: facts %+v order %v mode %+v", f.Facts, f.ParamOrder, f.Mode)
	}
	c := dir("c", nil)
	c.Run.Plan.Modes = []string{"native", "tdx"}
	in := FromDir(c).Inputs[0]
	if len(in.Modes) != 3 || in.Modes["native"].Label != "native" || in.Modes["tdx"].Label != "tdx" || in.Modes["tdx"].Rank != 4 || !in.Modes["tdx"].Enclave {
		t.Errorf("input modes %+v: want native, sim and the undescribed tdx as unknown", in.Modes)
	}
}

// Runs that set a mode up otherwise (mode settings, cost profile content)
// are other cells: never pooled.
func TestVariantsApart(t *testing.T) {
	p := map[string]string{"ws": "1MiB", "access": "seq"}
	name := "Memsweep/ws=1MiB/access=seq/size=DC1s_v2/mode=sim"
	a := dir("a", []result.Sample{sample(name, "sim", p, 150, true)})
	b := dir("b", []result.Sample{sample(name, "sim", p, 150, true)})
	c := dir("c", []result.Sample{sample(name, "sim", p, 150, true)})
	b.Run.ModeSettings = map[string]map[string]string{"sim": {"x": "1"}}
	c.Run.Profile.Digest = "abc"
	tb := NewBuilder()
	for _, d := range []*result.Dir{a, b, c} {
		tb.AddDir(d, "")
	}
	var got []string
	for _, c := range tb.Table().Cells {
		got = append(got, c.Variant)
	}
	if want := []string{"", "x=1", ";profile-sha256=abc"}; !slices.Equal(got, want) {
		t.Errorf("variants %q, want %q", got, want)
	}
}

// TestNotPredictedCell: a sim cell whose samples the model could not
// predict holds no figures (their values are unpriced measurements), is no
// prediction (no pairs, no bases) and carries its flaw; its counted
// events stay.
func TestNotPredictedCell(t *testing.T) {
	p := map[string]string{"ws": "1MiB", "access": "seq"}
	simName := "Memsweep/ws=1MiB/access=seq/size=DC1s_v2/mode=sim"
	s := sample(simName, "sim", p, 100, true)
	s.Model.CountsOnly = "OCALLs not counted: no seccomp"
	tab := FromDir(dir("a", []result.Sample{s, s}))
	if len(tab.Cells) != 1 {
		t.Fatalf("%d cells, want 1", len(tab.Cells))
	}
	c := tab.Cells[0]
	if v := c.Values["ns/op"]; len(v) != 0 {
		t.Errorf("ns/op values %v, want none: they are unpriced measurements under the model's name", v)
	}
	if len(c.Values["ocalls/op"]) != 2 {
		t.Errorf("ocalls/op values %v, want the two counted", c.Values["ocalls/op"])
	}
	if c.Predicted() || c.Paired().N != 0 || len(c.Bases("ns/op")) != 0 {
		t.Errorf("an unpredicted cell reads as a prediction: predicted %v, %d pairs, bases %v", c.Predicted(), c.Paired().N, c.Bases("ns/op"))
	}
	if c.NotPredicted != 2 || c.NotPredictedWhy != s.Model.CountsOnly {
		t.Errorf("not predicted %d (%q), want both samples with the model's reason", c.NotPredicted, c.NotPredictedWhy)
	}
	if u, _ := c.PrimaryUnit(); len(c.Figures) != 0 || u != "" {
		t.Errorf("figures %v, primary unit %q: want none", c.Figures, u)
	}
	if len(c.Flaws) != 1 || !strings.Contains(c.Flaws[0].Why, "not predicted") {
		t.Errorf("flaws %+v, want the not-predicted one", c.Flaws)
	}
}

// TestInputRunFacts: what a run recorded of itself reaches its readers
// through the table's Input (the baseline, its sizes, --rounds, the
// counting pass's absence and hidden CPU features, the partial and short
// cells), so that none of them reads the directory for it.
func TestInputRunFacts(t *testing.T) {
	p := map[string]string{"ws": "1MiB", "access": "seq"}
	name := "Memsweep/ws=1MiB/access=seq/size=DC1s_v2/mode=native"
	d := dir("a", []result.Sample{sample(name, "native", p, 100, false)})
	d.Facts.Baseline = "plain"
	d.Facts.Sizes = map[string]result.SizeFacts{"DC1s_v2": {VCPUs: 1, Family: "DCsv2"}}
	d.Run.Plan.Rounds = 3
	d.Run.Counts = &result.Counts{Unavailable: "valgrind not found", CPUHidden: []string{"sha"}}
	d.Partial = []string{name}
	d.Short = []result.ShortCell{{Cell: name, Attempt: 1, Recorded: 2, Present: 1}}
	in := FromDir(d).Inputs[0]
	if in.Baseline != "plain" || in.Rounds != 3 || in.NoCounts != "valgrind not found" || !slices.Equal(in.CountsHidden, []string{"sha"}) {
		t.Errorf("baseline %q, rounds %d, no counts %q, hidden %v; want the run's", in.Baseline, in.Rounds, in.NoCounts, in.CountsHidden)
	}
	if sf, ok := in.Sizes["DC1s_v2"]; !ok || sf.VCPUs != 1 || sf.Family != "DCsv2" {
		t.Errorf("sizes %v; want the run's DC1s_v2", in.Sizes)
	}
	if !slices.Equal(in.Partial, []string{name}) || len(in.Short) != 1 || !in.Short[0].Lost() {
		t.Errorf("partial %v, short %v; want the run's", in.Partial, in.Short)
	}
	if in := FromDir(dir("b", nil)).Inputs[0]; in.NoCounts != "" || in.CountsHidden != nil || in.Rounds != 0 {
		t.Errorf("a run without a counting pass record: %+v", in)
	}
}
