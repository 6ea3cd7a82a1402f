package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(to, e.Name()), b, 0o644)
	}
}

// TestMerge checks the merge policies on two runs of the same cells: on
// one host they pool (MergeHost) or stay apart (MergeRun); on two hosts
// they stay apart unless MergeAll.
func TestMerge(t *testing.T) {
	tmp := t.TempDir()
	mk := func(name, hostName string, seed uint64, center float64) string {
		dir := filepath.Join(tmp, name)
		run := result.Run{ID: "run-" + name, Host: fixtureHost(hostName, "DC2s_v2", 2),
			Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"syscall"}, Modes: []string{"native", "sgx"}, Sizes: []string{"DC2s_v2"}}}}
		g := newGen(t, dir, seed, run, 6)
		for _, m := range []string{mode.Native, modeSGX} {
			c := center
			if m == modeSGX {
				c *= 20
			}
			g.cell(t, result.Cell{Workload: "syscall", Params: map[string]string{"call": "read"}, Size: "DC2s_v2", Mode: m}, 6, result.StatusOK,
				func() ([]protocol.Value, []protocol.Value) {
					return []protocol.Value{v(g.noisy(c, 0.02), "ns/op", "lower")}, nil
				}, result.CellResult{})
		}
		g.close(t)
		return dir
	}
	a := mk("a", "vm1", 1, 300)
	b := mk("b", "vm1", 2, 310)
	c := mk("c", "vm2", 3, 500)
	rows := func(merge string, dirs ...string) []*Group {
		o := testOptions()
		o.Merge = merge
		r := Build(Load(dirs, o), o)
		if len(r.Workloads) != 1 {
			t.Fatalf("%d workloads", len(r.Workloads))
		}
		return r.Workloads[0].Rows
	}
	if g := rows(MergeHost, a, b); len(g) != 2 || g[0].Summary.N != 12 || g[0].OriginLabel != "" {
		t.Errorf("same host, merge host: %d rows, n=%d, origin %q; want 2 pooled rows of 12", len(g), g[0].Summary.N, g[0].OriginLabel)
	}
	if g := rows(MergeRun, a, b); len(g) != 4 || g[0].Summary.N != 6 {
		t.Errorf("merge run: %d rows; want 4 of 6", len(g))
	}
	g := rows(MergeHost, a, c)
	if len(g) != 4 || g[0].OriginLabel == "" {
		t.Fatalf("two hosts: %d rows (origin %q); want 4 labelled rows", len(g), g[0].OriginLabel)
	}
	for _, x := range g {
		if x.Mode == modeSGX && (x.Baseline == nil || math.Abs(x.Baseline.Ratio-20) > 2) {
			t.Errorf("%s: ratio %+v, want ~20 against its own host's native", x.subject(), x.Baseline)
		}
	}
	if g := rows(MergeAll, a, c); len(g) != 2 || g[0].Summary.N != 12 {
		t.Errorf("merge all: %d rows; want 2 pooled", len(g))
	}
}

// TestModeSettingsNotPooled: two runs on one host, one of them with
// --ego-trace-ocalls (run.json mode_settings), are not pooled: each gets
// its own label, its own comparison with native, and a warning says why.
func TestModeSettingsNotPooled(t *testing.T) {
	tmp := t.TempDir()
	mk := func(name, trace string, seed uint64, enclave float64) string {
		dir := filepath.Join(tmp, name)
		run := result.Run{ID: "run-" + name, Host: fixtureHost("vm1", "DC2s_v2", 2),
			Plan:         result.Plan{Spec: runspec.Spec{Workloads: []string{"syscall"}, Modes: []string{"native", "ego-sim"}, Sizes: []string{"DC2s_v2"}}},
			ModeSettings: map[string]map[string]string{"ego-sim": {"ego-debug": "false", "ego-trace-ocalls": trace, "ego-precise-clock": "false"}}}
		g := newGen(t, dir, seed, run, 6)
		for _, m := range []string{mode.Native, modeEGoSim} {
			c := 300.0
			if m == modeEGoSim {
				c = enclave
			}
			g.cell(t, result.Cell{Workload: "syscall", Params: map[string]string{"call": "read"}, Size: "DC2s_v2", Mode: m}, 6, result.StatusOK,
				func() ([]protocol.Value, []protocol.Value) {
					return []protocol.Value{v(g.noisy(c, 0.02), "ns/op", "lower")}, nil
				}, result.CellResult{})
		}
		g.close(t)
		return dir
	}
	plain := mk("plain", "false", 1, 600)
	traced := mk("traced", "true", 2, 6000)
	o := testOptions()
	r := Build(Load([]string{plain, traced}, o), o)
	var labels []string
	for _, g := range r.Workloads[0].Rows {
		if g.Mode != modeEGoSim {
			continue
		}
		labels = append(labels, g.ModeLabel)
		if g.Summary.N != 6 || len(g.Runs) != 1 {
			t.Errorf("%s: n=%d from %v, want 6 from one run", g.ModeLabel, g.Summary.N, g.Runs)
		}
		want := 2.0
		if strings.Contains(g.ModeLabel, "ego-trace-ocalls=true") {
			want = 20
		}
		if g.Baseline == nil || math.Abs(g.Baseline.Ratio-want) > want/5 {
			t.Errorf("%s: ratio %+v, want ~%v", g.ModeLabel, g.Baseline, want)
		}
	}
	slices.Sort(labels)
	if !slices.Equal(labels, []string{"ego-sim [ego-trace-ocalls=false]", "ego-sim [ego-trace-ocalls=true]"}) {
		t.Errorf("ego-sim labels %q", labels)
	}
	var warned bool
	for _, w := range r.Warnings {
		warned = warned || w.Kind == "settings differ" && strings.Contains(w.Text, "never pooled")
		if w.Kind == "pooled" && strings.Contains(w.Subject, "ego-sim") {
			t.Errorf("pooled: %+v", w)
		}
	}
	if !warned {
		t.Errorf("no warning about the settings: %+v", r.Warnings)
	}
	// The same settings pool as before.
	again := mk("again", "false", 3, 600)
	r = Build(Load([]string{plain, again}, o), o)
	for _, g := range r.Workloads[0].Rows {
		if g.Mode == modeEGoSim && (g.ModeLabel != "ego-sim" || g.Summary.N != 12) {
			t.Errorf("same settings: %s n=%d, want pooled ego-sim n=12", g.ModeLabel, g.Summary.N)
		}
	}
}

// TestWarningsGrouped: warnings come by kind with counts, those that
// change a conclusion first, each kind's cells in a <details> (HTML and
// Markdown), and no warning is lost in the grouping.
func TestWarningsGrouped(t *testing.T) {
	_, r := loadFixtures(t, testOptions(), "dc-a", "dc-b", "empty")
	if len(r.WarningGroups) < 3 {
		t.Fatalf("%d groups", len(r.WarningGroups))
	}
	total, sawNote := 0, false
	for _, g := range r.WarningGroups {
		total += len(g.Items)
		if g.Matters && sawNote {
			t.Errorf("kind %s changes a conclusion but comes after a note", g.Kind)
		}
		sawNote = sawNote || !g.Matters
		for _, w := range g.Items {
			if w.Kind != g.Kind {
				t.Errorf("%s in group %s", w.Kind, g.Kind)
			}
		}
	}
	if total != len(r.Warnings) {
		t.Errorf("groups hold %d warnings of %d", total, len(r.Warnings))
	}
	if g := r.WarningGroups[0]; g.Kind != "failed" || !g.Matters {
		t.Errorf("first group %s (matters %v), want failed", g.Kind, g.Matters)
	}
	var md, html bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r, nil); err != nil {
		t.Fatal(err)
	}
	m := md.String()
	fail, part, out := strings.Index(m, "<b>failed</b> (2) ⚠"), strings.Index(m, "<b>partial</b> (1) ⚠"), strings.Index(m, "<b>outliers</b> (")
	if fail < 0 || part < fail || out < part || !strings.Contains(m, "### Warnings: ") {
		t.Errorf("report.md warnings out of order or missing (failed %d, partial %d, outliers %d)", fail, part, out)
	}
	h := html.String()
	if n := strings.Count(h, `<details class="warn`); n != len(r.WarningGroups) {
		t.Errorf("report.html has %d warning <details>, want one per kind (%d)", n, len(r.WarningGroups))
	}
	if !strings.Contains(h, `<details class="warn matters" open><summary><b>failed</b> (2)`) {
		t.Errorf("report.html does not open the failed cells")
	}
}

// TestEGoSimGivesNoSizing is the case made small: a 100 MiB
// random-access working set on DC1s_v2 (28 MiB of EPC) and DC4s_v2, in
// native, ego-sim and sim. EGo's simulation mode enforces no EPC limit, so
// its 1.15x on DC1s_v2 must not become "smallest size: DC1s_v2": the
// sizing advice and the EPC cliff come from sim only, ego-sim's headline
// says what it measures, and a warning that changes a conclusion says why.
func TestEGoSimGivesNoSizing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ego")
	run := result.Run{ID: "run-ego", Host: fixtureHost("laptop", "", 4),
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"memsweep"}, Modes: []string{"native", "ego-sim", "sim"}, Sizes: []string{"DC1s_v2", "DC4s_v2"}}}}
	g := newGen(t, dir, 7, run, 6)
	slow := map[string]map[string]float64{
		modeEGoSim: {"DC1s_v2": 1.15, "DC4s_v2": 0.95},
		modeSim:    {"DC1s_v2": 12, "DC4s_v2": 1.05},
	}
	for _, size := range []string{"DC1s_v2", "DC4s_v2"} {
		for _, m := range []string{mode.Native, modeEGoSim, modeSim} {
			f := 1.0
			if m != mode.Native {
				f = slow[m][size]
			}
			g.cell(t, result.Cell{Workload: "memsweep", Params: map[string]string{"ws": "100MiB", "access": "random", "op": "read"}, Size: size, Mode: m}, 6, result.StatusOK,
				func() ([]protocol.Value, []protocol.Value) {
					base := g.noisy(100, 0.01)
					if m == modeSim {
						return []protocol.Value{v(base*f, "ns/op", "lower")}, []protocol.Value{v(base, "ns/op", "lower")}
					}
					return []protocol.Value{v(base*f, "ns/op", "lower")}, nil
				}, result.CellResult{})
		}
	}
	g.close(t)
	o := testOptions()
	r := Build(Load([]string{dir}, o), o)
	var simAdvice bool
	for _, a := range r.Sizing {
		if strings.HasPrefix(a.Mode, "ego-sim") {
			t.Errorf("sizing advice from ego-sim: %+v", a)
		}
		if strings.HasPrefix(a.Mode, "sim") {
			simAdvice = true
			if a.Size != "DC4s_v2" {
				t.Errorf("sim advice: smallest size %q, want DC4s_v2", a.Size)
			}
		}
	}
	if !simAdvice {
		t.Errorf("no sizing advice from sim: %+v", r.Sizing)
	}
	var warned bool
	for _, gr := range r.WarningGroups {
		if gr.Kind == "no EPC" {
			warned = gr.Matters && len(gr.Items) == 1 && gr.Items[0].Subject == "ego-sim" && strings.Contains(gr.Items[0].Text, "enforces no EPC limit")
		}
	}
	if !warned {
		t.Errorf("no 'no EPC' warning for ego-sim: %+v", r.WarningGroups)
	}
	for _, row := range r.Workloads[0].Rows {
		if slices.Contains(row.Notes, "no EPC limit") != (row.Mode == modeEGoSim) {
			t.Errorf("%s %s: notes %v", row.Size, row.ModeLabel, row.Notes)
		}
	}
	for _, h := range r.Headlines {
		if h.NoEPC != (h.Mode == "ego-sim") {
			t.Errorf("headline %s: NoEPC %v", h.Mode, h.NoEPC)
		}
	}
	for _, f := range r.Figures {
		if f.Section != SectionCliff {
			continue
		}
		for _, sr := range f.Series {
			if strings.Contains(sr.Label, "ego-sim") {
				t.Errorf("EPC cliff %s has an ego-sim series", f.Name)
			}
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "ego-sim (no EPC limit, no hardware transitions") || !strings.Contains(md.String(), "**ego-sim** (simulation: EGo's simulation mode enforces no EPC limit") {
		t.Errorf("report.md does not say what ego-sim cannot tell")
	}
}

// TestProfileContentNotPooled: two sim runs priced by cost profiles of one
// name and version but other content (run.json cost_profile.sha256) are
// kept apart like other settings.
func TestProfileContentNotPooled(t *testing.T) {
	tmp := t.TempDir()
	mk := func(name, sha string, seed uint64, f float64) string {
		dir := filepath.Join(tmp, name)
		run := result.Run{ID: "run-" + name, Host: fixtureHost("vm1", "DC2s_v2", 2),
			Plan:    result.Plan{Spec: runspec.Spec{Workloads: []string{"syscall"}, Modes: []string{"native", "sim"}, Sizes: []string{"DC2s_v2"}}},
			Profile: &result.CostProfileRef{Name: "mine", Version: 1, Digest: sha}}
		g := newGen(t, dir, seed, run, 6)
		g.cell(t, result.Cell{Workload: "syscall", Params: map[string]string{"call": "read"}, Size: "DC2s_v2", Mode: mode.Native}, 6, result.StatusOK,
			func() ([]protocol.Value, []protocol.Value) {
				return []protocol.Value{v(g.noisy(300, 0.02), "ns/op", "lower")}, nil
			}, result.CellResult{})
		g.cell(t, result.Cell{Workload: "syscall", Params: map[string]string{"call": "read"}, Size: "DC2s_v2", Mode: modeSim}, 6, result.StatusOK,
			func() ([]protocol.Value, []protocol.Value) {
				base := g.noisy(300, 0.02)
				return []protocol.Value{v(base*f, "ns/op", "lower")}, []protocol.Value{v(base, "ns/op", "lower")}
			}, result.CellResult{})
		g.close(t)
		return dir
	}
	a := mk("a", strings.Repeat("a", 64), 1, 10)
	b := mk("b", strings.Repeat("b", 64), 2, 1.1)
	o := testOptions()
	r := Build(Load([]string{a, b}, o), o)
	var labels []string
	for _, g := range r.Workloads[0].Rows {
		if g.Mode == modeSim {
			labels = append(labels, g.ModeLabel)
			if g.Summary.N != 6 {
				t.Errorf("%s: n=%d, want 6 (not pooled)", g.ModeLabel, g.Summary.N)
			}
		}
	}
	slices.Sort(labels)
	want := []string{"sim (model, profile mine/v1) [profile sha256 aaaaaaaaaaaa]", "sim (model, profile mine/v1) [profile sha256 bbbbbbbbbbbb]"}
	if !slices.Equal(labels, want) {
		t.Errorf("sim labels %q, want %q", labels, want)
	}
}
