package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/enclavebench/enclavebench/workloads/gotest"
	"github.com/enclavebench/enclavebench/workloads/measure"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// ExtraGoHeapPeak is the done message's peak Go heap of a user's benchmark,
// bytes, from the Go runtime's gctrace in its timed run (absent when it
// never collected: then it held less than the runtime's first goal, 4 MiB).
const ExtraGoHeapPeak = "go_heap_peak_bytes"

// ExtraCountDifference on the counted process's sample says that the
// counting pass is the difference of two runs (gotest.Options.CountPass):
// the supervisor subtracts the first bracket's counts from the second's.
const ExtraCountDifference = "count_difference"

// UncountedPaging is what a user's Go benchmark's cells leave out when a
// model prices their EPC paging (--epc-priced) and no paging pass ran for
// them: a run without the sim flavour of the test binary (bench/gotest
// builds it for runs with a mode that pages in software), or a host that
// cannot count.
const UncountedPaging = "EPC paging (the benchmark's Go heap is not held in the software EPC)"

// goTestPaged is set by the sim build when the paging pass counted the
// user's benchmark with the whole process on the software EPC.
var goTestPaged bool

// countedChild is set by the sim build when this process is the counted
// child of a counting pass.
var countedChild bool

// runGoTest runs a user's Go benchmark as the cell's workload: the test
// binary is a child of this process (see workloads/gotest). epcPriced says
// a model prices the cell's EPC paging (--epc-priced): without a paging
// pass, the samples say the benchmark's paging was not counted.
func runGoTest(stdout io.Writer, args []string, name string, env workload.Env, o gotest.Options, epcPriced bool,
	simBefore simHook) error {
	o.Stderr, o.Echo, o.TempDir = os.Stderr, stdout, env.TempDir
	// The cell's timeout is a SIGQUIT to its process group: the test
	// binary prints its goroutines' stacks and exits, and this process
	// says which benchmark hung instead of printing its own.
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT)
	defer signal.Stop(quit)
	o.Quit = quit
	hello := protocol.Message{Type: protocol.TypeHello, Workload: name, PID: os.Getpid(),
		GOMAXPROCS: o.VCPUs, CPUs: affinityCPUs(), GoVersion: runtime.Version(), InEnclave: env.InEnclave}
	if err := protocol.Encode(stdout, hello); err != nil {
		return err
	}
	fail := func(err error) error {
		var skip *gotest.SkipError
		if errors.As(err, &skip) {
			return protocol.Encode(stdout, protocol.Message{Type: protocol.TypeNA, Error: skip.Reason})
		}
		protocol.Encode(stdout, protocol.Message{Type: protocol.TypeError, Error: err.Error()})
		return err
	}
	opts := measure.Options{Reps: o.Reps, Warmup: o.Warmup, MinTime: o.MinTime}
	if simBefore != nil {
		// The sim mode's passes; its paging pass counts the sim flavour of
		// the test binary (goTestPaged).
		// (No memory given: a user's benchmark's paging pass runs on
		// its own, before the counting pass.)
		if err := simBefore(args, env, workload.Memory{}, &opts); err != nil {
			return fail(err)
		}
	}
	if epcPriced && !goTestPaged {
		o.SampleExtra = map[string]string{protocol.ExtraUncounted: UncountedPaging}
	}
	ctx := context.Background()
	extra := map[string]string{}
	if countedChild {
		mark := func() {
			if opts.Events != nil {
				opts.Events()
			}
		}
		n, d, err := o.CountPass(ctx, mark)
		if err != nil {
			return fail(err)
		}
		s := &protocol.Sample{Iters: n, ElapsedNS: d, Values: []protocol.Value{{Value: float64(d) / float64(n), Unit: "ns/op", Better: protocol.Lower}}}
		if err := protocol.Encode(stdout, protocol.Message{Type: protocol.TypeSample, Sample: s, Extra: map[string]string{ExtraCountDifference: "1"}}); err != nil {
			return err
		}
	} else {
		peak, err := o.Measure(ctx, stdout)
		if err != nil {
			return fail(err)
		}
		if peak > 0 {
			extra[ExtraGoHeapPeak] = strconv.FormatInt(peak, 10)
		}
	}
	if simExtra != nil && !countedChild {
		for k, v := range simExtra() {
			extra[k] = v
		}
	}
	return protocol.Encode(stdout, protocol.Message{Type: protocol.TypeDone, ElapsedNS: time.Since(start).Nanoseconds(), Extra: extra})
}
