package stats

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	s := Summarize([]float64{10, 11, 9, 10, 10.5, 9.5})
	if s.N != 6 || s.Center != 10 || !(s.Lo <= 10 && s.Hi >= 10) {
		t.Errorf("Summarize = %+v", s)
	}
	if len(s.Warnings) != 0 {
		t.Errorf("unexpected warnings %v", s.Warnings)
	}
	few := Summarize([]float64{1, 2, 3})
	if len(few.Warnings) == 0 || !strings.Contains(strings.Join(few.Warnings, " "), "need >= 6 samples") {
		t.Errorf("3 samples: warnings %v, want benchmath's too-few warning", few.Warnings)
	}
	out := Summarize([]float64{10, 10, 10.1, 9.9, 10, 10.2, 9.8, 50})
	if out.Outliers != 1 {
		t.Errorf("outliers = %d, want 1", out.Outliers)
	}
	if none := Summarize(nil); none.N != 0 || len(none.Warnings) == 0 {
		t.Errorf("Summarize(nil) = %+v", none)
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	a := []float64{100, 101, 99, 100, 102, 98, 100, 101}
	b := []float64{120, 121, 119, 122, 118, 120, 121, 119}
	if c := Compare(a, b, 0.05); !c.Significant || c.P >= 0.05 || c.N1 != 8 || c.N2 != 8 {
		t.Errorf("a 20%% shift: %+v, want significant", c)
	}
	if c := Compare(a, a, 0.05); c.Significant {
		t.Errorf("identical samples: %+v, want not significant", c)
	}
}
