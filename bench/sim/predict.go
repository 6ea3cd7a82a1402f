package sim

import (
	"fmt"
	"math"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim/paired"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

// Event names the sim mode adds to a sample (besides ocalls and ecalls,
// which are the counting pass's rates times the repetition's operations).
const (
	EventCountOps    = "count_pass_ops"    // operations of the counting pass
	EventCountOCalls = "count_pass_ocalls" // OCALLs it counted
	EventCountECalls = "count_pass_ecalls" // ECALLs it counted
	// The cost events are the keys bench/sim/paired reads the prediction
	// back by: one definition, theirs.
	EventCostOCalls = paired.EventOCalls    // predicted time of the OCALLs
	EventCostECalls = paired.EventECalls    // predicted time of the ECALLs
	EventCostEPC    = paired.EventEPC       // predicted time of EPC loads and evictions
	EventCostMEE    = paired.EventMEE       // predicted extra time of LLC misses
	EventLLCMisses  = paired.EventLLCMisses // counted by the timed pass, when the host allows
	// EventLLMissesPF are the counting pass's simulated LLC misses of the
	// DCsv2 CPU with a stream prefetcher (bench run --counts,
	// result.EventLLMissesPF): the memory-encryption term's count where
	// the host has no LLC-miss counter.
	EventLLMissesPF = result.EventLLMissesPF
	// EventLLMissesStream is the part of EventLLMissesPF that streaming
	// instructions make (result.EventLLMissesStream).
	EventLLMissesStream = result.EventLLMissesStream
	EventCountNS        = "count_pass_ns" // duration of the counting pass's operations
	// EventCostMEEStream is the part of EventCostMEE that prices streamed
	// misses at the memory bandwidth's price (Prices.MemBandwidthBytesPerS),
	// written (0 included) whenever that price applied: a reader can tell
	// such a prediction from one that priced every miss at DRAM latency.
	EventCostMEEStream = paired.EventMEEStream
)

// LineBytes is the cache line of the modelled CPUs (the counting pass's
// simulated caches: bench/counts, Xeon E-2288G, 64-byte lines).
const LineBytes = 64

// Emulation is what the software EPC costs on this host beyond what SGX
// would: its handler's time plus FaultTrapNS per fault.
type Emulation struct {
	FaultTrapNS float64
}

// Prediction is the model's account of one sample.
type Prediction struct {
	BaseNS      float64 // the repetition's measured time, on plain memory
	EmulationNS float64 // what the software-EPC run cost (in no figure)
	OCalls      float64
	ECalls      float64
	OCallNS     float64
	ECallNS     float64
	EPCNS       float64
	MEENS       float64
	PredictedNS float64 // of the whole repetition
}

// Predict turns a measured sample of the sim build into the predicted
// enclave figures: the repetition's own measured time on plain memory (the
// workload's native time in this very process) plus every event counted
// for the same repetition, priced by pr. Every priced event adds time, so
// the prediction is never below the base. Values are converted (ns/op and
// latencies up, throughputs down). It fills s.Model (base, prediction,
// the measured values); s.Values become the predicted ones.
//
// A sample whose repetition was timed on the software EPC itself (a sim
// binary built before the paired run) is refused: its time includes the
// emulation, and no subtraction recovers the native time from it.
func Predict(s *result.Sample, pass *trace.Pass, pr *Prices, em Emulation, ref string) (Prediction, error) {
	var p Prediction
	n := float64(s.Iters)
	elapsed := float64(s.ElapsedNS)
	ev := s.Events
	if s.Events == nil {
		s.Events = map[string]int64{}
	}
	if ev["epc_faults"] > 0 && ev[protocol.EventEPCPassOps] == 0 {
		return p, fmt.Errorf("the sim workload binary timed its repetition on the software EPC (it predates the paired run): rebuild it with `%s`", BuildCommand)
	}
	p.BaseNS = elapsed
	p.EmulationNS = float64(ev["epc_fault_ns"]) + em.FaultTrapNS*float64(ev["epc_faults"])

	// Transitions: the counting pass's rates. OCALLs that follow the clock
	// (the runtime's sysmon) scale with time, the rest with operations.
	if pass != nil && pass.Ops > 0 {
		timed := pass.Counts.ClockOCalls
		opDriven := math.Max(float64(pass.Counts.OCalls-timed), 0)
		p.OCalls = opDriven / float64(pass.Ops) * n
		if pass.ElapsedNS > 0 {
			p.OCalls += float64(timed) / float64(pass.ElapsedNS) * p.BaseNS
		}
		p.ECalls = float64(pass.Counts.ECalls) / float64(pass.Ops) * n
		s.Events[protocol.EventOCalls] = int64(math.Round(p.OCalls))
		s.Events[protocol.EventECalls] = int64(math.Round(p.ECalls))
		s.Events[EventCountOps] = pass.Ops
		s.Events[EventCountOCalls] = pass.Counts.OCalls
		s.Events[EventCountECalls] = pass.Counts.ECalls
		s.Events[EventCountNS] = pass.ElapsedNS
	}
	p.OCallNS = p.OCalls * pr.NS(pr.OCallCycles)
	p.ECallNS = p.ECalls * pr.NS(pr.ECallCycles)
	p.EPCNS = float64(max(ev[protocol.EventEPCLoads], 0))*pr.NS(pr.EPCLoadCycles) + float64(max(ev[protocol.EventEPCEvicts], 0))*pr.NS(pr.EPCEvictionCycles)
	// Memory encryption: every access that misses the LLC takes MEEFactor
	// times its latency. The misses are the host's own (PMU) where it
	// counts them, at this host's miss latency; else the counting pass's
	// simulated misses of the DCsv2 CPU's 16 MiB LLC (--counts).
	switch misses, ok := ev[EventLLCMisses]; {
	case ok && pass != nil && pass.HostLLCMissNS > 0:
		if misses > 0 && pr.MEEFactor > 1 {
			p.MEENS = float64(misses) * pass.HostLLCMissNS * (pr.MEEFactor - 1)
		}
	case ev[EventLLMissesPF] > 0:
		var streamNS float64
		streamed, split := ev[EventLLMissesStream]
		p.MEENS, streamNS = SimulatedMEENS(float64(ev[EventLLMissesPF]), float64(streamed), p.BaseNS, pr)
		if split && pr.MemBandwidthBytesPerS > 0 {
			s.Events[EventCostMEEStream] = int64(math.Round(streamNS))
		}
	}
	p.PredictedNS = p.BaseNS + p.OCallNS + p.ECallNS + p.EPCNS + p.MEENS
	for name, v := range map[string]float64{EventCostOCalls: p.OCallNS, EventCostECalls: p.ECallNS, EventCostEPC: p.EPCNS, EventCostMEE: p.MEENS} {
		if v > 0 {
			s.Events[name] = int64(math.Round(v))
		}
	}

	native := append([]protocol.Value(nil), s.Values...)
	s.Values = convert(s.Values, elapsed, p.PredictedNS, n)
	s.Model = &result.Model{Profile: ref, Native: native, EmulationNS: int64(math.Round(p.EmulationNS)),
		BaseNS: s.ElapsedNS, PredictedNS: int64(math.Round(p.PredictedNS))}
	return p, nil
}

// SimulatedMEENS is the extra time memory encryption adds to a repetition
// measured at baseNS with that many simulated LLC misses (the counting
// pass's, with a stream prefetcher), of which streamed are those of
// streaming instructions (result.EventLLMissesStream), and the part of
// it the streamed ones make.
//
// A miss the core waits for (a dependent load: a pointer chase, a hash
// probe) costs (MEEFactor-1) x the modelled CPU's DRAM latency more in
// the enclave: a price of the modelled CPU, not of this host (whose
// misses may cost several times more: nested paging on a VM). A streamed
// miss is one at which Callgrind's prefetcher restarts a stream (2 per
// 4 KiB page); on the modelled CPU it overlaps the stream's other lines
// (out-of-order loads, the L2 streamer), so the core does not wait its
// latency: it costs its line's share of the memory bandwidth,
// LineBytes / MemBandwidthBytesPerS, and (MEEFactor-1) times that more in
// the enclave. The lines the prefetcher fetched ahead are not counted by
// Callgrind (its prefetches' own LLC lookups are discarded) and not
// priced: published SGX1 figures put sequential access below the EPC at
// about native speed (docs/sim.md). A profile without a memory bandwidth
// (published/v2 and before) prices every miss at DRAM latency.
//
// An access is at most MEEFactor times slower, so the term is capped at
// (MEEFactor-1) x baseNS. 0 where the profile prices no memory
// encryption.
func SimulatedMEENS(misses, streamed, baseNS float64, pr *Prices) (total, stream float64) {
	if misses <= 0 || pr.MEEFactor <= 1 || pr.DRAMLatencyNS <= 0 {
		return 0, 0
	}
	streamed = math.Min(math.Max(streamed, 0), misses)
	perStream := pr.DRAMLatencyNS
	if pr.MemBandwidthBytesPerS > 0 {
		perStream = LineBytes / pr.MemBandwidthBytesPerS * 1e9
	}
	dep, str := (misses-streamed)*pr.DRAMLatencyNS, streamed*perStream
	scale := 1.0
	if dep+str > baseNS {
		scale = baseNS / (dep + str) // the cap, shared in proportion
	}
	return (pr.MEEFactor - 1) * (dep + str) * scale, (pr.MEEFactor - 1) * str * scale
}

// convert rescales measured values from a repetition that took elapsed ns
// to one that takes predicted ns, for n operations.
func convert(vals []protocol.Value, elapsed, predicted, n float64) []protocol.Value {
	out := make([]protocol.Value, len(vals))
	ratio := 1.0
	if elapsed > 0 {
		ratio = predicted / elapsed
	}
	deltaPerOp := 0.0
	if n > 0 {
		deltaPerOp = (predicted - elapsed) / n // ns
	}
	for i, v := range vals {
		out[i] = v
		switch {
		case v.Unit == "ns/op":
			if n > 0 {
				out[i].Value = predicted / n
			}
		case v.Better == protocol.Higher && strings.HasSuffix(v.Unit, "/s"):
			if ratio > 0 {
				out[i].Value = v.Value / ratio
			}
		case v.Better == protocol.Lower:
			if scale, ok := timeUnit(v.Unit); ok {
				out[i].Value = math.Max(v.Value+deltaPerOp/scale, 0)
			}
		}
	}
	return out
}

// timeUnit reports the nanoseconds per unit of a latency unit such as
// "p99-ns", "ns", "us", "ms", "s", "latency-us".
func timeUnit(unit string) (float64, bool) {
	u := unit
	if i := strings.LastIndexAny(u, "-_"); i >= 0 {
		u = u[i+1:]
	}
	switch u {
	case "ns":
		return 1, true
	case "us", "µs":
		return 1e3, true
	case "ms":
		return 1e6, true
	case "s", "sec":
		return 1e9, true
	}
	return 0, false
}

// CountsOnly labels a sample that could not be predicted: its values stay
// the measured ones and Model.CountsOnly says why.
func CountsOnly(s *result.Sample, pass *trace.Pass, ref, reason string) {
	if pass != nil && pass.Ops > 0 && pass.Unavailable == "" {
		oc, ec := pass.Rate()
		if s.Events == nil {
			s.Events = map[string]int64{}
		}
		s.Events[protocol.EventOCalls] = int64(math.Round(oc * float64(s.Iters)))
		s.Events[protocol.EventECalls] = int64(math.Round(ec * float64(s.Iters)))
		s.Events[EventCountOps] = pass.Ops
	}
	s.Model = &result.Model{Profile: ref, Native: append([]protocol.Value(nil), s.Values...), CountsOnly: reason}
}

// Describe is a one-line account of a prediction, for logs and tests.
func (p Prediction) Describe() string {
	return fmt.Sprintf("base %.0f ns (emulation %.0f ns, not in it) + %.0f OCALLs %.0f ns + %.0f ECALLs %.0f ns + EPC %.0f ns + MEE %.0f ns = %.0f ns",
		p.BaseNS, p.EmulationNS, p.OCalls, p.OCallNS, p.ECalls, p.ECallNS, p.EPCNS, p.MEENS, p.PredictedNS)
}
