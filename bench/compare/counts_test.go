package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
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
// carry one figure per run on every sample, so their spread is judged over
// runs: one run a side is shown, not gated, whatever the change; three runs
// a side within the bound gate.
func TestCountingPassNeedsPasses(t *testing.T) {
	side := func(runs int, instr float64, tag string) *Set {
		var b strings.Builder
		for r := 0; r < runs; r++ {
			fmt.Fprintf(&b, "enclavebench-run: %s-%d\n", tag, r)
			for i := 0; i < 4; i++ {
				fmt.Fprintf(&b, "BenchmarkX/size=S/mode=native 1000 %d ns/op %.6g instructions/op\n", 1000+i*100, instr*(1+0.001*float64(r)))
			}
		}
		return mustRead(t, b.String(), tag)
	}
	one, _ := Compare(side(1, 1000, "a"), side(1, 1050, "b"), gate())
	row := one.Tables[1].Rows[0]
	if one.Tables[1].Unit != "instructions/op" || row.Gate != GateNone || !strings.Contains(row.GateNote, "1+1 run(s)") || len(one.Verdict.Regressions) != 0 {
		t.Errorf("one pass a side: gate %q note %q regressions %+v: want shown, not gated", row.Gate, row.GateNote, one.Verdict.Regressions)
	}
	three, _ := Compare(side(3, 1000, "a"), side(3, 1050, "b"), gate())
	row = three.Tables[1].Rows[0]
	if row.Gate != GateCount || row.Spread.IndependentOld != 3 || three.Verdict.ExitCode != ExitRegression {
		t.Errorf("three passes a side: gate %q spread %+v exit %d: want a count regression", row.Gate, row.Spread, three.Verdict.ExitCode)
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
