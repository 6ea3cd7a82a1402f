package gotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Options configure one cell's runs of a benchmark.
type Options struct {
	Bin          string // the test binary (go test -c)
	Dir          string // its package's directory: go test runs a test binary there
	Bench        string // the benchmark's full name: BenchmarkGet/size=1KiB
	VCPUs        int    // -test.cpu: the size's vCPUs
	Reps, Warmup int
	MinTime      time.Duration
	// Stderr receives the test binary's stderr (the runtime's gctrace
	// lines left out).
	Stderr io.Writer
	// SampleExtra goes with every sample message (protocol.ExtraUncounted).
	SampleExtra map[string]string
	// SimBin is the sim flavour of the test binary (FlagSimBin), "" when
	// the run built none.
	SimBin string
	// Env is added to the test binary's environment (the paging pass's
	// EPCCapEnv, EPCStatsEnv and the process EPC's switch).
	Env []string
	// Launcher, when set, starts the test binary: "ego run" for a test
	// binary built with ego-go and signed (bench/ego). Its output is then
	// copied to Echo, where the harness reads the launcher's lines.
	Launcher []string
	Echo     io.Writer
	// TempDir holds the test binary's output while it runs ("": the
	// system's): the cell's scratch directory, which the harness removes
	// even when it kills the cell.
	TempDir string
	// Quit, when set, receives the SIGQUIT of the cell's timeout
	// (bench/runner sends it to the cell's process group, the test binary
	// included, which prints every goroutine's stack and exits): a run
	// that ends after it is reported as stopped at the timeout.
	// (-test.timeout would not do: the testing package stops its alarm
	// before it runs benchmarks.)
	Quit <-chan os.Signal
}

// quitWait bounds how long a failed run waits for the SIGQUIT that may
// have ended it to arrive on Quit (the test binary's exit and this
// process's signal come from one kill of the process group).
const quitWait = time.Second

// Flags of the workload binary that run a user's benchmark (bench/gotest
// passes them, bench/ego reads them from a cell's arguments).
const (
	FlagBin      = "--gotest-bin"
	FlagDir      = "--gotest-dir"
	FlagBench    = "--gotest-bench"
	FlagTags     = "--gotest-tags"
	FlagLauncher = "--gotest-launcher"
	// FlagSimBin is the sim flavour of the test binary (the whole process
	// on the software EPC), for the sim mode's paging pass.
	FlagSimBin = "--gotest-sim-bin"
)

// Environment of the paging pass's runs of a sim test binary (bench/gotest
// writes the test file that reads them).
const (
	EPCCapEnv   = "ENCLAVEBENCH_SWEPC_CAP"   // the software EPC's cap, bytes
	EPCStatsEnv = "ENCLAVEBENCH_SWEPC_STATS" // the file its counters go to (swepc.Region.ShareStats)
	// EPCRegionsEnv names the file its loads and evictions by region go to
	// (swepc.Region.ShareRegions).
	EPCRegionsEnv = "ENCLAVEBENCH_SWEPC_REGIONS"
)

// Launch is what a cell's workload arguments say of its user benchmark.
type Launch struct {
	Bin, Dir, Bench, Tags string
	MinTime               time.Duration
	VCPUs                 int
}

// FromArgs reads a cell's workload arguments (runner.Config.Launch); false
// when the cell runs no user benchmark.
func FromArgs(args []string) (Launch, bool) {
	var l Launch
	for i := 0; i+1 < len(args); i++ {
		v := args[i+1]
		switch args[i] {
		case FlagBin:
			l.Bin = v
		case FlagDir:
			l.Dir = v
		case FlagBench:
			l.Bench = v
		case FlagTags:
			l.Tags = v
		case "--min-time":
			l.MinTime, _ = time.ParseDuration(v)
		case "--size":
			if s, err := protocol.ParseSize(v); err == nil {
				l.VCPUs = s.VCPUs
			}
		}
	}
	return l, l.Bin != ""
}

// Options returns the options of a run of l's benchmark on the host.
func (l Launch) Options() Options {
	return Options{Bin: l.Bin, Dir: l.Dir, Bench: l.Bench, VCPUs: l.VCPUs, MinTime: l.MinTime}
}

// Pattern is the -test.bench expression that selects exactly the benchmark
// name: each level of the name anchored and quoted.
func Pattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// SkipError is a benchmark that called b.Skip: the cell does not apply.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return e.Reason }

// run runs the test binary once for the benchmark with extra flags and
// returns its result lines for the benchmark and the peak Go heap the
// runtime reported (0 when it collected no garbage).
func (o Options) run(ctx context.Context, gctrace bool, extra ...string) ([]Result, int64, error) {
	args := []string{"-test.run=^$", "-test.bench=" + Pattern(o.Bench), "-test.benchmem", "-test.v",
		"-test.cpu=" + strconv.Itoa(max(o.VCPUs, 1))}
	args = append(args, extra...)
	cmd := exec.CommandContext(ctx, o.Bin, args...)
	if len(o.Launcher) > 0 {
		cmd = exec.CommandContext(ctx, o.Launcher[0], append(append(o.Launcher[1:len(o.Launcher):len(o.Launcher)], o.Bin), args...)...)
		gctrace = false // the enclave gets its environment from enclave.json
	}
	cmd.Dir = o.Dir
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	// Output goes to files, not pipes: this process then makes no system
	// call while the benchmark runs (the sim's counting pass counts them).
	outFile, err := os.CreateTemp(o.TempDir, "enclavebench-gotest-*")
	if err != nil {
		return nil, 0, err
	}
	defer os.Remove(outFile.Name())
	defer outFile.Close()
	cmd.Stdout = outFile
	cmd.Stderr = os.Stderr
	var gc *gcTrace
	if gctrace {
		// The Go runtime's own account of its heap at every collection,
		// for the benchmark's footprint (it does not change what the
		// benchmark does, but writes a line per collection: never in a
		// counting pass).
		cmd.Env = append(append(os.Environ(), o.Env...), "GODEBUG="+godebug())
		gc = &gcTrace{out: o.Stderr}
		cmd.Stderr = gc
	}
	if err = cmd.Start(); err == nil {
		err = cmd.Wait()
	}
	if gc != nil {
		gc.flush()
	}
	if o.quit(err) {
		return nil, 0, fmt.Errorf("%s was still running at the cell's timeout: stopped with SIGQUIT (its goroutines' stacks are on stderr)", o.Bench)
	}
	stdout, rerr := os.ReadFile(outFile.Name())
	if rerr != nil {
		return nil, 0, rerr
	}
	if len(o.Launcher) > 0 && o.Echo != nil {
		o.Echo.Write(stdout) // the launcher's lines: none is a protocol line
	}
	out, perr := Parse(stdout)
	if perr != nil {
		return nil, 0, perr
	}
	for name := o.Bench; name != ""; name = parent(name) {
		if reason, ok := out.Skipped[name]; ok {
			if reason == "" {
				reason = "b.Skip without a reason"
			}
			return nil, 0, &SkipError{Reason: name + " skipped: " + reason}
		}
	}
	var rs []Result
	for _, r := range out.Results {
		if r.Name == o.Bench {
			rs = append(rs, r)
		}
	}
	var failed []string
	for _, n := range out.Names {
		if logs, ok := out.Failed[n]; ok {
			failed = append(failed, fmt.Sprintf("%s failed: %s", n, logs))
		}
	}
	switch {
	case len(failed) > 0:
		return nil, 0, fmt.Errorf("%s (%v)", strings.Join(failed, "; "), exitOf(err))
	case err != nil:
		return nil, 0, fmt.Errorf("the test binary %v; its output ends:\n%s", exitOf(err), tailLines(string(stdout), 20))
	case len(rs) == 0:
		return nil, 0, fmt.Errorf("the test binary printed no result for %s; its output ends:\n%s", o.Bench, tailLines(string(stdout), 20))
	}
	var peak int64
	if gc != nil {
		peak = gc.peak
	}
	return rs, peak, nil
}

// godebug is GODEBUG with gctrace on, the user's other settings kept.
func godebug() string {
	if g := os.Getenv("GODEBUG"); g != "" {
		return g + ",gctrace=1"
	}
	return "gctrace=1"
}

func parent(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// quit reports whether the cell's timeout stopped the run that ended with
// err: the SIGQUIT is on Quit, or arrives within quitWait of a run that
// ended as a Go program ends on SIGQUIT (exit status 2) or by a signal.
func (o Options) quit(err error) bool {
	if o.Quit == nil {
		return false
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 && ee.ExitCode() != -1 {
		select {
		case <-o.Quit:
			return true
		default:
			return false
		}
	}
	select {
	case <-o.Quit:
		return true
	case <-time.After(quitWait):
		return false
	}
}

func exitOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String() // "exit status 1", "signal: killed"
	}
	if err != nil {
		return err.Error()
	}
	return "exit status 0"
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Calibrate returns the iteration count of a run lasting at least the
// minimum time (go test's own growth of b.N for -test.benchtime=<min-time>).
func (o Options) Calibrate(ctx context.Context) (int, error) {
	rs, _, err := o.run(ctx, false, "-test.benchtime="+o.MinTime.String(), "-test.count=1")
	if err != nil {
		return 0, err
	}
	return rs[len(rs)-1].Iters, nil
}

// PeakHeap runs the benchmark for the minimum time and returns the
// largest Go heap its runtime reported at a collection (gctrace); a
// benchmark that never collected held less than the runtime's first heap
// goal, which it returns (4 MiB: runtime/mgcpacer.go, heapMinimum).
func (o Options) PeakHeap(ctx context.Context) (int64, error) {
	_, peak, err := o.run(ctx, true, "-test.benchtime="+o.MinTime.String(), "-test.count=1")
	if err != nil {
		return 0, err
	}
	return max(peak, heapMinimum), nil
}

// heapMinimum is the Go runtime's first heap goal (runtime/mgcpacer.go,
// defaultHeapMinimum = 4 << 20 with GOGC=100).
const heapMinimum = 4 << 20

// Measure calibrates, then runs the warmup and the repetitions in one run of
// the test binary and writes a protocol sample per repetition to out. It
// returns the peak Go heap the runtime reported in the timed run (0 when
// it never collected).
func (o Options) Measure(ctx context.Context, out io.Writer) (int64, error) {
	n, err := o.Calibrate(ctx)
	if err != nil {
		return 0, err
	}
	count := o.Warmup + o.Reps
	rs, peak, err := o.run(ctx, true, "-test.benchtime="+strconv.Itoa(n)+"x", "-test.count="+strconv.Itoa(count))
	if err != nil {
		return 0, err
	}
	if len(rs) != count {
		return 0, fmt.Errorf("the test binary printed %d results for %s, want %d (-test.count)", len(rs), o.Bench, count)
	}
	for i, r := range rs[o.Warmup:] {
		s := Sample(r)
		s.Rep = i
		if err := protocol.Encode(out, protocol.Message{Type: protocol.TypeSample, Sample: s, Extra: o.SampleExtra}); err != nil {
			return 0, err
		}
	}
	return peak, nil
}

// Sample is the protocol sample of a result line: its duration is ns/op
// times its iterations.
func Sample(r Result) *protocol.Sample {
	s := &protocol.Sample{Iters: r.Iters, Values: r.Values}
	if len(r.Values) > 0 && r.Values[0].Unit == "ns/op" {
		s.ElapsedNS = int64(math.Round(r.Values[0].Value * float64(r.Iters)))
	}
	return s
}

// CountPass is the counting pass of the sim mode, run in the counted
// process: the benchmark at n and at 2n iterations in two runs of the test
// binary, mark() called right before and right after each run. The counts
// between the second pair less those between the first are n operations'
// own: the test binary's start, its run of b.N=1 and its exit cancel out
// (n is at least 2, so that both runs call the benchmark function twice).
// It returns n and the difference of the two runs' durations.
func (o Options) CountPass(ctx context.Context, mark func()) (n int, elapsedNS int64, err error) {
	if n, err = o.Calibrate(ctx); err != nil {
		return 0, 0, err
	}
	// The testing package calls the benchmark function once with b.N = 1,
	// then, for -test.benchtime=Nx with N > 1, once more with b.N = N: at
	// n = 1 the first run would call it once and the second twice, and the
	// difference would hold a whole extra set-up (seen: 8,366 EPC loads
	// "per operation" for a benchmark that allocates 32 MiB before its loop).
	n = max(n, 2)
	var d [2]int64
	for i, k := range []int{n, 2 * n} {
		mark()
		rs, _, err := o.run(ctx, false, "-test.benchtime="+strconv.Itoa(k)+"x", "-test.count=1")
		mark()
		if err != nil {
			return 0, 0, err
		}
		d[i] = Sample(rs[0]).ElapsedNS
	}
	return n, max(d[1]-d[0], 0), nil
}

// gcTrace passes a test binary's stderr on, keeping the largest heap the
// runtime's gctrace lines report ("gc 3 @0.1s 2%: ... 4->5->1 MB, 8 MB
// goal, ..."): heap at the start of the collection, at its end, live.
type gcTrace struct {
	mu   sync.Mutex
	out  io.Writer
	buf  []byte
	peak int64 // bytes
}

var gcLine = regexp.MustCompile(`^gc \d+ @.*?: .*? (\d+)->(\d+)->(\d+) MB`)

func (g *gcTrace) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.buf = append(g.buf, p...)
	for {
		i := bytes.IndexByte(g.buf, '\n')
		if i < 0 {
			break
		}
		g.line(g.buf[:i+1])
		g.buf = g.buf[i+1:]
	}
	return len(p), nil
}

func (g *gcTrace) line(l []byte) {
	if m := gcLine.FindSubmatch(l); m != nil {
		for _, x := range m[1:3] {
			// gctrace's "MB" are 2^20 bytes (the runtime shifts by 20).
			if v, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				g.peak = max(g.peak, v<<20)
			}
		}
		return
	}
	if g.out != nil {
		g.out.Write(l)
	}
}

func (g *gcTrace) flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.buf) > 0 {
		g.line(g.buf)
		g.buf = nil
	}
}
