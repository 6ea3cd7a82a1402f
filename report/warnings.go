package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/textfmt"
)

// WarningGroup is the warnings of one kind, with what the kind means for
// the figures. Groups that change a conclusion come first.
type WarningGroup struct {
	Kind string
	// Matters is set for kinds that change what the figures say (a cell
	// missing, figures that do not represent their size or mode), as
	// opposed to notes on the statistics (outliers, pooling).
	Matters bool
	// Meaning says in one line what the kind does to the figures.
	Meaning string
	Items   []Warning
}

// warningKinds orders the kinds: those that change a conclusion first, in
// this order, then the notes. A kind not listed goes between them. In a
// meaning, "{model}" is the names of the report's modes of kind model (the
// kinds that say it arise only from their cells) and "{baseline}" the
// baseline's label.
var warningKinds = []struct {
	kind, meaning string
	matters       bool
}{
	{"failed", "cells that did not finish: their figures are missing, and the sizing advice cannot use them", true},
	{"partial", "figures from an attempt that did not finish: fewer repetitions than planned", true},
	{"samples lost", "samples the cells recorded are missing from samples.jsonl: their figures rest on fewer samples (bench run --resume reruns them)", true},
	{"oversubscribed", "the host has fewer CPUs than the size has vCPUs: these figures do not represent the size", true},
	{"base strays", "the {model} pass's own measured base is far from the run's {baseline} cell (the emulation changed the workload, or the host's load changed between the two processes): the prediction is over that base, so compare it with {baseline} with care", true},
	{"settings differ", "runs measured a mode under other settings: kept apart, each under its own label", true},
	{"no EPC", "the mode enforces no EPC limit: its figures say nothing about EPC paging or which size is needed", true},
	{"not predicted", "{model} samples the model could not price: left out", true},
	{"uncounted", "{model} predictions that leave an enclave cost out (a user benchmark's EPC paging): they cannot say which size is needed", true},
	{"no samples", "rows without a sample in the workload's unit", true},
	{"run", "runs that did not complete: some cells may be missing", true},
	{"left out", "directories or parts of them the report could not use", true},
	{"input", "records left out of a directory, or directories of another harness version kept", true},
	{"merge", "figures pooled from different machines", true},
	{"few samples", "fewer than 6 samples: no 95% confidence interval, so no verdict", false},
	{"outliers", "repetitions beyond 1.5 IQR (with 6 repetitions one is common): the machine may be noisy; the medians stand, the intervals widen; try more --reps, a longer --min-time or a quieter host", false},
	{"pooled", "samples of one cell pooled from several runs on the same host", false},
}

// groupWarnings sorts warnings into groups by kind: the kinds that change a
// conclusion first (warningKinds' order), each group's items in the order
// they were found. words fills the meanings' "{model}" and "{baseline}".
func groupWarnings(ws []Warning, words *strings.Replacer) []WarningGroup {
	rank := map[string]int{}
	for i, k := range warningKinds {
		rank[k.kind] = i
	}
	firstNote := len(warningKinds)
	for i, k := range warningKinds {
		if !k.matters {
			firstNote = i
			break
		}
	}
	var groups []WarningGroup
	at := map[string]int{}
	for _, w := range ws {
		i, ok := at[w.Kind]
		if !ok {
			g := WarningGroup{Kind: w.Kind, Matters: true, Meaning: "other warnings"}
			if r, known := rank[w.Kind]; known {
				g.Matters, g.Meaning = warningKinds[r].matters, words.Replace(warningKinds[r].meaning)
			}
			i = len(groups)
			at[w.Kind] = i
			groups = append(groups, g)
		}
		groups[i].Items = append(groups[i].Items, w)
	}
	order := func(kind string) int {
		if r, ok := rank[kind]; ok {
			if r >= firstNote {
				return r + 1
			}
			return r
		}
		return firstNote // unknown kinds: after the known ones that matter
	}
	slices.SortStableFunc(groups, func(a, b WarningGroup) int { return order(a.Kind) - order(b.Kind) })
	return groups
}

// warningCounts returns how many warnings change a conclusion and how many
// are notes.
func warningCounts(gs []WarningGroup) (matters, notes int) {
	for _, g := range gs {
		if g.Matters {
			matters += len(g.Items)
		} else {
			notes += len(g.Items)
		}
	}
	return matters, notes
}

// warnings collects what the reader should know.
func (b *builder) warnings() {
	w := &b.r.Warnings
	add := func(kind, subject, text string) { *w = append(*w, Warning{kind, subject, text}) }
	for _, l := range b.in.LeftOut {
		add("left out", l.Dir, l.Reason)
	}
	for _, n := range b.in.Notes {
		if slices.Contains(b.in.ShortNotes, n) {
			add("samples lost", "", n)
			continue
		}
		add("input", "", n)
	}
	hosts := map[string]bool{}
	for _, s := range b.in.Sources {
		r := &s.Dir.Run
		h := r.Host
		hosts[strings.Join([]string{h.Hostname, h.CPUModel, h.Microcode, h.Kernel, h.AzureSize}, "\x00")] = true
		switch r.Status {
		case result.RunComplete, "":
		default:
			add("run", s.Path, fmt.Sprintf("run %s is %s: some cells may be missing", r.ID, r.Status))
		}
	}
	*w = append(*w, b.variantNotes...)
	if b.o.Merge == MergeAll && len(hosts) > 1 {
		add("merge", "", fmt.Sprintf("--merge all pooled samples from %d different hosts: figures mix machines", len(hosts)))
	}
	type oversub struct{ origin, size string }
	over := map[oversub][]*Group{}
	var overKeys []oversub
	for _, t := range b.r.Workloads {
		for _, g := range t.Rows {
			subj := g.subject()
			if len(g.Runs) > 1 {
				add("pooled", subj, fmt.Sprintf("samples pooled from %d runs on the same host (%s)", len(g.Runs), strings.Join(g.Runs, ", ")))
			}
			if g.Uncounted != "" {
				add("uncounted", subj, "the prediction does not count "+g.Uncounted+": left out of the sizing advice")
			}
			if g.NotPredicted > 0 {
				add("not predicted", subj, fmt.Sprintf("%d %s sample(s) could not be predicted (%s): their values are unpriced measurements, left out", g.NotPredicted, g.Mode, g.NotPredictedWhy))
				g.Notes = append(g.Notes, fmt.Sprintf("%d not predicted", g.NotPredicted))
			}
			if g.Summary.N == 0 {
				add("no samples", subj, "no samples in the unit "+g.Unit)
				g.Notes = append(g.Notes, "no samples")
				continue
			}
			if g.Summary.N < 6 {
				add("few samples", subj, fmt.Sprintf("%d samples: at least 6 are needed for a 95%% confidence interval, 4 to detect a change; use more --reps", g.Summary.N))
				g.Notes = append(g.Notes, "few samples")
			}
			if g.Summary.Outliers > 0 {
				add("outliers", subj, fmt.Sprintf("%d outlier(s) beyond 1.5 IQR", g.Summary.Outliers))
				g.Notes = append(g.Notes, fmt.Sprintf("%d outlier(s)", g.Summary.Outliers))
			}
			if g.Oversubscribed {
				k := oversub{g.OriginLabel, g.Size}
				if over[k] == nil {
					overKeys = append(overKeys, k)
				}
				over[k] = append(over[k], g)
				g.Notes = append(g.Notes, "oversubscribed")
			}
			if g.Partial {
				add("partial", subj, "samples from an attempt that did not finish (bench run --resume completes it)")
				g.Notes = append(g.Notes, "partial")
			}
			if g.Short {
				g.Notes = append(g.Notes, "samples lost")
			}
			if g.BaseStrays != "" {
				add("base strays", subj, g.BaseStrays)
				g.Notes = append(g.Notes, "base strays")
			}
			switch g.ModeFacts.Kind {
			case result.KindEmulated:
				g.Notes = append(g.Notes, "not hardware")
			case result.KindModel:
				g.Notes = append(g.Notes, "predicted")
			}
			if g.ModeFacts.Enclave && !g.ModeFacts.EPC() {
				g.Notes = append(g.Notes, "no EPC limit")
			}
		}
	}
	for _, k := range overKeys {
		gs := over[k]
		vcpus := "its"
		if sz := gs[0].SizeFacts; sz != nil {
			vcpus = strconv.Itoa(sz.VCPUs)
		}
		cpus := "fewer"
		if n := gs[0].CPUs; n > 0 {
			cpus = "only " + strconv.Itoa(n)
		}
		subj := k.size
		if k.origin != "" {
			subj += " @ " + k.origin
		}
		add("oversubscribed", subj, fmt.Sprintf("%d group(s) ran on %s CPU(s) for the size's %s vCPUs (the host has fewer CPUs): their figures do not represent the size", len(gs), cpus, vcpus))
	}
	for _, f := range b.r.Failures {
		add("failed", f.Cell, textfmt.FirstLine(f.Reason))
	}
	noEPC := map[string]bool{}
	for _, g := range b.order {
		if g.ModeFacts.Enclave && !g.ModeFacts.EPC() && !noEPC[g.ModeLabel] {
			noEPC[g.ModeLabel] = true
			why := g.ModeFacts.Cannot
			if why == "" {
				why = "the run records that this mode neither measures nor models the EPC"
			}
			add("no EPC", g.ModeLabel, why+"; so the sizing advice and the EPC cliff leave it out, and its overhead is the enclave runtime's software path only")
		}
	}
}

func (g *Group) subject() string {
	s := g.Workload
	if g.ParamText != "" {
		s += " " + g.ParamText
	}
	s += " " + g.Size + " " + g.ModeLabel
	if g.OriginLabel != "" {
		s += " @ " + g.OriginLabel
	}
	return s
}
