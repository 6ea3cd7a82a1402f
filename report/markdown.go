package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/bench/textfmt"
)

// MarkdownLimit bounds report.md so it fits a pull-request comment
// (GitHub accepts 65,536 characters); longer tables are cut, pointing to
// report.html.
const MarkdownLimit = 60000

// WriteMarkdown writes the report's tables in Markdown.
func WriteMarkdown(w io.Writer, r *Report) error {
	var out string
	for _, maxRows := range []int{-1, 60, 30, 12, 4, 0} {
		out = markdown(r, maxRows)
		if len(out) <= MarkdownLimit {
			break
		}
	}
	_, err := io.WriteString(w, out)
	return err
}

func markdown(r *Report, maxRows int) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	mdRuns(p, r)
	mdHeadlines(p, r)
	mdSizing(p, r)
	mdTables(p, r, maxRows)
	mdSites(p, r, maxRows)
	mdProblems(p, r, maxRows)
	return b.String()
}

// uncountedModes names the modes of the groups whose prediction leaves an
// enclave cost out ("sim").
func uncountedModes(r *Report) string {
	var names []string
	for _, t := range r.Workloads {
		for _, g := range t.Rows {
			if g.Uncounted != "" && !slices.Contains(names, g.Mode) {
				names = append(names, g.Mode)
			}
		}
	}
	return orList(names)
}

// printer writes formatted Markdown.
type printer func(format string, args ...any)

// mdRuns is the report's head: what the figures are and the runs they
// come from.
func mdRuns(p printer, r *Report) {
	p("## enclavebench report\n\n")
	p("%d samples from %d run(s); generated %s. Tolerance %s, significance level %g.\n\n",
		r.Samples, len(r.Runs), r.Generated.UTC().Format("2006-01-02 15:04Z"), fmtPct(r.Options.Tolerance), r.Options.Alpha)
	if len(r.Modes) > 0 {
		p("Modes:")
		for i, m := range r.Modes {
			sep := ","
			if i == len(r.Modes)-1 {
				sep = "."
			}
			cannot := ""
			if m.Cannot != "" {
				cannot = ": " + textfmt.Markdown(m.Cannot)
			}
			p(" **%s** (%s%s)%s", textfmt.Markdown(m.Label), m.KindText(), cannot, sep)
		}
		p("\n\n")
	}
	var notes []string // one line per note: runs under other settings share their mode's
	for _, m := range r.Modes {
		if m.Note != "" && !slices.Contains(notes, m.Note) {
			notes = append(notes, m.Note)
			p("> %s\n\n", m.Note)
		}
	}
	p("| run | host | sizes | CPU | kernel | EGo | modes | samples |\n|---|---|---|---|---|---|---|---|\n")
	for _, ri := range r.Runs {
		host := ri.Host
		if ri.AzureSize != "" && !strings.HasPrefix(ri.AzureSize, "unknown") {
			host += " (" + ri.AzureSize + ")"
		}
		modes := ri.Modes
		if ri.CostProfile != "" {
			modes += "; cost profile " + ri.CostProfile
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %d |\n", textfmt.Markdown(ri.ID), textfmt.Markdown(host), textfmt.Markdown(ri.Sizes), textfmt.Markdown(ri.CPU),
			textfmt.Markdown(firstField(ri.Kernel)), textfmt.Markdown(ri.EGo), textfmt.Markdown(modes), ri.Samples)
	}
	p("\n")
	for _, l := range r.LeftOut {
		p("- **left out** %s: %s\n", textfmt.Markdown(l.Dir), textfmt.Markdown(l.Reason))
	}
	if len(r.LeftOut) > 0 {
		p("\n")
	}
}

// mdHeadlines is the enclave overhead per workload and mode.
func mdHeadlines(p printer, r *Report) {
	if len(r.Headlines) > 0 {
		p("### Enclave overhead (slowdown vs %s: geometric mean over the workload's cells, range, worst cell)\n\n", r.Baseline)
		p("| workload | mode | geomean | range | worst cell | significant |\n|---|---|---:|---|---|---|\n")
		for _, h := range r.Headlines {
			m := h.Mode
			if h.NoEPC {
				m += " (no EPC limit, no hardware transitions: the runtime's software path only)"
			}
			p("| %s | %s | %s | %s – %s | %s | %s |\n", textfmt.Markdown(h.Workload), textfmt.Markdown(m),
				fmtSlowdown(h.GeoMean), fmtRatioNum(h.Min)+"×", fmtRatioNum(h.Max)+"×", textfmt.Markdown(h.Worst), h.Significance())
		}
		p("\n")
	}
}

// mdSizing is the sizing advice, or why there is none.
func mdSizing(p printer, r *Report) {
	if len(r.Sizing) == 0 && slices.ContainsFunc(r.Headlines, func(h Headline) bool { return h.NoEPC }) {
		p("### Sizing advice\n\nNone: no mode of these runs measures or models the EPC (see the \"no EPC\" warning); run `--modes %s,sim` (or `sgx` on SGX hardware) for sizing answers.\n\n", r.BaselineMode)
	}
	if len(r.Sizing) == 0 && slices.ContainsFunc(r.WarningGroups, func(g WarningGroup) bool { return g.Kind == "uncounted" }) {
		p("### Sizing advice\n\nNone for the %s cells whose prediction leaves EPC paging out (see the \"uncounted\" warning: a user benchmark's Go heap is not held in the software EPC yet).\n\n", textfmt.Markdown(uncountedModes(r)))
	}
	if len(r.Sizing) > 0 {
		p("### Sizing advice (within %s of %s)\n\n", fmtPct(r.Options.Tolerance), r.Baseline)
		var rel []Advice
		head := false
		for _, a := range r.Sizing {
			if a.Relative {
				rel = append(rel, a)
				continue
			}
			if !head {
				p("| workload | footprint | mode | smallest size | slowdown there | limiting cell | usable-EPC headroom | each size: slowdown (headroom) | note |\n|---|---|---|---|---|---|---|---|---|\n")
				head = true
			}
			size := a.Size
			if size == "" {
				size = "none"
			}
			fp := a.Footprint
			if fp == "" {
				fp = "—"
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", textfmt.Markdown(a.Workload), textfmt.Markdown(fp), textfmt.Markdown(a.Mode), textfmt.Markdown(size),
				slowdownAt(a), textfmt.Markdown(a.Limiting), textfmt.Markdown(fmtHeadroom(a)), textfmt.Markdown(perSizeText(a)), textfmt.Markdown(a.Note))
		}
		if head {
			p("\n")
		}
		for _, a := range rel {
			p("- **%s**, %s, %s: %s. To find the smallest size for a working set, name it: `%s` (replace %s with yours), then `bench report` that run.\n",
				textfmt.Markdown(a.Workload), textfmt.Markdown(a.Mode), textfmt.Markdown(a.Family), textfmt.Markdown(a.Note), a.Command, ExampleFootprints)
		}
		if len(rel) > 0 {
			p("\n")
		}
	}
}

// mdTables is one table per workload, each cut at maxRows rows (-1: all).
func mdTables(p printer, r *Report, maxRows int) {
	multi := len(r.Origins) > 0
	for _, t := range r.Workloads {
		p("<details><summary><b>%s</b> (%s): %d rows</summary>\n\n", textfmt.Markdown(t.Name), textfmt.Markdown(unitLabel(t.Unit, t.Better)), len(t.Rows))
		rows := t.Rows
		cut := 0
		if maxRows >= 0 && len(rows) > maxRows {
			cut = len(rows) - maxRows
			rows = rows[:maxRows]
		}
		if len(rows) > 0 {
			if multi {
				p("| parameters | size | host | mode | median | 95%% CI | n | vs %s | verdict | notes |\n|---|---|---|---|---:|---:|---:|---|---|---|\n", r.Baseline)
			} else {
				p("| parameters | size | mode | median | 95%% CI | n | vs %s | verdict | notes |\n|---|---|---|---:|---:|---:|---|---|---|\n", r.Baseline)
			}
		}
		for _, g := range rows {
			origin := ""
			if multi {
				origin = " " + textfmt.Markdown(g.OriginLabel) + " |"
			}
			p("| %s | %s |%s %s | %s | %s | %d | %s | %s | %s |\n", textfmt.Markdown(g.ParamText), textfmt.Markdown(g.Size), origin,
				textfmt.Markdown(g.ModeLabel), fmtMedian(g), fmtCI(g.Summary), g.Summary.N,
				textfmt.Markdown(ratioText(g)), textfmt.Markdown(verdict(g.Baseline)), textfmt.Markdown(strings.Join(g.Notes, ", ")))
		}
		if cut > 0 {
			p("\n… %d more rows in report.html\n", cut)
		}
		p("\n</details>\n\n")
	}
}

// mdProblems are the failed cells, the warnings and the figures not drawn.
func mdProblems(p printer, r *Report, maxRows int) {
	if len(r.Failures) > 0 {
		p("### Failed cells (%d)\n\n| cell | reason |\n|---|---|\n", len(r.Failures))
		for i, f := range r.Failures {
			if maxRows >= 0 && i >= max(maxRows, 5) {
				p("| … | %d more in report.html |\n", len(r.Failures)-i)
				break
			}
			p("| %s | %s |\n", textfmt.Markdown(f.Cell), textfmt.Markdown(textfmt.FirstLine(f.Reason)))
		}
		p("\n")
	}
	if len(r.Warnings) > 0 {
		matters, notes := warningCounts(r.WarningGroups)
		p("### Warnings: %d that change a conclusion, %d notes\n\n", matters, notes)
		limit := 30
		if maxRows >= 0 {
			limit = min(limit, max(maxRows, 5))
		}
		for _, g := range r.WarningGroups {
			mark := ""
			if g.Matters {
				mark = " ⚠"
			}
			p("<details><summary><b>%s</b> (%d)%s: %s</summary>\n\n", textfmt.Markdown(g.Kind), len(g.Items), mark, textfmt.Markdown(g.Meaning))
			for i, w := range g.Items {
				if i >= limit {
					p("- … %d more in report.html\n", len(g.Items)-i)
					break
				}
				subj := ""
				if w.Subject != "" {
					subj = textfmt.Markdown(w.Subject) + ": "
				}
				p("- %s%s\n", subj, textfmt.Markdown(w.Text))
			}
			p("\n</details>\n\n")
		}
	}
	for _, o := range r.Omitted {
		p("- %s\n", textfmt.Markdown(o.Reason))
	}
}

func ratioText(g *Group) string {
	if g.Baseline == nil {
		return ""
	}
	s := fmtRatio(g.Baseline)
	if g.Baseline.Against == AgainstPairs {
		s += " of its measured base"
		if g.Paired != nil && g.Paired.Pool != nil {
			s = fmtRatio(g.Baseline) + " of the base pooled over " + strconv.Itoa(len(g.Paired.Pool.Cells)) + " sizes"
		}
		if b := stats.Summarize(g.ModelBase); b.N > 0 {
			s += " " + textfmt.Figure(b.Center, g.Unit)
		}
	}
	return s
}

// perSizeText lists an advice's slowdown and usable-EPC headroom per size:
// "DC1s_v2 31.2× (over by 42 MiB), DC4s_v2 1.02× (41.5 MiB)".
func perSizeText(a Advice) string {
	var parts []string
	for _, v := range a.PerSize {
		s := v.Size + " "
		if math.IsNaN(v.Slowdown) {
			s += "— (" + v.Reason + ")"
		} else {
			s += fmtRatioNum(v.Slowdown) + "×"
			if v.UsableKnown && v.FootprintKnown {
				s += " (" + fmtHeadroomMiB(v.HeadroomMiB) + ")"
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func slowdownAt(a Advice) string {
	if a.At == "" {
		return "—"
	}
	s := fmtSlowdown(a.Slowdown)
	if a.Size == "" {
		s += " at " + a.At
	}
	return textfmt.Markdown(s)
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
