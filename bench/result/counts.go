package result

import "github.com/enclavebench/enclavebench/workloads/protocol"

// Events of the counting pass (bench run --counts, bench/counts): per-op
// figures of an untimed run of the workload under Valgrind, put on the
// samples of the cell as totals over the repetition (the per-op figure
// times the sample's operations), so bench.txt shows them as <event>/op.
// The pass gives a few values per cell (Counts.Values, the cell's
// ExtraCountsValues): sample rep r carries value r mod that number. Runs
// from before it had one value per cell, on every sample.
const (
	// EventInstructions is Valgrind's Ir: instructions executed, every
	// thread of the workload process.
	EventInstructions = "instructions"
	// EventL1DMisses is Valgrind's D1mr + D1mw in the Xeon E-2288G's L1d.
	EventL1DMisses = "l1d_misses"
	// EventLLMisses is Valgrind's ILmr + DLmr + DLmw in the Xeon
	// E-2288G's 16 MiB last-level cache, simulated without a prefetcher:
	// the accesses that reach memory, every line of a stream included
	// (counting passes before EventLLMissesPF). Not "llc_misses": that is
	// the sim mode's hardware count (perf_event_open), another source.
	EventLLMisses = "ll_misses"
	// EventLLMissesPF is the same count with Callgrind's model of a
	// hardware stream prefetcher (--simulate-hwpref=yes): a line the
	// prefetcher fetched ahead of a stream is a hit, so a sequential
	// stream is not charged line by line. The counting pass records it
	// in place of EventLLMisses (docs/sim.md "Memory encryption"): counts
	// of the two cache models carry two names, so no reader (bench
	// compare, benchstat over bench.txt) puts one against the other;
	// runs from before keep EventLLMisses.
	EventLLMissesPF = "ll_misses_pf"
	// EventLLMissesStream is the part of EventLLMissesPF that streaming
	// instructions make: those at most 1 in 8 of whose L1d misses reach
	// memory (bench/counts.StreamingInstr), their remaining misses the
	// points at which Callgrind's prefetcher restarts a stream. The sim
	// model prices them as overlapping the stream, the others as
	// dependent (docs/sim.md "Memory encryption"). Counting passes
	// before it have none: every ll_misses_pf miss is then priced alike.
	EventLLMissesStream = "ll_misses_stream"
	// EventProcessSyscalls is every system call the workload process made
	// during the counted operations (Valgrind's system call trace, every
	// thread, the Go runtime's included), except clock reads, which are
	// vDSO calls natively. Not "syscalls": that is what the syscall and
	// fileio workloads count of their own calls.
	EventProcessSyscalls = "process_syscalls"
	// EventAllocBytes and EventAllocObjects are the Go heap allocations of
	// the counted operations (runtime.MemStats TotalAlloc and Mallocs;
	// workloads/protocol).
	EventAllocBytes   = protocol.EventAllocBytes
	EventAllocObjects = protocol.EventAllocObjects
)

// CountEvents are the counting pass's events, in the order readers list
// them.
var CountEvents = []string{EventInstructions, EventL1DMisses, EventLLMisses, EventLLMissesPF, EventLLMissesStream, EventProcessSyscalls, EventAllocBytes, EventAllocObjects}

// Counts is run.json's record of the counting pass (bench run --counts):
// where its events come from, or why there are none.
type Counts struct {
	// Unavailable says why no cell was counted (Valgrind missing); the
	// samples then carry no count events and the gate uses time only.
	Unavailable string `json:"unavailable,omitempty"`
	// Tool is the counting tool and its version ("valgrind-3.19.0").
	Tool string `json:"tool,omitempty"`
	// Method is how the counts are taken and scaled per operation.
	Method string `json:"method,omitempty"`
	// Cache is the simulated cache geometry, with its source.
	Cache string `json:"cache,omitempty"`
	// Events describes each count event (CountEvents) this run records.
	Events map[string]string `json:"events,omitempty"`
	// CPUHidden are the CPU features the host has and the counted
	// process did not see under Valgrind (code paths that may differ
	// from the timed runs'); nil when none or not probed.
	CPUHidden []string `json:"cpu_hidden,omitempty"`
	// Env is the environment the counted processes ran with beyond the
	// cell's (GODEBUG settings).
	Env []string `json:"env,omitempty"`
	// Values is how many independent per-op values of each event a
	// counted cell has (the counting pass's segments or passes, each on
	// the samples whose rep modulo Values is its index); 0 in runs from
	// before: one value, on every sample. A cell has all of them or no
	// counts.
	Values int `json:"values,omitempty"`
}

// PerCellValues is how many independent per-op values of each counting
// pass event a counted cell of the run has (Values, at least 1).
func (c *Counts) PerCellValues() int {
	if c == nil || c.Values < 1 {
		return 1
	}
	return c.Values
}

// ProfileDir is the result directory's folder of cell profiles, and
// ExtraProfile the key of a cell's Extra (cells.jsonl) that holds its
// profile's path relative to the result directory (pprof format, gzipped:
// `go tool pprof -top DIR/<path>`).
const (
	ProfileDir   = "profiles"
	ExtraProfile = "profile"
)

// Sample types and labels of a cell profile (ProfileDir), the one
// vocabulary of its writer (bench/sim) and its readers (bench/sites). The
// counting pass's part (ocalls, ecalls, cause, clock) is written on the
// workload's side by workloads/trace under the same names (checked by
// bench/sim's tests); the sim mode adds the priced ones.
const (
	ProfileOCalls       = "ocalls"
	ProfileOCallTime    = "ocall_time"
	ProfileECallTime    = "ecall_time"
	ProfileEPCLoads     = "epc_loads"
	ProfileEPCEvictions = "epc_evictions"
	ProfileEPCTime      = "epc_time"
	// ProfileExtraTime, the predicted extra time, is the profile's default
	// sample type.
	ProfileExtraTime = "extra_time"
	// Labels: an OCALL's cause and whether it follows the clock ("yes"),
	// and the memory region of an EPC sample's pages.
	ProfileCause  = "cause"
	ProfileClock  = "clock"
	ProfileRegion = "region"
)

// Keys of a counted cell's Extra (cells.jsonl).
const (
	ExtraCountsIters  = "counts_iters"  // operations of one counted repetition (before Counts.Segments: of the smaller of two counted runs)
	ExtraCountsValues = "counts_values" // how many values per event the cell's samples carry (rep r carries value r mod it); absent: 1
	ExtraCountsError  = "counts_error"  // why this cell has no counts
)
