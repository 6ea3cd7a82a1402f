package runner

// Driven workloads (protocol.TypeReady): a workload that serves (httpserver)
// announces its loopback address and the load it wants; the runner applies
// that load from the harness process, outside any enclave, with
// workloads/loadgen: Warmup uncounted repetitions, then Reps repetitions of at
// least MinTime each. Each repetition becomes a sample with the same labels
// and the same path to the store (mode.Finish, streaming, attempt numbers)
// as a sample the workload measures itself. When the load is done the
// runner closes the workload's stdin; the workload closes its server and
// says done. Timeouts and kills are the cell's: the load runs under the
// cell's context and stops when it ends. The load generator's threads are
// pinned to the CPUs the workload was not given, when there are any (a
// DC1s_v2 cell on a 2-CPU host: server on one, load on the other), so that
// it measures the server rather than the contention for its CPU; otherwise
// they share the CPUs, as wrk would.

import (
	"context"
	"fmt"
	"io"
	"os/exec"

	"github.com/enclavebench/enclavebench/workloads/loadgen"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// stdinPipe gives a workload a stdin the runner can close (the stop signal
// of a driven workload). A mode that set its own stdin keeps it; a driven
// workload then fails with a clear error instead of hanging.
func stdinPipe(cmd *exec.Cmd) (io.WriteCloser, error) {
	if cmd.Stdin != nil {
		return nil, nil
	}
	return cmd.StdinPipe()
}

// drive applies the load of a ready message and passes each measured
// repetition to emit, then closes stdin to stop the workload.
func (c *Config) drive(ctx context.Context, ready protocol.Message, stdin io.Closer, reps int, emit func(*protocol.Sample), cpus []int) error {
	if stdin == nil {
		return fmt.Errorf("the workload is driven (it sent ready) but its mode set the process's stdin, so the runner cannot stop it")
	}
	defer stdin.Close()
	if ready.Load.Kind != protocol.LoadHTTP {
		return fmt.Errorf("driven workload asked for load %q; this harness applies %q", ready.Load.Kind, protocol.LoadHTTP)
	}
	g, err := loadgen.Dial(ctx, loadgen.Options{Addr: ready.Addr, Path: ready.Load.Path, Conns: ready.Load.Conns, CPUs: cpus})
	if err != nil {
		return err
	}
	defer g.Close()
	for i := 0; i < c.warmup(); i++ {
		if _, err := g.Run(ctx, c.Spec.MinTime()); err != nil {
			return fmt.Errorf("warmup: %w", err)
		}
	}
	for rep := 0; rep < reps; rep++ {
		res, err := g.Run(ctx, c.Spec.MinTime())
		if err != nil {
			return fmt.Errorf("repetition %d: %w", rep, err)
		}
		s := httpSample(rep, res)
		if err := s.Validate(); err != nil {
			return fmt.Errorf("repetition %d: %w", rep, err)
		}
		emit(s)
	}
	return nil
}

// httpSample turns a load run into the sample of one repetition.
func httpSample(rep int, r *loadgen.Result) *protocol.Sample {
	s := &protocol.Sample{Rep: rep, Iters: int(r.Requests), ElapsedNS: r.Elapsed.Nanoseconds()}
	if r.Requests == 0 || r.Elapsed <= 0 {
		return s // Validate refuses it: no request finished
	}
	secs := r.Elapsed.Seconds()
	s.Values = []protocol.Value{
		{Value: float64(r.Elapsed.Nanoseconds()) / float64(r.Requests), Unit: "ns/op", Better: protocol.Lower},
		{Value: r.RequestsPerSec(), Unit: "req/s", Better: protocol.Higher},
		{Value: float64(r.Bytes) / 1e6 / secs, Unit: "MB/s", Better: protocol.Higher},
		{Value: r.Latency.Quantile(0.50), Unit: "p50-ns", Better: protocol.Lower},
		{Value: r.Latency.Quantile(0.99), Unit: "p99-ns", Better: protocol.Lower},
	}
	return s
}
