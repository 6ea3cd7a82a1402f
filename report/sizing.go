package report

import (
	"cmp"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
)

// ExampleFootprints are the sizes the sizing section's suggested command
// names for a run that has only EPC-relative footprints: an example, for
// the user to replace with their application's working set.
const ExampleFootprints = "64MiB,200MiB"

// sizing finds, per workload, enclave mode that measures or models the EPC
// (result.ModeFacts.EPC) and size family, the smallest
// size at which every cell of the workload stays within tolerance of
// native (median slowdown <= 1+tolerance, and no failed cell), and the
// usable-EPC headroom there. A workload with a footprint parameter
// (recorded in the run's facts) gets one answer per absolute footprint it ran
// with; with only EPC-relative footprints it gets an answer that says
// what the run cannot tell and the command that would, with the baseline
// mode the runs compared with, else the one their facts name (recorded,
// whose label the advice's prose names).
func sizing(tables []*WorkloadTable, failures []CellOutcome, tol float64, usable map[string]int64, recorded baselineMode) []Advice {
	failed := map[cellOf]bool{}
	for _, f := range failures {
		failed[cellOf{f.Workload, f.Size, f.Mode}] = true
	}
	var out []Advice
	for _, t := range tables {
		fpParam := t.FootprintParam
		baseline := "" // the mode enclave figures are compared with
		type key struct{ mode, family, footprint string }
		bySize := map[key]map[string][]*Group{}
		modeOf := map[key]string{}
		var keys []key
		for _, g := range t.Rows {
			if !g.ModeFacts.Enclave {
				baseline = cmp.Or(baseline, g.Mode)
				continue
			}
			if !g.ModeFacts.EPC() || g.Uncounted != "" {
				// No EPC limit (EGo's simulation), or paging not counted (a
				// user benchmark in sim): its slowdown cannot say which size
				// a working set needs (a "no EPC" or "uncounted" warning says so).
				continue
			}
			sz := g.SizeFacts
			if sz == nil {
				continue
			}
			k := key{g.ModeLabel, sz.Family, ""}
			if fpParam != "" {
				k.footprint = g.Params[fpParam]
			}
			if bySize[k] == nil {
				bySize[k] = map[string][]*Group{}
				keys = append(keys, k)
				modeOf[k] = g.Mode
			}
			bySize[k][g.Size] = append(bySize[k][g.Size], g)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if a.family != b.family {
				return a.family < b.family
			}
			if a.mode != b.mode {
				return a.mode < b.mode
			}
			return footprintBytes(a.footprint) < footprintBytes(b.footprint)
		})
		// Absolute footprints answer "which size"; EPC-relative ones do
		// not, and are summarised only where a mode and family has no
		// absolute one.
		type fam struct{ mode, family string }
		absolute := map[fam]bool{}
		for _, k := range keys {
			if k.footprint != "" && footprintBytes(k.footprint) > 0 {
				absolute[fam{k.mode, k.family}] = true
			}
		}
		relative := map[fam][]key{}
		var relOrder []fam
		for _, k := range keys {
			f := fam{k.mode, k.family}
			switch {
			case fpParam == "":
				out = append(out, advise(t.Name, k.mode, k.family, bySize[k], failed, tol, usable, recorded.label))
			case footprintBytes(k.footprint) > 0:
				a := advise(t.Name, k.mode, k.family, bySize[k], failed, tol, usable, recorded.label)
				a.Footprint = k.footprint
				out = append(out, a)
			case !absolute[f]:
				if relative[f] == nil {
					relOrder = append(relOrder, f)
				}
				relative[f] = append(relative[f], k)
			}
		}
		for _, f := range relOrder {
			ks := relative[f]
			merged := map[string][]*Group{}
			for _, k := range ks {
				for s, gs := range bySize[k] {
					merged[s] = append(merged[s], gs...)
				}
			}
			a := Advice{Workload: t.Name, Mode: f.mode, Family: f.family, Relative: true}
			a.Tested = sortedSizes(merged)
			var can []string
			for _, k := range ks {
				lo, hi, n := math.Inf(1), math.Inf(-1), 0
				for _, gs := range bySize[k] {
					for _, g := range gs {
						if g.Baseline == nil || math.IsNaN(g.Baseline.Slowdown) {
							continue
						}
						lo, hi, n = math.Min(lo, g.Baseline.Slowdown), math.Max(hi, g.Baseline.Slowdown), n+1
					}
				}
				if n > 0 {
					can = append(can, fmt.Sprintf("%s=%s: %s–%s on %s", fpParam, k.footprint, fmtRatioNum(lo)+"×", fmtRatioNum(hi)+"×",
						strings.Join(sortedSizes(bySize[k]), ", ")))
				}
			}
			a.Note = fmt.Sprintf("this run's %s values are multiples of each size's EPC, so every size ran a different working set: "+
				"it shows the slowdown below and above each size's EPC, not which size a given working set needs", fpParam)
			if len(can) > 0 {
				a.Note += " (slowdown range: " + strings.Join(can, "; ") + ")"
			}
			a.Command = fmt.Sprintf("bench run --workloads %s --sizes %s --modes %s,%s --footprint %s",
				t.Name, strings.Join(a.Tested, ","), cmp.Or(baseline, recorded.name), modeOf[ks[0]], ExampleFootprints)
			out = append(out, a)
		}
	}
	return out
}

// footprintBytes is an absolute footprint value's byte count, 0 for an
// EPC-relative or unreadable one.
func footprintBytes(v string) int64 {
	if v == "" {
		return 0
	}
	n, _ := result.ByteCount(v)
	return n
}

// sortedSizes are the sizes of bySize in the order their groups' recorded
// facts give.
func sortedSizes(bySize map[string][]*Group) []string {
	names := make([]string, 0, len(bySize))
	facts := map[string]result.SizeFacts{}
	for s, gs := range bySize {
		names = append(names, s)
		for _, g := range gs {
			if g.SizeFacts != nil {
				facts[s] = *g.SizeFacts
			}
		}
	}
	o := newSizeOrder(facts)
	sort.Slice(names, func(i, j int) bool { return o.less(names[i], names[j]) })
	return names
}

// cellOf names the cells of a workload at a size in a mode (its label).
type cellOf struct{ workload, size, mode string }

// advise is the advice for a workload's cells of one mode and size family;
// base is the label of the mode they were compared with.
func advise(w, modeLabel, family string, bySize map[string][]*Group, failed map[cellOf]bool, tol float64, usable map[string]int64, base string) Advice {
	a := Advice{Workload: w, Mode: modeLabel, Family: family}
	names := sortedSizes(bySize)
	a.Tested = names
	type verdict struct {
		SizeVerdict
		lim *Group
	}
	var vs []verdict
	for _, s := range names {
		v := verdict{SizeVerdict: SizeVerdict{Size: s, Slowdown: math.Inf(-1)}}
		compared := 0
		for _, g := range bySize[s] {
			if g.Baseline == nil || math.IsNaN(g.Baseline.Slowdown) {
				continue
			}
			compared++
			if g.Baseline.Slowdown > v.Slowdown {
				v.Slowdown, v.Limiting, v.lim = g.Baseline.Slowdown, g.ParamText, g
			}
		}
		switch {
		case failed[cellOf{w, s, modeLabel}]:
			v.Reason = "failed cells"
		case compared == 0:
			v.Reason = "no " + base + " baseline"
		case v.Slowdown <= 1+tol:
			v.OK = true
		}
		if compared == 0 {
			v.Slowdown = math.NaN()
		}
		v.headroom(bySize[s], usable)
		vs = append(vs, v)
	}
	for _, v := range vs {
		a.PerSize = append(a.PerSize, v.SizeVerdict)
	}
	var pick *verdict
	for i := range vs {
		if vs[i].OK {
			pick = &vs[i]
			break
		}
	}
	tolText := fmtPct(tol)
	if pick != nil {
		a.Size = pick.Size
	} else {
		// The best size: the smallest worst slowdown among compared sizes.
		for i := range vs {
			if vs[i].Reason == "" && (pick == nil || vs[i].Slowdown < pick.Slowdown) {
				pick = &vs[i]
			}
		}
		var why []string
		for _, v := range vs {
			if v.Reason != "" {
				why = append(why, v.Size+": "+v.Reason)
			}
		}
		a.Note = fmt.Sprintf("no %s size stays within %s of %s", family, tolText, base)
		if pick != nil {
			a.Note += fmt.Sprintf("; the best is %s at %s", pick.Size, fmtSlowdown(pick.Slowdown))
			if pick.FootprintKnown && pick.UsableKnown && pick.HeadroomMiB < 0 {
				a.Note += fmt.Sprintf(", where the working set (%s) exceeds the usable EPC (%s)",
					fmtMiB(pick.FootprintMiB), fmtMiB(pick.UsableMiB))
			}
		}
		if len(why) > 0 {
			a.Note += " (" + strings.Join(why, "; ") + ")"
		}
	}
	if pick == nil {
		return a
	}
	a.At, a.Slowdown, a.Limiting = pick.Size, pick.Slowdown, pick.Limiting
	if n := encryptionNote(pick.lim, pick.Slowdown); n != "" {
		a.Note = strings.TrimPrefix(a.Note+"; "+n, "; ")
	}
	a.EPCMiB, a.UsableKnown = pick.UsableMiB, pick.UsableKnown
	a.FootprintMiB, a.Known = pick.FootprintMiB, pick.FootprintKnown
	a.HeadroomMiB = pick.HeadroomMiB
	return a
}

// encryptionNote splits a predicted slowdown with a memory-encryption part
// into what no size removes (memory encryption: every access that misses
// the LLC pays it, whatever the EPC) and what a larger size removes (EPC
// paging), from the parts of the group's model; "" when memory encryption
// is no part of it.
func encryptionNote(g *Group, slowdown float64) string {
	if g == nil || g.Baseline == nil || math.IsNaN(slowdown) || slowdown <= 1 {
		return ""
	}
	mee, epc := paired.Shares(g.Baseline.Parts)
	if mee < 0.01 {
		return ""
	}
	extra := slowdown - 1
	bound := ""
	if g.Paired != nil && g.Paired.MEEUpperBound {
		bound = "; " + g.Paired.MEEBound()
	}
	return fmt.Sprintf("of %s at %s, memory encryption adds %.2fx, which no larger size removes, and EPC paging %.2fx, which a larger size removes (%s model%s)",
		fmtSlowdown(slowdown), g.Size, extra*mee, extra*epc, g.Mode, bound)
}

// headroom fills v's usable EPC, footprint (the largest of the groups')
// and the difference.
func (v *SizeVerdict) headroom(gs []*Group, usable map[string]int64) {
	if u, ok := usable[v.Size]; ok && u > 0 {
		v.UsableMiB, v.UsableKnown = float64(u)/(1<<20), true
	}
	var fp int64 = -1
	known := len(gs) > 0
	for _, g := range gs {
		if g.Footprint < 0 {
			known = false
		}
		fp = max(fp, g.Footprint)
	}
	if known && fp >= 0 {
		v.FootprintMiB, v.FootprintKnown = float64(fp)/(1<<20), true
	}
	if v.UsableKnown && v.FootprintKnown {
		v.HeadroomMiB = v.UsableMiB - v.FootprintMiB
	}
}
