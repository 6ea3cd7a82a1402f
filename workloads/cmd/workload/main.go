// Command workload runs one workload of the enclavebench suite and reports
// its samples on stdout in the line protocol (workloads/protocol). The
// harness starts one workload process per cell; the same binary runs
// natively, inside EGo (built with ego-go) and in the sim mode (built with
// -tags sim).
//
//	workload NAME --param key=value ... --size DC2s_v2,vcpus=2,epc_bytes=58720256,mem_bytes=8589934592 \
//	    --reps 5 --warmup 1 --min-time 100ms
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/arena"
	"github.com/enclavebench/enclavebench/workloads/enclave"
	"github.com/enclavebench/enclavebench/workloads/gotest"
	"github.com/enclavebench/enclavebench/workloads/measure"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/valgrind"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

var start = time.Now()

func main() {
	if len(os.Args) == 2 && os.Args[1] == CPUFeaturesArg {
		fmt.Println(strings.Join(cpuFeatures(), " "))
		return
	}
	if err := run(os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "workload:", err)
		os.Exit(1)
	}
}

func run(stdout, stderr io.Writer, args []string) error {
	c, err := parseArgs(stderr, args)
	if err != nil {
		return err
	}
	if c.goTest.Bin != "" {
		if c.counted || c.iters != 0 {
			// Valgrind would count this process, not the test binary it runs.
			return fmt.Errorf("--count-pass and --iters do not apply to a user's Go benchmark (--gotest-bin): its test binary is a child process, which the counting pass does not follow")
		}
		c.goTest.VCPUs, c.goTest.Reps, c.goTest.Warmup, c.goTest.MinTime = c.env.VCPUs, c.reps, c.warmup, c.minTime
		return runGoTest(stdout, args, c.name, c.env, c.goTest, c.epcPriced, c.simBefore)
	}
	spec, err := suite.Workloads.Lookup(c.name)
	if err != nil {
		return err
	}
	if err := c.prepareEnv(spec); err != nil {
		return err
	}
	hello := protocol.Message{
		Type: protocol.TypeHello, Workload: spec.Name, PID: os.Getpid(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: affinityCPUs(),
		GoVersion: runtime.Version(), InEnclave: c.env.InEnclave, Arena: arena.Describe(),
	}
	if err := protocol.Encode(stdout, hello); err != nil {
		return err
	}
	if spec.EnclaveOnly && !c.env.InEnclave {
		return protocol.Encode(stdout, protocol.Message{Type: protocol.TypeNA,
			Error: spec.Name + " measures an enclave primitive and means nothing outside an enclave"})
	}
	err = c.measureCell(stdout, spec)
	var ae argError
	switch {
	case errors.Is(err, errNotApplicable):
		return nil
	case errors.As(err, &ae):
		return ae.error // bad arguments: no error line, as before any measurement
	case err != nil:
		protocol.Encode(stdout, protocol.Message{Type: protocol.TypeError, Error: err.Error()})
		return err
	}
	return protocol.Encode(stdout, protocol.Message{Type: protocol.TypeDone, ElapsedNS: time.Since(start).Nanoseconds(),
		Extra: c.doneExtra()})
}

// cellArgs are the workload process's arguments: the cell and how to
// measure it.
type cellArgs struct {
	name         string // the workload
	params       []string
	env          workload.Env
	reps, warmup int
	minTime      time.Duration
	swepcCap     int64
	iters        int
	counted      bool
	goTest       gotest.Options
	args         []string
	simBefore    simHook
	// epcPriced: a model prices the cell's EPC paging from the counts of
	// its processes (--epc-priced, set by the mode that does: the
	// workload is told what it must report, not which mode runs it).
	epcPriced      bool
	ops            int64 // every operation the process ran: EGo's OCALL table covers them all
	provenanceHash *enclave.Digester
}

// parseArgs reads the process's arguments.
func parseArgs(stderr io.Writer, args []string) (*cellArgs, error) {
	c := &cellArgs{args: args}
	fs := pflag.NewFlagSet("workload", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringArrayVar(&c.params, "param", nil, "workload parameter key=value (repeatable)")
	fs.IntVar(&c.reps, "reps", 5, "measured repetitions")
	fs.IntVar(&c.warmup, "warmup", 1, "warmup repetitions after calibration")
	fs.DurationVar(&c.minTime, "min-time", 100*time.Millisecond, "minimum duration of one repetition")
	fs.Int64Var(&c.swepcCap, "swepc-cap", 0, "sim mode: cap the software EPC's resident bytes (needs -tags sim)")
	fs.IntVar(&c.iters, "iters", 0, "counting pass: run exactly this many operations per repetition (no calibration)")
	fs.BoolVar(&c.counted, "count-pass", false, "counting pass (bench run --counts): fixed --iters, allocations counted, each repetition's operations marked in Valgrind's log")
	fs.StringVar(&c.goTest.Bin, "gotest-bin", "", "run a user's Go benchmark: its test binary (go test -c; bench run --gotest)")
	fs.StringVar(&c.goTest.Dir, "gotest-dir", "", "with --gotest-bin: the package directory the test binary runs in")
	fs.StringVar(&c.goTest.Bench, "gotest-bench", "", "with --gotest-bin: the benchmark's full name (BenchmarkGet/size=1KiB)")
	fs.String("gotest-tags", "", "with --gotest-bin: the build tags it was built with (for the enclave modes' build; unused here)")
	fs.StringVar(&c.goTest.SimBin, "gotest-sim-bin", "", "with --gotest-bin: its sim flavour, the whole process on the software EPC (the sim mode's paging pass)")
	fs.StringArrayVar(&c.goTest.Launcher, "gotest-launcher", nil, "with --gotest-bin: start it with this command, one word per flag (ego run)")
	c.env.Size = protocol.Size{VCPUs: runtime.NumCPU()} // a process started by hand: this host's CPUs
	fs.Var(sizeFlag{&c.env.Size}, "size", "VM size of the cell: NAME,vcpus=N,epc_bytes=N,mem_bytes=N (default: no size, this host's CPUs)")
	fs.BoolVar(&c.epcPriced, "epc-priced", false, "a model prices the cell's EPC paging from what its processes count (the sim mode sets it): a user's Go benchmark whose paging pass did not run says so on its samples")
	fs.StringVar(&c.env.TempDir, "tmpdir", os.TempDir(), "scratch directory on the host file system")
	fs.StringVar(&c.env.MemfsDir, "memfs-dir", "", "scratch directory on EGo's in-enclave memfs")
	fs.StringVar(&c.env.Addr, "addr", "127.0.0.1:0", "loopback address for server workloads")
	if simHooks != nil {
		c.simBefore = simHooks(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		return nil, fmt.Errorf("want exactly one workload name, got %q (valid: %s)", fs.Args(), strings.Join(suite.Workloads.Names(), ", "))
	}
	c.name = fs.Arg(0)
	return c, nil
}

// prepareEnv completes the cell's environment (parameters, host, enclave),
// validates it against the workload and configures its enclave memory.
func (c *cellArgs) prepareEnv(spec *workload.Spec) error {
	env := &c.env
	env.Parameters = map[string]string{}
	for _, p := range c.params {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return fmt.Errorf("--param %q: want key=value", p)
		}
		env.Parameters[k] = v
	}
	env.HostMem = hostMem()
	env.InEnclave = inEnclave()
	if env.MemfsDir == "" {
		env.MemfsDir = enclave.Memfs() // where bench/ego's enclave.json mounts memfs; "" outside
	}
	if err := spec.Validate(env.Parameters, *env); err != nil {
		return err
	}
	return arena.Configure(arena.Config{CapBytes: c.swepcCap})
}

// errNotApplicable: the cell does not apply here, which its na line said.
var errNotApplicable = errors.New("not applicable")

// warmBytes parses WarmBytesEnv's value: a whole number of bytes, 0 or
// more ("" and 0: the warm repeats the setup's whole last pass).
func warmBytes(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a whole number of bytes, 0 or more (0: the counting pass's warm repeats the setup's whole last pass)", workload.WarmBytesEnv, v)
	}
	return n, nil
}

// argError is an error in the process's arguments found while measuring:
// the process exits with it and sends no error line.
type argError struct{ error }

// measureCell prepares the workload and measures it (or serves it, when
// the harness drives it). Its error is the cell's: run reports it.
func (c *cellArgs) measureCell(stdout io.Writer, spec *workload.Spec) error {
	// The provenance digest binds the emitted sample lines to the enclave's
	// remote report in the done message (bench verify checks it).
	c.provenanceHash = enclave.NewDigester()
	opts := measure.Options{Reps: c.reps, Warmup: c.warmup, MinTime: c.minTime, Events: arena.Events, OnLine: c.provenanceHash.Add,
		Ran: func(n int) { c.ops += int64(n) }, Iters: c.iters, Allocs: c.counted}
	if c.iters < 0 {
		return argError{fmt.Errorf("--iters %d: want a positive count of operations (0: calibrate)", c.iters)}
	}
	if c.simBefore != nil {
		if err := c.simBefore(c.args, c.env, spec.MemoryOf(c.env), &opts); err != nil {
			return err
		}
	}
	// Callgrind runs with --instr-atstart=no: the process's start-up runs
	// uninstrumented. The simulated caches must start the operations
	// holding what the setup left in them, as the timed process's caches
	// do (cold, they would count misses on a working set that fits the
	// LLC): a workload with Spec.CountWarm runs its setup uninstrumented
	// and then warms them with CountWarm; any other runs its setup
	// instrumented. Either's counts go into a dump that is not read.
	underCallgrind := c.counted && valgrind.Running()
	if c.counted && c.iters > 0 {
		// The counting pass runs exactly this many operations (Iters is
		// fixed): the setup may leave out what no operation needs.
		c.env.MaxOps = int64(c.warmup+c.reps) * int64(c.iters)
	}
	if underCallgrind {
		// How much of the setup's last pass the warm must repeat (its
		// end): the counting pass's bound, from its cache geometry.
		n, err := warmBytes(os.Getenv(workload.WarmBytesEnv))
		if err != nil {
			return argError{err}
		}
		c.env.WarmBytes = n
	}
	warm := spec.CountWarm
	if countSetup != nil {
		w, err := countSetup(warm)
		if err != nil {
			return argError{err}
		}
		warm = w
	}
	if underCallgrind && warm == nil {
		valgrind.StartInstrumentation()
	}
	b, err := spec.New(c.env)
	if underCallgrind && warm != nil && err == nil {
		touch := warm(b, c.env)
		valgrind.StartInstrumentation()
		touch()
	}
	if workload.IsNotApplicable(err) {
		if err := protocol.Encode(stdout, protocol.Message{Type: protocol.TypeNA, Error: err.Error()}); err != nil {
			return err
		}
		return errNotApplicable
	}
	if err != nil {
		return err
	}
	if c.counted {
		if c.iters <= 0 {
			return argError{fmt.Errorf("--count-pass needs --iters")}
		}
		countUnderValgrind(&opts)
	}
	var closeShadow func() error
	if _, ok := b.(workload.Driven); !ok && simPair != nil {
		timed, closeS, err := simPair(b, func() (workload.Bench, error) { return spec.New(c.env) }, &opts)
		if err != nil {
			b.Close()
			return err
		}
		b, closeShadow = timed, closeS
	}
	if d, ok := b.(workload.Driven); ok && simServe != nil {
		err = simServe(d, os.Stdin, stdout)
	} else if ok {
		err = serve(d, os.Stdin, stdout)
	} else {
		err = measureSlowed(spec.Name, b, opts, stdout)
	}
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if closeShadow != nil {
		if cerr := closeShadow(); err == nil {
			err = cerr
		}
	}
	return err
}

// doneExtra is what the done line adds about the process: the provenance
// of its samples (in an enclave), the operations it ran, what the Go
// runtime took, and what the sim build's passes add.
func (c *cellArgs) doneExtra() map[string]string {
	extra := enclave.Provenance(c.provenanceHash)
	if extra == nil {
		extra = map[string]string{}
	}
	if c.ops > 0 {
		extra[protocol.ExtraOpsTotal] = strconv.FormatInt(c.ops, 10)
	}
	// What the Go runtime took from the enclave heap (its own memory, not
	// the workload's arena): bench/ego sizes heapSize on top of it.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	extra[protocol.ExtraGoSysBytes] = strconv.FormatUint(ms.Sys, 10)
	if simExtra != nil {
		for k, v := range simExtra() {
			extra[k] = v
		}
	}
	return extra
}

// Marks in Valgrind's log around the counted repetition's operations.
const (
	countBeginMark = "enclavebench-count-begin"
	countEndMark   = "enclavebench-count-end"
	// countDump names Callgrind's dump of repetition i: countDump + i;
	// countSkip + i the dump that ends right before it (Callgrind's zeroing
	// request leaves its running total, the dumps' summary, as it is).
	countDump = "enclavebench-count-rep-"
	countSkip = "enclavebench-count-before-"
)

// countUnderValgrind, when the process runs under Valgrind, dumps
// Callgrind's counters right before and right after each measured
// repetition's operations (the second dump holds exactly theirs, every
// thread's), and marks them in Valgrind's log (its system call trace).
func countUnderValgrind(o *measure.Options) {
	if !valgrind.Running() {
		return // counting allocations only
	}
	rep := 0
	o.Bracket = func(begin bool) {
		if begin {
			valgrind.Mark(countBeginMark)
			valgrind.DumpStats(countSkip + strconv.Itoa(rep))
			return
		}
		valgrind.DumpStats(countDump + strconv.Itoa(rep))
		valgrind.Mark(countEndMark)
		rep++
	}
}

// CPUFeaturesArg makes the binary print the x86 features the Go runtime's
// CPU detection sees (golang.org/x/sys/cpu) and exit: the counting pass
// runs it natively and under Valgrind, whose CPU model may hide some
// (SHA, AVX-512), so that code paths chosen by feature may differ.
const CPUFeaturesArg = "--cpu-features"

// cpuFeatures lists the x86 features detected, as x/sys/cpu names them
// without "Has" (AES, AVX2, SHA...).
func cpuFeatures() []string {
	var out []string
	v := reflect.ValueOf(cpu.X86)
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if name, ok := strings.CutPrefix(f.Name, "Has"); ok && f.Type.Kind() == reflect.Bool && v.Field(i).Bool() {
			out = append(out, name)
		}
	}
	if valgrind.HasSHA() {
		out = append(out, "SHA")
	}
	return out
}

// sizeFlag is the --size flag: the cell's size in one value
// (protocol.ParseSize).
type sizeFlag struct{ p *protocol.Size }

func (f sizeFlag) String() string {
	if f.p == nil || f.p.Name == "" {
		return ""
	}
	return f.p.String()
}
func (sizeFlag) Type() string { return "size" }
func (f sizeFlag) Set(v string) error {
	s, err := protocol.ParseSize(v)
	if err != nil {
		return err
	}
	*f.p = s
	return nil
}

// serve runs a driven workload: it announces where it listens and serves
// until stdin closes.
func serve(d workload.Driven, stdin io.Reader, stdout io.Writer) error {
	if err := protocol.Encode(stdout, d.Ready()); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, stdin)
	return err
}

func hostMem() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func affinityCPUs() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return 0
	}
	return set.Count()
}

// SlowdownEnv names a test hook that only binaries built with -tags
// testhook obey: ENCLAVEBENCH_TEST_SLOWDOWN="syscall=1.2" makes every run of
// the workload syscall last 1.2 times as long, by busy-waiting after its
// operations. The regression gate's checks (scripts/check-compare.sh) use
// it to build "a 20% slower build". Other binaries refuse to run with it
// set rather than measure something the caller did not ask for.
const SlowdownEnv = "ENCLAVEBENCH_TEST_SLOWDOWN"

// WorkEnv names a second test hook of -tags testhook binaries:
// ENCLAVEBENCH_TEST_WORK="syscall=loops:400,syscall=calls:1" adds, per
// operation of the workload syscall, 400 iterations of an arithmetic loop
// (7 instructions each, as Go 1.26 compiles it) and one getppid system call, run after the
// workload's own operations. It makes "a build with 2% more instructions
// or one more system call per operation" for the detection measurements
// (scripts/detection.sh). Other binaries refuse to run with it set.
const WorkEnv = "ENCLAVEBENCH_TEST_WORK"

// CountSetupEnv names a third test hook of -tags testhook binaries: how
// the counting pass warms the simulated caches before the operations.
// "instrumented" runs the setup instrumented (as for a workload without
// Spec.CountWarm), "cold" runs it uninstrumented and warms nothing, ""
// keeps the workload's way (bench/counts TestCountWarm compares them).
// gokv, whose New leaves its fill's last keys to CountWarm's touch in the
// counting pass, adds them in its first Run when touch does not run: with
// "instrumented" that is the whole fill instrumented, in the same order,
// before the warmup's operations; with "cold" its tail is instrumented too.
const CountSetupEnv = "ENCLAVEBENCH_TEST_COUNT_SETUP"

// countSetup, set by the testhook build (testhook.go), replaces a
// workload's Spec.CountWarm in the counting pass (nil: its setup runs
// instrumented), so that tests can compare the ways of warming the
// simulated caches in one binary.
var countSetup func(warm func(workload.Bench, workload.Env) func()) (func(workload.Bench, workload.Env) func(), error)

// slowdown is set by the testhook build (testhook.go).
var slowdown func(name string, b workload.Bench) (workload.Bench, error)

// measureSlowed runs measure.Run on b, slowed when the test hook asks.
func measureSlowed(name string, b workload.Bench, o measure.Options, out io.Writer) error {
	if slowdown != nil {
		s, err := slowdown(name, b)
		if err != nil {
			return err
		}
		b = s
	} else {
		for _, env := range []string{SlowdownEnv, WorkEnv, CountSetupEnv} {
			if os.Getenv(env) != "" {
				return fmt.Errorf("%s is set but this workload binary was built without -tags testhook", env)
			}
		}
	}
	return measure.Run(b, o, out)
}

// simHooks is set by the sim build (sim_linux.go): it adds the sim flags
// to fs and returns what runs before the workload is prepared (the counting
// pass), which may change the measurement options.
var simHooks func(fs *pflag.FlagSet) simHook

// simHook runs the sim build's passes before a cell is measured; mem is the
// cell's memory as its workload declares it (how many passes fit in the
// host's memory at once).
type simHook func(args []string, env workload.Env, mem workload.Memory, o *measure.Options) error

// simPair is set by the sim build (sim_linux.go). Given the workload
// prepared with its enclave memory in the software EPC, and a way to
// prepare another instance, it returns the instance to time (on plain
// memory, when the first one holds a software-EPC arena) and sets
// o.Shadow to run each repetition's operations on the first one too;
// closeShadow releases it (nil when there is none).
var simPair func(b workload.Bench, again func() (workload.Bench, error), o *measure.Options) (timed workload.Bench, closeShadow func() error, err error)

// simExtra is set by the sim build: what its passes add to the done
// message's extra (cells.jsonl).
var simExtra func() map[string]string

// simServe, when set (the sim build's paging pass), serves a driven
// workload instead of serve, answering the driver's requests for counts.
var simServe func(d workload.Driven, stdin io.Reader, stdout io.Writer) error

// inEnclave tells whether the process runs in an EGo enclave (always false
// in a build without -tags ego).
var inEnclave = enclave.InEnclave
