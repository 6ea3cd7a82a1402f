//go:build testhook

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

// The test hook behind SlowdownEnv, compiled only into binaries built with
// -tags testhook (scripts/check-compare.sh builds one): never in a binary
// that takes real measurements.

func init() { slowdown, countSetup = slowed, countSetupHook }

// countSetupHook is countSetup: CountSetupEnv's way of warming the
// simulated caches in place of the workload's.
func countSetupHook(warm func(workload.Bench, workload.Env) func()) (func(workload.Bench, workload.Env) func(), error) {
	switch v := os.Getenv(CountSetupEnv); v {
	case "":
		return warm, nil
	case "instrumented":
		return nil, nil
	case "cold":
		return func(workload.Bench, workload.Env) func() { return func() {} }, nil
	default:
		return nil, fmt.Errorf("%s=%q: want instrumented or cold", CountSetupEnv, v)
	}
}

// Built-in defaults of the test hooks, set at link time, so that a
// candidate build can carry its regression in the binary itself, as a
// real change would, instead of in a wrapper script (which the counting
// pass would count as /bin/sh): go build -tags testhook -ldflags
// "-X main.builtinWork=compute=loops:728". The environment variables win
// when set. builtinOnly limits the built-in hooks to the processes whose
// arguments contain it ("--param ws=0.7xEPC --param access=random"), so
// one cell of a workload can be changed.
var builtinSlowdown, builtinOnly, builtinWork string

// hookSpec is the test hook's setting: the environment's, else the
// built-in one where builtinOnly allows it.
func hookSpec(env, builtin string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	if builtinOnly != "" && !strings.Contains(strings.Join(os.Args[1:], " "), builtinOnly) {
		return ""
	}
	return builtin
}

// slowed wraps b so that each of its runs busy-waits until it has lasted
// factor times its real duration, when SlowdownEnv names workload name,
// and adds the work per operation WorkEnv asks for.
func slowed(name string, b workload.Bench) (workload.Bench, error) {
	b, err := worked(name, b)
	if err != nil {
		return nil, err
	}
	spec := hookSpec(SlowdownEnv, builtinSlowdown)
	if spec == "" {
		return b, nil
	}
	for _, kv := range strings.Split(spec, ",") {
		w, f, ok := strings.Cut(kv, "=")
		factor, err := strconv.ParseFloat(f, 64)
		if !ok || err != nil || !(factor >= 1 && factor <= 100) {
			return nil, fmt.Errorf("%s=%q: want workload=factor (factor in [1,100]), comma-separated", SlowdownEnv, spec)
		}
		if w == name {
			return slowBench{Bench: b, factor: factor}, nil
		}
	}
	return b, nil
}

type slowBench struct {
	workload.Bench
	factor float64
}

func (s slowBench) Run(n int, r *workload.Report) error {
	start := time.Now()
	err := s.Bench.Run(n, r)
	until := time.Duration(s.factor * float64(time.Since(start)))
	for time.Since(start) < until {
		// Busy-wait: the slowdown is real time on the benchmark's CPU.
	}
	return err
}

// worked wraps b with the extra work per operation WorkEnv asks of
// workload name: entries name=loops:K and name=calls:N, comma-separated,
// adding up.
func worked(name string, b workload.Bench) (workload.Bench, error) {
	spec := hookSpec(WorkEnv, builtinWork)
	if spec == "" {
		return b, nil
	}
	w := workBench{Bench: b}
	for _, kv := range strings.Split(spec, ",") {
		wl, what, ok := strings.Cut(kv, "=")
		kind, count, ok2 := strings.Cut(what, ":")
		n, err := strconv.Atoi(count)
		if !ok || !ok2 || err != nil || n < 0 || n > 1e6 || (kind != "loops" && kind != "calls") {
			return nil, fmt.Errorf("%s=%q: want workload=loops:K or workload=calls:N (0..1000000), comma-separated", WorkEnv, spec)
		}
		if wl != name {
			continue
		}
		if kind == "loops" {
			w.loops += n
		} else {
			w.calls += n
		}
	}
	if w.loops == 0 && w.calls == 0 {
		return b, nil
	}
	return w, nil
}

type workBench struct {
	workload.Bench
	loops, calls int
}

// workSink keeps the loop's result alive.
var workSink uint64

func (w workBench) Run(n int, r *workload.Report) error {
	err := w.Bench.Run(n, r)
	workSink += spin(n * w.loops)
	for i := 0; i < n*w.calls; i++ {
		unix.Getppid()
	}
	return err
}

// spin runs k iterations of a dependent multiply-add (a few instructions
// each, the same every time).
//
//go:noinline
func spin(k int) uint64 {
	x := uint64(1)
	for i := 0; i < k; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}
