// Package counts is the counting pass of `bench run --counts`: for each
// cell, an untimed run of the plain workload binary under Valgrind's
// Callgrind that gives figures per operation (instructions, simulated
// cache misses of the DCsv2 CPU, system calls, heap allocations), put
// beside the timed figures of the samples.
//
// The process starts with instrumentation off (--instr-atstart=no): its
// start-up runs at the speed of an uninstrumented Valgrind. The workload
// switches instrumentation on (workloads/valgrind) right before its setup,
// or, for a workload with Spec.CountWarm (memsweep, kvstore, aesgcm,
// gokv), after it, then repeats the end of the setup's last pass over its
// data, the part covering its last WarmBytes (gokv: runs the last part of
// the setup, which it left out) so that the simulated caches hold what the
// setup left in them (workloads/workload CountWarm, Env.WarmBytes); it runs one warmup repetition and Segments measured
// repetitions of N operations (--iters), and has Callgrind dump its
// counters right before and right after each one's operations: each
// measured repetition gives one value per event, Segments values per cell.
// The workload also marks each repetition in Valgrind's log, so its
// system calls are counted from the trace between the marks; the Go
// runtime counts its allocations exactly (ReadMemStats around it).
//
// N is the largest power of two whose operations take at most TargetTime
// natively (one short native run finds it): a cell costs (1+Segments)N
// operations under instrumentation, 20-100x slower than native, plus one
// start-up uninstrumented and one setup, instrumented or (CountWarm) not.
package counts

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// The simulated caches: the Xeon E-2288G of the DCsv2 sizes (Coffee Lake).
// Sources: Intel ARK, Xeon E-2288G (16 MB Intel Smart Cache, 8 cores);
// Intel 64 and IA-32 Architectures Optimization Reference Manual, Skylake
// client microarchitecture (which Coffee Lake keeps): L1 data and
// instruction caches 32 KiB 8-way each, 64-byte lines, last level 2 MiB
// per core slice, 16-way. Valgrind's cache simulator has two levels (L1 and the last
// level), so the 256 KiB L2 is not modelled; the LLC is the whole 16 MiB,
// as one cell on an otherwise idle host would see it. The LLC has
// Callgrind's stream prefetcher (--simulate-hwpref=yes, Valgrind manual
// "Callgrind: cache simulation": one stream per 4 KiB page, detected after
// accesses to 3 consecutive lines either way, each further miss fetching
// the line 5 ahead into the LLC), so that streams are not counted line by
// line: the E-2288G's own streamers fetch them ahead (Optimization
// Reference Manual, Skylake client: L2 streamer). Its misses are
// result.EventLLMissesPF.
const (
	cacheI1 = "--I1=32768,8,64"
	cacheD1 = "--D1=32768,8,64"
	// llBytes is the LLC's size (cacheLL).
	llBytes = 16 << 20
	hwpref  = "--simulate-hwpref=yes"
	// perInstr writes costs per instruction, so that ParseDump can tell
	// the misses of streaming instructions from the others.
	perInstr = "--dump-instr=yes"
	// CacheDescription is run.json's account of the geometry.
	CacheDescription = "Xeon E-2288G (DCsv2): L1i and L1d 32 KiB 8-way, LLC 16 MiB 16-way, 64-byte lines (Intel ARK E-2288G; Intel Optimization Reference Manual, Skylake client); Valgrind's cache simulator has no L2; LLC misses counted with Callgrind's stream prefetcher model (--simulate-hwpref=yes: a stream per 4 KiB page, 3 consecutive lines to detect it, each further miss fetching the line 5 ahead), event ll_misses_pf"
)

// cacheLL is the LLC's geometry: llBytes, 16 ways, 64-byte lines.
var cacheLL = fmt.Sprintf("--LL=%d,16,64", llBytes)

// WarmBytes is how much of a setup's last pass over its data the warm of
// the counted process repeats (workload.Env.WarmBytes: its end covering
// that many bytes): twice the LLC, which holds every LLC set's 16 ways
// twice over, so that the simulated caches end as the whole pass leaves
// them. The process gets it through workload.WarmBytesEnv (warmEnv).
const WarmBytes = 2 * llBytes

// warmEnv is the counted process's WarmBytesEnv. A workload binary from
// before it ignores it and repeats the whole pass (the same counts), so a
// baseline built earlier is counted as it was.
var warmEnv = workload.WarmBytesEnv + "=" + strconv.Itoa(WarmBytes)

// Env is what the counted processes run with beyond the cell's
// environment, so that their counts follow the operations and not the
// clock or the scheduling of threads:
//   - no asynchronous preemption, whose signals follow the clock (Valgrind
//     runs the process 20-100x slower, so there would be 20-100x more of
//     them per operation than natively, and a varying number);
//   - no garbage collector (GOGC=off): how much work a cycle does, and
//     when, depends on how its concurrent workers were scheduled, which
//     made the instruction counts of two runs of a cell with a large setup
//     (memsweep random 56 MiB) differ by more than their operations'. The
//     collector's load is counted by alloc_bytes and alloc_objects
//     instead; GOMEMLIMIT bounds the heap should a setup allocate much.
var Env = []string{"GODEBUG=asyncpreemptoff=1", "GOGC=off", "GOMEMLIMIT=2GiB"}

// uncounted are the system calls left out of process_syscalls: those that
// are vDSO calls natively (Valgrind makes the process issue them as system
// calls), and nanosleep, with which the Go runtime's sysmon thread sleeps
// on a clock (Go's time.Sleep uses timers, not nanosleep): under Valgrind
// it follows the slowed-down clock, not the operations.
var uncounted = []string{"clock_gettime", "gettimeofday", "time", "getcpu", "clock_getres", "nanosleep"}

// Marks the workload writes into Valgrind's log around its measured
// repetitions, and the trigger of Callgrind's dump of repetition i
// (dumpTrigger + i) (workloads/cmd/workload).
const (
	beginMark   = "enclavebench-count-begin"
	endMark     = "enclavebench-count-end"
	dumpTrigger = "Client Request: enclavebench-count-rep-"
)

// Segments is how many measured repetitions one counting pass has: the
// independent values per event and cell it gives (bench compare gates a
// count with 3 or more a side).
const Segments = 3

// Counter runs counting passes. Its zero value is unusable: Find.
type Counter struct {
	// Valgrind is the valgrind executable ("" when unavailable).
	Valgrind string
	// Version is what `valgrind --version` printed.
	Version string
	// Unavailable says why nothing can be counted.
	Unavailable string
	// TargetTime is the native duration N operations should last.
	TargetTime time.Duration
	// Timeout bounds one counted process.
	Timeout time.Duration

	mu    sync.Mutex
	cache map[string]*entry
}

// Find locates Valgrind (on $PATH) and returns a Counter; without it the
// Counter is Unavailable and counts nothing.
func Find() *Counter {
	c := &Counter{TargetTime: 2 * time.Millisecond, Timeout: 5 * time.Minute, cache: map[string]*entry{}}
	path, err := exec.LookPath("valgrind")
	if err != nil {
		c.Unavailable = "valgrind not found on $PATH (install it from the distribution's packages: apt-get install valgrind; scripts/install-deps.sh): no counts, the gate uses time only"
		return c
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		c.Unavailable = fmt.Sprintf("%s --version: %v: no counts, the gate uses time only", path, err)
		return c
	}
	c.Valgrind, c.Version = path, strings.TrimSpace(string(out))
	return c
}

// Info is run.json's record of the counting pass.
func (c *Counter) Info() *result.Counts {
	if c.Unavailable != "" {
		return &result.Counts{Unavailable: c.Unavailable}
	}
	return &result.Counts{
		Tool: c.Version + " callgrind",
		Method: fmt.Sprintf("one untimed run of the plain workload binary per cell under Callgrind (--cache-sim=yes --simulate-hwpref=yes --dump-instr=yes --instr-atstart=no): start-up uninstrumented, the workload's setup instrumented or, for workloads that repeat the end of its last pass over their data instrumented (memsweep, kvstore, aesgcm: the pass's end covering at least its data's last 2x the LLC, %s; the simulated caches are LRU per set, so they end as after the whole pass) or run only its last part instrumented (gokv: its fill's last 327,680 keys), not, then one warmup and %d measured repetitions of N operations (--iters), "+
			"each measured repetition's operations between two dumps of Callgrind's counters (client requests): %d values per event and cell, per op = count / N, sample rep r carries value r mod %d (cells.jsonl %s); "+
			"system calls from the trace between the workload's marks around each repetition; allocations from runtime.ReadMemStats around it. "+
			"Counts are of the workload process, not of an enclave runtime (EGo) around it; for enclave modes they are the plain build's", warmEnv, Segments, Segments, Segments, result.ExtraCountsValues),
		Values: Segments,
		Cache:  CacheDescription,
		Events: map[string]string{
			result.EventInstructions:    "instructions executed (Callgrind Ir), every thread, the garbage collector's excepted (GOGC=off)",
			result.EventL1DMisses:       "L1d misses, reads and writes (D1mr + D1mw), simulated E-2288G L1d",
			result.EventLLMissesPF:      "last-level cache misses, instructions and data (ILmr + DLmr + DLmw), simulated 16 MiB E-2288G LLC with Callgrind's stream prefetcher (--simulate-hwpref=yes): accesses that reach memory and were not fetched ahead of a stream",
			result.EventLLMissesStream:  fmt.Sprintf("the part of ll_misses_pf that streaming instructions make (--dump-instr=yes): data LLC misses (DLmr + DLmw) of each instruction at most 1 in %d of whose L1d misses reaches memory, the rest served by the LLC and its prefetcher; the misses at which Callgrind's prefetcher restarts a stream (2 per 4 KiB page), which overlap the stream's other lines", StreamDivisor),
			result.EventProcessSyscalls: "system calls of every thread during the measured operations (valgrind --trace-syscalls), clock reads (vDSO natively) and the runtime's sysmon nanosleep left out",
			result.EventAllocBytes:      "bytes allocated on the Go heap (runtime.MemStats.TotalAlloc)",
			result.EventAllocObjects:    "objects allocated on the Go heap (runtime.MemStats.Mallocs)",
		},
		Env: Env,
	}
}

// Result is one cell's counting pass.
type Result struct {
	// PerOp are the count events per operation, one map per measured
	// repetition (Segments of them).
	PerOp []map[string]float64
	// Iters is N, the operations of one measured repetition.
	Iters int
	// NA is set when the workload does not apply outside an enclave.
	NA string
	// Err says why the cell could not be counted.
	Err string
}

// Events turns the per-op figures of the value sample rep carries (rep
// mod len(PerOp)) into totals over iters operations.
func (r *Result) Events(rep, iters int) map[string]int64 {
	if len(r.PerOp) == 0 {
		return nil
	}
	v := r.PerOp[rep%len(r.PerOp)]
	out := make(map[string]int64, len(v))
	for k, x := range v {
		out[k] = int64(math.Round(x * float64(iters)))
	}
	return out
}

// Count runs the counting pass of the workload binary bin with the cell's
// arguments args (the timed run's; flags given later override earlier
// ones) in the scratch directory dir. Results are cached by binary,
// arguments (but --tmpdir) and environment: two cells whose workload
// processes get the same ones are counted once.
func (c *Counter) Count(ctx context.Context, bin string, args, env []string, dir string) *Result {
	k := slices.Clone(args)
	for i := range k {
		if k[i] == "--tmpdir" && i+1 < len(k) {
			k[i+1] = ""
		}
	}
	key := bin + "\x00" + strings.Join(k, "\x00") + "\x00" + strings.Join(env, "\x00")
	c.mu.Lock()
	e, ok := c.cache[key]
	if !ok {
		e = &entry{done: make(chan struct{})}
		c.cache[key] = e
	}
	c.mu.Unlock()
	if ok {
		// Counted, or being counted by another worker: wait for it.
		select {
		case <-e.done:
			if e.r != nil {
				return e.r
			}
		case <-ctx.Done():
			return &Result{Err: ctx.Err().Error()}
		}
		return c.Count(ctx, bin, args, env, dir) // its counter was interrupted: count again
	}
	r := c.count(ctx, bin, args, env, dir)
	c.mu.Lock()
	if ctx.Err() == nil {
		e.r = r
	} else {
		delete(c.cache, key)
	}
	c.mu.Unlock()
	close(e.done)
	return r
}

// entry is a cached count, or one being taken (done closes when it is).
type entry struct {
	done chan struct{}
	r    *Result // nil when the count was interrupted
}

func (c *Counter) count(ctx context.Context, bin string, args, env []string, dir string) *Result {
	if c.Unavailable != "" {
		return &Result{Err: c.Unavailable}
	}
	// N: a short native run.
	probe, err := c.runNative(ctx, bin, append(slices.Clone(args), "--reps", "1", "--warmup", "0", "--min-time", c.TargetTime.String()), env, dir)
	if err != nil {
		return &Result{Err: "finding the operation count natively: " + err.Error()}
	}
	if probe.na != "" {
		return &Result{NA: probe.na}
	}
	n := 1
	for n*2 <= probe.iters[len(probe.iters)-1] {
		n *= 2
	}
	r, err := c.runValgrind(ctx, bin, append(slices.Clone(args), "--reps", strconv.Itoa(Segments), "--warmup", "1", "--iters", strconv.Itoa(n), "--count-pass"), env, dir)
	if err != nil {
		return &Result{Iters: n, Err: fmt.Sprintf("counted run of %d x %d operations: %v", Segments, n, err)}
	}
	if r.na != "" {
		return &Result{NA: r.na}
	}
	res := &Result{Iters: n}
	ops := float64(n)
	for i, cg := range r.cg {
		v := map[string]float64{
			result.EventInstructions:    float64(cg["Ir"]) / ops,
			result.EventL1DMisses:       float64(cg["D1mr"]+cg["D1mw"]) / ops,
			result.EventLLMissesPF:      float64(cg["ILmr"]+cg["DLmr"]+cg["DLmw"]) / ops,
			result.EventLLMissesStream:  float64(r.stream[i]) / ops,
			result.EventProcessSyscalls: float64(r.syscalls[i]) / ops,
		}
		for _, e := range []string{result.EventAllocBytes, result.EventAllocObjects} {
			if x, ok := r.events[i][e]; ok {
				v[e] = float64(x) / ops
			}
		}
		res.PerOp = append(res.PerOp, v)
	}
	return res
}
