// Package loadgen is the harness's HTTP/1.1 load generator for driven
// workloads (a server inside the workload process, possibly inside an
// enclave): it stays outside the enclave, keeps a fixed number of keep-alive
// connections busy with one request in flight each (closed loop, like wrk
// without pipelining), and measures throughput and per-request latency.
//
// It is lean on purpose, because on a small VM it shares the CPUs with the
// server it measures. Its engine is wrk's: one OS thread per worker (one per
// CPU it may use, optionally pinned), each with its own epoll set over its
// share of the non-blocking connections: write the prebuilt request, wait
// for readiness, read and parse the response in place from a reusable
// buffer (status line, Content-Length, body skipped). Per request that is a
// write, a read and a share of an epoll_wait; the goroutine-per-connection
// engine it replaces paid an extra read (EAGAIN) and a park and wake in Go's
// scheduler per request, and reached 0.76x (128 B) and 0.83x (64 KiB) of
// wrk's req/s with client and server sharing a 2-CPU host
// (scripts/peers-workloads.sh, before this engine). No allocation per
// request.
//
// It lives under workloads/ because the sim build of the workload binary
// drives its own server with it in the counting pass; the workload binary
// imports nothing under bench/.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/latency"
)

// Options configure a Generator.
type Options struct {
	Addr  string // host:port of the server; must be a loopback address
	Path  string // request target, e.g. /payload (default /)
	Conns int    // keep-alive connections, one request in flight on each
	// CPUs, when set, pins one worker thread to each of these CPUs;
	// otherwise there are min(GOMAXPROCS, Conns) unpinned workers.
	CPUs []int
}

// Result is one timed run of load.
type Result struct {
	Requests int64         // completed requests
	Bytes    int64         // response body bytes received
	Elapsed  time.Duration // from the start to the last completed request
	Latency  latency.Histogram
}

// RequestsPerSec is the throughput of r.
func (r *Result) RequestsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Generator holds the connections of a load generator.
type Generator struct {
	opts  Options
	req   []byte
	conns []*conn
}

type conn struct {
	fd   int // non-blocking socket, owned
	p    respParser
	t0   time.Time // when the request in flight was sent
	hist latency.Histogram
	n    int64
	body int64
	last time.Time
	done bool
	err  error
}

// Dial checks o and opens its connections.
func Dial(ctx context.Context, o Options) (*Generator, error) {
	if o.Conns <= 0 {
		return nil, fmt.Errorf("loadgen: %d connections: want at least 1", o.Conns)
	}
	if err := CheckLoopback(o.Addr); err != nil {
		return nil, err
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if o.Path[0] != '/' || bytes.ContainsAny([]byte(o.Path), " \r\n") {
		return nil, fmt.Errorf("loadgen: bad request path %q", o.Path)
	}
	for _, c := range o.CPUs {
		if c < 0 || c >= 1024 {
			return nil, fmt.Errorf("loadgen: CPU %d out of range 0..1023", c)
		}
	}
	g := &Generator{opts: o, req: []byte("GET " + o.Path + " HTTP/1.1\r\nHost: " + o.Addr + "\r\n\r\n")}
	var d net.Dialer
	for range o.Conns {
		nc, err := d.DialContext(ctx, "tcp", o.Addr)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("loadgen: connecting to %s: %w", o.Addr, err)
		}
		fd, err := ownFD(nc)
		nc.Close()
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("loadgen: connecting to %s: %w", o.Addr, err)
		}
		g.conns = append(g.conns, &conn{fd: fd})
	}
	return g, nil
}

// ownFD duplicates a connection's socket into a descriptor the generator
// owns, non-blocking and outside Go's netpoller (the Go conn is closed).
func ownFD(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// CheckLoopback refuses addresses that are not host:port on a loopback IP:
// the harness never loads another machine.
func CheckLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("loadgen: address %q: %v", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return fmt.Errorf("loadgen: address %q: port must be 1..65535", addr)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadgen: address %q is not a loopback IP address (127.0.0.1 or ::1)", addr)
	}
	return nil
}

// Close closes every connection.
func (g *Generator) Close() error {
	for _, c := range g.conns {
		if c.fd >= 0 {
			unix.Close(c.fd)
			c.fd = -1
		}
	}
	return nil
}

// Run keeps every connection busy for at least d, then returns the totals.
// Each connection stops after its first response that ends at or past the
// deadline, so Elapsed is slightly more than d. A failed request fails the
// run; cancelling ctx stops it with ctx's error.
func (g *Generator) Run(ctx context.Context, d time.Duration) (*Result, error) {
	for _, c := range g.conns {
		if c.fd < 0 {
			return nil, errors.New("loadgen: the generator is closed")
		}
		c.hist.Reset()
		c.n, c.body, c.err, c.done = 0, 0, nil, false
		c.p = respParser{}
	}
	workers := len(g.opts.CPUs)
	if workers == 0 {
		workers = min(runtime.GOMAXPROCS(0), len(g.conns))
	}
	workers = min(workers, len(g.conns))
	start := time.Now()
	deadline := start.Add(d)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		var mine []*conn
		for i := w; i < len(g.conns); i += workers {
			mine = append(mine, g.conns[i])
		}
		cpu := -1
		if len(g.opts.CPUs) > 0 {
			cpu = g.opts.CPUs[w]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = g.work(ctx, mine, cpu, start, deadline)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("loadgen: %s%s: %w", g.opts.Addr, g.opts.Path, err)
		}
	}
	res := &Result{}
	var last time.Time
	for _, c := range g.conns {
		res.Requests += c.n
		res.Bytes += c.body
		res.Latency.Merge(&c.hist)
		if c.last.After(last) {
			last = c.last
		}
	}
	res.Elapsed = last.Sub(start)
	return res, nil
}

// pollMS bounds an epoll wait so that a cancelled run stops promptly.
const pollMS = 50

// work is one worker: its own thread (pinned to cpu unless it is -1) and
// epoll set, driving conns until each has finished a response past the
// deadline.
func (g *Generator) work(ctx context.Context, conns []*conn, cpu int, t0, deadline time.Time) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cpu >= 0 {
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return fmt.Errorf("pinning a worker to CPU %d: %w", cpu, err)
		}
		// The thread goes back to Go's pool when the run ends: give it
		// back every CPU the process may use.
		defer func() {
			var all unix.CPUSet
			if unix.SchedGetaffinity(unix.Getpid(), &all) == nil {
				unix.SchedSetaffinity(0, &all)
			}
		}()
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	defer unix.Close(ep)
	for i, c := range conns {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			return fmt.Errorf("epoll_ctl: %w", err)
		}
		c.t0 = t0
		if err := g.send(c); err != nil {
			return err
		}
	}
	buf := make([]byte, 64<<10)
	events := make([]unix.EpollEvent, len(conns))
	active := len(conns)
	for active > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := epollWait(ep, events)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:n] {
			c := conns[ev.Fd]
			finished, err := g.readable(c, buf, deadline)
			if err != nil {
				return err
			}
			if finished {
				unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, c.fd, nil)
				active--
			}
		}
	}
	return nil
}

// epollWait waits up to pollMS for ready connections. It is a raw system
// call, outside Go's syscall bookkeeping: a worker that blocks in a
// syscall-state call every few microseconds keeps sysmon polling at its
// fastest (every 20 µs) to retake its P, and that polling cost the client
// more CPU per request than wrk spends. Held this way, the P stays with the
// worker; Go preempts it with a signal (EINTR here) when it must.
func epollWait(ep int, events []unix.EpollEvent) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), pollMS, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// rawIO is read(2) or write(2) on a non-blocking socket, which never
// blocks: raw, like epollWait.
func rawIO(trap uintptr, fd int, b []byte) (int, error) {
	r, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// send writes the request on c (a few dozen bytes: one write on an idle
// keep-alive socket, retried only if the kernel takes part of it).
func (g *Generator) send(c *conn) error {
	for b := g.req; len(b) > 0; {
		n, err := rawIO(unix.SYS_WRITE, c.fd, b)
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case err != nil:
			return err
		}
		b = b[n:]
	}
	return nil
}

// readable reads what c has and completes its response; it sends the next
// request unless the deadline has passed, and reports whether c is done.
func (g *Generator) readable(c *conn, buf []byte, deadline time.Time) (bool, error) {
	for {
		n, err := rawIO(unix.SYS_READ, c.fd, buf)
		switch {
		case err == unix.EAGAIN:
			return false, nil
		case err == unix.EINTR:
			continue
		case err != nil:
			return false, err
		case n == 0:
			return false, io.ErrUnexpectedEOF
		}
		b := buf[:n]
		for len(b) > 0 {
			used, done, body, err := c.p.feed(b)
			if err != nil {
				return false, err
			}
			b = b[used:]
			if !done {
				continue
			}
			if len(b) > 0 {
				return false, errors.New("the server sent more than one response to one request")
			}
			t1 := time.Now()
			c.hist.Record(t1.Sub(c.t0))
			c.n++
			c.body += body
			c.last = t1
			if !t1.Before(deadline) {
				c.done = true
				return true, nil
			}
			c.t0 = t1
			if err := g.send(c); err != nil {
				return false, err
			}
			return false, nil
		}
	}
}

// maxHead bounds a response's status line and header.
const maxHead = 64 << 10

// respParser reads one HTTP/1.1 response with a Content-Length body at a
// time, fed in pieces as they arrive; the body is counted, not kept.
type respParser struct {
	head   []byte // an incomplete header carried over between reads
	inBody bool
	left   int64 // body bytes still to come
	length int64
}

// feed consumes the start of b: it returns how many bytes it used, and
// done with the body length once a response is complete (it then stops
// at the response's end).
func (p *respParser) feed(b []byte) (used int, done bool, body int64, err error) {
	if !p.inBody {
		h := b
		if len(p.head) > 0 {
			h = append(p.head, b...)
		}
		end := bytes.Index(h, []byte("\r\n\r\n"))
		if end < 0 {
			if i := bytes.IndexByte(h, '\n'); i >= 0 {
				if err := checkStatus(h[:i]); err != nil {
					return 0, false, 0, err // refused early: not HTTP at all
				}
			}
			if len(h) > maxHead {
				return 0, false, 0, fmt.Errorf("response header longer than %d bytes", maxHead)
			}
			p.head = append(p.head[:0:0], h...)
			return len(b), false, 0, nil
		}
		n, err := parseHead(h[:end+2])
		if err != nil {
			return 0, false, 0, err
		}
		used = end + 4 - len(p.head)
		p.head = p.head[:0]
		p.inBody, p.left, p.length = true, n, n
	}
	k := int(min(p.left, int64(len(b)-used)))
	used += k
	p.left -= int64(k)
	if p.left > 0 {
		return used, false, 0, nil
	}
	p.inBody = false
	return used, true, p.length, nil
}

// checkStatus refuses a status line ("HTTP/1.1 200 OK\r") other than 200.
func checkStatus(line []byte) error {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return fmt.Errorf("malformed status line %.40q", line)
	}
	if !bytes.Equal(line[9:12], []byte("200")) {
		return fmt.Errorf("server answered %q", bytes.TrimRight(line, "\r"))
	}
	return nil
}

// parseHead checks a response's status line and header lines (each ending
// in CRLF) and returns the body's length.
func parseHead(h []byte) (int64, error) {
	line, rest, _ := bytes.Cut(h, []byte("\n"))
	if err := checkStatus(line); err != nil {
		return 0, err
	}
	length := int64(-1)
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("malformed header line %.40q", line)
		}
		switch {
		case asciiEqualFold(k, "content-length"):
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("bad Content-Length %q", bytes.TrimSpace(v))
			}
			length = n
		case asciiEqualFold(k, "transfer-encoding"):
			return 0, errors.New("chunked responses are not supported: the server must send Content-Length")
		case asciiEqualFold(k, "connection") && asciiEqualFold(bytes.TrimSpace(v), "close"):
			return 0, errors.New("the server closes the connection (no keep-alive)")
		}
	}
	if length < 0 {
		return 0, errors.New("response without Content-Length")
	}
	return length, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
