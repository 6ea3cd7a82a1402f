//go:build sim && amd64

// The sim build's additions to the workload binary (bench/sim drives them):
//
//	--sim-probe            (first argument) print what this host permits as
//	                       JSON (SimProbe) and exit: userfaultfd, seccomp user
//	                       notification, LLC-miss counters, baseline RSS,
//	                       per-notification overhead
//	--sim-count            before the timed pass, count OCALLs/ECALLs in a
//	                       separate pass (a child of this process, under
//	                       seccomp user notification) and write the result to
//	                       <tmpdir>/sim-pass.json (trace.Pass)
//	--sim-count-child      internal: be that counted child
//
// The timed pass is the normal one (software EPC arena when --swepc-cap is
// set); it is never instrumented with seccomp. When LLC-miss counters are
// available, it also reports llc_misses per repetition.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/arena"
	"github.com/enclavebench/enclavebench/workloads/loadgen"
	"github.com/enclavebench/enclavebench/workloads/measure"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/trace"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

func init() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "--sim-probe":
			p := probe()
			json.NewEncoder(os.Stdout).Encode(p)
			os.Exit(0)
		case "--sim-probe-child":
			os.Exit(probeChild())
		case "--sim-probe-process":
			os.Exit(probeProcessChild())
		}
	}
	simHooks = addSimFlags
	simPair = pairBench
}

func addSimFlags(fs *pflag.FlagSet) simHook {
	count := fs.Bool("sim-count", false, "sim mode: count OCALLs and ECALLs in a separate pass before the timed one")
	child := fs.Bool("sim-count-child", false, "sim mode, internal: be the counted child")
	stacks := fs.Int("sim-stack-every", defaultStackEvery, "sim mode: take the Go call stack of one in N counted OCALLs and ECALLs (at random; 1: all, 0: none) and write them as a pprof profile (trace.ProfileFile)")
	process := fs.Bool("swepc-process", false, "sim mode: count EPC paging with the whole process on the software EPC (capped at --swepc-cap), in a separate paging pass; needs the binary built by scripts/build-sim.sh")
	epcChild := fs.Bool("sim-epc-child", false, "sim mode, internal: be the paging pass's child")
	return func(args []string, env workload.Env, mem workload.Memory, o *measure.Options) error {
		if f := fs.Lookup("swepc-cap"); f != nil {
			swepcCap, _ = strconv.ParseInt(f.Value.String(), 10, 64)
		}
		switch {
		case *epcChild:
			return beEPCChild(o)
		case *child:
			countedChild = true
			return beCountedChild(o)
		}
		userBench := false // a user's test binary (--gotest-bin): its sim flavour pages (--gotest-sim-bin)
		if f := fs.Lookup("gotest-bin"); f != nil && f.Value.String() != "" {
			userBench = true
		}
		if *process && userBench {
			if swepcCap <= 0 {
				return errors.New("--swepc-process needs --swepc-cap")
			}
			rate, err := goTestEPCPass(fs, env, o.MinTime)
			if err != nil {
				return err
			}
			if rate != nil {
				processRate, goTestPaged = rate, true
				simExtra = rate.extras
			}
		}
		// paged waits for the paging pass and takes its counts.
		paged := func() error { return nil }
		if *process && !userBench {
			if swepcCap <= 0 {
				return errors.New("--swepc-process needs --swepc-cap")
			}
			// The timed process stays on plain memory; the paging pass
			// counts.
			if err := arena.Configure(arena.Config{}); err != nil {
				return err
			}
			// The paging pass and the counting pass count; neither is
			// timed, so they run at once (the timed repetitions start
			// after both) where the host holds both working sets.
			// Neither's counts depend on time: the paging pass settles
			// and decides by pages and operations, the counting pass's
			// clock-driven OCALLs are per second.
			var (
				rate *epcRate
				err  error
			)
			done := make(chan struct{})
			runPaging := func() {
				defer close(done)
				rate, err = epcPass(args, o.MinTime)
			}
			if *count && passesFit(mem, env.HostMem) {
				go runPaging()
			} else {
				runPaging()
			}
			paged = func() error {
				<-done
				if err != nil {
					return err
				}
				if rate != nil {
					o.Shadow = rate.shadow
					simExtra = rate.extras
					processRate = rate
				}
				return nil
			}
		}
		if !*count {
			return paged()
		}
		pass := countingPass(args, env, o.MinTime, *stacks)
		if err := paged(); err != nil {
			return err
		}
		llc, reason := openLLC()
		timedLLC = llc
		if llc == nil {
			pass.LLC = "unavailable: " + reason
		} else {
			pass.LLC = "perf_event_open PERF_COUNT_HW_CACHE_MISSES, user mode, every thread"
			pass.HostLLCMissNS = llcMissNS()
			events := o.Events
			o.Events = func() map[string]int64 {
				m := map[string]int64{}
				if events != nil {
					for k, v := range events() {
						m[k] = v
					}
				}
				m[eventLLCMisses] = llc.read()
				return m
			}
		}
		if processRate != nil {
			pass.EPC = processRate.record()
		}
		return trace.WritePass(env.TempDir, pass)
	}
}

// timedLLC counts the LLC misses of the timed repetitions (nil when the
// host has no counter or the cell is not counted).
var timedLLC *llcCounter

// swepcCap is the --swepc-cap this process was given.
var swepcCap int64

// pairBench makes the timed repetitions the workload's native time. When b
// holds a software-EPC arena, a second instance is prepared on plain
// memory and timed; b becomes the shadow that runs the same operations
// right after each repetition, and its EPC loads and evictions are that
// repetition's. The emulation's own cost is then in no timed figure.
func pairBench(b workload.Bench, again func() (workload.Bench, error), o *measure.Options) (workload.Bench, func() error, error) {
	if processRegion != nil { // the paging pass's child: one instance, settled first
		return b, nil, settle(b, o.MinTime)
	}
	if arena.Events() == nil {
		return b, nil, nil // no software-EPC arena: nothing is emulated
	}
	prev := arena.Config{CapBytes: swepcCap}
	if err := arena.Configure(arena.Config{}); err != nil {
		return nil, nil, err
	}
	plain, err := again()
	if cerr := arena.Configure(prev); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("preparing the plain-memory instance of the paired run: %w", err)
	}
	o.Events = nil
	if timedLLC != nil {
		o.Events = func() map[string]int64 { return map[string]int64{eventLLCMisses: timedLLC.read()} }
	}
	o.Shadow = shadow(b, o.MinTime)
	return plain, b.Close, nil
}

const (
	eventLLCMisses    = "llc_misses" // bench/sim.eventLLCMisses
	eventIntegrityBad = "epc_integrity_failures"
)

// shadowMinFraction bounds the scaling of a shadow run's counts (n/m).
const shadowMinFraction = 256

// shadow runs n operations on b (the software-EPC instance) after each
// repetition and returns the software EPC's events of that run. A shadow
// run lasts as long as the emulation makes it: on a paging-bound cell the
// n operations that took minTime natively can take 100x longer here, so it
// runs m < n operations when m operations already last minTime (found once,
// growing m from n/256 as the measurement loop calibrates) and m is under
// a quarter of n, and scales the counts by n/m (epc_pass_ops says m).
func shadow(b workload.Bench, minTime time.Duration) func(n int) (map[string]int64, error) {
	m := 0
	var r workload.Report
	run := func(k int) (map[string]int64, time.Duration, error) {
		r.Reset()
		ev0 := arena.Events()
		t0 := time.Now()
		err := b.Run(k, &r)
		d := time.Since(t0)
		ev1 := arena.Events()
		if err != nil {
			return nil, 0, fmt.Errorf("the software-EPC run: %w", err)
		}
		out := map[string]int64{}
		for name, v := range ev1 {
			out[name] = v - ev0[name]
		}
		return out, d, nil
	}
	return func(n int) (map[string]int64, error) {
		if m == 0 || m > n || m*shadowMinFraction < n {
			// At least 1/256 of n: a single slow fault (tens of ms on a
			// loaded host) must not settle m at a handful of operations
			// that touch no new page.
			m = max(1, (n+shadowMinFraction-1)/shadowMinFraction)
			for m < n {
				_, d, err := run(m)
				if err != nil {
					return nil, err
				}
				if d >= minTime {
					break
				}
				next := m * 100
				if d > 0 {
					next = min(next, int(1.2*float64(m)*float64(minTime)/float64(d)))
				}
				m = min(max(next, m+1), n)
			}
			if 4*m >= n {
				m = n
			}
		}
		ev, d, err := run(m)
		if err != nil {
			return nil, err
		}
		if m < n {
			for name, v := range ev {
				if name != eventIntegrityBad {
					ev[name] = int64(math.Round(float64(v) * float64(n) / float64(m)))
				}
			}
		}
		ev[protocol.EventEPCPassOps] = int64(m)
		ev[protocol.EventEPCPassNS] = d.Nanoseconds()
		return ev, nil
	}
}

// countingPass runs the workload in a counted child of this process and
// returns its counts. It never fails: what went wrong is the Pass's reason.
// defaultStackEvery is the counting pass's stack sampling rate: one stack in
// 4 notifications (docs/sim.md "OCALLs by call site" measures the cost).
const defaultStackEvery = 4

func countingPass(args []string, env workload.Env, minTime time.Duration, stackEvery int) *trace.Pass {
	pass := &trace.Pass{Version: trace.PassVersion,
		Method: "seccomp user notification in a separate, untimed pass (counts per operation x the timed pass's operations)"}
	fail := func(format string, a ...any) *trace.Pass {
		pass.Unavailable = fmt.Sprintf(format, a...)
		fmt.Fprintln(os.Stderr, "workload: sim: OCALLs not counted:", pass.Unavailable)
		return pass
	}
	defer moreProcs()()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail("socketpair: %v", err)
	}
	mine, theirs := os.NewFile(uintptr(pair[0]), "supervisor"), os.NewFile(uintptr(pair[1]), "counted")
	defer mine.Close()
	exe, err := os.Executable()
	if err != nil {
		return fail("finding this executable: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, append(append([]string(nil), args...), "--sim-count-child", "--swepc-cap=0")...)
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fail("%v", err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fail("%v", err)
	}
	if err := cmd.Start(); err != nil {
		return fail("starting the counted pass: %v", err)
	}
	theirs.Close()
	sup, err := trace.SuperviseWith(mine, cmd.Process.Pid, trace.Options{Timeout: 60 * time.Second, StackEvery: stackEvery})
	if err != nil {
		cancel()
		cmd.Wait()
		var de *trace.DeniedError
		if errors.As(err, &de) {
			return fail("%s", de.Reason)
		}
		return fail("%v", err)
	}
	var (
		protoErr string
		sawDone  bool
	)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		msg, err := protocol.Parse(sc.Bytes())
		if err != nil {
			continue
		}
		switch msg.Type {
		case protocol.TypeSample:
			// The child took one snapshot before and one after each
			// repetition; a repetition redone for being too short took
			// more, so the last two bracket the reported one.
			snaps := sup.Snapshots()
			if k := len(snaps); msg.Extra[ExtraCountDifference] != "" && k >= 4 {
				// A user's Go benchmark: the run of 2n less the run of n.
				pass.Counts = nonNegative(snaps[k-1].Sub(snaps[k-2]).Sub(snaps[k-3].Sub(snaps[k-4])))
				pass.Method = "seccomp user notification in a separate, untimed pass: the test binary run at 2n iterations less the run at n (start and exit cancel out), per operation x the timed pass's operations"
			} else if len(snaps) >= 2 {
				pass.Counts = snaps[len(snaps)-1].Sub(snaps[len(snaps)-2])
			}
			pass.Ops = int64(msg.Sample.Iters)
			pass.ElapsedNS = msg.Sample.ElapsedNS
		case protocol.TypeReady:
			n, d, c, err := driveCounted(ctx, msg, sup, minTime)
			stdin.Close()
			if err != nil {
				protoErr = "driving the counted pass: " + err.Error()
				continue
			}
			pass.Ops, pass.ElapsedNS, pass.Counts = n, d, c
		case protocol.TypeError, protocol.TypeNA:
			protoErr = msg.Error
		case protocol.TypeDone:
			sawDone = true
		}
	}
	stdin.Close()
	werr := cmd.Wait()
	if err := sup.Wait(10 * time.Second); err != nil && protoErr == "" {
		protoErr = err.Error()
	}
	switch {
	case protoErr != "":
		return fail("the counted pass failed: %s", protoErr)
	case werr != nil || !sawDone:
		return fail("the counted pass exited early: %v", werr)
	case pass.Ops <= 0:
		return fail("the counted pass performed no operation")
	}
	if stackEvery < 0 {
		return fail("--sim-stack-every %d: want 0 (no stacks) or more", stackEvery)
	}
	if stackEvery > 0 {
		pass.Stacks = fmt.Sprintf("one counted OCALL or ECALL in %d at random, scaled to each cause's count: %s", stackEvery, trace.ProfileFile)
		if err := trace.WriteProfile(env.TempDir, trace.Profile(sup.Sites(pass.Counts), pass.Ops, pass.Method+"; stacks: "+pass.Stacks)); err != nil {
			pass.Stacks = "not written: " + err.Error()
		}
	}
	pass.Counts.Stacks = nil
	return pass
}

// nonNegative clamps the counts of a difference of two runs at zero: a
// cause seen less often in the longer run is noise, not negative work.
func nonNegative(c trace.Counts) trace.Counts {
	c.OCalls, c.ECalls, c.Notifications, c.ClockOCalls = max(c.OCalls, 0), max(c.ECalls, 0), max(c.Notifications, 0), max(c.ClockOCalls, 0)
	for k, v := range c.BySyscall {
		if v <= 0 {
			delete(c.BySyscall, k)
		}
	}
	for k, v := range c.Stacks {
		if v <= 0 {
			delete(c.Stacks, k)
		}
	}
	return c
}

// moreProcs raises GOMAXPROCS to at least 4 while this process
// supervises (it is restored before the timed pass): a supervisor
// goroutine back from poll then finds an idle P at once, which roughly
// halves a notification's cost on a 1-vCPU size. It returns the restore.
func moreProcs() func() {
	old := runtime.GOMAXPROCS(0)
	if old < 4 {
		runtime.GOMAXPROCS(4)
	}
	return func() { runtime.GOMAXPROCS(old) }
}

// passesFit says whether the paging and the counting pass may run at once:
// each child holds the cell's working set (the Go heap up to twice its live
// data), and together they must leave half the host's memory free, so a
// cell that ran with its passes one after the other still runs.
func passesFit(m workload.Memory, hostMem int64) bool {
	return hostMem > 0 && 2*(m.Mapped+2*m.GoHeap) <= hostMem/2
}

// driving is held while a pass loads its driven child: the paging and the
// counting pass run at once, and a server loaded while another is may wait
// more (epoll, futex) per request than one loaded alone, as in the timed
// pass (one quick run without it: httpserver's 5 cells compared counted
// 7-10% more OCALLs per request than a sequential run, whose run-to-run
// spread is up to 6%; with it, two runs each fell in the sequential range).
var driving sync.Mutex

// driveCounted applies a driven workload's load to the counted child for
// minTime and returns the requests, the time and the counts in between.
func driveCounted(ctx context.Context, ready protocol.Message, sup *trace.Supervisor, minTime time.Duration) (int64, int64, trace.Counts, error) {
	if ready.Load == nil || ready.Load.Kind != protocol.LoadHTTP {
		return 0, 0, trace.Counts{}, fmt.Errorf("unknown load %+v", ready.Load)
	}
	g, err := loadgen.Dial(ctx, loadgen.Options{Addr: ready.Addr, Path: ready.Load.Path, Conns: ready.Load.Conns})
	if err != nil {
		return 0, 0, trace.Counts{}, err
	}
	defer g.Close()
	driving.Lock()
	defer driving.Unlock()
	if _, err := g.Run(ctx, minTime/4+time.Millisecond); err != nil { // warm the connections up
		return 0, 0, trace.Counts{}, err
	}
	// Count over at least 100 ms: a notified request is slow, and a 20 ms
	// pass would see only a few dozen.
	c0 := sup.Counts()
	res, err := g.Run(ctx, max(minTime, 100*time.Millisecond))
	c1 := sup.Counts()
	if err != nil {
		return 0, 0, trace.Counts{}, err
	}
	return res.Requests, res.Elapsed.Nanoseconds(), c1.Sub(c0), nil
}

// beCountedChild sets this process up as the counted child: plain memory,
// the filter, one repetition bracketed by snapshots.
func beCountedChild(o *measure.Options) error {
	if err := arena.Configure(arena.Config{}); err != nil {
		return err
	}
	if err := trace.InstallChild(); err != nil {
		return err
	}
	o.Reps, o.Warmup = 1, 0
	o.Events = func() map[string]int64 {
		oc, ec, err := trace.Snapshot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "workload: sim:", err)
			return nil
		}
		return map[string]int64{protocol.EventOCalls: oc, protocol.EventECalls: ec}
	}
	return nil
}
