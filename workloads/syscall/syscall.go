// Package syscall measures the round trip of system calls that EGo forwards
// from the enclave to the host as OCALLs. Natively a small pread costs a few
// hundred nanoseconds; inside an SGX enclave every such call pays an enclave
// exit and re-entry (published: 8,200-17,000 cycles per OCALL round trip,
// Weisse et al., HotCalls, ISCA 2017), which is the transition cost users
// most often underestimate.
package syscall

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "syscall",
	Doc:  "round trip of a syscall EGo forwards to the host as an OCALL (small pread/pwrite on a host file)",
	Params: []workload.Param{
		{Name: "call", Doc: "which call: read = pread of 64 B, write = pwrite of 64 B, on a host file",
			Range: "read, write", Quick: []string{"read"}, Full: []string{"read", "write"},
			Check: workload.OneOf("read", "write")},
	},
	Metrics: []workload.Metric{
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per call"},
	},
	New: newBench,
}

type bench struct {
	f    *os.File
	fd   int
	buf  []byte
	call string
}

func newBench(env workload.Env) (workload.Bench, error) {
	dir := env.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "syscall-*.dat")
	if err != nil {
		return nil, fmt.Errorf("syscall: host file: %w", err)
	}
	os.Remove(f.Name()) // the fd stays usable; nothing is left behind
	buf := make([]byte, 64)
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		f.Close()
		return nil, fmt.Errorf("syscall: host file: %w", err)
	}
	return &bench{f: f, fd: int(f.Fd()), buf: buf, call: env.Parameters["call"]}, nil
}

// Op performs one call; exported for the peer benchmark that checks the
// harness against `go test -bench` on the same loop.
func Op(fd int, buf []byte, write bool) error {
	var err error
	if write {
		_, err = unix.Pwrite(fd, buf, 0)
	} else {
		_, err = unix.Pread(fd, buf, 0)
	}
	return err
}

func (b *bench) Run(n int, r *workload.Report) error {
	write := b.call == "write"
	for i := 0; i < n; i++ {
		if err := Op(b.fd, b.buf, write); err != nil {
			return fmt.Errorf("syscall %s: %w", b.call, err)
		}
	}
	r.Event(protocol.EventSyscalls, int64(n))
	return nil
}

func (b *bench) Close() error { return b.f.Close() }
