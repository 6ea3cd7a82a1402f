package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/report/plot"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

var (
	update        = flag.Bool("update", false, "rewrite the golden files in testdata/golden")
	regenFixtures = flag.Bool("fixtures", false, "rewrite the synthetic result directories in testdata/fixtures")
)

var goldenNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func testOptions() Options {
	o := DefaultOptions()
	o.Now = goldenNow
	return o
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %s\nwant: %s\n(go test ./report -update rewrites it after a deliberate change)", name, i+1, g, w)
			}
		}
	}
}

func loadFixtures(t *testing.T, o Options, names ...string) (*Input, *Report) {
	t.Helper()
	var dirs []string
	for _, n := range names {
		dirs = append(dirs, fixturePath(n))
	}
	in := Load(dirs, o)
	return in, Build(in, o)
}

// TestGolden compares the tables (report.md) and the plot data (the series
// fed to gonum) with the golden files.
func TestGolden(t *testing.T) {
	o := testOptions()
	in, r := loadFixtures(t, o, fixtureDirs...)
	if !in.Reportable() {
		t.Fatal("fixtures not reportable")
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md", md.Bytes())
	data, err := plot.MarshalFigures(r.Figures)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "plotdata.json", data)
	// report.html without the images: every text the page shows.
	var figs []FigureFiles
	for _, f := range r.Figures {
		figs = append(figs, FigureFiles{Figure: f})
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, r, figs); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html", html.Bytes())
}

func TestLeftOut(t *testing.T) {
	in, r := loadFixtures(t, testOptions(), fixtureDirs...)
	want := map[string]string{
		"bad-schema":  "schema version 99, this harness reads versions 1 to 3",
		"old-harness": `harness version "0.9.0" differs from "1.0.0"`,
		"empty":       "no samples (cells: 1 failed)",
		"missing":     "no such file or directory",
	}
	got := map[string]string{}
	for _, l := range in.LeftOut {
		got[filepath.Base(l.Dir)] = l.Reason
	}
	for dir, frag := range want {
		if !strings.Contains(got[dir], frag) {
			t.Errorf("%s: left out with %q, want it to mention %q", dir, got[dir], frag)
		}
	}
	if len(got) != len(want) {
		t.Errorf("left out %v, want exactly %d directories", got, len(want))
	}
	// The empty directory's failed cell and bad line still reach the report.
	found := false
	for _, f := range r.Failures {
		found = found || strings.Contains(f.Reason, "permission denied")
	}
	if !found {
		t.Error("the failed cell of the directory without samples is not listed")
	}
	if len(in.Notes) == 0 || !strings.Contains(strings.Join(in.Notes, "\n"), "samples.jsonl:1") {
		t.Errorf("notes %q do not report the truncated line", in.Notes)
	}
	// --mixed-versions keeps the old harness's directory.
	o := testOptions()
	o.MixedVersions = true
	in, _ = loadFixtures(t, o, fixtureDirs...)
	for _, l := range in.LeftOut {
		if filepath.Base(l.Dir) == "old-harness" {
			t.Error("old-harness left out despite MixedVersions")
		}
	}
}

func TestNothingReportable(t *testing.T) {
	in := Load([]string{fixturePath("bad-schema"), fixturePath("empty"), fixturePath("missing")}, testOptions())
	if in.Reportable() {
		t.Fatal("reportable without samples")
	}
	if len(in.LeftOut) != 3 {
		t.Errorf("left out %d directories, want 3: %+v", len(in.LeftOut), in.LeftOut)
	}
}

func TestDuplicates(t *testing.T) {
	tmp := t.TempDir()
	cp := filepath.Join(tmp, "copy")
	copyDir(t, fixturePath("dc-b"), cp)
	in := Load([]string{fixturePath("dc-b"), fixturePath("dc-b"), cp}, testOptions())
	if len(in.Sources) != 1 || len(in.LeftOut) != 2 {
		t.Fatalf("kept %d, left out %+v; want the directory once", len(in.Sources), in.LeftOut)
	}
	if !strings.Contains(in.LeftOut[1].Reason, "already read") {
		t.Errorf("copy left out with %q", in.LeftOut[1].Reason)
	}
}

// TestHostile renders a directory whose every name is markup and checks
// that nothing reaches the HTML or the Markdown unescaped.
func TestHostile(t *testing.T) {
	in, r := loadFixtures(t, testOptions(), "hostile")
	if !in.Reportable() {
		t.Fatal("hostile fixture not reportable")
	}
	out := t.TempDir()
	if _, err := Write(r, out); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(out, HTMLFile))
	md, _ := os.ReadFile(filepath.Join(out, MarkdownFile))
	for _, bad := range []string{"<script>alert", "<img src=x", "<img/src=x", "<svg onload", "<iframe", "<i>prof</i>", "wl<b>", `"><script>`, "</pre><script>"} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("report.html contains %q unescaped", bad)
		}
		if bytes.Contains(md, []byte(bad)) {
			t.Errorf("report.md contains %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(&#34;host&#34;)&lt;/script&gt;", "&lt;iframe"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report.html lacks the escaped %q", want)
		}
	}
	if !bytes.Contains(md, []byte(`evil\|wl&lt;b&gt;`)) {
		t.Error("report.md does not escape the workload name")
	}
	// Every Markdown table row keeps its table's column count.
	want := -1
	for _, line := range strings.Split(string(md), "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if want < 0 {
			want = n
		} else if n != want {
			t.Errorf("table row with %d separators, its table has %d: %s", n, want, line)
		}
	}
	// Plot files have safe names, and SVG text is escaped.
	ents, _ := os.ReadDir(filepath.Join(out, PlotsDir))
	for _, e := range ents {
		if strings.ContainsAny(e.Name(), `<>"|`) {
			t.Errorf("unsafe plot file name %q", e.Name())
		}
		if strings.HasSuffix(e.Name(), ".svg") {
			b, _ := os.ReadFile(filepath.Join(out, PlotsDir, e.Name()))
			if bytes.Contains(b, []byte("<img")) || bytes.Contains(b, []byte("<script")) {
				t.Errorf("%s contains unescaped markup", e.Name())
			}
		}
	}
}

// TestModeLabels checks that sim figures are never presented as
// measurements.
func TestModeLabels(t *testing.T) {
	_, r := loadFixtures(t, testOptions(), "dc-a")
	for _, tb := range r.Workloads {
		for _, g := range tb.Rows {
			if g.Mode == modeSim && g.ModeLabel != "sim (model, profile published/v1)" {
				t.Errorf("sim row labelled %q", g.ModeLabel)
			}
			if g.Mode == modeSim && g.Summary.N > 0 && (g.Baseline == nil || g.Baseline.Against != AgainstPairs || g.Baseline.Slowdown < 1) {
				t.Errorf("%s: sim compared with %+v, want its own paired base", g.subject(), g.Baseline)
			}
		}
	}
	for _, f := range r.Figures {
		for _, s := range f.Series {
			if strings.Contains(s.Label, "sim") && !strings.Contains(s.Label, "sim (model, profile published/v1)") {
				t.Errorf("figure %s: series %q", f.Name, s.Label)
			}
		}
		if strings.Contains(f.Caption, "sim (model") && !strings.Contains(f.Caption, "model prediction, not a measurement") {
			t.Errorf("figure %s: caption does not say sim is modelled: %s", f.Name, f.Caption)
		}
	}
}

// TestBaselineLabel: the report's prose names the baseline mode as the
// runs' facts label it (facts.baseline, its mode facts), not "native".
func TestBaselineLabel(t *testing.T) {
	o := testOptions()
	in := Load([]string{fixturePath("dc-a")}, o)
	d := in.Sources[0].Dir
	mf := d.Facts.Modes[d.Facts.Baseline]
	mf.Label = "plain process"
	d.Facts.Modes[d.Facts.Baseline] = mf
	r := Build(in, o)
	if r.Baseline != "plain process" {
		t.Fatalf("Baseline %q, want the recorded label", r.Baseline)
	}
	var md, html bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| vs plain process |", "slowdown vs plain process:", "within 20% of plain process"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if !strings.Contains(html.String(), "relative to plain process on the same host") || !strings.Contains(html.String(), "ratio to plain process") {
		t.Error("report.html does not name the recorded baseline label")
	}
	for _, text := range []string{md.String(), html.String()} {
		if l := grepLines(text, "vs native"); l != "" {
			t.Errorf("still 'vs native':\n%s", l)
		}
	}
	for _, f := range r.Figures {
		if strings.Contains(f.Caption, "to native") || strings.Contains(f.X.Label, "vs native") {
			t.Errorf("figure %s names native: %s / %s", f.Name, f.X.Label, f.Caption)
		}
	}
}

// TestSuggestedBaseline: the commands the report suggests where it has no
// sizing advice or no footprint heat map pass the runs' recorded baseline
// mode (facts.baseline) to --modes, not "native" by name.
func TestSuggestedBaseline(t *testing.T) {
	o := testOptions()
	in := Load([]string{fixturePath("dc-a")}, o)
	d := in.Sources[0].Dir
	no := false
	for name, mf := range d.Facts.Modes {
		mf.ModelsEPC = &no // no mode answers sizing: the "None" line
		d.Facts.Modes[name] = mf
	}
	d.Facts.Baseline = "plain"
	r := Build(in, o)
	if r.BaselineMode != "plain" {
		t.Fatalf("BaselineMode %q, want the recorded name", r.BaselineMode)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"run `--modes plain,sim` (or `sgx` on SGX hardware) for sizing answers", "--modes plain,sim gives one)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if l := grepLines(md.String(), "--modes native"); l != "" {
		t.Errorf("still suggests --modes native:\n%s", l)
	}
}

// TestModeNotes: the note above the tables is the one a mode recorded in
// run.json (here the model mode relabelled as a toy model with its own
// note), not its kind's frozen note, which is for runs from before notes
// were recorded.
func TestModeNotes(t *testing.T) {
	o := testOptions()
	in := Load([]string{fixturePath("dc-a")}, o)
	d := in.Sources[0].Dir
	const note = "toy figures are **guesses** of a test model, not measurements."
	for name, mf := range d.Facts.Modes {
		if mf.Kind == result.KindModel {
			mf.Label, mf.Note = "toy (model)", note
			d.Facts.Modes[name] = mf
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, Build(in, o)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "\n> "+note+"\n") {
		t.Errorf("report.md lacks the recorded note %q", note)
	}
	if l := grepLines(md.String(), "predictions"); l != "" {
		t.Errorf("report.md still has the frozen note of the model kind:\n%s", l)
	}
}

// TestNotPredicted checks that sim samples the model could not predict
// (their values are unpriced measurements) are left out with a warning.
func TestNotPredicted(t *testing.T) {
	_, r := loadFixtures(t, testOptions(), "dc-a")
	found := false
	for _, w := range r.Warnings {
		if w.Kind == "not predicted" && strings.Contains(w.Subject, "call=clock DC1s_v2 sim") && strings.Contains(w.Text, "perf_event_open") {
			found = true
		}
	}
	if !found {
		t.Error("no warning for the unpredicted sim samples")
	}
	for _, tb := range r.Workloads {
		for _, g := range tb.Rows {
			if g.NotPredicted > 0 && (g.Summary.N != 0 || g.Baseline != nil) {
				t.Errorf("%s: unpredicted samples used: n=%d", g.subject(), g.Summary.N)
			}
		}
	}
}

func TestFiguresAndOmissions(t *testing.T) {
	_, r := loadFixtures(t, testOptions(), "dc-a", "dc-b")
	count := map[string]int{}
	for _, f := range r.Figures {
		count[f.Section]++
		if f.Empty() {
			t.Errorf("figure %s is empty", f.Name)
		}
	}
	// memsweep seq/random and kvstore; overhead per workload; syscall;
	// threads; load time.
	want := map[string]int{SectionCliff: 3, SectionOverhead: 4, SectionTransitions: 1, SectionScaling: 1, SectionLoad: 1}
	for s, n := range want {
		if count[s] != n {
			t.Errorf("%d %s figures, want %d", count[s], s, n)
		}
	}
	// No absolute footprint in these runs: the heat map is omitted, and says how to get one.
	if len(r.Omitted) != 1 || r.Omitted[0].Section != SectionFootprint || !strings.Contains(r.Omitted[0].Reason, "--footprint") {
		t.Errorf("omitted %+v", r.Omitted)
	}
	// Native only: every enclave figure is omitted with a note, none drawn empty.
	_, r = loadFixtures(t, testOptions(), "old-harness")
	sections := map[string]bool{}
	for _, o := range r.Omitted {
		sections[o.Section] = true
	}
	for _, s := range []string{SectionCliff, SectionOverhead, SectionScaling, SectionLoad} {
		if !sections[s] {
			t.Errorf("section %s neither drawn nor omitted with a note", s)
		}
	}
	for _, o := range r.Omitted {
		if o.Section == SectionLoad && !strings.Contains(o.Reason, "native") {
			t.Errorf("load omission does not name the modes: %s", o.Reason)
		}
	}
}

func TestSizing(t *testing.T) {
	_, r := loadFixtures(t, testOptions(), "dc-a")
	by := map[string]Advice{}
	for _, a := range r.Sizing {
		by[a.Workload+"/"+a.Mode] = a
	}
	// threads stays within 20% everywhere: the smallest size qualifies;
	// the run recorded no usable EPC, so the headroom is unknown, not the
	// catalog EPC's.
	if a := by["threads/sgx"]; a.Size != "DC1s_v2" || !a.Known || a.UsableKnown || !strings.Contains(fmtHeadroom(a), "usable EPC not recorded") {
		t.Errorf("threads/sgx: %+v", a)
	}
	// memsweep and kvstore ran EPC-relative footprints only: no verdict,
	// a note saying why, and the command that would answer.
	for _, w := range []string{"memsweep", "kvstore"} {
		a := by[w+"/sgx"]
		if !a.Relative || a.Size != "" || !strings.Contains(a.Note, "multiples of each size's EPC") ||
			a.Command != "bench run --workloads "+w+" --sizes DC1s_v2,DC2s_v2,DC4s_v2,DC8_v2 --modes native,sgx --footprint "+ExampleFootprints {
			t.Errorf("%s/sgx: %+v", w, a)
		}
	}
	// A looser tolerance admits syscall's clock but not its read.
	o := testOptions()
	o.Tolerance = 100
	_, r = loadFixtures(t, o, "dc-a")
	for _, a := range r.Sizing {
		if a.Workload == "syscall" && a.Mode == modeSGX && a.Size != "DC1s_v2" {
			t.Errorf("syscall/sgx at tolerance 10000%%: %+v", a)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1.23456, "1.235"}, {0.012345, "0.01235"}, {999.94, "999.9"}, {1234.5, "1,235"},
		{39042.7, "39,043"}, {3.1e6, "3,100,000"}, {2e13, "2.000e+13"}, {math.NaN(), "—"}, {-1234.5, "-1,235"},
	} {
		if got := fmtNum(tc.v); got != tc.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	if got := fmtSlowdown(0.5); got != "2× faster" {
		t.Errorf("fmtSlowdown(0.5) = %q", got)
	}
	if got := fmtPct(0.2); got != "20%" {
		t.Errorf("fmtPct(0.2) = %q", got)
	}
}

// TestFleet reads one run per VM size, each from its own host: figures
// keep the hosts apart but still factor the legend (the size names the
// host), and the sizing advice spans the hosts.
func TestFleet(t *testing.T) {
	tmp := t.TempDir()
	var dirs []string
	for i, sz := range []string{"DC1s_v2", "DC2s_v2", "DC4s_v2"} {
		dir := filepath.Join(tmp, sz)
		writeMainFixture(t, dir, uint64(100+i), "vm-"+strings.ToLower(sz[:3]), []string{sz}, []string{mode.Native, modeSGX}, 6, []string{"0.5xEPC", "2xEPC"})
		dirs = append(dirs, dir)
	}
	o := testOptions()
	r := Build(Load(dirs, o), o)
	if len(r.Origins) != 3 {
		t.Fatalf("origins %v, want 3 hosts", r.Origins)
	}
	cliffs := 0
	for _, f := range r.Figures {
		if f.Section != SectionCliff {
			continue
		}
		cliffs++
		if len(f.Legend) == 0 || !strings.Contains(f.Caption, "Hosts: DC1s_v2 on vm-dc1") {
			t.Errorf("%s: legend %v, caption %q", f.Name, f.Legend, f.Caption)
		}
	}
	if cliffs == 0 {
		t.Error("no cliff figure")
	}
	for _, a := range r.Sizing {
		if a.Workload == "threads" && (a.Size != "DC1s_v2" || len(a.Tested) != 3) {
			t.Errorf("threads advice across hosts: %+v", a)
		}
	}
}

// TestSimNeverFaster: a sim cell whose measured base is faster than the
// run's native cell (another process, another build: noise) is still a
// slowdown over its own base, in every rendering; so is a sample written
// before the pairing, whose measured values carried the emulation's cost.
func TestSimNeverFaster(t *testing.T) {
	for _, c := range []struct {
		name     string
		want     string
		unpaired func(s *result.Sample)
	}{
		{name: "paired", want: "1.1× slower"},
		{name: "before pairing", want: "1.22× slower", unpaired: func(s *result.Sample) {
			// 1500 ns/op measured with the emulation, 600 ns/op of it
			// the emulation's: base 900 ns/op, + 200 ns/op of OCALLs.
			s.Model.EmulationNS = s.ElapsedNS * 600 / 1500
			s.Events = map[string]int64{"model_ocall_ns": s.ElapsedNS * 200 / 1500}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			run := result.Run{ID: "20261127T120000Z-fast", Host: fixtureHost("quiet", "DC2s_v2", 2),
				Profile: &result.CostProfileRef{Name: "published", Version: 1, Source: "built-in"},
				Plan:    result.Plan{Spec: runspec.Spec{Workloads: []string{"syscall"}, Sizes: []string{"DC2s_v2"}, Modes: []string{"native", "sim"}}}}
			g := newGen(t, dir, 3, run, 6)
			g.unpaired = c.unpaired
			for _, m := range []string{mode.Native, modeSim} {
				g.cell(t, result.Cell{Workload: "syscall", Params: map[string]string{"call": "read"}, Size: "DC2s_v2", Mode: m}, 6, result.StatusOK,
					func() ([]protocol.Value, []protocol.Value) {
						if m == mode.Native {
							return []protocol.Value{v(g.noisy(2000, 0.01), "ns/op", "lower")}, nil
						}
						// The sim process ran the same code at 1000 ns/op
						// (paired) and predicts 1100.
						nat := g.noisy(1000, 0.01)
						if c.unpaired != nil {
							return []protocol.Value{v(1100, "ns/op", "lower")}, []protocol.Value{v(1500, "ns/op", "lower")}
						}
						return []protocol.Value{v(nat*1.1, "ns/op", "lower")}, []protocol.Value{v(nat, "ns/op", "lower")}
					}, result.CellResult{WallNS: 1e9})
			}
			g.close(t)
			o := testOptions()
			r := Build(Load([]string{dir}, o), o)
			out := t.TempDir()
			if _, err := Write(r, out); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"report.md", "report.html"} {
				b, err := os.ReadFile(filepath.Join(out, name))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "× faster") {
					t.Errorf("%s calls the sim cell faster than native:\n%s", name, grepLines(string(b), "faster"))
				}
				// Not even as a count ("0 faster"): a line about the model
				// has no faster to speak of.
				for _, l := range strings.Split(string(b), "\n") {
					if strings.Contains(l, "sim (model") && strings.Contains(l, "faster") {
						t.Errorf("%s: a sim line speaks of faster: %s", name, l)
					}
				}
				if !strings.Contains(string(b), c.want) {
					t.Errorf("%s does not give the sim cell's predicted slowdown over its own base (%s):\n%s", name, c.want, grepLines(string(b), "sim (model"))
				}
			}
			for _, h := range r.Headlines {
				if h.Mode != mode.Native && (h.Faster != 0 || h.GeoMean < 1) {
					t.Errorf("headline %+v", h)
				}
			}
		})
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestFactsMatchV1: the fixtures written again today (schema 2, with the
// facts the run records) render the same report as the frozen schema 1
// directories read through the v1 facts table.
func TestFactsMatchV1(t *testing.T) {
	root := t.TempDir()
	writeMainFixture(t, filepath.Join(root, "dc-a"), 1, "dc-a", []string{"DC1s_v2", "DC2s_v2", "DC4s_v2", "DC8_v2"},
		[]string{mode.Native, modeSGX, modeSim}, 6, []string{"0.25xEPC", "0.5xEPC", "1xEPC", "2xEPC"})
	writeSecondHost(t, filepath.Join(root, "dc-b"))
	render := func(dirs ...string) string {
		o := testOptions()
		r := Build(Load(dirs, o), o)
		var md bytes.Buffer
		if err := WriteMarkdown(&md, r); err != nil {
			t.Fatal(err)
		}
		return md.String()
	}
	for _, name := range []string{"dc-a", "dc-b"} {
		d, err := result.Load(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if d.Run.SchemaVersion != result.SchemaVersion || d.Run.Facts == nil {
			t.Fatalf("%s regenerated with schema %d, facts %v", name, d.Run.SchemaVersion, d.Run.Facts != nil)
		}
	}
	v1 := render(fixturePath("dc-a"), fixturePath("dc-b"))
	v2 := strings.ReplaceAll(render(filepath.Join(root, "dc-a"), filepath.Join(root, "dc-b")), root, filepath.Join("testdata", "fixtures"))
	if v1 != v2 {
		vl, wl := strings.Split(v2, "\n"), strings.Split(v1, "\n")
		for i := range min(len(vl), len(wl)) {
			if vl[i] != wl[i] {
				t.Fatalf("line %d:\nschema 2: %s\nschema 1: %s", i+1, vl[i], wl[i])
			}
		}
		t.Fatalf("schema 2 renders %d lines, schema 1 %d", len(vl), len(wl))
	}
}

// TestLostSamplesAreMarked: a cell whose recorded samples are partly
// missing from samples.jsonl keeps its row, marked, and is named in the
// warnings; nothing vanishes silently.
func TestLostSamplesAreMarked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	run := result.Run{ID: "run-lost", Host: fixtureHost("vm1", "DC2s_v2", 2),
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"syscall"}, Modes: []string{"native"}, Sizes: []string{"DC2s_v2"}}}}
	g := newGen(t, dir, 5, run, 6)
	for _, call := range []string{"read", "clock"} {
		g.cell(t, result.Cell{Workload: "syscall", Params: map[string]string{"call": call}, Size: "DC2s_v2", Mode: mode.Native}, 6, result.StatusOK,
			func() ([]protocol.Value, []protocol.Value) {
				return []protocol.Value{v(g.noisy(300, 0.02), "ns/op", "lower")}, nil
			}, result.CellResult{})
	}
	g.close(t)
	// Keep the first four sample lines: read loses 2, clock all 6.
	path := filepath.Join(dir, result.SamplesFile)
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(path, []byte(strings.Join(lines[:4], "")), 0o644)

	o := testOptions()
	r := Build(Load([]string{dir}, o), o)
	var rows []*Group
	for _, w := range r.Workloads {
		rows = append(rows, w.Rows...)
	}
	if len(rows) != 1 || !rows[0].Short || !slices.Contains(rows[0].Notes, "samples lost") || rows[0].Summary.N != 4 {
		t.Fatalf("rows %+v; want one row of 4 samples marked as short", rows)
	}
	var text []string
	for _, w := range r.Warnings {
		text = append(text, w.Text)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"Syscall/call=read/size=DC2s_v2/mode=native: attempt 1 recorded ok, 6 samples but samples.jsonl holds 4 usable",
		"Syscall/call=clock/size=DC2s_v2/mode=native: attempt 1 recorded ok, 6 samples but samples.jsonl holds 0 usable"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings do not say %q:\n%s", want, all)
		}
	}
}
