package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// scaleBench writes n samples per cell of the README's CI scale: syscall
// (3 calls) and memsweep (6 working sets x 2 access orders) on 4 sizes,
// 60 cells, memsweep also in MB/s (derived from the same samples: 108
// rows with a direction). Times are lognormal with a 5-30% coefficient of
// variation; the cells whose key has prefix slow are slow times slower.
func scaleBench(rng *rand.Rand, n int, slow string, factor float64) string {
	var b strings.Builder
	b.WriteString("Unit MB/s better=higher\n")
	for _, size := range []string{"DC1s_v2", "DC2s_v2", "DC4s_v2", "DC8_v2"} {
		var cells []string
		for _, call := range []string{"read", "sendrecv", "clock"} {
			cells = append(cells, "Syscall/call="+call)
		}
		for _, ws := range []string{"0.15xEPC", "0.4xEPC", "0.7xEPC", "1.1xEPC", "1.5xEPC", "2xEPC"} {
			for _, acc := range []string{"seq", "random"} {
				cells = append(cells, "Memsweep/ws="+ws+"/access="+acc+"/op=read")
			}
		}
		for i, c := range cells {
			key := c + "/size=" + size + "/mode=native"
			f := 1.0
			if slow != "" && strings.HasPrefix(key, slow) {
				f = factor
			}
			cv := 0.05 + 0.25*float64(i%5)/4
			sigma := math.Sqrt(math.Log(1 + cv*cv))
			for j := 0; j < n; j++ {
				ns := 100 * float64(i+1) * f * math.Exp(sigma*rng.NormFloat64())
				fmt.Fprintf(&b, "Benchmark%s 1000 %.6g ns/op", key, ns)
				if strings.HasPrefix(c, "Memsweep") {
					fmt.Fprintf(&b, " %.6g MB/s", 64/ns*1e3)
				}
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

const oneCell = "Memsweep/ws=0.7xEPC/access=random/op=read/size=DC2s_v2/"

// TestScaleOneCellSlowdown: at the README's CI scale (60 cells, 108 rows
// with a direction) one cell made 2x slower is flagged, alone, with exit 1
// in at least 19 of 20 comparisons at 10 samples a side (24% noise on that cell); the same data
// without the slowdown raises at most 1 false alarm in 20. Before the gate
// read one timed row per cell under Benjamini-Hochberg, Holm over 108 rows
// needed p <= 0.00046, which 6+6 samples can never reach (0.0022).
func TestScaleOneCellSlowdown(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 1))
	found, alarms := 0, 0
	for i := 0; i < 20; i++ {
		old := mustRead(t, scaleBench(rng, 10, "", 1), "old")
		rep, err := Compare(old, mustRead(t, scaleBench(rng, 10, oneCell, 2), "new"), gate())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Power.TimeRows != 60 || !rep.Power.CanFlagOne {
			t.Fatalf("power %+v, want 60 timed rows that can each be flagged", rep.Power)
		}
		for _, r := range rep.Verdict.Regressions {
			if !strings.HasPrefix(r.Cell, oneCell) || r.Unit != "ns/op" {
				t.Errorf("comparison %d: %s %s flagged, only %s ns/op is slower", i, r.Cell, r.Unit, oneCell)
			}
		}
		if rep.Verdict.ExitCode == ExitRegression {
			found++
		}
		aa, _ := Compare(old, mustRead(t, scaleBench(rng, 10, "", 1), "new"), gate())
		switch aa.Verdict.ExitCode {
		case ExitRegression:
			alarms++
		case ExitBadInput:
			t.Fatalf("A/A: bad input: %s", aa.Verdict.Summary)
		}
	}
	t.Logf("one cell 2x slower among 60: found in %d of 20; A/A false alarms %d of 20", found, alarms)
	if found < 19 || alarms > 1 {
		t.Fatalf("found %d of 20 (want >= 19), false alarms %d of 20 (want <= 1)", found, alarms)
	}
}

// TestBlindGateRefuses: with 6+6 samples and 60 timed rows a regression of
// one cell cannot reach p <= 0.05/60, so the gate says so before any
// verdict and exits 2 with the samples needed (7 a side), rather than "OK".
// A slowdown of many cells is still found (exit 1): Benjamini-Hochberg
// lowers the bar as discoveries add up.
func TestBlindGateRefuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2))
	old := mustRead(t, scaleBench(rng, 6, "", 1), "old")
	rep, err := Compare(old, mustRead(t, scaleBench(rng, 6, oneCell, 2), "new"), gate())
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Power
	if p.CanFlagOne || p.SamplesNeeded != 7 || p.Blind != 60 || rep.Verdict.ExitCode != ExitBadInput {
		t.Fatalf("power %+v, verdict %+v: want a refusal (exit 2) asking for 7 samples a side", p, rep.Verdict)
	}
	if !strings.Contains(rep.Verdict.Summary, "cannot flag a regression of one cell") || !strings.Contains(rep.Verdict.Summary, "run 7 rounds") {
		t.Errorf("summary %q does not say why and what to do", rep.Verdict.Summary)
	}
	none := gate()
	none.FailOn = FailOnNone
	if r, _ := Compare(old, mustRead(t, scaleBench(rng, 6, "", 1), "new"), none); r.Verdict.ExitCode != ExitOK || r.Power.CanFlagOne {
		t.Errorf("--fail-on none: exit %d, power %+v: want exit 0 with the power stated", r.Verdict.ExitCode, r.Power)
	}

	all, _ := Compare(old, mustRead(t, scaleBench(rng, 6, "Memsweep/", 2), "new"), gate())
	if all.Verdict.ExitCode != ExitRegression || len(all.Verdict.Regressions) < 40 {
		t.Fatalf("all 48 memsweep cells 2x slower: exit %d, %d regressions: %s", all.Verdict.ExitCode, len(all.Verdict.Regressions), all.Verdict.Summary)
	}
	for _, r := range all.Verdict.Regressions {
		if !strings.HasPrefix(r.Cell, "Memsweep/") || r.Unit != "ns/op" {
			t.Errorf("%s %s flagged", r.Cell, r.Unit)
		}
	}
}

func TestSamplesNeeded(t *testing.T) {
	for _, c := range []struct {
		rows, want int
	}{{1, 4}, {11, 6}, {23, 6}, {24, 7}, {60, 7}, {86, 8}, {321, 8}, {322, 9}} {
		if got := SamplesNeeded(c.rows, gate()); got != c.want {
			t.Errorf("%d rows: %d samples a side, want %d", c.rows, got, c.want)
		}
	}
}

// TestDetectableRatio: the factor a timed row must grow by to be flagged
// alone follows the old side's spread: near the minimum effect for tight
// samples, near their range for wide ones, never for too few.
func TestDetectableRatio(t *testing.T) {
	o := gate()
	need := neededP(60, o)
	tight := []float64{100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1, 100.3, 99.9}
	if r := detectableRatio(tight, need, o); r != 1.05 {
		t.Errorf("tight: %v, want the minimum effect 1.05", r)
	}
	wide := []float64{100, 1000, 150, 700, 300, 900, 120, 500, 250, 800}
	if r := detectableRatio(wide, need, o); !(r > 3 && r <= 10.01) {
		t.Errorf("wide (10x range): %v, want between 3 and the range", r)
	}
	if r := detectableRatio([]float64{1, 2, 3}, need, o); !math.IsInf(r, 1) {
		t.Errorf("3 samples: %v, want +Inf (no factor reaches p <= %v)", r, need)
	}
}
