// Package textfmt is how reports and comparisons print text and figures:
// one Markdown escaper for user-controlled strings and one number
// formatter for figures in their units (golang.org/x/perf/benchunit, as
// benchstat prints them), shared by report, compare and the run summary.
package textfmt

import (
	"math"
	"strings"

	"golang.org/x/perf/benchunit"
)

// Markdown makes a user-controlled string safe in Markdown text and table
// cells: no HTML, no table breaks, no emphasis, code or links, one line.
func Markdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '|', '\\', '`', '*', '_', '[', ']', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Figures formats values measured in unit the way benchstat does: the
// unit tidied (ns/op is sec/op) and one SI or IEC scale for all values,
// so they line up. It returns the formatted values ("?" for a value that
// is not finite) and the tidied unit.
func Figures(unit string, vals ...float64) ([]string, string) {
	_, tu := benchunit.Tidy(1, unit)
	tv := make([]float64, len(vals))
	var finite []float64
	for i, v := range vals {
		tv[i], _ = benchunit.Tidy(v, unit)
		if !math.IsNaN(tv[i]) && !math.IsInf(tv[i], 0) {
			finite = append(finite, tv[i])
		}
	}
	sc := benchunit.CommonScale(finite, benchunit.ClassOf(tu))
	out := make([]string, len(vals))
	for i, v := range tv {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out[i] = "?"
			continue
		}
		out[i] = sc.Format(v)
	}
	return out, tu
}

// Figure formats one value measured in unit with its tidied unit, as
// Figures does: "326.5n sec/op", "48.000M ops/s"; "—" when not finite.
func Figure(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	vals, tu := Figures(unit, v)
	return vals[0] + " " + tu
}

// OneLine folds runs of white space, newlines included, into single
// spaces (a CPU model or kernel string in a table or configuration line).
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// FirstLine is the first line of s without surrounding space (an error's
// or a failure reason's headline).
func FirstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
