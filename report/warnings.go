package report

import "slices"

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
// this order, then the notes. A kind not listed goes between them.
var warningKinds = []struct {
	kind, meaning string
	matters       bool
}{
	{"failed", "cells that did not finish: their figures are missing, and the sizing advice cannot use them", true},
	{"partial", "figures from an attempt that did not finish: fewer repetitions than planned", true},
	{"samples lost", "samples the cells recorded are missing from samples.jsonl: their figures rest on fewer samples (bench run --resume reruns them)", true},
	{"oversubscribed", "the host has fewer CPUs than the size has vCPUs: these figures do not represent the size", true},
	{"base strays", "the sim pass's own measured base is far from the run's native cell (the emulation changed the workload, or the host's load changed between the two processes): the prediction is over that base, so compare it with native with care", true},
	{"settings differ", "runs measured a mode under other settings: kept apart, each under its own label", true},
	{"no EPC", "the mode enforces no EPC limit: its figures say nothing about EPC paging or which size is needed", true},
	{"not predicted", "sim samples the model could not price: left out", true},
	{"uncounted", "sim predictions that leave an enclave cost out (a user benchmark's EPC paging): they cannot say which size is needed", true},
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
// they were found.
func groupWarnings(ws []Warning) []WarningGroup {
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
				g.Matters, g.Meaning = warningKinds[r].matters, warningKinds[r].meaning
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
