//go:build testhook

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

// The test hook behind SlowdownEnv, compiled only into binaries built with
// -tags testhook (scripts/check-compare.sh builds one): never in a binary
// that takes real measurements.

func init() { slowdown = slowed }

// slowed wraps b so that each of its runs busy-waits until it has lasted
// factor times its real duration, when SlowdownEnv names workload name.
func slowed(name string, b workload.Bench) (workload.Bench, error) {
	spec := os.Getenv(SlowdownEnv)
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
