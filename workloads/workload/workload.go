// Package workload defines the contract between a workload and the
// measurement loop: what a workload declares (its parameters, metrics and
// units) and what it does (run n operations, reporting extra figures).
package workload

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Env is what a workload knows about the cell it runs in.
type Env struct {
	// Size is the cell's VM size (name, vCPUs, EPC, memory), one value
	// from the harness (--size); its fields read as Env's (env.VCPUs).
	protocol.Size
	HostMem   int64  // this host's physical memory (0 when unknown)
	TempDir   string // a scratch directory on the host file system
	InEnclave bool   // running inside an enclave (EGo)
	MemfsDir  string // a directory on EGo's in-enclave memfs, when in one
	Addr      string // a loopback address the harness assigned, for servers
	// MaxOps, when positive, is the most operations the process will run
	// (the counting pass's fixed (warmup+reps) x iters): New may leave out
	// of its setup the work no operation within MaxOps needs (aesgcm seals
	// only the records they open), never the memory itself, which the
	// counting pass's Spec.CountWarm touches; or leave the last part of its
	// setup to CountWarm's touch (gokv), which its Run must then do if
	// touch did not run.
	MaxOps int64
	// WarmBytes, when positive, bounds what Spec.CountWarm's touch must
	// repeat of the setup's last pass: the part of it that ends the pass
	// and covers its last WarmBytes of data in address space (0: the whole
	// pass). The counting pass sets it (WarmBytesEnv) to twice the size of
	// its simulated last-level cache, and it is exact, not an
	// approximation: Callgrind's caches are LRU per set, so a set's state
	// after a sequence of accesses is the last `ways` distinct lines that
	// mapped to it, in recency order, and when the tail of the sequence
	// alone holds that many of every set the state is the same whatever came
	// before. A contiguous range of k times the cache's size holds k x ways
	// lines of every set (set = line number mod sets): 2x holds twice the
	// ways, a margin for a tail in several pieces (p pieces: at least
	// 2 x ways - p lines a set) or with gaps (kvstore's empty slots, which
	// it spans more to cover). Callgrind's stream prefetcher (8 streams, by
	// 4 KiB page) differs only at the tail's start, lines the rest of the
	// tail evicts. Set only in the counting pass, under Callgrind.
	WarmBytes  int64
	Parameters map[string]string
}

// WarmBytesEnv is the environment variable through which the counting
// pass (bench/counts) gives the counted process Env.WarmBytes, in bytes.
// A workload binary from before it ignores it and repeats the whole last
// pass, which leaves the simulated caches the same.
const WarmBytesEnv = "ENCLAVEBENCH_COUNT_WARM_BYTES"

// Param describes one parameter of a workload.
type Param struct {
	Name  string
	Doc   string
	Range string   // the valid values, for error messages and `bench list`
	Quick []string // grid of the quick profile
	Full  []string // grid of the full profile
	// Check validates one value for env; it returns an error that names the
	// valid range. Nil means any value in Quick or Full.
	Check func(value string, env Env) error
}

// Metric describes one figure a workload reports.
type Metric struct {
	Unit   string
	Better string // protocol.Lower or protocol.Higher
	Doc    string
}

// Spec declares a workload.
type Spec struct {
	Name    string
	Doc     string // one line: what it measures and why it matters in an enclave
	Params  []Param
	Metrics []Metric
	// EnclaveOnly workloads report "not applicable" outside an enclave.
	EnclaveOnly bool
	// New prepares a benchmark for env (allocations, files, servers).
	New func(env Env) (Bench, error)
	// Footprint is the enclave memory the workload allocates for env, in
	// bytes (nil: negligible). It sizes EGo's heap (through MemoryOf) and
	// the software EPC.
	Footprint func(env Env) int64
	// FootprintParam names the byte-valued parameter that sets Footprint
	// (memsweep's ws): `bench run --footprint` sets it. Empty: the
	// workload's enclave memory is not a parameter.
	FootprintParam string
	// Memory says where the workload's memory lives for env, which sizes
	// EGo's heap (see Memory). Nil: all of Footprint is on the Go heap.
	Memory func(env Env) Memory
	// Figures are the figures the workload asks reports for, beyond the
	// ones every workload gets (the run records them with the results).
	Figures []Figure
	// Combos, when set, are the parameter combinations the workload has
	// (values in Params order), instead of the product of the grids: a
	// user's Go benchmark has the sub-benchmarks it has (bench/gotest).
	Combos [][]string
	// LaunchArgs, when set, are arguments the workload binary needs for a
	// cell besides the standard ones (a user's Go benchmark: its test
	// binary and full name, bench/gotest).
	LaunchArgs func(params map[string]string) []string
	// CountWarm, when set, lets the counting pass (bench run --counts,
	// bench/counts) run New with Callgrind's instrumentation off, which
	// makes a large setup several times cheaper. The simulated caches must
	// still start the operations holding what New left in them, as the
	// timed process's caches do (cold, they would count misses on data
	// that fits the LLC). So CountWarm(b, env) is called right after
	// New(env), still uninstrumented (it may prepare what it needs there),
	// and returns touch, which the counting pass runs right after it has
	// switched instrumentation on: touch must access the data New left in
	// the caches in the order New last accessed it (its last pass over
	// them, or that pass's end covering env.WarmBytes), so that the
	// simulated caches hold the same lines, the most recent last; or it
	// may run the last part of the setup itself, which New then leaves out
	// when Env.MaxOps is set (gokv). Its counts are not the operations'
	// (they go into a dump that is not read). Nil: New runs instrumented.
	CountWarm func(b Bench, env Env) (touch func())
	// Parallelism is how many goroutines run the workload's operations at
	// once in env, when the operations are the same on every size (nil:
	// not declared). Cells of equal parameters and parallelism do the same
	// work at any size, so the sim mode estimates their native base across
	// sizes (bench/sim/paired.Pools). The runtime's own threads (collector,
	// sysmon) are not counted.
	Parallelism func(env Env) int
}

// Serial is the Parallelism of a workload whose operations run on one
// goroutine whatever the size.
func Serial(Env) int { return 1 }

// Memory is where a cell's memory lives inside an EGo enclave, whose heap
// (enclave.json heapSize) serves both the Go heap and mmap. The two parts
// cost the heap differently: a mapping is taken once, while the Go
// collector lets the Go heap grow to twice its live data (GOGC=100) before
// it collects, and keeps what it got.
type Memory struct {
	// Mapped is what the workload maps outside the Go heap
	// (workloads/arena), bytes.
	Mapped int64
	// GoHeap is the most the workload holds live on the Go heap at once
	// (set-up tables, rings, buffers), bytes, beyond the Go runtime's own.
	GoHeap int64
}

// MemoryOf returns the memory of the cell env describes: Spec.Memory, or,
// for a workload that does not declare it, its whole footprint on the Go
// heap.
func (s *Spec) MemoryOf(env Env) Memory {
	if s.Memory != nil {
		return s.Memory(env)
	}
	if s.Footprint != nil {
		return Memory{GoHeap: s.Footprint(env)}
	}
	return Memory{}
}

// Figure asks reports for a figure over one parameter of a workload.
type Figure struct {
	// Role is FigureTransitions or FigureScaling.
	Role  string
	Param string
	// Count resolves a value of Param to the count plotted (FigureScaling:
	// "vcpus" on a 4-vCPU size is 4).
	Count func(value string, env Env) (int, error)
}

// Figure roles.
const (
	// FigureTransitions: one distribution per value of the parameter
	// (the syscall workload's call classes: OCALL costs).
	FigureTransitions = "transitions"
	// FigureScaling: the workload's primary unit against the count the
	// parameter resolves to (threads).
	FigureScaling = "scaling"
)

// Bench is a prepared workload.
type Bench interface {
	// Run performs n operations and may report extra figures on r.
	Run(n int, r *Report) error
	// Close releases what New acquired.
	Close() error
}

// Report collects what one repetition reports besides its duration.
type Report struct {
	BytesPerOp int64 // when set, the loop reports MB/s
	Values     []protocol.Value
	Events     map[string]int64
}

// Metric records an extra figure for the repetition, like testing.B.ReportMetric.
func (r *Report) Metric(value float64, unit, better string) {
	for i := range r.Values {
		if r.Values[i].Unit == unit {
			r.Values[i] = protocol.Value{Value: value, Unit: unit, Better: better}
			return
		}
	}
	r.Values = append(r.Values, protocol.Value{Value: value, Unit: unit, Better: better})
}

// Event adds n to an event count.
func (r *Report) Event(name string, n int64) {
	if r.Events == nil {
		r.Events = map[string]int64{}
	}
	r.Events[name] += n
}

// Reset clears r for the next repetition.
func (r *Report) Reset() {
	r.BytesPerOp = 0
	r.Values = r.Values[:0]
	clear(r.Events)
}

// Param returns the named parameter's spec.
func (s *Spec) Param(name string) (*Param, bool) {
	for i := range s.Params {
		if s.Params[i].Name == name {
			return &s.Params[i], true
		}
	}
	return nil, false
}

// Validate checks that params names exactly the spec's parameters with
// valid values for env. Errors name the parameter and its valid range.
func (s *Spec) Validate(params map[string]string, env Env) error {
	for k := range params {
		if _, ok := s.Param(k); !ok {
			return fmt.Errorf("workload %s has no parameter %q (valid: %s)", s.Name, k, strings.Join(s.ParamNames(), ", "))
		}
	}
	for _, p := range s.Params {
		v, ok := params[p.Name]
		if !ok {
			return fmt.Errorf("workload %s: parameter %s is missing", s.Name, p.Name)
		}
		if p.Check != nil {
			if err := p.Check(v, env); err != nil {
				return fmt.Errorf("%s.%s=%s: %v (valid: %s)", s.Name, p.Name, v, err, p.Range)
			}
		} else if !slices.Contains(p.Quick, v) && !slices.Contains(p.Full, v) {
			return fmt.Errorf("%s.%s=%s: unknown value (valid: %s)", s.Name, p.Name, v, p.Range)
		}
	}
	return nil
}

// ParamNames lists the parameter names in declaration order.
func (s *Spec) ParamNames() []string {
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
	}
	return names
}

// OneOf returns a Check that accepts exactly the given values.
func OneOf(values ...string) func(string, Env) error {
	return func(v string, _ Env) error {
		if slices.Contains(values, v) {
			return nil
		}
		return fmt.Errorf("unknown value")
	}
}

// Registry is a set of workloads by name.
type Registry map[string]*Spec

// Names lists the registry's workloads in order.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the named workload or an error naming the valid ones.
func (r Registry) Lookup(name string) (*Spec, error) {
	if s, ok := r[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("unknown workload %q (valid: %s)", name, strings.Join(r.Names(), ", "))
}
