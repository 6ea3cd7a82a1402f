package report

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sites"
	"github.com/enclavebench/enclavebench/bench/textfmt"
)

// CellSites is the profile of a cell of a model mode summarized
// (bench/sites): where its predicted extra time comes from, by Go call
// site and EPC region.
type CellSites struct {
	Origin, Cell string
	Mode         string // the cell's mode, by name
	// Profile is the profile's path (the result directory joined with the
	// cell's extra "profile"); Link the same relative to the report's
	// directory (set by Write; Profile until then).
	Profile, Link string
	Summary       *sites.Summary
	// Err says why the profile could not be read ("" when it could).
	Err string
}

// SitesTop is how many call sites of each cell the report shows.
const SitesTop = 3

// addSites records the profile of a cell outcome (its latest attempt with one).
func (b *builder) addSites(src *Source, dir string, c *result.CellResult) {
	rel := c.Extra[result.ExtraProfile]
	if rel == "" || c.Status != result.StatusOK {
		return
	}
	key := src.OriginLabel + "\x00" + c.Cell
	if prev, ok := b.siteAttempt[key]; ok && prev >= c.Attempt {
		return
	}
	b.siteAttempt[key] = c.Attempt
	path := filepath.Join(dir, filepath.FromSlash(rel))
	b.siteCells[key] = CellSites{Origin: src.OriginLabel, Cell: c.Cell, Mode: c.Mode, Profile: path, Link: path}
}

// sites reads the recorded profiles, in cell order.
func (b *builder) sites() {
	keys := make([]string, 0, len(b.siteCells))
	for k := range b.siteCells {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cs := b.siteCells[k]
		p, err := sites.Read(cs.Profile)
		if err == nil {
			cs.Summary, err = sites.Summarize(p)
		}
		if err != nil {
			cs.Err = err.Error()
		}
		b.r.Sites = append(b.r.Sites, cs)
	}
}

// linkSites makes each profile's link relative to the report directory.
func linkSites(r *Report, dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	for i := range r.Sites {
		p, err := filepath.Abs(r.Sites[i].Profile)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(abs, p); err == nil {
			r.Sites[i].Link = filepath.ToSlash(rel)
		}
	}
}

// siteRows are the rows the report shows of a cell: its top OCALL sites
// and its EPC regions.
func siteRows(cs CellSites) []sites.Site {
	if cs.Summary == nil {
		return nil
	}
	rows := cs.Summary.OCalls
	if len(rows) > SitesTop {
		rows = rows[:SitesTop]
	}
	rows = append(append([]sites.Site(nil), rows...), cs.Summary.EPC...)
	return rows
}

// siteWhat is a row's kind: the OCALL's cause, or EPC loads.
func siteWhat(s sites.Site) string {
	switch {
	case s.Cause == "":
		return "EPC loads"
	case s.Clock:
		return s.Cause + " (clock)"
	}
	return s.Cause
}

// perOp is a count over a summary's operations, per operation.
func perOp(s *sites.Summary, n int64) string {
	if s.Ops <= 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(n)/float64(s.Ops), 'g', 3, 64)
}

// extraPerOp is the summary's priced extra time per operation.
func extraPerOp(s *sites.Summary) string {
	if s.Ops <= 0 {
		return "—"
	}
	return textfmt.Figure(float64(s.ExtraNS)/float64(s.Ops), "ns/op")
}

// siteModes names the modes of the cells with a profile, in the order
// first seen: "sim", "sim or toy".
func siteModes(r *Report) string {
	var names []string
	for _, cs := range r.Sites {
		if !slices.Contains(names, cs.Mode) {
			names = append(names, cs.Mode)
		}
	}
	return orList(names)
}

// orList is "a", "a or b", "a, b or c".
func orList(l []string) string {
	if n := len(l); n > 1 {
		return strings.Join(l[:n-1], ", ") + " or " + l[n-1]
	}
	return strings.Join(l, "")
}

// mdSites is the section on where the extra time of a model's cells comes
// from.
func mdSites(p printer, r *Report, maxRows int) {
	if len(r.Sites) == 0 {
		return
	}
	m := textfmt.Markdown(siteModes(r))
	p("### Where the enclave time goes (%s cells: OCALLs and EPC loads by Go call site)\n\n", m)
	p("Each %s cell's counting pass took the Go call stack of its OCALLs and ECALLs (a random sample, scaled to each cause's exact count) and its paging pass counted EPC loads by the memory they hit; both are priced by the cost profile. The share is of that priced extra time (transitions and paging; memory encryption is not by site). The profile link opens with `go tool pprof -top`; `bench explain DIR CELL` prints the same.\n\n", m)
	p("| cell | priced extra | share | what | per op | where | advice |\n|---|---|---|---|---|---|---|\n")
	shown := 0
	for _, cs := range r.Sites {
		if maxRows >= 0 && shown >= maxRows {
			p("\n%d more cells: see report.html or `bench explain`.\n", len(r.Sites)-shown)
			break
		}
		shown++
		name := textfmt.Markdown(cs.Cell)
		if cs.Origin != "" {
			name = textfmt.Markdown(cs.Origin) + ": " + name
		}
		link := fmt.Sprintf("%s ([profile](%s))", name, cs.Link)
		if cs.Err != "" {
			p("| %s | — | — | — | — | profile unreadable: %s | |\n", link, textfmt.Markdown(cs.Err))
			continue
		}
		for i, s := range siteRows(cs) {
			cell, extra := "", ""
			if i == 0 {
				cell, extra = link, extraPerOp(cs.Summary)
			}
			p("| %s | %s | %s | %s | %s | %s | %s |\n", cell, extra, sharePct(s.Share), textfmt.Markdown(siteWhat(s)),
				perOp(cs.Summary, s.Count), textfmt.Markdown(s.Where), textfmt.Markdown(s.Advice))
		}
	}
	p("\n")
}

// sharePct is a share as a percentage with one decimal.
func sharePct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }
