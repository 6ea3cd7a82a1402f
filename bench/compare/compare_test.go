package compare

import (
	"bytes"
	"fmt"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// synthCell describes a synthetic cell: a lognormal time per op around
// median ns with coefficient of variation cv.
type synthCell struct {
	key string
	ns  float64
	cv  float64
	mbs bool // also report MB/s (bytes per op / time): a correlated second unit
}

var synthCells = []synthCell{
	{"Syscall/call=read/size=DC1s_v2/mode=native", 2600, 0.15, false},
	{"Syscall/call=write/size=DC1s_v2/mode=native", 3100, 0.10, false},
	{"Syscall/call=read/size=DC2s_v2/mode=native", 2500, 0.20, false},
	{"Memsweep/ws=0.5xEPC/access=seq/op=read/size=DC1s_v2/mode=native", 1.6, 0.05, true},
	{"Memsweep/ws=0.5xEPC/access=random/op=read/size=DC1s_v2/mode=native", 170, 0.08, true},
	{"Memsweep/ws=2xEPC/access=seq/op=read/size=DC1s_v2/mode=native", 3.1, 0.30, true},
	{"Memsweep/ws=2xEPC/access=random/op=read/size=DC1s_v2/mode=native", 207, 0.04, true},
}

// synthBench writes n samples per cell in the Go benchmark format; slow
// multiplies the time of the cells whose key has that prefix.
func synthBench(rng *rand.Rand, n int, slowPrefix string, slow float64) string {
	var b strings.Builder
	b.WriteString("Unit MB/s better=higher\n")
	for _, c := range synthCells {
		f := 1.0
		if slowPrefix != "" && strings.HasPrefix(c.key, slowPrefix) {
			f = slow
		}
		sigma := math.Sqrt(math.Log(1 + c.cv*c.cv))
		for i := 0; i < n; i++ {
			ns := c.ns * f * math.Exp(sigma*rng.NormFloat64())
			fmt.Fprintf(&b, "Benchmark%s 1000 %.6g ns/op", c.key, ns)
			if c.mbs {
				fmt.Fprintf(&b, " %.6g MB/s", 64/ns*1e3)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func mustRead(t testing.TB, text, name string) *Set {
	t.Helper()
	s, err := ReadBenchfmt(strings.NewReader(text), name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func gate() Options {
	o := DefaultOptions()
	o.FailOn = FailOnRegression
	return o
}

// TestSameDistributionFalseAlarms: 20 comparisons of two sets drawn from
// the same distributions (7 cells, 11 gated rows, n=6 as in the quick
// profile) raise at most 1 false alarm.
func TestSameDistributionFalseAlarms(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261127, 1))
	alarms := 0
	for i := 0; i < 20; i++ {
		old := mustRead(t, synthBench(rng, 6, "", 1), "old")
		new := mustRead(t, synthBench(rng, 6, "", 1), "new")
		rep, err := Compare(old, new, gate())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict.ExitCode == ExitBadInput {
			t.Fatalf("bad input: %v", rep.Verdict.Problems)
		}
		if rep.Verdict.ExitCode == ExitRegression {
			alarms++
			t.Logf("comparison %d: false alarm: %+v", i, rep.Verdict.Regressions)
		}
	}
	if alarms > 1 {
		t.Fatalf("%d false alarms in 20 comparisons of the same distribution, want <= 1", alarms)
	}
}

// TestFalseAlarmRate checks the rate behind the 20-comparison test on
// many comparisons, so that the seed above is not a lucky one: with
// Benjamini-Hochberg (when nothing changed, its rate is the family-wise
// one) or Holm the rate stays below alpha; without a correction, the same
// data alarms several times more often.
func TestFalseAlarmRate(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const trials = 2000
	rng := rand.New(rand.NewPCG(7, 7))
	count := func(o Options) int {
		n := 0
		for i := 0; i < trials; i++ {
			old := mustRead(t, synthBench(rng, 6, "", 1), "old")
			new := mustRead(t, synthBench(rng, 6, "", 1), "new")
			rep, _ := Compare(old, new, o)
			if rep.Verdict.ExitCode == ExitRegression {
				n++
			}
		}
		return n
	}
	bh := count(gate())
	holmO := gate()
	holmO.Correction = CorrectionHolm
	holm := count(holmO)
	none := gate()
	none.Correction = CorrectionNone
	raw := count(none)
	t.Logf("false alarms in %d comparisons: bh %d (%.2f%%), holm %d (%.2f%%), none %d (%.2f%%)", trials,
		bh, 100*float64(bh)/trials, holm, 100*float64(holm)/trials, raw, 100*float64(raw)/trials)
	// alpha=0.05; the binomial 99.9% upper bound at 5% of 2000 is ~132.
	for name, n := range map[string]int{"bh": bh, "holm": holm} {
		if n > 132 {
			t.Errorf("%s: %d false alarms in %d, want a rate <= alpha", name, n, trials)
		}
	}
	if raw <= bh {
		t.Errorf("without correction %d false alarms, with %d: the correction should matter", raw, bh)
	}
}

// TestSlowdownDetected: a 20% slowdown of one workload (10% noise, 15
// samples a side, e.g. 3 rounds of 5 repetitions) is flagged, with p < 0.05
// and exit 1, and nothing else is.
func TestSlowdownDetected(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	misses := 0
	for i := 0; i < 20; i++ {
		old := mustRead(t, synthBench(rng, 15, "", 1), "old")
		new := mustRead(t, synthBench(rng, 15, "Syscall/call=write", 1.2), "new")
		rep, err := Compare(old, new, gate())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Verdict.Regressions {
			if !strings.HasPrefix(r.Cell, "Syscall/call=write") {
				t.Errorf("comparison %d: %s flagged, only Syscall/call=write is slower", i, r.Cell)
			}
			if !(r.P < 0.05 && r.PAdjusted <= 0.05) || r.DeltaPct < 5 {
				t.Errorf("comparison %d: flagged with p=%v adjusted %v delta %v", i, r.P, r.PAdjusted, r.DeltaPct)
			}
		}
		if rep.Verdict.ExitCode != ExitRegression || len(rep.Verdict.Regressions) != 1 {
			misses++
			t.Logf("comparison %d: exit %d, %d regressions", i, rep.Verdict.ExitCode, len(rep.Verdict.Regressions))
		}
	}
	if misses > 1 {
		t.Fatalf("the 20%% slowdown was missed in %d of 20 comparisons", misses)
	}
}

func TestDirectionAndMinEffect(t *testing.T) {
	base := []float64{100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1}
	scale := func(f float64) []float64 {
		out := make([]float64, len(base))
		for i, v := range base {
			out[i] = v * f
		}
		return out
	}
	write := func(unit, better string, vals []float64) string {
		var b strings.Builder
		if better != "" {
			fmt.Fprintf(&b, "Unit %s better=%s\n", unit, better)
		}
		for _, v := range vals {
			fmt.Fprintf(&b, "BenchmarkX/size=S/mode=native 1 %g %s\n", v, unit)
		}
		return b.String()
	}
	cases := []struct {
		name, unit, better string
		factor             float64
		minEffect          float64
		want               string
		exit               int
	}{
		{"slower time", "ns/op", "", 1.10, 5, ChangeRegression, 1},
		{"faster time", "ns/op", "", 0.90, 5, ChangeImprovement, 0},
		{"small slowdown", "ns/op", "", 1.03, 5, ChangeBelowMinEffect, 0},
		{"small slowdown, no minimum", "ns/op", "", 1.03, 0, ChangeRegression, 1},
		{"less throughput", "MB/s", "", 0.9, 5, ChangeRegression, 1},
		{"more throughput", "MB/s", "", 1.1, 5, ChangeImprovement, 0},
		{"custom higher", "ops/s", "higher", 0.9, 5, ChangeRegression, 1},
		{"custom lower", "cost/op", "lower", 1.2, 5, ChangeRegression, 1},
		// Nothing gated: --fail-on regression cannot say OK.
		{"unknown direction", "widgets/op", "", 1.5, 5, ChangeDirectionUnknown, 2},
		// A count spreading by 2% on each side is not deterministic: a
		// shift within its noise is shown with statistics, not gated (and
		// nothing else is gated here); a shift that takes every value
		// beyond the other side's by more than either side's range is.
		{"noisy count", "epc_loads/op", "", 1.015, 5, ChangeNotGated, 2},
		{"noisy count moved beyond its spread", "epc_loads/op", "", 1.2, 5, ChangeRegression, 1},
		{"same", "ns/op", "", 1, 5, ChangeNotSignificant, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := mustRead(t, write(c.unit, c.better, base), "old")
			new := mustRead(t, write(c.unit, c.better, scale(c.factor)), "new")
			o := gate()
			o.MinEffect = c.minEffect
			rep, err := Compare(old, new, o)
			if err != nil {
				t.Fatal(err)
			}
			row := rep.Tables[0].Rows[0]
			if row.Change != c.want || rep.Verdict.ExitCode != c.exit {
				t.Fatalf("change %s exit %d, want %s exit %d (row %+v)", row.Change, rep.Verdict.ExitCode, c.want, c.exit, row)
			}
		})
	}
}

func TestFailOnNoneExitsZero(t *testing.T) {
	old := mustRead(t, "BenchmarkX/mode=native 1 100 ns/op\n"+strings.Repeat("BenchmarkX/mode=native 1 100 ns/op\n", 7), "old")
	new := mustRead(t, strings.Repeat("BenchmarkX/mode=native 1 200 ns/op\n", 8), "new")
	rep, _ := Compare(old, new, DefaultOptions())
	if rep.Verdict.Status != StatusRegression || rep.Verdict.ExitCode != 0 {
		t.Fatalf("status %s exit %d, want regression with exit 0 under --fail-on none", rep.Verdict.Status, rep.Verdict.ExitCode)
	}
}

// TestMatching: modes, sizes and cost profiles are never compared across
// unless ignored, and the reason says so; one-sided cells are listed.
func TestMatching(t *testing.T) {
	vals := func(key string, v float64, extra string) string {
		return extra + strings.Repeat(fmt.Sprintf("Benchmark%s 1 %g ns/op\n", key, v), 6)
	}
	nat := vals("W/p=1/size=DC1s_v2/mode=native", 100, "")
	sim := vals("W/p=1/size=DC1s_v2/mode=sim", 100, "cost-profile: hotcalls/v1\n")
	sim2 := vals("W/p=1/size=DC1s_v2/mode=sim", 100, "cost-profile: hotcalls/v2\n")
	big := vals("W/p=1/size=DC4s_v2/mode=native", 100, "")
	t.Run("modes differ", func(t *testing.T) {
		rep, _ := Compare(mustRead(t, nat, "old"), mustRead(t, sim, "new"), gate())
		if rep.Verdict.ExitCode != ExitBadInput || len(rep.Unmatched) != 2 {
			t.Fatalf("exit %d unmatched %+v", rep.Verdict.ExitCode, rep.Unmatched)
		}
		if !strings.Contains(rep.Unmatched[0].Reason, "--ignore mode") || !strings.Contains(rep.Verdict.Summary, "--ignore mode") {
			t.Fatalf("reason does not say how: %q / %q", rep.Unmatched[0].Reason, rep.Verdict.Summary)
		}
		o := gate()
		o.Ignore = []string{"mode"}
		sgx := vals("W/p=1/size=DC1s_v2/mode=sgx", 100, "")
		rep, _ = Compare(mustRead(t, nat, "old"), mustRead(t, sgx, "new"), o)
		if rep.Verdict.ExitCode != ExitOK || len(rep.Tables) != 1 || rep.Tables[0].Rows[0].Cell != "W/p=1/size=DC1s_v2" ||
			rep.Tables[0].Rows[0].NewCell != "W/p=1/size=DC1s_v2/mode=sgx" {
			t.Fatalf("with --ignore mode: %+v", rep)
		}
		// A sim prediction is never compared with a measurement: its
		// slowdown is over its own measured base (Report.Models).
		rep, _ = Compare(mustRead(t, nat, "old"), mustRead(t, sim, "new"), o)
		if rep.Verdict.ExitCode != ExitBadInput || len(rep.Tables) != 0 || len(rep.Refused) != 1 ||
			!strings.Contains(rep.Refused[0].Reason, "own measured base") {
			t.Fatalf("native against sim with --ignore mode: %+v", rep)
		}
	})
	t.Run("sizes differ", func(t *testing.T) {
		rep, _ := Compare(mustRead(t, nat, "old"), mustRead(t, big, "new"), gate())
		if rep.Verdict.ExitCode != ExitBadInput || !strings.Contains(rep.Unmatched[0].Reason, "--ignore size") {
			t.Fatalf("exit %d unmatched %+v", rep.Verdict.ExitCode, rep.Unmatched)
		}
		o := gate()
		o.Ignore = []string{"size"}
		rep, _ = Compare(mustRead(t, nat, "old"), mustRead(t, big, "new"), o)
		if rep.Verdict.ExitCode != ExitOK {
			t.Fatalf("with --ignore size: %+v", rep.Verdict)
		}
	})
	t.Run("profiles differ", func(t *testing.T) {
		rep, _ := Compare(mustRead(t, sim, "old"), mustRead(t, sim2, "new"), gate())
		if rep.Verdict.ExitCode != ExitBadInput || len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0].Reason, "hotcalls/v1") {
			t.Fatalf("exit %d refused %+v", rep.Verdict.ExitCode, rep.Refused)
		}
		o := gate()
		o.Ignore = []string{"profile"}
		rep, _ = Compare(mustRead(t, sim, "old"), mustRead(t, sim2, "new"), o)
		if rep.Verdict.ExitCode != ExitOK || len(rep.Tables) != 1 {
			t.Fatalf("with --ignore profile: %+v", rep.Verdict)
		}
	})
	t.Run("collision", func(t *testing.T) {
		o := gate()
		o.Ignore = []string{"mode"}
		rep, _ := Compare(mustRead(t, nat+sim, "old"), mustRead(t, nat, "new"), o)
		if rep.Verdict.ExitCode != ExitBadInput || !strings.Contains(rep.Verdict.Summary, "two cells") {
			t.Fatalf("verdict %+v", rep.Verdict)
		}
	})
	t.Run("one side only", func(t *testing.T) {
		other := vals("V/size=DC1s_v2/mode=native", 5, "")
		rep, _ := Compare(mustRead(t, nat, "old"), mustRead(t, nat+other, "new"), gate())
		if rep.Verdict.ExitCode != ExitBadInput || len(rep.Unmatched) != 1 || rep.Unmatched[0].Side != "new" ||
			rep.Unmatched[0].Cell != "V/size=DC1s_v2/mode=native" {
			t.Fatalf("exit %d unmatched %+v", rep.Verdict.ExitCode, rep.Unmatched)
		}
		o := gate()
		o.AllowUnmatched = true
		rep, _ = Compare(mustRead(t, nat, "old"), mustRead(t, nat+other, "new"), o)
		if rep.Verdict.ExitCode != ExitOK || len(rep.Unmatched) != 1 {
			t.Fatalf("--allow-unmatched: exit %d unmatched %+v", rep.Verdict.ExitCode, rep.Unmatched)
		}
		var b bytes.Buffer
		WriteText(&b, rep)
		if !strings.Contains(b.String(), "V/size=DC1s_v2/mode=native") {
			t.Fatalf("the one-sided cell is not listed:\n%s", b.String())
		}
	})
	t.Run("unit on one side", func(t *testing.T) {
		withMB := strings.Repeat("BenchmarkW/p=1/size=DC1s_v2/mode=native 1 100 ns/op 5 MB/s\n", 6)
		rep, _ := Compare(mustRead(t, nat, "old"), mustRead(t, withMB, "new"), gate())
		if rep.Verdict.ExitCode != ExitBadInput || len(rep.Unmatched) != 1 || rep.Unmatched[0].Unit != "MB/s" {
			t.Fatalf("exit %d unmatched %+v", rep.Verdict.ExitCode, rep.Unmatched)
		}
	})
}

func TestAdjustment(t *testing.T) {
	// Three rows with p = 0.04, 0.01, 0.02: Holm gives 0.04, 0.03, 0.04;
	// Benjamini-Hochberg 0.04, 0.03, 0.03; none leaves them.
	for _, c := range []struct {
		correction string
		want       []float64
	}{
		{CorrectionHolm, []float64{0.04, 0.03, 0.04}},
		{CorrectionBH, []float64{0.04, 0.03, 0.03}},
		{CorrectionNone, []float64{0.04, 0.01, 0.02}},
	} {
		rep := &Report{Tables: []Table{{Unit: "ns/op", Better: protocol.Lower, Rows: []Row{
			{P: 0.04, Significant: true, DeltaPct: 10, Gate: GateTime}, {P: 0.01, Significant: true, DeltaPct: 10, Gate: GateTime},
			{P: 0.02, Significant: true, DeltaPct: 10, Gate: GateTime},
		}}}}
		o := gate()
		o.Correction = c.correction
		classify(rep, o)
		got := []float64{float64(rep.Tables[0].Rows[0].PAdjusted), float64(rep.Tables[0].Rows[1].PAdjusted), float64(rep.Tables[0].Rows[2].PAdjusted)}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("%s: adjusted %v, want %v", c.correction, got, c.want)
				break
			}
		}
	}
}

func TestMinUTestP(t *testing.T) {
	// benchmath's table for equal sizes.
	for n, want := range map[int]float64{4: 0.02857142857142857, 6: 0.0021645021645021645, 9: 4.113533525298231e-05} {
		if got := minUTestP(n, n); math.Abs(got-want)/want > 1e-9 {
			t.Errorf("minUTestP(%d, %d) = %v, want %v", n, n, got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	old := mustRead(t, synthBench(rng, 6, "", 1), "old.txt")
	new := mustRead(t, synthBench(rng, 6, "Syscall/call=read", 1.5), "new.txt")
	rep, err := Compare(old, new, gate())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Write(&b, rep, f); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		switch f {
		case FormatText:
			if !strings.HasPrefix(out, "verdict: ") {
				t.Errorf("text does not start with the verdict:\n%s", out)
			}
		case FormatMarkdown:
			if !strings.HasPrefix(out, MarkdownMarker+"\n### enclavebench: ") || !strings.Contains(out, "|:--|--:|") {
				t.Errorf("markdown:\n%s", out)
			}
		case FormatJSON:
			back, err := ReadJSON(&b)
			if err != nil {
				t.Fatal(err)
			}
			if back.Verdict.Status != rep.Verdict.Status || len(back.Tables) != len(rep.Tables) {
				t.Errorf("json round trip: %+v", back.Verdict)
			}
		}
		if strings.Index(out, "Syscall/call=read/size=DC1s_v2") < 0 {
			t.Errorf("%s output lacks the slowed cell", f)
		}
	}
	if err := Write(&bytes.Buffer{}, rep, "yaml"); err == nil {
		t.Error("format yaml accepted")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []func(*Options){
		func(o *Options) { o.Alpha = 0 },
		func(o *Options) { o.Alpha = 1 },
		func(o *Options) { o.MinEffect = -1 },
		func(o *Options) { o.MinEffect = math.NaN() },
		func(o *Options) { o.Correction = "bonferroni" },
		func(o *Options) { o.FailOn = "improvement" },
		func(o *Options) { o.Ignore = []string{"host"} },
	} {
		opts := DefaultOptions()
		o(&opts)
		if opts.Validate() == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
	if _, err := ParseIgnore([]string{"mode,size", "profile", "mode"}); err != nil {
		t.Error(err)
	}
}

// TestWarnings: one run per side and different CPU models are named.
func TestWarnings(t *testing.T) {
	one := func(run, cpu string) string {
		return "cpu: " + cpu + "\nenclavebench-run: " + run + "\n" + strings.Repeat("BenchmarkA/size=S/mode=native 1 100 ns/op\n", 6)
	}
	rep, _ := Compare(mustRead(t, one("r1", "X"), "old"), mustRead(t, one("r2", "Y"), "new"), gate())
	w := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(w, "from one run (one process) per side") || !strings.Contains(w, "old ran on X, new on Y") {
		t.Fatalf("warnings: %s", w)
	}
	pooled, _ := poolText(t, "old", one("r1", "X"), one("r3", "X"))
	rep, _ = Compare(pooled, mustRead(t, one("r2", "X"), "new"), gate())
	if w := strings.Join(rep.Warnings, "\n"); strings.Contains(w, "one run") || strings.Contains(w, "ran on") {
		t.Fatalf("warnings for pooled rounds on one CPU: %s", w)
	}
	if c := pooled.Cell("A/size=S/mode=native"); len(c.Runs) != 2 || len(c.Values["ns/op"]) != 12 {
		t.Fatalf("pooled cell: %d runs, %d values", len(c.Runs), len(c.Values["ns/op"]))
	}
}
