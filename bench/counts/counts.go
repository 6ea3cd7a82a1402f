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
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/protocol"
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

// counted is what one counted process gave.
type counted struct {
	na       string
	iters    []int              // of each measured repetition
	events   []map[string]int64 // of each measured repetition
	cg       []map[string]int64 // Callgrind's counts of each measured repetition
	stream   []int64            // the LLC misses of its streaming instructions (Dump.StreamLLMisses)
	syscalls []int64            // between each repetition's marks
}

func (c *Counter) runNative(ctx context.Context, bin string, args, env []string, dir string) (*counted, error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env = append(append(cmd.Environ(), env...), Env...)
	cmd.Dir = dir
	return runProtocol(cmd)
}

func (c *Counter) runValgrind(ctx context.Context, bin string, args, env []string, dir string) (*counted, error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	// Output files and logs per process: bin may be a wrapper (a shell
	// script that sets the environment and runs the workload, as
	// scripts/check-gate-scale.sh's candidate is), whose processes
	// Valgrind follows; only the workload's dumps name a repetition.
	out := filepath.Join(dir, "callgrind.%p.out")
	log := filepath.Join(dir, "valgrind.%p.log")
	vargs := []string{"--tool=callgrind", "--instr-atstart=no", "--cache-sim=yes", cacheI1, cacheD1, cacheLL, hwpref, perInstr, "--trace-children=yes",
		"--callgrind-out-file=" + out, "--trace-syscalls=yes", "--log-file=" + log, bin}
	cmd := exec.CommandContext(cctx, c.Valgrind, append(vargs, args...)...)
	// warmEnv before env: a caller's (a test's) value wins.
	cmd.Env = append(append(append(cmd.Environ(), warmEnv), env...), Env...)
	cmd.Dir = dir
	r, err := runProtocol(cmd)
	outs, _ := filepath.Glob(strings.Replace(out, "%p", "*", 1) + "*")
	logs, _ := filepath.Glob(strings.Replace(log, "%p", "*", 1))
	defer func() {
		for _, f := range append(outs, logs...) {
			os.Remove(f)
		}
	}()
	if err != nil {
		for _, l := range logs {
			if tail := logTail(l); tail != "" {
				err = fmt.Errorf("%v (valgrind log: %s)", err, tail)
				break
			}
		}
		return nil, err
	}
	if r.na != "" {
		return r, nil
	}
	reps := len(r.iters)
	r.cg = make([]map[string]int64, reps)
	r.stream = make([]int64, reps)
	for _, o := range outs {
		d, err := parseDumpFile(o)
		if err != nil {
			return nil, err
		}
		rep, err := strconv.Atoi(strings.TrimPrefix(d.Trigger, dumpTrigger))
		if !strings.HasPrefix(d.Trigger, dumpTrigger) || err != nil {
			continue // another dump: before a repetition, or at exit
		}
		if rep < 0 || rep >= reps || r.cg[rep] != nil {
			return nil, fmt.Errorf("%s: a dump of repetition %d; the workload reported %d repetitions", o, rep, reps)
		}
		r.cg[rep], r.stream[rep] = d.Counts, d.StreamLLMisses
	}
	if slices.IndexFunc(r.cg, func(m map[string]int64) bool { return m == nil }) >= 0 {
		return nil, errors.New("callgrind wrote no dump of some repetition (a workload binary from before the counting pass used Callgrind?)")
	}
	// The system calls of the process that marked its repetitions.
	for _, l := range logs {
		n, err := countSyscallsFile(l)
		if errors.Is(err, errUnmarked) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", l, err)
		}
		r.syscalls = n
	}
	if r.syscalls == nil {
		return nil, errUnmarked
	}
	if len(r.syscalls) != reps {
		return nil, fmt.Errorf("valgrind's trace marks %d repetitions; the workload reported %d", len(r.syscalls), reps)
	}
	for i, n := range r.iters {
		if n != r.iters[0] {
			return nil, fmt.Errorf("repetition %d ran %d operations, repetition 0 %d", i, n, r.iters[0])
		}
	}
	return r, nil
}

func parseDumpFile(path string) (*Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ParseDump(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return d, nil
}

func countSyscallsFile(path string) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return CountSyscalls(f)
}

// runProtocol runs a workload process and reads its protocol lines: each
// sample's iterations and events, or its not-applicable reason.
func runProtocol(cmd *exec.Cmd) (*counted, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	r := &counted{}
	var protoErr string
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		msg, err := protocol.Parse(sc.Bytes())
		if err != nil {
			continue
		}
		switch msg.Type {
		case protocol.TypeSample:
			r.iters = append(r.iters, msg.Sample.Iters)
			r.events = append(r.events, msg.Sample.Events)
		case protocol.TypeNA:
			r.na = msg.Error
		case protocol.TypeError:
			protoErr = msg.Error
		case protocol.TypeReady:
			return nil, errors.New("a server workload (driven by the harness's load generator) is not counted")
		}
	}
	if r.na != "" {
		return r, nil
	}
	if runErr != nil || protoErr != "" {
		msg := strings.TrimSpace(protoErr)
		if msg == "" {
			msg = lastLine(stderr.String())
		}
		return nil, fmt.Errorf("%v: %s", runErr, msg)
	}
	if len(r.iters) == 0 || slices.Min(r.iters) <= 0 {
		return nil, errors.New("the workload reported no repetition")
	}
	return r, nil
}

// Dump is one Callgrind output file: what triggered it and its counts.
type Dump struct {
	// Trigger is its "desc: Trigger:" ("Client Request: NAME" for a dump
	// the process asked for, "Program termination" at exit).
	Trigger string
	// Counts are its summary, by event name (Ir, D1mr, ...).
	Counts map[string]int64
	// StreamLLMisses are the data LLC misses (DLmr + DLmw) of the
	// instructions that stream (StreamingInstr): the misses at which
	// Callgrind's prefetcher restarts a stream, part of the summary's.
	StreamLLMisses int64
}

// StreamDivisor classifies an instruction by its own cache counts in a
// dump (--dump-instr=yes): it streams when at most 1 of every
// StreamDivisor of its L1d misses reaches memory (DLm * StreamDivisor <=
// D1m). Why 8: Callgrind's prefetcher (valgrind callgrind/sim.c,
// prefetch_LL_doref: a stream per 4 KiB page, detected on the 3rd
// consecutive line, each further L1 miss fetching the line 5 ahead; the
// lines it prefetches are LLC hits) leaves 2 demand misses per 64-line
// page of a sequential stream (measured: 0.0313-0.0317 per line), 1 in
// 32; an instruction that reads at random over a working set W larger
// than the 16 MiB LLC misses it on about 1 - 16 MiB/W of its L1 misses,
// more than 1 in 8 once W > 18.3 MiB. Random access over 16-18.3 MiB
// counts as streaming by this rule, which prices its few LLC misses as
// overlapping (docs/sim.md "Memory encryption").
const StreamDivisor = 8

// StreamingInstr reports whether an instruction with d1 L1d misses and ll
// data LLC misses streams (StreamDivisor).
func StreamingInstr(d1, ll int64) bool { return ll > 0 && ll*StreamDivisor <= d1 }

// ParseDump reads a Callgrind output file's trigger and the totals of its
// "summary:" line, named by its "events:" line (Callgrind leaves trailing
// zero counts out), and splits its data LLC misses by instruction
// (StreamLLMisses) from its cost lines: the self cost of each position
// (a line after "calls=" is the call's inclusive cost, left out), the
// first position field the instruction's address (--dump-instr=yes,
// "positions: instr line"), absolute ("0x...") or relative to the last
// cost line's ("+N", "-N", "*"). Their sum must be the summary's: a dump
// whose cost lines do not add up is refused, not split wrongly.
func ParseDump(f *os.File) (*Dump, error) {
	var names, vals, totals []string
	d := &Dump{}
	type cost struct{ d1, ll int64 }
	perInstr := map[int64]*cost{}
	var idx struct{ d1mr, d1mw, dlmr, dlmw, ilmr int }
	var last int64
	nPos, instrPos, skip, costLines := 1, false, false, 0
	var sumLL int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "events:"); ok {
			names = strings.Fields(v)
			idx.d1mr, idx.d1mw = slices.Index(names, "D1mr"), slices.Index(names, "D1mw")
			idx.dlmr, idx.dlmw, idx.ilmr = slices.Index(names, "DLmr"), slices.Index(names, "DLmw"), slices.Index(names, "ILmr")
		} else if v, ok := strings.CutPrefix(line, "positions:"); ok {
			p := strings.Fields(v)
			nPos, instrPos = max(len(p), 1), len(p) > 0 && p[0] == "instr"
		} else if v, ok := strings.CutPrefix(line, "summary:"); ok {
			vals = strings.Fields(v)
		} else if v, ok := strings.CutPrefix(line, "totals:"); ok {
			totals = strings.Fields(v)
		} else if v, ok := strings.CutPrefix(line, "desc: Trigger:"); ok {
			d.Trigger = strings.TrimSpace(v)
		} else if strings.HasPrefix(line, "calls=") || strings.HasPrefix(line, "jump=") || strings.HasPrefix(line, "jcnd=") {
			skip = true // the next line is the call's inclusive cost (or a jump's position)
		} else if line != "" && strings.IndexByte("0123456789+-*", line[0]) >= 0 {
			if skip {
				skip = false
				continue
			}
			if names == nil {
				return nil, errors.New("a cost line before the events line")
			}
			fields := strings.Fields(line)
			if len(fields) < nPos || len(fields)-nPos > len(names) {
				return nil, fmt.Errorf("cost line %q: want %d positions and at most %d counts", line, nPos, len(names))
			}
			pos, err := position(fields[0], last)
			if err != nil {
				return nil, fmt.Errorf("cost line %q: %v", line, err)
			}
			last = pos
			at := func(i int) (int64, error) {
				if i < 0 || nPos+i >= len(fields) {
					return 0, nil
				}
				return strconv.ParseInt(fields[nPos+i], 10, 64)
			}
			var c [5]int64
			for j, i := range []int{idx.d1mr, idx.d1mw, idx.dlmr, idx.dlmw, idx.ilmr} {
				if c[j], err = at(i); err != nil || c[j] < 0 {
					return nil, fmt.Errorf("cost line %q: not a count", line)
				}
			}
			e := perInstr[pos]
			if e == nil {
				e = &cost{}
				perInstr[pos] = e
			}
			e.d1 += c[0] + c[1]
			e.ll += c[2] + c[3]
			sumLL += c[2] + c[3] + c[4]
			costLines++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 || vals == nil || len(vals) > len(names) {
		return nil, fmt.Errorf("no events line and summary line of at most its length (events %q, summary %q)", names, vals)
	}
	d.Counts = map[string]int64{}
	for i, n := range names {
		if i >= len(vals) {
			d.Counts[n] = 0
			continue
		}
		v, err := strconv.ParseInt(vals[i], 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("summary: %s = %q is not a count", n, vals[i])
		}
		d.Counts[n] = v
	}
	for _, n := range []string{"Ir", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"} {
		if _, ok := d.Counts[n]; !ok {
			return nil, fmt.Errorf("no %s count (was the cache simulation on?)", n)
		}
	}
	// The cost lines add up to the "totals:" line (what Callgrind wrote
	// of them); the summary may hold a few more (at exit: blocks still
	// running, seen 3 instructions more).
	total, of := d.Counts["ILmr"]+d.Counts["DLmr"]+d.Counts["DLmw"], "summary"
	if totals != nil {
		var err error
		if total, err = llTotal(names, totals); err != nil {
			return nil, fmt.Errorf("totals: %v", err)
		}
		of = "totals line"
	}
	switch {
	case total > 0 && !instrPos:
		return nil, errors.New("LLC misses without per-instruction cost lines (positions: instr; was --dump-instr=yes given?): they cannot be split into streamed and dependent ones")
	case total > 0 && sumLL != total:
		return nil, fmt.Errorf("the cost lines' LLC misses add up to %d, the %s says %d (%d cost lines): the dump was not read as written", sumLL, of, total, costLines)
	}
	for _, c := range perInstr {
		if StreamingInstr(c.d1, c.ll) {
			d.StreamLLMisses += c.ll
		}
	}
	return d, nil
}

// llTotal is ILmr + DLmr + DLmw of a line of counts named by names.
func llTotal(names, vals []string) (int64, error) {
	if len(vals) > len(names) {
		return 0, fmt.Errorf("%d counts for %d events", len(vals), len(names))
	}
	var t int64
	for i, v := range vals {
		if n := names[i]; n == "ILmr" || n == "DLmr" || n == "DLmw" {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil || x < 0 {
				return 0, fmt.Errorf("%s = %q is not a count", n, v)
			}
			t += x
		}
	}
	return t, nil
}

// position reads a cost line's instruction position: absolute (hex with
// 0x, or decimal) or relative to the last one (+N, -N decimal; * same).
func position(s string, last int64) (int64, error) {
	switch {
	case s == "*":
		return last, nil
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		d, err := strconv.ParseInt(s, 10, 64)
		return last + d, err
	case strings.HasPrefix(s, "0x"):
		return strconv.ParseInt(s[2:], 16, 64)
	}
	return strconv.ParseInt(s, 10, 64)
}

var errUnmarked = errors.New("no marked repetition in valgrind's trace (a workload binary from before --count-pass?)")

// syscallLine is the first line of a traced system call (a call that
// blocks is continued by a "... [async] -->" line, not counted again).
var syscallLine = regexp.MustCompile(`^SYSCALL\[\d+,\d+\]\(\s*\d+\) sys_([a-z0-9_]+)`)

// CountSyscalls counts the system calls Valgrind's trace shows between
// each pair of the workload's begin and end marks, leaving out those in
// uncounted: one count per marked repetition, in order.
func CountSyscalls(f *os.File) ([]int64, error) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []int64
	var n int64
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasSuffix(line, beginMark):
			if in {
				return nil, errors.New("a begin mark inside a marked repetition")
			}
			in, n = true, 0
		case strings.HasSuffix(line, endMark):
			if !in {
				return nil, errors.New("an end mark without a begin mark")
			}
			in = false
			out = append(out, n)
		case in:
			if m := syscallLine.FindStringSubmatch(line); m != nil && !slices.Contains(uncounted, m[1]) {
				n++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if in {
		return nil, errors.New("a begin mark without an end mark")
	}
	if out == nil {
		return nil, errUnmarked
	}
	return out, nil
}

// logTail is the last lines of Valgrind's log that are not the system
// call trace: where it says why it stopped.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "SYSCALL[") && !strings.HasPrefix(l, "-->") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 3 {
		keep = keep[len(keep)-3:]
	}
	return strings.Join(keep, " / ")
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// DynamicallyLinked reports whether the executable bin names a program
// interpreter (the dynamic loader). Valgrind then reads the C library's
// symbols and debug information (Debian's valgrind recommends libc6-dbg)
// at each counted process's start: measured here (Valgrind 3.19, the
// workload binary with cgo against CGO_ENABLED=0), 0.64 s against 0.37 s
// of start-up (median of 8 each, --tool=none).
func DynamicallyLinked(bin string) bool {
	f, err := elf.Open(bin)
	if err != nil {
		return false // not ELF, or a wrapper script: nothing to say
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// HiddenCPU lists the x86 features the workload binary bin sees natively
// but not under Valgrind (whose CPU model lacks some: SHA, AVX-512, ...):
// code that picks its path by feature takes another one in the counted
// runs than in the timed ones.
func (c *Counter) HiddenCPU(ctx context.Context, bin string) ([]string, error) {
	if c.Unavailable != "" {
		return nil, nil
	}
	native, err := exec.CommandContext(ctx, bin, cpuFeaturesArg).Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", bin, cpuFeaturesArg, err)
	}
	under, err := exec.CommandContext(ctx, c.Valgrind, "-q", "--tool=none", "--trace-children=yes", bin, cpuFeaturesArg).Output()
	if err != nil {
		return nil, fmt.Errorf("valgrind %s %s: %v", bin, cpuFeaturesArg, err)
	}
	seen := strings.Fields(string(under))
	var hidden []string
	for _, f := range strings.Fields(string(native)) {
		if !slices.Contains(seen, f) {
			hidden = append(hidden, f)
		}
	}
	return hidden, nil
}

// cpuFeaturesArg is the workload binary's feature listing
// (workloads/cmd/workload CPUFeaturesArg).
const cpuFeaturesArg = "--cpu-features"
