// Package paired reads the sim mode's figures as what they are: for each
// repetition, the workload's measured native time (the base) and that time
// plus the enclave events counted for the same repetition, priced by the
// cost profile (the prediction). A sim cell's predicted slowdown is the
// median of its per-repetition ratios predicted/base with the
// order-statistic interval of those ratios (bench/stats, benchmath): it
// comes from the pairs, never from a comparison with another process, and
// it is at least 1 by construction (1 only where no event was counted).
//
// Every report, the summary of bench run, bench compare and the exports
// present sim cells through this package, so that none of them can call a
// sim cell faster than native.
package paired

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/stats"
	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// The sim mode's cost events, which it writes (bench/sim.EventCost* are
// these): the predicted time of each kind of enclave event in a
// repetition, in ns.
const (
	EventOCalls = "model_ocall_ns"
	EventECalls = "model_ecall_ns"
	EventEPC    = "model_epc_ns"
	EventMEE    = "model_mee_ns"
	// EventMEEStream is the part of EventMEE of streamed misses, written
	// whenever they were priced at the memory bandwidth's price
	// (published/v3 and later), 0 included.
	EventMEEStream = "model_mee_stream_ns"
	// EventLLCMisses are the LLC misses the timed pass counted where the
	// host allows (a hardware count: memory encryption priced from it is
	// no upper bound).
	EventLLCMisses = "llc_misses"
)

// Parts are the cost events in report order, with their labels.
var Parts = []struct{ Event, Label string }{
	{EventOCalls, "OCALLs"},
	{EventECalls, "ECALLs"},
	{EventEPC, "EPC paging"},
	{EventMEE, "memory encryption"},
}

// Pair is one predicted sim repetition.
type Pair struct {
	BaseNS      float64 // measured, on plain memory
	PredictedNS float64 // BaseNS + the priced events
	// PartNS is the predicted time of each cost event.
	PartNS map[string]float64
	// Reconstructed: the sample predates the paired model; its base is
	// its time less the emulation's, as the model then computed it.
	Reconstructed bool
	// OwnBaseNS is the repetition's own measured base when BaseNS is the
	// pooled base the run recorded for its cell (Sample.Pool); 0 otherwise.
	OwnBaseNS float64
}

// Slowdown is PredictedNS / BaseNS (>= 1).
func (p Pair) Slowdown() float64 { return p.PredictedNS / p.BaseNS }

// Of returns the pair of a predicted sim sample; false for anything else
// (native samples, counts-free sim samples, samples without a usable base).
func Of(s *result.Sample) (Pair, bool) {
	m := s.Model
	if m == nil || m.CountsOnly != "" {
		return Pair{}, false
	}
	p := Pair{PartNS: map[string]float64{}}
	extra := 0.0
	for _, part := range Parts {
		if v := s.Events[part.Event]; v > 0 {
			p.PartNS[part.Event] = float64(v)
			extra += float64(v)
		}
	}
	if m.BaseNS > 0 {
		p.BaseNS = float64(m.BaseNS)
		p.PredictedNS = math.Max(float64(m.PredictedNS), p.BaseNS)
		if pl := s.Pool; pl != nil && pl.BaseNSPerOp > 0 && s.Iters > 0 {
			// The priced events stay the repetition's own; only the base
			// they are set against is the pool's.
			p.OwnBaseNS = p.BaseNS
			p.BaseNS = pl.BaseNSPerOp * float64(s.Iters)
			p.PredictedNS = p.BaseNS + (p.PredictedNS - p.OwnBaseNS)
		}
	} else {
		// Written before the paired model: the base was the repetition's
		// time less the emulation's cost, the prediction that plus the
		// priced events (rounded to ns each).
		p.BaseNS = float64(s.ElapsedNS - m.EmulationNS)
		p.PredictedNS = p.BaseNS + extra
		p.Reconstructed = true
	}
	if !(p.BaseNS > 0) || math.IsInf(p.PredictedNS, 0) {
		return Pair{}, false
	}
	return p, true
}

// BaseValue is the sample's measured base in unit: the value the
// prediction started from. Samples of the paired model keep it
// (Model.Native); for older ones it is the predicted value scaled back by
// the pair's slowdown (exact for ns/op and throughputs).
func BaseValue(s *result.Sample, unit string) (float64, bool) {
	p, ok := Of(s)
	if !ok {
		return 0, false
	}
	v, ok := s.Value(unit)
	if !ok {
		return 0, false
	}
	if !p.Reconstructed {
		for _, nv := range s.Model.Native {
			if nv.Unit == unit {
				if p.OwnBaseNS > 0 { // the pooled base, in unit
					switch {
					case nv.Better == protocol.Higher && strings.HasSuffix(unit, "/s"):
						return nv.Value * p.OwnBaseNS / p.BaseNS, true
					case unit == "ns/op":
						return nv.Value * p.BaseNS / p.OwnBaseNS, true
					}
					return 0, false
				}
				return nv.Value, true
			}
		}
		return 0, false
	}
	if v.Better == protocol.Higher {
		return v.Value * p.Slowdown(), true
	}
	return v.Value / p.Slowdown(), true
}

// Part is one kind of event's share of a cell's predicted extra time.
type Part struct {
	Event, Label string
	Share        float64 // of the summed extra time over the cell's pairs
}

// Shares are the memory-encryption and the EPC-paging parts' shares of
// parts (0 for a part that is not there): what no larger size removes and
// what a larger size removes, which the report's sizing advice tells
// apart without naming the sim mode's events.
func Shares(parts []Part) (encryption, paging float64) {
	for _, p := range parts {
		switch p.Event {
		case EventMEE:
			encryption = p.Share
		case EventEPC:
			paging = p.Share
		}
	}
	return encryption, paging
}

// Cell is the paired summary of one sim cell.
type Cell struct {
	// N is the number of pairs.
	N int
	// Slowdown summarises predicted_i / base_i: median and its 95%
	// interval (>= 1).
	Slowdown stats.Summary
	// Parts that add time, largest first; empty when nothing was counted.
	Parts []Part
	// Reconstructed counts pairs from samples written before the paired
	// model.
	Reconstructed int
	// Uncounted names what the prediction leaves out (result.Model.Uncounted).
	Uncounted string
	// Pool is the recorded base pool the pairs are over (result.SimBase);
	// nil when each pair is over its own repetition's base.
	Pool *result.SimBase
	// MEEUpperBound is set when the memory-encryption part was priced from
	// the counting pass's simulated LLC misses without a prefetcher model
	// (result.EventLLMisses: runs from before ll_misses_pf) at the host's
	// miss latency: a sequential stream counted every line as a miss,
	// where published SGX figures show about no memory-encryption cost
	// (docs/sim.md): for such cells the part is an upper bound. Runs
	// counted with the prefetcher model (ll_misses_pf) set it too, with
	// MEEPrefetch: the misses a stream leaves (two per 4 KiB page in
	// Callgrind's model) are still each priced as one the core waits for,
	// which measured memsweep seq at 0.5xEPC of DC4s_v2 at about 2-2.7x
	// (scripts/mee-before-after.sh), where hardware runs it at about 1x.
	// Cells whose streamed misses were priced at the memory bandwidth's
	// price (EventMEEStream, published/v3) do not set it.
	MEEUpperBound bool
	// MEEPrefetch says the simulated misses were counted with the
	// prefetcher model (result.EventLLMissesPF).
	MEEPrefetch bool
}

// MEEBound is the note a cell with MEEUpperBound carries ("" without).
func (c Cell) MEEBound() string {
	switch {
	case !c.MEEUpperBound:
		return ""
	case c.MEEPrefetch:
		return "memory encryption from simulated LLC misses with a prefetcher model: still an upper bound for sequential access"
	}
	return "memory encryption from simulated LLC misses without a prefetcher: an upper bound for sequential access"
}

// Summarize returns the paired summary of a cell's samples; N is 0 when
// none is a predicted sim sample.
func Summarize(samples []*result.Sample) Cell {
	var c Cell
	var ratios []float64
	sum := map[string]float64{}
	total := 0.0
	for _, s := range samples {
		p, ok := Of(s)
		if !ok {
			continue
		}
		ratios = append(ratios, p.Slowdown())
		for k, v := range p.PartNS {
			sum[k] += v
			total += v
		}
		if p.Reconstructed {
			c.Reconstructed++
		}
		if u := s.Model.Uncounted; u != "" {
			c.Uncounted = u
		}
		if p.OwnBaseNS > 0 {
			c.Pool = s.Pool
		}
		_, pmu := s.Events[EventLLCMisses]
		_, streamPriced := s.Events[EventMEEStream]
		if p.PartNS[EventMEE] > 0 && !pmu && !streamPriced {
			switch {
			case s.Events[result.EventLLMissesPF] > 0:
				c.MEEUpperBound, c.MEEPrefetch = true, true
			case s.Events[result.EventLLMisses] > 0:
				c.MEEUpperBound = true
			}
		}
	}
	c.N = len(ratios)
	if c.N == 0 {
		return c
	}
	c.Slowdown = stats.Summarize(ratios)
	if c.Pool != nil {
		// Over a pooled base the pairs share one base: the interval must
		// also hold the pooled median's own (its 95% interval, recorded).
		lo, hi := poolRatios(samples, c.Pool.BaseHiNSPerOp), poolRatios(samples, c.Pool.BaseLoNSPerOp)
		if len(lo) == c.N && len(hi) == c.N {
			c.Slowdown.Lo = math.Min(c.Slowdown.Lo, stats.Summarize(lo).Lo)
			c.Slowdown.Hi = math.Max(c.Slowdown.Hi, stats.Summarize(hi).Hi)
		} else {
			c.Slowdown.Lo, c.Slowdown.Hi = math.Inf(-1), math.Inf(1)
		}
	}
	for _, part := range Parts {
		if v := sum[part.Event]; v > 0 {
			c.Parts = append(c.Parts, Part{Event: part.Event, Label: part.Label, Share: v / total})
		}
	}
	sort.SliceStable(c.Parts, func(i, j int) bool { return c.Parts[i].Share > c.Parts[j].Share })
	return c
}

// poolRatios are the pairs' slowdowns over base ns per operation in place
// of their pool's center; nil when base is not a positive number.
func poolRatios(samples []*result.Sample, base float64) []float64 {
	if !(base > 0) || math.IsInf(base, 0) {
		return nil
	}
	var out []float64
	for _, s := range samples {
		p, ok := Of(s)
		if !ok || p.OwnBaseNS == 0 {
			continue
		}
		b := base * float64(s.Iters)
		out = append(out, (b+p.PredictedNS-p.BaseNS)/b)
	}
	return out
}

// NoEvents says that nothing was counted in any pair: the prediction is
// the measured base.
func (c Cell) NoEvents() bool { return c.N > 0 && len(c.Parts) == 0 }

// Verdict is the cell's one-line account, the same wherever a sim cell is
// printed outside the report: "1.21× slower [1.19, 1.24] predicted over
// its own base: OCALLs 96%, EPC paging 4% (6 pairs)", "as native: no
// enclave event counted (6 pairs)". Never "faster".
func (c Cell) Verdict() string {
	n := strconv.Itoa(c.N) + " pairs"
	if c.Uncounted != "" {
		n += "; not counted: " + c.Uncounted
	}
	if c.Pool != nil {
		n += "; " + PoolText(c.Pool)
	}
	if c.N == 0 {
		return "not predicted"
	}
	if c.NoEvents() {
		return "as native: no enclave event counted (" + n + ")"
	}
	s := c.Slowdown
	out := num(math.Max(s.Center, 1)) + "× slower"
	if finite(s.Lo) && finite(s.Hi) {
		out += " [" + num(math.Max(s.Lo, 1)) + ", " + num(math.Max(s.Hi, 1)) + "]"
	} else {
		out += " [no CI]"
	}
	parts := make([]string, len(c.Parts))
	for i, p := range c.Parts {
		parts[i] = p.Label + " " + Share(p.Share)
	}
	if b := c.MEEBound(); b != "" {
		n += "; " + b
	}
	over := " predicted over its own base: "
	if c.Pool != nil {
		over = " predicted over the pooled base: "
	}
	return out + over + strings.Join(parts, ", ") + " (" + n + ")"
}

// Share prints a share of the predicted extra time: "96%", "<1%".
func Share(f float64) string {
	if f < 0.005 {
		return "<1%"
	}
	return strconv.FormatFloat(math.Round(f*100), 'f', 0, 64) + "%"
}

// num prints a slowdown with 3 significant digits, or 4 decimals within
// 1% of 1 (a runtime's few OCALLs: "1.0004", not "1").
func num(v float64) string {
	if v >= 1 && v < 1.01 {
		return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(v, 'f', 4, 64), "0"), ".")
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// FormatSlowdown prints a slowdown as every sim account does.
func FormatSlowdown(v float64) string { return num(v) }

func finite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

// PoolText says which base a pooled cell's slowdown is over: "base pooled
// over 4 sizes of parallelism 1: 1.157µ sec/op, the median of 24
// repetitions (the cells' own medians: 639.0n sec/op to 2.394µ sec/op)".
func PoolText(p *result.SimBase) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range p.Cells {
		lo, hi = math.Min(lo, c.BaseNSPerOp), math.Max(hi, c.BaseNSPerOp)
	}
	return "base pooled over " + strconv.Itoa(len(p.Cells)) + " sizes of parallelism " + strconv.Itoa(p.Parallelism) + ": " +
		textfmt.Figure(p.BaseNSPerOp, "ns/op") + ", the median of " + strconv.Itoa(p.Pairs) + " repetitions (the cells' own medians: " +
		textfmt.Figure(lo, "ns/op") + " to " + textfmt.Figure(hi, "ns/op") + ")"
}
