// Package syscall measures the round trip of system calls that EGo forwards
// from the enclave to the host as OCALLs. Natively a small pread costs a few
// hundred nanoseconds; inside an SGX enclave every such call pays an enclave
// exit and re-entry (published: 8,200-17,000 cycles per OCALL round trip,
// Weisse et al., HotCalls, ISCA 2017), which is the transition cost users
// most often underestimate.
package syscall

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "syscall",
	Doc:  "round trip of a syscall EGo forwards to the host as an OCALL (file read/write, loopback socket send+recv, raw clock_gettime)",
	Params: []workload.Param{
		{Name: "call", Doc: "which call: read/write = pread/pwrite of 64 B on a host file; sendrecv = send+recv of 64 B on a loopback TCP pair; clock = raw clock_gettime syscall",
			Range: "read, write, sendrecv, clock", Quick: []string{"read", "sendrecv", "clock"},
			Full:  []string{"read", "write", "sendrecv", "clock"},
			Check: workload.OneOf("read", "write", "sendrecv", "clock")},
	},
	Metrics: []workload.Metric{
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per call"},
	},
	Figures:     []workload.Figure{{Role: workload.FigureTransitions, Param: "call"}},
	New:         newBench,
	Parallelism: workload.Serial,
}

type bench struct {
	f    *os.File
	fd   int
	buf  []byte
	call string
	pair *tcpPair
}

// vdsoClockEnv makes EGo's clock_gettime an OCALL (edgelessrt).
const vdsoClockEnv = "ERT_DISABLE_VDSO_CLOCK"

// clockNow is the clock clockSteps probes (tests: a stepping one).
var clockNow = time.Now

// clockSteps reports whether the monotonic clock stays put for several
// reads at a time (three steps in a row). Inside EGo the vDSO clock steps
// once per kernel tick (no TSC on SGX1); a clock that moves at nearly every
// read means every read is an OCALL: with ERT_DISABLE_VDSO_CLOCK=1, or on
// a kernel that gives Edgeless RT no vDSO clock (EGo v1.6.0 on Linux 6.18
// says "kernel doesn't provide vDSO clock"). A clock that does not move
// within 1e8 reads counts as stepping.
func clockSteps(now func() time.Time) bool {
	v := now()
	for i := 0; i < 3; i++ {
		next, n := v, 0
		for ; n < 1e8 && next.Equal(v); n++ {
			next = now()
		}
		if n < 4 {
			return false
		}
		v = next
	}
	return true
}

func newBench(env workload.Env) (workload.Bench, error) {
	switch env.Parameters["call"] {
	case "clock":
		if env.InEnclave && os.Getenv(vdsoClockEnv) != "1" && clockSteps(clockNow) {
			return nil, workload.NotApplicablef("syscall call=clock: inside EGo clock_gettime is read from the vDSO in the enclave, not an OCALL, unless %s=1 is set in the enclave's environment", vdsoClockEnv)
		}
		return &bench{call: "clock"}, nil
	case "sendrecv":
		p, err := newTCPPair()
		if err != nil {
			return nil, fmt.Errorf("syscall sendrecv: %w", err)
		}
		return &bench{call: "sendrecv", pair: p, buf: make([]byte, 64)}, nil
	}
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

// Clock reads CLOCK_MONOTONIC with the raw syscall, bypassing the vDSO.
func Clock(ts *unix.Timespec) error {
	_, _, e := unix.Syscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, uintptr(unsafe.Pointer(ts)), 0)
	if e != 0 {
		return e
	}
	return nil
}

func (b *bench) Run(n int, r *workload.Report) error {
	switch b.call {
	case "clock":
		var ts unix.Timespec
		for i := 0; i < n; i++ {
			if err := Clock(&ts); err != nil {
				return fmt.Errorf("syscall clock: %w", err)
			}
		}
	case "sendrecv":
		for i := 0; i < n; i++ {
			if err := b.pair.sendRecv(b.buf); err != nil {
				return fmt.Errorf("syscall sendrecv: %w", err)
			}
		}
		n *= 2
	default:
		write := b.call == "write"
		for i := 0; i < n; i++ {
			if err := Op(b.fd, b.buf, write); err != nil {
				return fmt.Errorf("syscall %s: %w", b.call, err)
			}
		}
	}
	r.Event(protocol.EventSyscalls, int64(n))
	return nil
}

func (b *bench) Close() error {
	if b.pair != nil {
		return b.pair.close()
	}
	if b.f != nil {
		return b.f.Close()
	}
	return nil
}

// tcpPair is a connected loopback TCP pair of blocking sockets, made with
// raw syscalls so that each send and recv is exactly one syscall (Go's net
// package would add its poller).
type tcpPair struct{ a, b int }

func newTCPPair() (p *tcpPair, err error) {
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(ln)
	loop := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}} // port 0: any free port
	if err := unix.Bind(ln, loop); err != nil {
		return nil, fmt.Errorf("bind 127.0.0.1:0: %w", err)
	}
	if err := unix.Listen(ln, 1); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	a, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Connect(a, sa); err != nil {
		unix.Close(a)
		return nil, fmt.Errorf("connect %v: %w", sa, err)
	}
	b, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
	if err != nil {
		unix.Close(a)
		return nil, fmt.Errorf("accept: %w", err)
	}
	for _, fd := range []int{a, b} {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
			unix.Close(a)
			unix.Close(b)
			return nil, fmt.Errorf("TCP_NODELAY: %w", err)
		}
	}
	return &tcpPair{a: a, b: b}, nil
}

// sendRecv sends buf on a and receives it on b.
func (p *tcpPair) sendRecv(buf []byte) error {
	if _, err := unix.Write(p.a, buf); err != nil {
		return err
	}
	for got := 0; got < len(buf); {
		k, err := unix.Read(p.b, buf[got:])
		if err != nil {
			return err
		}
		if k == 0 {
			return errors.New("connection closed")
		}
		got += k
	}
	return nil
}

func (p *tcpPair) close() error {
	return errors.Join(unix.Close(p.a), unix.Close(p.b))
}
