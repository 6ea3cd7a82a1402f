package compare

import (
	"math"
	"slices"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
)

// countSpread measures how far a count's values spread on each side: the
// range in percent of the median. A count is deterministic when both sides
// have MinCountSamples independent values or more (iOld, iNew: samples, or
// counting passes) and spread by at most half of the count threshold: a
// change beyond the threshold then lies outside both ranges. A count that
// is not deterministic is gated when its sides lie apart and it moved
// factor times its wider side's spread (SeparationFactor, or
// OneProcessSeparationFactor when each side's values come from one
// process).
func countSpread(oldVals, newVals []float64, iOld, iNew int, factor float64, o Options) *Spread {
	sp := &Spread{Old: Num(spreadPct(oldVals)), New: Num(spreadPct(newVals)), BoundPct: o.CountThreshold / 2,
		IndependentOld: iOld, IndependentNew: iNew}
	enough := iOld >= MinCountSamples && iNew >= MinCountSamples
	sp.Deterministic = enough && float64(sp.Old) <= sp.BoundPct && float64(sp.New) <= sp.BoundPct
	sp.Separated = enough && !sp.Deterministic && separated(oldVals, newVals) &&
		changePct(oldVals, newVals) > factor*math.Max(float64(sp.Old), float64(sp.New))
	return sp
}

// SeparationFactor is how many times its wider side's spread a count that
// is not deterministic must move, with its sides apart, to be gated.
// Measured with scripts/detection.sh (docs/ci.md): one more system call
// per operation moved process_syscalls/op by 98% on a spread of 1-3%,
// while runs of an unchanged syscall cell taken at another time moved it
// by up to 3% with their sides apart (run-to-run drift of the Go
// runtime's clock-driven calls under Valgrind): at 1x that drift was
// flagged in 5 of 20 draws, at 5x in none.
const SeparationFactor = 5

// OneProcessSeparationFactor replaces SeparationFactor for the counting
// pass's events when a side has fewer than MinCountSamples runs: its
// values are segments of one process, which spread less than processes
// drift apart where the Go runtime's clock-driven work varies under
// Valgrind. Measured with scripts/detection.sh (docs/ci.md, "Measured
// detection"): over 60 pairs of one counting process a side of an
// unchanged syscall read cell, the sides lay apart with a change of at
// most 4.0 times the wider side's segment spread; one more system call
// per operation moved process_syscalls/op by 12 to 137 times it in 10 of
// 10 trials.
const OneProcessSeparationFactor = 10

// separated says whether the two sides' values lie apart by more than the
// wider side's range: every value of one side beyond every value of the
// other, with a gap larger than either side's own spread.
func separated(a, b []float64) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	aLo, aHi := slices.Min(a), slices.Max(a)
	bLo, bHi := slices.Min(b), slices.Max(b)
	gap := math.Max(bLo-aHi, aLo-bHi)
	return gap > math.Max(aHi-aLo, bHi-bLo)
}

// changePct is the change of the median from a to b in percent of a's
// (+Inf around a zero median).
func changePct(a, b []float64) float64 {
	ma, mb := median(a), median(b)
	if ma == 0 {
		return math.Inf(1)
	}
	return math.Abs(mb-ma) / math.Abs(ma) * 100
}

func median(vals []float64) float64 {
	s := slices.Clone(vals)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + m) / 2
	}
	return m
}

// perRunUnit says whether u's figure is fixed once per run rather than
// measured per repetition: the counting pass's events, and the Go testing
// package's B/op and allocs/op, which divide allocations made outside the
// benchmark loop by a b.N the harness calibrates once per run, so two runs
// of one build differ while the repetitions of one run agree exactly.
func perRunUnit(u string) bool { return passUnit(u) || u == "B/op" || u == "allocs/op" }

// perRunWhy says why u's figure is one per run.
func perRunWhy(u string) string {
	if passUnit(u) {
		return "taken by the counting pass (bench run --counts), its values per run and cell set by run.json's counts.values"
	}
	return "its b.N is calibrated once per run"
}

// passUnit says whether u is an event of the counting pass (bench run
// --counts: result.CountEvents), taken by an untimed pass per run and
// cell, not per repetition.
func passUnit(u string) bool {
	e, ok := strings.CutSuffix(u, "/op")
	return ok && slices.Contains(result.CountEvents, e)
}

// spreadPct is (max-min)/|median| in percent: 0 when all values are equal,
// +Inf when they differ around a zero median.
func spreadPct(vals []float64) float64 {
	if len(vals) == 0 {
		return math.Inf(1)
	}
	lo, hi := slices.Min(vals), slices.Max(vals)
	if lo == hi {
		return 0
	}
	med := median(vals)
	if med == 0 {
		return math.Inf(1)
	}
	return (hi - lo) / math.Abs(med) * 100
}

// otherCacheModel is, for a unit of one of the counting pass's two LLC
// miss counts (without and with the prefetcher model), the other one's
// unit; "" for any other unit.
func otherCacheModel(u string) string {
	switch u {
	case result.EventLLMisses + "/op":
		return result.EventLLMissesPF + "/op"
	case result.EventLLMissesPF + "/op":
		return result.EventLLMisses + "/op"
	}
	return ""
}
