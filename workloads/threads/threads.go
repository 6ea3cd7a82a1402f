// Package threads measures parallel scaling from one worker to the size's
// vCPUs and beyond, uncontended (per-worker state) and contended (a shared
// atomic counter, a shared mutex). Inside an SGX enclave a thread is bound
// to a TCS (EGo signs 32; EGOMAXTHREADS defaults to 30), and every futex
// wait and wake of a contended mutex, of the Go scheduler parking idle
// threads, is an OCALL: contended and oversubscribed cells expose the
// transition cost of synchronisation, uncontended cells show the scaling
// the enclave leaves intact.
//
// Workers are goroutines; the runner sets GOMAXPROCS to the size's vCPUs,
// so threads=2xvcpus runs twice as many workers as OS threads can run at
// once. n operations are split evenly over the workers; one operation is a
// short piece of arithmetic (8 xorshift rounds, ~10 ns) on the worker's own
// cache line (none), followed by an atomic add to one shared counter
// (atomic), or done on shared state under one sync.Mutex (mutex).
package threads

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// MaxThreads bounds the workers of a cell.
const MaxThreads = 1024

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "threads",
	Doc:  "parallel scaling from 1 worker to the vCPUs and beyond, uncontended vs a shared atomic or mutex (futex OCALLs)",
	Params: []workload.Param{
		{Name: "threads", Doc: "workers: N, vcpus, or a multiple of the vCPUs (2xvcpus)",
			Range: "1 .. 1024, vcpus, Nxvcpus", Quick: []string{"1", "vcpus"},
			Full: []string{"1", "vcpus", "2xvcpus", "4xvcpus"}, Check: checkThreads},
		{Name: "sharing", Doc: "none: per-worker state; atomic: shared atomic counter; mutex: shared state under a mutex",
			Range: "none, atomic, mutex", Quick: []string{"none", "mutex"}, Full: []string{"none", "atomic", "mutex"},
			Check: workload.OneOf("none", "atomic", "mutex")},
	},
	Metrics: []workload.Metric{
		{Unit: "ops/s", Better: protocol.Higher, Doc: "operations per second over all workers"},
		{Unit: "ns/op", Better: protocol.Lower, Doc: "wall time per operation (1/throughput)"},
	},
	Figures: []workload.Figure{{Role: workload.FigureScaling, Param: "threads",
		Count: func(v string, env workload.Env) (int, error) { return ParseThreads(v, env.VCPUs) }}},
	New:         newBench,
	Parallelism: parallelism,
}

// parallelism is the worker count while every worker has a vCPU; with more
// workers than vCPUs their sharing of the CPUs depends on the size: not
// declared (0).
func parallelism(env workload.Env) int {
	n, err := ParseThreads(env.Parameters["threads"], env.VCPUs)
	if err != nil || n > env.VCPUs {
		return 0
	}
	return n
}

// ParseThreads reads a worker count: "8", "vcpus", or "2xvcpus".
func ParseThreads(v string, vcpus int) (int, error) {
	return workload.ParseCount(v, vcpus, MaxThreads, "worker")
}

func checkThreads(v string, env workload.Env) error {
	_, err := ParseThreads(v, env.VCPUs)
	return err
}

// padded keeps a worker's state on its own cache line.
type padded struct {
	x uint64
	_ [56]byte
}

type bench struct {
	threads int
	sharing string
	own     []padded
	mu      sync.Mutex
	shared  uint64 // under mu
	counter atomic.Uint64
}

func newBench(env workload.Env) (workload.Bench, error) {
	n, err := ParseThreads(env.Parameters["threads"], env.VCPUs)
	if err != nil {
		return nil, err
	}
	return New(n, env.Parameters["sharing"])
}

// New prepares threads workers with the given sharing.
func New(threads int, sharing string) (workload.Bench, error) {
	switch sharing {
	case "none", "atomic", "mutex":
	default:
		return nil, fmt.Errorf("threads: unknown sharing %q", sharing)
	}
	b := &bench{threads: threads, sharing: sharing, own: make([]padded, threads)}
	for i := range b.own {
		b.own[i].x = uint64(i)*0x9e3779b97f4a7c15 | 1
	}
	return b, nil
}

func work(x uint64) uint64 {
	for i := 0; i < 8; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func (b *bench) worker(w, n int) {
	p := &b.own[w]
	switch b.sharing {
	case "none":
		x := p.x
		for i := 0; i < n; i++ {
			x = work(x)
		}
		p.x = x
	case "atomic":
		x := p.x
		for i := 0; i < n; i++ {
			x = work(x)
			b.counter.Add(1)
		}
		p.x = x
	case "mutex":
		for i := 0; i < n; i++ {
			b.mu.Lock()
			b.shared = work(b.shared | 1)
			b.mu.Unlock()
		}
	}
}

func (b *bench) Run(n int, r *workload.Report) error {
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < b.threads; w++ {
		share := n / b.threads
		if w < n%b.threads {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.worker(w, share)
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 0 {
		r.Metric(float64(n)/d.Seconds(), "ops/s", protocol.Higher)
	}
	return nil
}

func (b *bench) Close() error { return nil }
