package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// countBench writes n samples of one cell whose time is lognormal with 20%
// noise around 1000*timeF ns/op, with syscalls/op exactly sys (a
// deterministic count) and minflt/op noisy around flt; withCounts false
// leaves the counts out (a time-only input).
func countBench(rng *rand.Rand, n int, timeF, sys, flt float64, withCounts bool) string {
	var b strings.Builder
	sigma := math.Sqrt(math.Log(1 + 0.2*0.2))
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "BenchmarkSyscall/call=clock/size=DC1s_v2/mode=native 1000 %.6g ns/op", 1000*timeF*math.Exp(sigma*rng.NormFloat64()))
		if withCounts {
			fmt.Fprintf(&b, " %.6g syscalls/op %.6g minflt/op", sys, flt*(1+0.1*rng.NormFloat64()))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestCountRegressionTimeCannotSee: a build that makes 3% more system calls
// per operation, 3% slower in time through 20% noise: the deterministic
// count flags it (exit 1) and says what time said; the same times without
// the counts pass the gate. A noisy count (minor faults, 10% spread) is
// shown with statistics and never gated.
func TestCountRegressionTimeCannotSee(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 18))
	seed := rng.Uint64()
	read := func(name string, timeF, sys, flt float64, counts bool) *Set {
		r := rand.New(rand.NewPCG(seed, uint64(len(name))))
		return mustRead(t, countBench(r, 10, timeF, sys, flt, counts), name)
	}
	rep, err := Compare(read("old", 1, 1, 40, true), read("new!", 1.03, 1.03, 46, true), gate())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.ExitCode != ExitRegression || len(rep.Verdict.Regressions) != 1 {
		t.Fatalf("exit %d, regressions %+v: %s", rep.Verdict.ExitCode, rep.Verdict.Regressions, rep.Verdict.Summary)
	}
	r := rep.Verdict.Regressions[0]
	if r.Unit != "syscalls/op" || r.Gate != GateCount || !strings.HasPrefix(r.Time, "time not significant") {
		t.Errorf("flagged %+v, want syscalls/op as a count, beside \"time not significant\"", r)
	}
	for _, tb := range rep.Tables {
		for _, row := range tb.Rows {
			switch tb.Unit {
			case "minflt/op":
				if row.Gate != GateNone || row.Spread == nil || row.Spread.Deterministic {
					t.Errorf("minflt/op: gate %q spread %+v: a noisy count must not be gated", row.Gate, row.Spread)
				}
			case "syscalls/op":
				if row.Spread == nil || !row.Spread.Deterministic || row.Spread.Old != 0 {
					t.Errorf("syscalls/op spread %+v, want deterministic", row.Spread)
				}
			}
		}
	}
	var text strings.Builder
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "syscalls/op  +3.00%  (deterministic count; time not significant") {
		t.Errorf("text report does not show the count beside the time verdict:\n%s", text.String())
	}

	timeOnly, _ := Compare(read("old", 1, 1, 40, false), read("new!", 1.03, 1.03, 46, false), gate())
	if timeOnly.Verdict.ExitCode != ExitOK {
		t.Fatalf("time only: exit %d (%s), want 0: the test's time change should be invisible", timeOnly.Verdict.ExitCode, timeOnly.Verdict.Summary)
	}

	// Below the threshold (+0.5% with --count-threshold 1) is no regression.
	small, _ := Compare(read("old", 1, 1, 40, true), read("new!", 1, 1.005, 40, true), gate())
	if small.Verdict.ExitCode != ExitOK {
		t.Errorf("+0.5%% syscalls/op: exit %d (%s), want 0", small.Verdict.ExitCode, small.Verdict.Summary)
	}
}

func TestSpreadPct(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		want float64
	}{
		{[]float64{5, 5, 5}, 0},
		{[]float64{99, 100, 101}, 2},
		{[]float64{0, 0}, 0},
		{[]float64{0, 0, 1}, math.Inf(1)},
		{nil, math.Inf(1)},
	} {
		if got := spreadPct(c.vals); math.Abs(got-c.want) > 1e-9 && got != c.want {
			t.Errorf("spreadPct(%v) = %v, want %v", c.vals, got, c.want)
		}
	}
}

// TestCountingPassNeedsPasses: the counting pass's events (instructions/op)
// carry K values per run and cell (enclavebench-count-values; one in runs
// from before), on the samples in turn, so their spread is judged over
// those: one value a side is shown, not gated, whatever the change; three a
// side within the bound gate, whether from three runs or from one run with
// three values; a run with fewer samples than values has as many values as
// samples.
func TestCountingPassNeedsPasses(t *testing.T) {
	side := func(runs, k, samples int, instr float64, tag string) *Set {
		var b strings.Builder
		for r := 0; r < runs; r++ {
			fmt.Fprintf(&b, "enclavebench-run: %s-%d\n", tag, r)
			if k > 0 {
				fmt.Fprintf(&b, "enclavebench-count-values: %d\n", k)
			}
			for i := 0; i < samples; i++ {
				fmt.Fprintf(&b, "BenchmarkX/size=S/mode=native 1000 %d ns/op %.6g instructions/op\n", 1000+i*100, instr*(1+0.001*float64(r+i%max(k, 1))))
			}
		}
		return mustRead(t, b.String(), tag)
	}
	for _, c := range []struct {
		name          string
		runs, k, reps int
		indep         int
	}{
		{"one run, one value", 1, 0, 4, 1},
		{"one run, three values, two samples", 1, 3, 2, 2},
		{"three runs, one value", 3, 0, 4, 3},
		{"one run, three values", 1, 3, 4, 3},
		{"two runs, three values", 2, 3, 4, 6},
	} {
		rep, err := Compare(side(c.runs, c.k, c.reps, 1000, "a"), side(c.runs, c.k, c.reps, 1050, "b"), gate())
		if err != nil {
			t.Fatal(err)
		}
		row := rep.Tables[1].Rows[0]
		if rep.Tables[1].Unit != "instructions/op" || row.Spread.IndependentOld != c.indep || row.Spread.IndependentNew != c.indep {
			t.Errorf("%s: unit %s spread %+v, want %d independent values a side", c.name, rep.Tables[1].Unit, row.Spread, c.indep)
			continue
		}
		if c.indep < MinCountSamples {
			if row.Gate != GateNone || !strings.Contains(row.GateNote, fmt.Sprintf("%d+%d independent value(s)", c.indep, c.indep)) || len(rep.Verdict.Regressions) != 0 {
				t.Errorf("%s: gate %q note %q regressions %+v: want shown, not gated", c.name, row.Gate, row.GateNote, rep.Verdict.Regressions)
			}
		} else if row.Gate != GateCount || rep.Verdict.ExitCode != ExitRegression {
			t.Errorf("%s: gate %q spread %+v exit %d: want a count regression", c.name, row.Gate, row.Spread, rep.Verdict.ExitCode)
		}
	}
	// A count that spreads (2% over one process's values, the syscall
	// cells' segments) and moved beyond its spread: with one process a
	// side it must move OneProcessSeparationFactor times its spread
	// (+17% could be drift between processes, +100% not); with three runs
	// a side SeparationFactor times.
	noisy := func(runs int, instr float64, tag string) *Set {
		var b strings.Builder
		for r := 0; r < runs; r++ {
			fmt.Fprintf(&b, "enclavebench-run: %s-%d\nenclavebench-count-values: 3\n", tag, r)
			for i := 0; i < 6; i++ {
				fmt.Fprintf(&b, "BenchmarkX/size=S/mode=native 1000 %d ns/op %.6g instructions/op\n", 1000+i*100, instr*(1+0.01*float64(i%3)))
			}
		}
		return mustRead(t, b.String(), tag)
	}
	for _, c := range []struct {
		runs  int
		new   float64
		gated bool
	}{{1, 350, false}, {1, 600, true}, {3, 350, true}} {
		rep, err := Compare(noisy(c.runs, 300, "a"), noisy(c.runs, c.new, "b"), gate())
		if err != nil {
			t.Fatal(err)
		}
		row := rep.Tables[1].Rows[0]
		if gated := row.Gate == GateCount && row.Spread.Separated; gated != c.gated {
			t.Errorf("%d run(s) a side, a 2%%-spread count 300 -> %g: gate %q spread %+v; want gated %v", c.runs, c.new, row.Gate, row.Spread, c.gated)
		}
	}
	if _, err := ReadBenchfmt(strings.NewReader("enclavebench-run: a\nenclavebench-count-values: 0\nBenchmarkX/size=S/mode=native 1000 1 ns/op\n"), "bad"); err == nil || !strings.Contains(err.Error(), "enclavebench-count-values") {
		t.Errorf("enclavebench-count-values: 0 read with error %v, want it refused", err)
	}
}

// TestCountingPassOnOneSide: counts of the counting pass on one side only
// (no --counts or no valgrind there) are a warning, not bad input: the
// gate reads time.
func TestCountingPassOnOneSide(t *testing.T) {
	var with, without strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&with, "BenchmarkX/size=S/mode=native 1000 %d ns/op 250 instructions/op\n", 1000+i)
		fmt.Fprintf(&without, "BenchmarkX/size=S/mode=native 1000 %d ns/op\n", 1000+i)
	}
	for _, c := range []struct{ old, new string }{{with.String(), without.String()}, {without.String(), with.String()}} {
		rep, _ := Compare(mustRead(t, c.old, "old"), mustRead(t, c.new, "new"), gate())
		if rep.Verdict.ExitCode != ExitOK || !strings.Contains(strings.Join(rep.Warnings, "\n"), "counting pass's counts") {
			t.Errorf("exit %d (%s), warnings %q: want 0 with a warning", rep.Verdict.ExitCode, rep.Verdict.Summary, rep.Warnings)
		}
	}
}

// TestTwoCacheModels: a baseline counted without the prefetcher model
// (ll_misses) against a candidate counted with it (ll_misses_pf): 32x
// fewer misses is not an improvement, nor the other way a regression; the
// two are never compared, the warning says why and how to gate them, and
// instructions, counted alike on both sides, still gate (+5% flagged).
func TestTwoCacheModels(t *testing.T) {
	side := func(tag, ll string, llv, instr float64) *Set {
		var b strings.Builder
		for r := 0; r < 3; r++ {
			fmt.Fprintf(&b, "enclavebench-run: %s-%d\nenclavebench-count-values: 3\n", tag, r)
			for i := 0; i < 6; i++ {
				fmt.Fprintf(&b, "BenchmarkX/size=S/mode=native 1000 %d ns/op %g instructions/op %g %s/op\n", 1000+i*10, instr, llv, ll)
			}
		}
		return mustRead(t, b.String(), tag)
	}
	for _, c := range []struct {
		name     string
		old, new *Set
		exit     int
	}{
		{"old counts without, new with the prefetcher", side("a", "ll_misses", 1, 300), side("b", "ll_misses_pf", 0.0315, 300), ExitOK},
		{"old with, new without", side("a", "ll_misses_pf", 0.0315, 300), side("b", "ll_misses", 1, 300), ExitOK},
		{"instructions still gate", side("a", "ll_misses", 1, 300), side("b", "ll_misses_pf", 0.0315, 315), ExitRegression},
	} {
		rep, err := Compare(c.old, c.new, gate())
		if err != nil {
			t.Fatal(err)
		}
		warn := strings.Join(rep.Warnings, "\n")
		if rep.Verdict.ExitCode != c.exit || !strings.Contains(warn, "count misses of two cache models: not compared against each other") || strings.Contains(warn, "are in old only") || strings.Contains(warn, "are in new only") {
			t.Errorf("%s: exit %d (%s), warnings %q: want exit %d and the two-models warning only", c.name, rep.Verdict.ExitCode, rep.Verdict.Summary, rep.Warnings, c.exit)
		}
		for _, tb := range rep.Tables {
			if tb.Unit == "ll_misses/op" || tb.Unit == "ll_misses_pf/op" {
				t.Errorf("%s: a table of %s: one cache model compared against the other", c.name, tb.Unit)
			}
		}
	}
}

// A baseline counted before ll_misses_stream against a candidate that has
// it: the split is not compared and says so, its total (ll_misses_pf) and
// the other counts still gate, and the counts are not called one-sided.
func TestStreamedMissesOnOneSide(t *testing.T) {
	side := func(tag string, pf float64, stream bool) *Set {
		var b strings.Builder
		for r := 0; r < 3; r++ {
			fmt.Fprintf(&b, "enclavebench-run: %s-%d\nenclavebench-count-values: 3\n", tag, r)
			for i := 0; i < 6; i++ {
				fmt.Fprintf(&b, "BenchmarkX/size=S/mode=native 1000 %d ns/op 300 instructions/op %g ll_misses_pf/op", 1000+i*10, pf)
				if stream {
					fmt.Fprintf(&b, " %g ll_misses_stream/op", pf*0.98)
				}
				b.WriteString("\n")
			}
		}
		return mustRead(t, b.String(), tag)
	}
	for _, c := range []struct {
		name     string
		old, new *Set
		exit     int
	}{
		{"old without the split, new with it", side("a", 0.0316, false), side("b", 0.0316, true), ExitOK},
		{"old with, new without", side("a", 0.0316, true), side("b", 0.0316, false), ExitOK},
		{"ll_misses_pf still gates", side("a", 0.0316, false), side("b", 0.04, true), ExitRegression},
	} {
		rep, err := Compare(c.old, c.new, gate())
		if err != nil {
			t.Fatal(err)
		}
		warn := strings.Join(rep.Warnings, "\n")
		if rep.Verdict.ExitCode != c.exit || !strings.Contains(warn, "ll_misses_stream/op (the streamed part of ll_misses_pf/op) is in") ||
			strings.Contains(warn, "are in old only") || strings.Contains(warn, "are in new only") {
			t.Errorf("%s: exit %d (%s), warnings %q: want exit %d and the split's warning only", c.name, rep.Verdict.ExitCode, rep.Verdict.Summary, rep.Warnings, c.exit)
		}
	}
}

// TestBenchmemPerRun: -benchmem's B/op and allocs/op divide what a benchmark
// allocates outside its loop by b.N, which the harness calibrates once per
// run, so every repetition of one run agrees exactly while two runs of one
// build do not (seen with --gotest: B/op +425% between two runs of the same
// build). One run a side is no basis for a count verdict; several runs
// whose figures agree are.
func TestBenchmemPerRun(t *testing.T) {
	side := func(runs int, bop float64, tag string) *Set {
		var b strings.Builder
		for r := 0; r < runs; r++ {
			fmt.Fprintf(&b, "enclavebench-run: %s-%d\n", tag, r)
			for i := 0; i < 8; i++ {
				fmt.Fprintf(&b, "BenchmarkX/size=S/mode=native 1000 %d ns/op %.6g B/op 2 allocs/op\n", 1000+i, bop)
			}
		}
		return mustRead(t, b.String(), tag)
	}
	one, err := Compare(side(1, 96, "a"), side(1, 504, "b"), gate())
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Verdict.Regressions) != 0 {
		t.Fatalf("one run a side, B/op 96 -> 504 with every repetition equal: flagged %+v; a b.N-dependent figure of one run is not deterministic", one.Verdict.Regressions)
	}
	for _, tb := range one.Tables {
		if tb.Unit == "B/op" && (tb.Rows[0].Gate != GateNone || !strings.Contains(tb.Rows[0].GateNote, "b.N is calibrated")) {
			t.Errorf("B/op row: gate %q note %q, want shown, not gated, saying why", tb.Rows[0].Gate, tb.Rows[0].GateNote)
		}
	}
	three, err := Compare(side(3, 96, "a"), side(3, 504, "b"), gate())
	if err != nil {
		t.Fatal(err)
	}
	if three.Verdict.ExitCode != ExitRegression {
		t.Errorf("three runs a side that agree, B/op 96 -> 504: exit %d (%s), want a count regression", three.Verdict.ExitCode, three.Verdict.Summary)
	}
}

// TestCountingPassValuesInDir: a result directory whose run.json says the
// counting pass gave 3 values per cell (counts.values), on the samples in
// turn, gates its instructions/op from one run a side, the shape of the
// shipped workflow's single `bench run --baseline --counts`; the same
// directories without counts.values (runs from before) do not; and
// bench.txt carries the figure for readers of the file alone.
func TestCountingPassValuesInDir(t *testing.T) {
	write := func(dir, side string, k int, instr float64) {
		t.Helper()
		st, err := result.OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		run := &result.Run{SchemaVersion: result.SchemaVersion, Facts: &result.Facts{}, ID: "ab", Status: "complete", Start: time.Unix(0, 0).UTC(),
			Plan:  result.Plan{Spec: runspec.Spec{Workloads: []string{"a"}, Sizes: []string{"S"}, Modes: []string{"native"}, Profile: "quick", Reps: 6, Counts: true}},
			Host:  host.Fingerprint{OS: "linux", Arch: "amd64"},
			Build: &result.Build{Side: side, WorkloadBin: "/bin/" + side, SHA256: strings.Repeat("0", 64)}}
		if k > 0 {
			run.Counts = &result.Counts{Tool: "valgrind-test", Values: k}
		}
		if err := st.WriteRun(run); err != nil {
			t.Fatal(err)
		}
		key := "A/size=S/mode=native"
		for i := 0; i < 6; i++ {
			perOp := instr * (1 + 0.001*float64(i%3))
			s := &result.Sample{Cell: key, Attempt: 1, Workload: "a", Size: "S", Mode: "native", Rep: i, Iters: 1000, ElapsedNS: int64(1000 * (100 + i)), Time: time.Unix(0, 0).UTC(),
				Values: []protocol.Value{{Value: float64(100 + i), Unit: "ns/op", Better: protocol.Lower}},
				Events: map[string]int64{result.EventInstructions: int64(math.Round(perOp * 1000))}}
			if err := st.AppendSample(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.AppendCell(&result.CellResult{Cell: key, Attempt: 1, Workload: "a", Size: "S", Mode: "native", Status: result.StatusOK, Samples: 6}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []int{0, 3} {
		dir := t.TempDir()
		write(filepath.Join(dir, "base"), "base", k, 1000)
		write(filepath.Join(dir, "new"), "new", k, 1020) // +2% instructions
		old, new := loadBoth(t, filepath.Join(dir, "base"), filepath.Join(dir, "new"))
		rep, err := Compare(old, new, gate())
		if err != nil {
			t.Fatal(err)
		}
		var row *Row
		for i, tb := range rep.Tables {
			if tb.Unit == "instructions/op" {
				row = &rep.Tables[i].Rows[0]
			}
		}
		if row == nil {
			t.Fatalf("counts.values %d: no instructions/op table", k)
		}
		want := max(k, 1)
		if row.Spread.IndependentOld != want || (k == 3) != (row.Gate == GateCount) || (k == 3) != (rep.Verdict.ExitCode == ExitRegression) {
			t.Errorf("counts.values %d: spread %+v gate %q exit %d (%s): want %d values a side, gated and flagged only with 3",
				k, row.Spread, row.Gate, rep.Verdict.ExitCode, rep.Verdict.Summary, want)
		}
		var b strings.Builder
		d, err := result.Load(filepath.Join(dir, "new"))
		if err != nil {
			t.Fatal(err)
		}
		if err := result.WriteBenchfmt(&b, &d.Run, d.Samples, nil); err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(b.String(), "enclavebench-count-values: 3\n"); has != (k == 3) {
			t.Errorf("counts.values %d: bench.txt has the config line: %v\n%s", k, has, b.String())
		}
	}
}
