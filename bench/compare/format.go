package compare

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchunit"

	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Formats of a report.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// Formats lists the valid --format values.
var Formats = []string{FormatText, FormatMarkdown, FormatJSON}

// Write renders r in format.
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatText:
		return WriteText(w, r)
	case FormatMarkdown:
		return WriteMarkdown(w, r)
	case FormatJSON:
		return WriteJSON(w, r)
	}
	return fmt.Errorf("--format %q: want %s", format, strings.Join(Formats, ", "))
}

// MarkdownMarker starts every Markdown report, so that a CI job can find
// and update its earlier comment.
const MarkdownMarker = "<!-- enclavebench-compare -->"

// headline is the verdict's first line.
func headline(r *Report) string {
	v := r.Verdict
	switch v.Status {
	case StatusRegression:
		return "REGRESSION"
	case StatusBadInput:
		return "BAD INPUT"
	}
	return "OK"
}

// refLine describes a flagged row.
func refLine(x Ref) string {
	adj := ""
	if x.PAdjusted.Finite() && x.PAdjusted != x.P {
		adj = fmt.Sprintf(", adjusted p=%.3g", float64(x.PAdjusted))
	}
	if x.Gate == GateCount {
		return fmt.Sprintf("%s  %s  %s  (%s; %s)", x.Cell, x.Unit, pct(x.DeltaPct), x.Basis, x.Time)
	}
	return fmt.Sprintf("%s  %s  %s  (p=%.3g%s, n=%d+%d)", x.Cell, x.Unit, pct(x.DeltaPct), float64(x.P), adj, x.N1, x.N2)
}

// powerLine states what the gate could see, before the verdict's details.
func powerLine(r *Report) string {
	if r.Power == nil {
		return ""
	}
	return "gate: " + r.Power.Statement
}

func pct(n Num) string {
	f := float64(n)
	switch {
	case math.IsInf(f, 1):
		return "+inf%"
	case math.IsInf(f, -1):
		return "-inf%"
	case math.IsNaN(f):
		return "?"
	}
	return fmt.Sprintf("%+.2f%%", f)
}

func (r *Report) sideLine(name string, s Side) string {
	runs := ""
	switch len(s.Runs) {
	case 0:
	case 1:
		runs = ", run " + s.Runs[0]
	default:
		runs = fmt.Sprintf(", %d runs pooled", len(s.Runs))
	}
	return fmt.Sprintf("%s: %s (%d cells%s)", name, s.Path, s.Cells, runs)
}

func betterWords(b string) string {
	switch b {
	case protocol.Lower:
		return "lower is better"
	case protocol.Higher:
		return "higher is better"
	}
	return "direction unknown: shown, not gated"
}

func changeMark(c string) string {
	switch c {
	case ChangeRegression:
		return "REGRESSION"
	case ChangeImprovement:
		return "improvement"
	case ChangeBelowMinEffect:
		return "below min effect"
	case ChangeNotSigCorrected:
		return "~ after correction"
	case ChangeDirectionUnknown:
		return "changed (direction unknown)"
	case ChangeNotGated:
		return "changed (not gated)"
	}
	return ""
}

func tableTitle(t Table) string {
	_, tu := benchunit.Tidy(1, t.Unit)
	s := t.Unit + " (" + betterWords(t.Better)
	if tu != t.Unit {
		s += "; values in " + tu
	}
	return s + ")"
}

// splitQuiet separates the tables worth showing from those of units of
// unknown direction in which nothing changed significantly (event counts
// that stayed put): those are summarised in one line.
func splitQuiet(tables []Table) (shown []Table, quiet []string) {
	for _, t := range tables {
		still := t.Better == "" || isCountTable(t)
		for _, r := range t.Rows {
			if r.Change != ChangeNotSignificant && !(r.Gate == GateCount && r.Change == ChangeBelowMinEffect) {
				still = false
			}
		}
		if still {
			quiet = append(quiet, t.Unit)
		} else {
			shown = append(shown, t)
		}
	}
	return shown, quiet
}

func quietLine(units []string) string {
	return strings.Join(units, ", ") + ": no significant change (counts within the threshold, or direction unknown; every row is in --format json)"
}

// isCountTable says whether every row of t is a count's (Spread is set
// for counts only).
func isCountTable(t Table) bool {
	for _, r := range t.Rows {
		if r.Spread == nil {
			return false
		}
	}
	return len(t.Rows) > 0
}

// WriteText renders r for a terminal: the verdict first, then one table per
// unit, then the cells present on one side only and the warnings.
func WriteText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	v := r.Verdict
	exit := fmt.Sprintf("exit %d", v.ExitCode)
	if v.Status == StatusRegression && v.ExitCode == ExitOK {
		exit += ": --fail-on none"
	}
	fmt.Fprintf(ew, "verdict: %s (%s): %s\n", headline(r), exit, v.Summary)
	if l := powerLine(r); l != "" && !strings.HasSuffix(v.Summary, r.Power.Statement) {
		fmt.Fprintf(ew, "%s\n", l)
	}
	for _, x := range v.Regressions {
		fmt.Fprintf(ew, "  regression:  %s\n", refLine(x))
	}
	for _, x := range v.Improvements {
		fmt.Fprintf(ew, "  improvement: %s\n", refLine(x))
	}
	for _, p := range v.Problems {
		fmt.Fprintf(ew, "  problem: %s\n", p)
	}
	fmt.Fprintf(ew, "\n%s\n%s\n", r.sideLine("old", r.Old), r.sideLine("new", r.New))
	shown, quiet := splitQuiet(r.Tables)
	for _, t := range shown {
		fmt.Fprintf(ew, "\n%s\n", tableTitle(t))
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "cell\told\t\tnew\t\tvs base\t\tchange")
		for _, row := range t.Rows {
			vals, _ := textfmt.Figures(t.Unit, float64(row.Old.Median), float64(row.New.Median))
			fmt.Fprintf(tw, "%s\t%s\t±%s\t%s\t±%s\t%s\t(%s)\t%s\n", row.Cell, vals[0], strings.TrimPrefix(row.Old.Range, "±"),
				vals[1], strings.TrimPrefix(row.New.Range, "±"), row.Delta, row.PString, changeMark(row.Change))
		}
		if g := t.Geomean; g != nil {
			vals, _ := textfmt.Figures(t.Unit, float64(g.Old), float64(g.New))
			fmt.Fprintf(tw, "geomean\t%s\t\t%s\t\t%s\t\t\n", vals[0], vals[1], pct(g.DeltaPct))
		}
		tw.Flush()
	}
	if len(quiet) > 0 {
		fmt.Fprintf(ew, "\n%s\n", quietLine(quiet))
	}
	writeTail(ew, r, "", func(s string) string { return s })
	return ew.err
}

func writeTail(ew io.Writer, r *Report, bullet string, code func(string) string) {
	if len(r.Unmatched) > 0 {
		fmt.Fprintf(ew, "\non one side only (%d):\n", len(r.Unmatched))
		if bullet != "" {
			fmt.Fprintln(ew)
		}
		for _, u := range r.Unmatched {
			what := u.Cell
			if u.Unit != "" {
				what += " [" + u.Unit + "]"
			}
			fmt.Fprintf(ew, "%s %s only: %s: %s\n", pad(bullet), u.Side, code(what), u.Reason)
		}
	}
	if len(r.Models) > 0 {
		var modes []string
		for _, m := range r.Models {
			if !slices.Contains(modes, m.Mode) {
				modes = append(modes, m.Mode)
			}
		}
		fmt.Fprintf(ew, "\n%s cells (model: predicted slowdown over the cell's own measured base, pair by pair):\n", strings.Join(modes, ", "))
		if bullet != "" {
			fmt.Fprintln(ew)
		}
		for _, m := range r.Models {
			fmt.Fprintf(ew, "%s %s %s: %s\n", pad(bullet), m.Side, code(m.Cell), m.Verdict)
		}
	}
	if len(r.Refused) > 0 {
		fmt.Fprintf(ew, "\nnot compared (%d):\n", len(r.Refused))
		if bullet != "" {
			fmt.Fprintln(ew)
		}
		for _, x := range r.Refused {
			fmt.Fprintf(ew, "%s %s: %s\n", pad(bullet), code(x.Cell), x.Reason)
		}
	}
	var warns []string
	shown, _ := splitQuiet(r.Tables)
	for _, t := range shown {
		for _, row := range t.Rows {
			for _, w := range row.Warnings {
				warns = appendUnique(warns, w)
			}
		}
		if t.Geomean != nil {
			for _, w := range t.Geomean.Warnings {
				warns = appendUnique(warns, t.Unit+" geomean: "+w)
			}
		}
	}
	warns = append(warns, r.Warnings...)
	if len(warns) > 0 {
		fmt.Fprintf(ew, "\nwarnings:\n")
		if bullet != "" {
			fmt.Fprintln(ew)
		}
		for _, w := range warns {
			fmt.Fprintf(ew, "%s %s\n", pad(bullet), w)
		}
	}
}

// pad is the list bullet: Markdown's "-", or an indent.
func pad(bullet string) string {
	if bullet == "" {
		return " "
	}
	return bullet
}

// WriteMarkdown renders r for a pull-request comment (GitHub-flavoured
// Markdown): a marker comment, the verdict, then one table per unit.
func WriteMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	v := r.Verdict
	fmt.Fprintf(ew, "%s\n### enclavebench: %s\n\n%s\n", MarkdownMarker, headline(r), textfmt.Markdown(v.Summary))
	if l := powerLine(r); l != "" && !strings.HasSuffix(v.Summary, r.Power.Statement) {
		fmt.Fprintf(ew, "\n_%s_\n", textfmt.Markdown(l))
	}
	if len(v.Regressions)+len(v.Improvements)+len(v.Problems) > 0 {
		fmt.Fprintln(ew)
	}
	for _, x := range v.Regressions {
		if x.Gate == GateCount {
			fmt.Fprintf(ew, "- **regression** `%s` %s: **%s** (%s; %s)\n", x.Cell, textfmt.Markdown(x.Unit), pct(x.DeltaPct), x.Basis, textfmt.Markdown(x.Time))
			continue
		}
		fmt.Fprintf(ew, "- **regression** `%s` %s: **%s** (p=%.3g, n=%d+%d)\n", x.Cell, textfmt.Markdown(x.Unit), pct(x.DeltaPct), float64(x.P), x.N1, x.N2)
	}
	for _, x := range v.Improvements {
		fmt.Fprintf(ew, "- improvement `%s` %s: %s (p=%.3g, n=%d+%d)\n", x.Cell, textfmt.Markdown(x.Unit), pct(x.DeltaPct), float64(x.P), x.N1, x.N2)
	}
	for _, p := range v.Problems {
		fmt.Fprintf(ew, "- problem: %s\n", textfmt.Markdown(p))
	}
	fmt.Fprintf(ew, "\n%s  \n%s\n", textfmt.Markdown(r.sideLine("old", r.Old)), textfmt.Markdown(r.sideLine("new", r.New)))
	shown, quiet := splitQuiet(r.Tables)
	for _, t := range shown {
		fmt.Fprintf(ew, "\n#### %s\n\n", textfmt.Markdown(tableTitle(t)))
		fmt.Fprintln(ew, "| cell | old | new | vs base | p, n | change |")
		fmt.Fprintln(ew, "|:--|--:|--:|--:|:--|:--|")
		for _, row := range t.Rows {
			vals, _ := textfmt.Figures(t.Unit, float64(row.Old.Median), float64(row.New.Median))
			change := changeMark(row.Change)
			if row.Change == ChangeRegression {
				change = "**" + change + "**"
			}
			fmt.Fprintf(ew, "| `%s` | %s ± %s | %s ± %s | %s | %s | %s |\n", mdCode(row.Cell), vals[0], row.Old.Range, vals[1], row.New.Range,
				row.Delta, row.PString, change)
		}
		if g := t.Geomean; g != nil {
			vals, _ := textfmt.Figures(t.Unit, float64(g.Old), float64(g.New))
			fmt.Fprintf(ew, "| geomean | %s | %s | %s | | |\n", vals[0], vals[1], pct(g.DeltaPct))
		}
	}
	if len(quiet) > 0 {
		fmt.Fprintf(ew, "\n%s\n", textfmt.Markdown(quietLine(quiet)))
	}
	writeTail(ew, r, "-", func(s string) string { return "`" + mdCode(s) + "`" })
	return ew.err
}

// mdCode makes s safe inside a code span in a table.
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "|", `\|`, "\n", " ").Replace(s)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
