//go:build sim && amd64

// The paging pass: the whole process on the software EPC. The timed
// process stays on plain memory; a child of it, started with
// ENCLAVEBENCH_PROCESS_EPC=1 (its Go runtime, built with the overlay of
// scripts/build-sim.sh, then takes all its memory from one region), puts
// that region under the software EPC capped at --swepc-cap
// (swepc.AdoptProcess), keeps the workload's arena in the Go heap, runs the
// workload, and reports the software EPC's counts of its measured
// repetitions. They become rates per operation, which each timed
// repetition gets times its own operations.

package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/enclavebench/enclavebench/workloads/arena"
	"github.com/enclavebench/enclavebench/workloads/gotest"
	"github.com/enclavebench/enclavebench/workloads/loadgen"
	"github.com/enclavebench/enclavebench/workloads/measure"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/swepc"
	"github.com/enclavebench/enclavebench/workloads/trace"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Events and extras of the paging pass.
const (
	eventGCCycles = "gc_cycles" // collector cycles completed in a repetition (child)
	// EventEPCPassGCCycles is the paging pass's collector cycles over its
	// epc_pass_ops operations (not scaled).
	eventEPCPassGCCycles = "epc_pass_gc_cycles"
	extraEPCPass         = "epc_pass" // "process": the whole process was on the software EPC
	// epcPassReps bounds the paging pass's measured repetitions.
	epcPassReps = 3
)

// processRegion is the paging pass child's process EPC.
var processRegion *swepc.Region

// beEPCChild makes this process the paging pass's child.
func beEPCChild(o *measure.Options) error {
	if swepcCap <= 0 {
		return errors.New("the paging pass needs --swepc-cap")
	}
	r, err := swepc.AdoptProcess(swepcCap)
	if err != nil {
		return err
	}
	processRegion = r
	if err := arena.Configure(arena.Config{GoHeap: true}); err != nil {
		return err
	}
	o.Reps = min(o.Reps, epcPassReps)
	o.Warmup = min(o.Warmup, 1)
	o.Events = processEvents
	simExtra = childExtra
	simServe = serveCounted
	return nil
}

var gcCyclesSample = []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}

// settled says how the paging pass's warm-up ended (childExtra).
var settled string

// settle runs b on the process EPC until its EPC loads per operation stop
// changing: the set-up may have left part of the working set evicted (its
// own garbage and the collector's work took EPC meanwhile), and reloading
// it once is no steady-state cost. Chunks last at least minTime; it stops
// when two in a row agree within 10% (+0.001 loads per operation) and,
// where the rate is within 0.001 of none, the chunk refaulted on at most 1%
// of its operations, elsewhere the CLOCK's hand has gone once round the
// resident pages since settling began (aged or evicted cap pages), so
// every page the set-up left resident that nothing touches since (its
// garbage) has been evicted. Both conditions count pages and operations,
// not time: chunks of minTime are few operations where the emulation is
// slow (a loaded host: 400-1,600 instead of 100,000), and the set-up's
// garbage then displaced the working set a few pages per chunk, at a rate
// two chunks agree on (gokv at 0.95x DC2s_v2's usable EPC settled at 0.2062
// then 0.1924 loads per operation, and at 0.0952 then 0.1021 after more
// loads than the set-up's evictions, and was counted at 0.0618 and 0.0064;
// 0.0001-0.0003 on a quiet host); and while the CLOCK's first pass
// refaults every page once, a counted repetition is a few hundred
// operations, so the harness's own few loads per pass came out at
// 0.001-0.005 per operation. It gives up after max(50 x minTime, 5 s),
// which childExtra then reports.
//
// Where nothing has been evicted yet and at most half the cap is resident
// there is nothing to settle: a load follows an eviction, and the CLOCK
// ages pages only when it looks for a victim, so the rate is exactly 0
// until the process more than doubles its memory; settling such a cell
// took two chunks of minTime after the chunks that size them, ~0.1 s of
// the 0.25 s a small cell's paging pass took.
func settle(b workload.Bench, minTime time.Duration) error {
	warmEvents()
	if s := processRegion.Stats(); s.Evictions == 0 && s.Aged == 0 && s.Resident <= processRegion.CapPages()/2 {
		settled = fmt.Sprintf("not needed: nothing evicted or aged, %d of %d pages resident", s.Resident, processRegion.CapPages())
		return nil
	}
	deadline := time.Now().Add(max(50*minTime, 5*time.Second))
	var r workload.Report
	start := processRegion.Stats()
	capPages := processRegion.CapPages()
	k, prev, chunks := 16, -1.0, 0
	var visited int64
	for time.Now().Before(deadline) {
		s0 := processRegion.Stats()
		r.Reset()
		t0 := time.Now()
		if err := b.Run(k, &r); err != nil {
			return fmt.Errorf("settling the paging pass: %w", err)
		}
		d := time.Since(t0)
		s1 := processRegion.Stats()
		loads, refaults := s1.Loads-s0.Loads, s1.Refaults-s0.Refaults
		rate := float64(loads) / float64(k)
		if d < minTime {
			k = min(k*10, max(k+1, int(1.5*float64(k)*float64(minTime)/float64(max(d, 1)))))
			continue
		}
		chunks++
		// The CLOCK's hand visits a resident page per page it ages or
		// evicts.
		visited = s1.Aged - start.Aged + s1.Evictions - start.Evictions
		// Where nothing pages: the CLOCK's first pass (every page aged
		// at the set-up's first eviction refaults once when next
		// touched) is over.
		steady := refaults <= int64(k)/100
		if rate > 0.001 {
			steady = visited >= capPages
		}
		if prev >= 0 && math.Abs(rate-prev) <= 0.1*prev+0.001 && steady {
			settled = fmt.Sprintf("after %d chunks of %d operations (%.4f then %.4f loads per operation; the CLOCK's hand visited %d of %d pages)",
				chunks, k, prev, rate, visited, capPages)
			return nil
		}
		prev = rate
	}
	settled = fmt.Sprintf("not settled: %d chunks of %d operations in the time allowed, last %.4f loads per operation (the CLOCK's hand visited %d of %d pages)",
		chunks, k, prev, visited, capPages)
	return nil
}

// warmEvents reads the counters as a window's start and end do, once,
// before the working set settles: the first reads allocate (the counter
// maps, runtime/metrics' tables, the classifier's totals) and reach pages
// the set-up left evicted, once per process; done in the first counted
// window they were loads of no operation, counted as the workload's.
func warmEvents() {
	processEvents()
	processEvents()
}

// windowEnds counts processEvents' calls: its callers (measure.Run around
// each repetition, serveCounted for a driver's two snapshots) call it at a
// window's start and end in turn.
var windowEnds int

// processEvents are the process EPC's counters and the collector's cycles.
func processEvents() map[string]int64 {
	m := processRegion.Stats().Map()
	// Loads and evictions by the memory they hit (the pass's record only:
	// shadow and the sim mode's addEPCRate take epc_* events alone). The
	// classifier reads the runtime's metadata of each page, EPC loads of
	// their own (measured on gokv 2xEPC DC1s_v2: ~170 per look, 7.7% of a
	// repetition's): so it looks only at a window's end, after the counters
	// above, and a window's start only moves its starting point.
	windowEnds++
	look := func() map[string][2]int64 { return processRegion.ByRegion(arena.HeapRanges()) }
	if windowEnds%2 == 1 {
		look = processRegion.SkipRegions
	}
	for name, c := range look() {
		m[trace.RegionLoads+name] = c[0]
		m[trace.RegionEvictions+name] = c[1]
	}
	metrics.Read(gcCyclesSample)
	if gcCyclesSample[0].Value.Kind() == metrics.KindUint64 {
		m[eventGCCycles] = int64(gcCyclesSample[0].Value.Uint64())
	}
	return m
}

// childExtra is what the child adds to its done message: the heap it
// reached and the pages resident at the end.
func childExtra() map[string]string {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := processRegion.Stats()
	return map[string]string{
		"heap_alloc_bytes":   strconv.FormatUint(ms.HeapAlloc, 10),
		"heap_sys_bytes":     strconv.FormatUint(ms.HeapSys, 10),
		"heap_goal_bytes":    strconv.FormatUint(ms.NextGC, 10),
		"gc_cycles_total":    strconv.FormatUint(uint64(ms.NumGC), 10),
		"epc_resident_pages": strconv.FormatInt(s.Resident, 10),
		"epc_first_touch":    strconv.FormatInt(s.FirstTouch, 10),
		"epc_cap_pages":      strconv.FormatInt(processRegion.CapPages(), 10),
		"settled":            settled,
	}
}

// serveCounted serves a driven workload in the child: every line the
// driver sends is answered with a sample holding the counters.
func serveCounted(d workload.Driven, stdin io.Reader, stdout io.Writer) error {
	if err := protocol.Encode(stdout, d.Ready()); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		b, err := json.Marshal(processEvents())
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s%s\n", snapshotPrefix, b); err != nil {
			return err
		}
	}
	return sc.Err()
}

// snapshotPrefix starts the child's answer to a driver's request for its
// counters: a line of its own, not a protocol message (it is no sample).
const snapshotPrefix = "epc-snapshot "

// childLine is one line of the child's output: a protocol message, or a
// snapshot of its counters.
type childLine struct {
	msg  protocol.Message
	snap map[string]int64
}

// epcRate is the paging pass's result.
type epcRate struct {
	ops, ns int64
	events  map[string]int64 // totals over ops
	extra   map[string]string
}

// shadow gives a timed repetition of n operations the pass's counts per
// operation times n.
func (p *epcRate) shadow(n int) (map[string]int64, error) {
	out := map[string]int64{}
	for k, v := range p.events {
		switch {
		case k == eventGCCycles:
			out[eventEPCPassGCCycles] = v
		case k == eventIntegrityBad:
			out[k] = v
		case strings.HasPrefix(k, "epc_"):
			out[k] = int64(math.Round(float64(v) * float64(n) / float64(p.ops)))
		}
	}
	out[protocol.EventEPCPassOps] = p.ops
	out[protocol.EventEPCPassNS] = p.ns
	return out, nil
}

// record is the pass as the counting pass's file records it (trace.Pass.EPC).
func (p *epcRate) record() *trace.EPCPass {
	return &trace.EPCPass{Ops: p.ops, ElapsedNS: p.ns, Events: p.events}
}

// processRate is the paging pass of this process (nil without one).
var processRate *epcRate

func (p *epcRate) extras() map[string]string {
	x := map[string]string{extraEPCPass: "process",
		"epc_pass.ops": strconv.FormatInt(p.ops, 10), "epc_pass.ns": strconv.FormatInt(p.ns, 10)}
	for k, v := range p.extra {
		x["epc_pass."+k] = v
	}
	for k, v := range p.events {
		if k == eventGCCycles || k == protocol.EventEPCLoads || k == protocol.EventEPCEvicts {
			x["epc_pass."+k] = strconv.FormatInt(v, 10)
		}
	}
	return x
}

// epcPass runs the paging pass and returns its counts; nil, and no error,
// when the workload does not apply on this host (not applicable).
func epcPass(args []string, minTime time.Duration) (*epcRate, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, append(append([]string(nil), args...), "--sim-epc-child")...)
	cmd.Env = append(os.Environ(), swepc.ProcessEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the paging pass: %w", err)
	}
	lines := make(chan childLine)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			if b, ok := bytes.CutPrefix(sc.Bytes(), []byte(snapshotPrefix)); ok {
				var snap map[string]int64
				if json.Unmarshal(b, &snap) == nil {
					lines <- childLine{snap: snap}
				}
				continue
			}
			if m, err := protocol.Parse(sc.Bytes()); err == nil {
				lines <- childLine{msg: m}
			}
		}
	}()
	rate := &epcRate{events: map[string]int64{}}
	var protoErr, na string
	sawDone := false
	for l := range lines {
		msg := l.msg
		switch msg.Type {
		case protocol.TypeSample:
			if msg.Sample == nil {
				continue
			}
			rate.ops += int64(msg.Sample.Iters)
			rate.ns += msg.Sample.ElapsedNS
			for k, v := range msg.Sample.Events {
				rate.events[k] += v
			}
		case protocol.TypeReady:
			if err := driveEPC(ctx, msg, stdin, lines, minTime, rate); err != nil && protoErr == "" {
				protoErr = "driving the paging pass: " + err.Error()
			}
			stdin.Close()
		case protocol.TypeNA:
			na = msg.Error
		case protocol.TypeError:
			if protoErr == "" {
				protoErr = msg.Error
			}
		case protocol.TypeDone:
			sawDone = true
			rate.extra = msg.Extra
		}
	}
	stdin.Close()
	werr := cmd.Wait()
	tail := strings.TrimSpace(stderr.String())
	if i := strings.LastIndexByte(tail, '\n'); i >= 0 {
		tail = tail[i+1:]
	}
	switch {
	case na != "" && protoErr == "":
		return nil, nil // the workload does not apply here: the timed process says so itself
	case protoErr != "":
		return nil, fmt.Errorf("the paging pass (the whole process on the software EPC) failed: %s", protoErr)
	case werr != nil || !sawDone:
		return nil, fmt.Errorf("the paging pass (the whole process on the software EPC) exited early: %v: %s", werr, tail)
	case rate.ops <= 0:
		return nil, errors.New("the paging pass performed no operation")
	}
	return rate, nil
}

// driveEPC loads a driven workload in the paging pass: warm-up, then a
// counted period between two snapshots of the child's counters.
func driveEPC(ctx context.Context, ready protocol.Message, stdin io.Writer, lines <-chan childLine, minTime time.Duration, rate *epcRate) error {
	if ready.Load == nil || ready.Load.Kind != protocol.LoadHTTP {
		return fmt.Errorf("unknown load %+v", ready.Load)
	}
	g, err := loadgen.Dial(ctx, loadgen.Options{Addr: ready.Addr, Path: ready.Load.Path, Conns: ready.Load.Conns})
	if err != nil {
		return err
	}
	defer g.Close()
	driving.Lock()
	defer driving.Unlock()
	period := max(minTime, 100*time.Millisecond)
	if _, err := g.Run(ctx, period); err != nil { // warm up: connections, buffers, the heap
		return err
	}
	snap := func() (map[string]int64, error) {
		if _, err := io.WriteString(stdin, "snap\n"); err != nil {
			return nil, err
		}
		for l := range lines {
			if l.snap != nil {
				return l.snap, nil
			}
			if l.msg.Type == protocol.TypeError {
				return nil, errors.New(l.msg.Error)
			}
		}
		return nil, errors.New("the paging pass ended")
	}
	e0, err := snap()
	if err != nil {
		return err
	}
	res, err := g.Run(ctx, period)
	if err != nil {
		return err
	}
	e1, err := snap()
	if err != nil {
		return err
	}
	rate.ops, rate.ns = res.Requests, res.Elapsed.Nanoseconds()
	for k, v := range e1 {
		rate.events[k] = v - e0[k]
	}
	return nil
}

// goTestEPCPass is the paging pass of a user's Go benchmark: its sim
// flavour (--gotest-sim-bin, built by bench/gotest with the runtime overlay
// and the software EPC) runs with the whole process on the software EPC,
// at n and at 2n iterations (gotest.Options.CountPass, as the counting
// pass); after each run the counters it left in a shared file are read, and
// the second run's less the first's are n operations' own (the test
// binary's start, its set-up and its exit cancel). nil, and no error, when
// the run built no sim flavour (the cell then says its paging is not
// counted).
func goTestEPCPass(fs *pflag.FlagSet, env workload.Env, minTime time.Duration) (*epcRate, error) {
	flag := func(name string) string {
		if f := fs.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	// n is calibrated to at least a second of the benchmark's timed loop
	// under the emulation: the two runs' set-ups page alike only on
	// average (a set-up that allocates again may or may not reuse, and
	// reload, pages the collector freed: thousands of loads either way,
	// seen as 88 loads "per operation" at n = 2 for a benchmark that reads
	// 16 pages per operation), and the loop must outweigh that.
	o := gotest.Options{Bin: flag("gotest-sim-bin"), Dir: flag("gotest-dir"), Bench: flag("gotest-bench"), VCPUs: env.VCPUs,
		MinTime: max(minTime, time.Second), Stderr: os.Stderr, TempDir: env.TempDir}
	if o.Bin == "" {
		return nil, nil
	}
	stats := filepath.Join(cmp.Or(env.TempDir, os.TempDir()), fmt.Sprintf("enclavebench-epc-%d", os.Getpid()))
	regions := stats + ".regions"
	defer os.Remove(stats)
	defer os.Remove(regions)
	o.Env = []string{swepc.ProcessEnv + "=1", gotest.EPCCapEnv + "=" + strconv.FormatInt(swepcCap, 10), gotest.EPCStatsEnv + "=" + stats,
		gotest.EPCRegionsEnv + "=" + regions}
	var snaps []swepc.Stats
	// byRegion holds each run's loads and evictions by region; a run whose
	// binary classified none leaves them unattributed (nil).
	var byRegion []map[string][2]int64
	var readErr error
	marks := 0
	mark := func() {
		marks++
		if marks%2 == 1 { // before a run: nothing of a previous one may be read
			os.Remove(stats)
			os.Remove(regions)
			return
		}
		m, _ := swepc.ReadSharedRegions(regions)
		byRegion = append(byRegion, m)
		s, err := swepc.ReadSharedStats(stats)
		if err != nil && readErr == nil {
			readErr = fmt.Errorf("%s left no software-EPC counters (%v): it did not put itself on the software EPC, so it was not built by bench run --gotest's sim build (the runtime overlay and the software EPC); rebuild by starting a new run", o.Bin, err)
		}
		snaps = append(snaps, s)
	}
	t0 := time.Now()
	n, _, err := o.CountPass(context.Background(), mark)
	if err != nil {
		return nil, fmt.Errorf("the paging pass (the test binary on the software EPC) failed: %w", err)
	}
	if readErr != nil {
		return nil, readErr
	}
	if len(snaps) != 2 || n <= 0 {
		return nil, errors.New("the paging pass of the test binary counted no run")
	}
	a, b := snaps[0].Map(), snaps[1].Map()
	rate := &epcRate{ops: int64(n), ns: time.Since(t0).Nanoseconds(), events: map[string]int64{},
		extra: map[string]string{"method": "test binary at 2n less at n iterations", "n": strconv.Itoa(n)}}
	for k, v := range b {
		rate.events[k] = max(v-a[k], 0) // the runs' set-ups page alike; noise never counts negative
	}
	if len(byRegion) == 2 && byRegion[0] != nil && byRegion[1] != nil {
		for i, ev := range []struct{ prefix, total string }{{trace.RegionLoads, "epc_loads"}, {trace.RegionEvictions, "epc_evictions"}} {
			for name, v := range regionDiff(byRegion[0], byRegion[1], i, rate.events[ev.total]) {
				rate.events[ev.prefix+name] = v
			}
		}
		rate.extra["regions"] = "2n less n by region (the test binary classifies its pages at exit); negative differences 0, the rest scaled down pro rata where they exceed the pass's total"
	}
	return rate, nil
}

// regionDiff is the second run's counts (loads: i 0, evictions: 1) by
// region less the first's: the set-ups of the two runs page alike but not
// exactly, so a region whose difference is negative gets 0, and where the
// others then add up to more than total (the difference of all pages, the
// pass's figure) they are scaled down to it pro rata, so regions never
// claim more than the pass counted.
func regionDiff(a, b map[string][2]int64, i int, total int64) map[string]int64 {
	out := map[string]int64{}
	var sum int64
	for name, c := range b {
		if d := c[i] - a[name][i]; d > 0 {
			out[name] = d
			sum += d
		}
	}
	if sum > total {
		for name, d := range out {
			out[name] = int64(float64(d) * float64(total) / float64(sum))
		}
	}
	return out
}
