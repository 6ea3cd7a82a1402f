package report

import (
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"strings"

	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/report/plot"
)

//go:embed report.html.tmpl
var htmlTemplate string

// FigureFiles are the rendered files of one figure.
type FigureFiles struct {
	Figure plot.Figure
	// Files maps a format (svg, png, pdf) to the file's path relative to
	// the report directory.
	Files map[string]string
	// Embed is the image embedded in report.html (PNG bytes).
	Embed []byte
	// Err is set when the figure could not be drawn.
	Err string
	// sums maps a format to the SHA-256 of the file written (ManifestFile).
	sums map[string]string
}

type htmlFigure struct {
	Title, Caption, Name, Err string
	Src                       template.URL
	Links                     []htmlLink
	Width                     int
}

type htmlLink struct{ Label, Href string }

type htmlSection struct {
	ID, Title, Intro string
	Figures          []htmlFigure
	Omitted          []string
}

type htmlData struct {
	R        *Report
	Sections []htmlSection
	Multi    bool
	Merge    string
}

// sectionTitles are the HTML report's sections; "{baseline}" in an intro
// is the label of the mode enclave figures are compared with, and
// models, when the report has modes of kind model, follows the intro with
// "{model}" their names.
var sectionTitles = []struct{ id, title, intro, models string }{
	{SectionFootprint, "Slowdown by footprint and size", "The sizing advice at a glance: each square is the worst median slowdown of a workload holding that footprint on that size; green squares are within the tolerance.", ""},
	{SectionCliff, "The EPC cliff", "Throughput against the working set: an SGX1 enclave slows down sharply once its working set exceeds the size's EPC.", ""},
	{SectionOverhead, "Enclave overhead", "Each enclave figure relative to {baseline} on the same host", " ({model}: to its own measured base, repetition by repetition)"},
	{SectionTransitions, "Transition costs", "Per-call distributions: every forwarded syscall costs an enclave exit and re-entry (OCALL).", ""},
	{SectionScaling, "Scaling", "Throughput against threads, per size.", ""},
	{SectionLoad, "Enclave load time", "Time to create and start the enclave, by size and heap size.", ""},
}

var funcs = template.FuncMap{
	"num":       fmtNum,
	"median":    fmtMedian,
	"ci":        fmtCI,
	"ratio":     ratioText,
	"verdict":   verdict,
	"slowdown":  fmtSlowdown,
	"siteModes": siteModes,
	"models":    modelModes,
	"ratioNum":  fmtRatioNum,
	"headroom":  fmtHeadroom,
	"perSize":   perSizeText,
	"mib":       fmtMiB,
	"siteRows":  siteRows,
	"siteWhat":  siteWhat,
	"perOp":     perOp,
	"extraOp":   extraPerOp,
	"sharePct":  sharePct,
	"first":     textfmt.FirstLine,
	"join":      strings.Join,
	"pct":       fmtPct,
	"unitLabel": unitLabel,
	"modeClass": func(g *Group) string { return "mode-" + classSafe(g.Mode) },
	"slowAt":    func(a Advice) string { return slowdownHTML(a) },
	"notesOf":   func(g *Group) string { return strings.Join(g.Notes, ", ") },
	"warnCounts": func(gs []WarningGroup) []int {
		m, n := warningCounts(gs)
		return []int{m, n}
	},
}

var tmpl = template.Must(template.New("report").Funcs(funcs).Parse(htmlTemplate))

func classSafe(s string) string {
	return unsafeName.ReplaceAllString(strings.ToLower(s), "-")
}

func slowdownHTML(a Advice) string {
	if a.At == "" {
		return "—"
	}
	s := fmtSlowdown(a.Slowdown)
	if a.Size == "" {
		s += " at " + a.At
	}
	return s
}

// WriteHTML writes report.html: self-contained, the figures embedded as
// data URIs. figs holds the rendered figures in report order.
func WriteHTML(w io.Writer, r *Report, figs []FigureFiles) error {
	d := htmlData{R: r, Multi: len(r.Origins) > 0, Merge: r.Options.Merge}
	bySection := map[string]*htmlSection{}
	for _, st := range sectionTitles {
		intro := st.intro
		if st.models != "" {
			if m := modelModes(r); m != "" {
				intro += strings.ReplaceAll(st.models, "{model}", m)
			}
			intro += "."
		}
		d.Sections = append(d.Sections, htmlSection{ID: st.id, Title: st.title, Intro: strings.ReplaceAll(intro, "{baseline}", r.Baseline)})
	}
	for i := range d.Sections {
		bySection[d.Sections[i].ID] = &d.Sections[i]
	}
	for _, ff := range figs {
		s := bySection[ff.Figure.Section]
		if s == nil {
			continue
		}
		hf := htmlFigure{Title: ff.Figure.Title, Caption: ff.Figure.Caption, Name: ff.Figure.Name, Err: ff.Err,
			Width: int(ff.Figure.Width * 96)}
		if len(ff.Embed) > 0 {
			// The data URI is built here from PNG bytes, never from input.
			hf.Src = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(ff.Embed))
		}
		for _, format := range []string{plot.SVG, plot.PNG, plot.PDF} {
			if p, ok := ff.Files[format]; ok {
				hf.Links = append(hf.Links, htmlLink{strings.ToUpper(format), p})
			}
		}
		s.Figures = append(s.Figures, hf)
	}
	for _, o := range r.Omitted {
		if s := bySection[o.Section]; s != nil {
			s.Omitted = append(s.Omitted, o.Reason)
		}
	}
	return tmpl.Execute(w, d)
}
