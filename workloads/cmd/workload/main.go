// Command workload runs one workload of the enclavebench suite and reports
// its samples on stdout in the line protocol (workloads/protocol). The
// harness starts one workload process per cell; the same binary runs
// natively, inside EGo (built with ego-go) and in the sim mode (built with
// -tags sim).
//
//	workload NAME --param key=value ... --size DC2s_v2 --vcpus 2 --epc-bytes 58720256 \
//	    --reps 5 --warmup 1 --min-time 100ms
package main

import (
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
	fs := pflag.NewFlagSet("workload", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		params   = fs.StringArray("param", nil, "workload parameter key=value (repeatable)")
		env      workload.Env
		reps     = fs.Int("reps", 5, "measured repetitions")
		warmup   = fs.Int("warmup", 1, "warmup repetitions after calibration")
		minTime  = fs.Duration("min-time", 100*time.Millisecond, "minimum duration of one repetition")
		swepcCap = fs.Int64("swepc-cap", 0, "sim mode: cap the software EPC's resident bytes (needs -tags sim)")
		iters    = fs.Int("iters", 0, "counting pass: run exactly this many operations per repetition (no calibration)")
		counted  = fs.Bool("count-pass", false, "counting pass (bench run --counts): fixed --iters, allocations counted, each repetition's operations marked in Valgrind's log")
		goTest   gotest.Options
	)
	fs.StringVar(&goTest.Bin, "gotest-bin", "", "run a user's Go benchmark: its test binary (go test -c; bench run --gotest)")
	fs.StringVar(&goTest.Dir, "gotest-dir", "", "with --gotest-bin: the package directory the test binary runs in")
	fs.StringVar(&goTest.Bench, "gotest-bench", "", "with --gotest-bin: the benchmark's full name (BenchmarkGet/size=1KiB)")
	fs.String("gotest-tags", "", "with --gotest-bin: the build tags it was built with (for the enclave modes' build; unused here)")
	fs.StringVar(&goTest.SimBin, "gotest-sim-bin", "", "with --gotest-bin: its sim flavour, the whole process on the software EPC (the sim mode's paging pass)")
	fs.StringArrayVar(&goTest.Launcher, "gotest-launcher", nil, "with --gotest-bin: start it with this command, one word per flag (ego run)")
	goTimeout := fs.Duration("gotest-timeout", 0, "with --gotest-bin: the cell's timeout (the test binary's -test.timeout stays below it)")
	fs.StringVar(&env.Size, "size", "", "VM size of the cell")
	fs.StringVar(&env.Mode, "mode", "native", "mode of the cell")
	fs.IntVar(&env.VCPUs, "vcpus", runtime.NumCPU(), "the size's vCPUs")
	fs.Int64Var(&env.EPCBytes, "epc-bytes", 0, "the size's EPC in bytes")
	fs.Int64Var(&env.MemBytes, "mem-bytes", 0, "the size's memory in bytes")
	fs.StringVar(&env.TempDir, "tmpdir", os.TempDir(), "scratch directory on the host file system")
	fs.StringVar(&env.MemfsDir, "memfs-dir", "", "scratch directory on EGo's in-enclave memfs")
	fs.StringVar(&env.Addr, "addr", "127.0.0.1:0", "loopback address for server workloads")
	var simBefore func([]string, workload.Env, *measure.Options) error
	if simHooks != nil {
		simBefore = simHooks(fs)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want exactly one workload name, got %q (valid: %s)", fs.Args(), strings.Join(suite.Workloads.Names(), ", "))
	}
	if goTest.Bin != "" {
		if *counted || *iters != 0 {
			// Valgrind would count this process, not the test binary it runs.
			return fmt.Errorf("--count-pass and --iters do not apply to a user's Go benchmark (--gotest-bin): its test binary is a child process, which the counting pass does not follow")
		}
		goTest.VCPUs, goTest.Reps, goTest.Warmup, goTest.MinTime = env.VCPUs, *reps, *warmup, *minTime
		if *goTimeout > 0 {
			goTest.Deadline = start.Add(*goTimeout)
		}
		return runGoTest(stdout, args, fs.Arg(0), env, goTest, simBefore)
	}
	spec, err := suite.Workloads.Lookup(fs.Arg(0))
	if err != nil {
		return err
	}
	env.Parameters = map[string]string{}
	for _, p := range *params {
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
	if err := spec.Validate(env.Parameters, env); err != nil {
		return err
	}
	if err := arena.Configure(arena.Config{CapBytes: *swepcCap}); err != nil {
		return err
	}
	hello := protocol.Message{
		Type: protocol.TypeHello, Workload: spec.Name, PID: os.Getpid(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: affinityCPUs(),
		GoVersion: runtime.Version(), InEnclave: env.InEnclave, Arena: arena.Describe(),
	}
	if err := protocol.Encode(stdout, hello); err != nil {
		return err
	}
	if spec.EnclaveOnly && !env.InEnclave {
		return protocol.Encode(stdout, protocol.Message{Type: protocol.TypeNA,
			Error: spec.Name + " measures an enclave primitive and means nothing outside an enclave"})
	}
	// The provenance digest binds the emitted sample lines to the enclave's
	// remote report in the done message (bench verify checks it).
	digest := enclave.NewDigester()
	var ops int64 // every operation the process ran: EGo's OCALL table covers them all
	opts := measure.Options{Reps: *reps, Warmup: *warmup, MinTime: *minTime, Events: arena.Events, OnLine: digest.Add,
		Ran: func(n int) { ops += int64(n) }, Iters: *iters, Allocs: *counted}
	if *iters < 0 {
		return fmt.Errorf("--iters %d: want a positive count of operations (0: calibrate)", *iters)
	}
	if simBefore != nil {
		if err := simBefore(args, env, &opts); err != nil {
			protocol.Encode(stdout, protocol.Message{Type: protocol.TypeError, Error: err.Error()})
			return err
		}
	}
	b, err := spec.New(env)
	if workload.IsNotApplicable(err) {
		return protocol.Encode(stdout, protocol.Message{Type: protocol.TypeNA, Error: err.Error()})
	}
	if err != nil {
		protocol.Encode(stdout, protocol.Message{Type: protocol.TypeError, Error: err.Error()})
		return err
	}
	if *counted {
		if *iters <= 0 {
			return fmt.Errorf("--count-pass needs --iters")
		}
		countUnderValgrind(&opts)
	}
	var closeShadow func() error
	if _, ok := b.(workload.Driven); !ok && simPair != nil {
		timed, closeS, err := simPair(b, func() (workload.Bench, error) { return spec.New(env) }, &opts)
		if err != nil {
			b.Close()
			protocol.Encode(stdout, protocol.Message{Type: protocol.TypeError, Error: err.Error()})
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
	if err != nil {
		protocol.Encode(stdout, protocol.Message{Type: protocol.TypeError, Error: err.Error()})
		return err
	}
	extra := enclave.Provenance(digest)
	if extra == nil {
		extra = map[string]string{}
	}
	if ops > 0 {
		extra[protocol.ExtraOpsTotal] = strconv.FormatInt(ops, 10)
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
	return protocol.Encode(stdout, protocol.Message{Type: protocol.TypeDone, ElapsedNS: time.Since(start).Nanoseconds(),
		Extra: extra})
}

// Marks in Valgrind's log around the counted repetition's operations.
const (
	countBeginMark = "enclavebench-count-begin"
	countEndMark   = "enclavebench-count-end"
)

// countUnderValgrind marks each measured repetition's operations in
// Valgrind's log (its system call trace), when the process runs under it.
func countUnderValgrind(o *measure.Options) {
	if !valgrind.Running() {
		return // counting allocations only
	}
	o.Bracket = func(begin bool) {
		if begin {
			valgrind.Mark(countBeginMark)
		} else {
			valgrind.Mark(countEndMark)
		}
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
		for _, env := range []string{SlowdownEnv, WorkEnv} {
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
var simHooks func(fs *pflag.FlagSet) func(args []string, env workload.Env, o *measure.Options) error

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
