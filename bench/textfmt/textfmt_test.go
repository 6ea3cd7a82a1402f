package textfmt

import (
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a|b<c>\n`d`", `a\|b&lt;c&gt; \` + "`" + `d\` + "`"},
		{"DC1s_v2 *x* [l](u) #h ~s~ !i & \\", `DC1s\_v2 \*x\* \[l\](u) \#h \~s\~ \!i &amp; \\`},
		{"tab\tcr\r", "tab cr "},
		{"plain 1.5×", "plain 1.5×"},
	} {
		got := Markdown(tc.in)
		if got != tc.want {
			t.Errorf("Markdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.ContainsAny(got, "\n\r<>") {
			t.Errorf("Markdown(%q) = %q keeps a line break or a tag", tc.in, got)
		}
	}
}

func TestFigures(t *testing.T) {
	for _, tc := range []struct {
		unit     string
		vals     []float64
		want     []string
		wantUnit string
	}{
		{"ns/op", []float64{326.5, 8805}, []string{"326.5n", "8805.0n"}, "sec/op"},
		{"MB/s", []float64{1500}, []string{"1.397Gi"}, "B/s"}, // bytes scale by 1024, as in benchstat
		{"ops/s", []float64{48e6, 2.5e6}, []string{"48.000M", "2.500M"}, "ops/s"},
	} {
		got, u := Figures(tc.unit, tc.vals...)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") || u != tc.wantUnit {
			t.Errorf("Figures(%s, %v) = %q %s, want %q %s", tc.unit, tc.vals, got, u, tc.want, tc.wantUnit)
		}
	}
	if got, _ := Figures("ns/op", 1, nan()); got[1] != "?" {
		t.Errorf("a value that is not finite prints %q", got[1])
	}
}

func nan() float64 { var z float64; return z / z }
