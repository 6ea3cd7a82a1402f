package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/sim/paired"
	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/bench/textfmt"
)

// fmtNum prints an amount that is not a measured figure (MiB of EPC)
// readably: 4 significant digits, thousands grouped, no exponent between
// 1e-4 and 1e12. Figures in their units go through textfmt.Figure.
func fmtNum(v float64) string {
	av := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 0):
		return "∞"
	case v == 0:
		return "0"
	case av >= 1e12 || av < 1e-4:
		return strconv.FormatFloat(v, 'e', 3, 64)
	case av >= 999.95:
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	}
	digits := 3 - int(math.Floor(math.Log10(av)))
	s := strconv.FormatFloat(v, 'f', max(digits, 0), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// group inserts thousands separators into an integer part.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if hasFrac {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// fmtCI prints the half-width of a median's interval relative to it.
func fmtCI(s stats.Summary) string {
	if s.N == 0 {
		return "—"
	}
	r := s.RelCI()
	if math.IsInf(r, 0) || math.IsNaN(r) || r > 10 {
		return "∞"
	}
	return fmt.Sprintf("±%.1f%%", 100*r)
}

// fmtRatio prints a ratio with its interval: "×0.431 [0.40, 0.47]".
func fmtRatio(r *Ratio) string {
	if r == nil {
		return "—"
	}
	if math.IsNaN(r.Ratio) {
		return "—"
	}
	s := "×" + fmtRatioNum(r.Ratio)
	if r.CI {
		s += " [" + fmtRatioNum(r.Lo) + ", " + fmtRatioNum(r.Hi) + "]"
	} else {
		s += " [no CI]"
	}
	return s
}

func fmtRatioNum(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "∞"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// fmtSlowdown prints a slowdown: "2.31× slower", "1.12× faster".
func fmtSlowdown(s float64) string {
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0) || s <= 0:
		return "—"
	case s >= 1:
		return paired.FormatSlowdown(s) + "× slower"
	}
	return fmtRatioNum(1/s) + "× faster"
}

// verdict prints the comparison's conclusion: the slowdown when the
// difference is significant, "~" (no significant difference) otherwise,
// always with p and n. A sim row's is its paired prediction (pairedVerdict).
func verdict(r *Ratio) string {
	if r == nil {
		return ""
	}
	if r.Against == AgainstPairs {
		return pairedVerdict(r)
	}
	p := fmt.Sprintf("p=%.3f n=%d+%d", r.P, r.N1, r.N2)
	if math.IsNaN(r.P) {
		p = fmt.Sprintf("n=%d+%d", r.N1, r.N2)
	}
	if !r.Significant {
		return "~ (" + p + ")"
	}
	return fmtSlowdown(r.Slowdown) + " (" + p + ")"
}

func fmtMiB(v float64) string {
	if v >= 1024 && math.Mod(v, 1024) == 0 {
		return strconv.FormatFloat(v/1024, 'f', -1, 64) + " GiB"
	}
	return fmtNum(v) + " MiB"
}

// fmtHeadroom prints a usable-EPC headroom ("84 MiB", "over by 28 MiB").
func fmtHeadroom(a Advice) string {
	if a.At == "" {
		return "—"
	}
	if !a.Known {
		return "footprint unknown"
	}
	if !a.UsableKnown {
		return "usable EPC not recorded (sim runs record it)"
	}
	return fmtHeadroomMiB(a.HeadroomMiB)
}

func fmtHeadroomMiB(h float64) string {
	if h < 0 {
		return "over by " + fmtMiB(-h)
	}
	return fmtMiB(h)
}

// fmtPct prints a fraction as a percentage without float noise: 0.2 -> "20%".
func fmtPct(f float64) string {
	return strconv.FormatFloat(math.Round(f*100*1000)/1000, 'f', -1, 64) + "%"
}

// fmtMedian prints a group's median ("—" without samples).
func fmtMedian(g *Group) string {
	if g.Summary.N == 0 {
		return "—"
	}
	return textfmt.Figure(g.Summary.Center, g.Unit)
}

// pairedVerdict prints a sim row's predicted slowdown over its own
// measured base, in the words every command uses (paired.Cell.Verdict):
// never "faster", since a prediction adds priced events to its base.
func pairedVerdict(r *Ratio) string { return r.Paired.Verdict() }
