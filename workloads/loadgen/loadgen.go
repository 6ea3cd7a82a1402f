// Package loadgen is the harness's HTTP/1.1 load generator for driven
// workloads (a server inside the workload process, possibly inside an
// enclave): it stays outside the enclave, keeps a fixed number of keep-alive
// connections busy with one request in flight each (closed loop, like wrk
// without pipelining), and measures throughput and per-request latency.
//
// It is lean on purpose, because on a small VM it shares the CPUs with the
// server it measures: one goroutine per connection, a prebuilt request
// written with one call, responses parsed in place from a reusable buffer
// (status line, Content-Length, body skipped), one clock read per request,
// latencies counted in a fixed histogram. No allocation per request.
//
// It lives under workloads/ because the sim build of the workload binary
// drives its own server with it in the counting pass; the workload binary
// imports nothing under bench/.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/enclavebench/enclavebench/workloads/latency"
)

// Options configure a Generator.
type Options struct {
	Addr  string // host:port of the server; must be a loopback address
	Path  string // request target, e.g. /payload (default /)
	Conns int    // keep-alive connections, one request in flight on each
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
	nc   net.Conn
	br   *bufio.Reader
	hist latency.Histogram
	n    int64
	body int64
	last time.Time
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
	g := &Generator{opts: o, req: []byte("GET " + o.Path + " HTTP/1.1\r\nHost: " + o.Addr + "\r\n\r\n")}
	var d net.Dialer
	for range o.Conns {
		nc, err := d.DialContext(ctx, "tcp", o.Addr)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("loadgen: connecting to %s: %w", o.Addr, err)
		}
		g.conns = append(g.conns, &conn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)})
	}
	return g, nil
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
		c.nc.Close()
	}
	return nil
}

// Run keeps every connection busy for at least d, then returns the totals.
// Each connection stops after its first response that ends at or past the
// deadline, so Elapsed is slightly more than d. A failed request fails the
// run; cancelling ctx closes the connections.
func (g *Generator) Run(ctx context.Context, d time.Duration) (*Result, error) {
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	stop := context.AfterFunc(ctx, func() { g.Close() })
	defer stop()
	for _, c := range g.conns {
		c.hist.Reset()
		c.n, c.body, c.err = 0, 0, nil
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.loop(g.req, start, deadline)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{}
	var last time.Time
	for _, c := range g.conns {
		if c.err != nil {
			return nil, fmt.Errorf("loadgen: %s%s: %w", g.opts.Addr, g.opts.Path, c.err)
		}
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

func (c *conn) loop(req []byte, t0, deadline time.Time) {
	for {
		if _, err := c.nc.Write(req); err != nil {
			c.err = err
			return
		}
		n, err := readResponse(c.br)
		if err != nil {
			c.err = err
			return
		}
		t1 := time.Now()
		c.hist.Record(t1.Sub(t0))
		c.n++
		c.body += n
		c.last = t1
		if !t1.Before(deadline) {
			return
		}
		t0 = t1
	}
}

// readResponse reads one HTTP/1.1 response with a Content-Length body,
// discarding the body, and returns the body's length.
func readResponse(br *bufio.Reader) (int64, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, unexpectedEOF(err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("malformed status line %.40q", line)
	}
	if !bytes.Equal(line[9:12], []byte("200")) {
		return 0, fmt.Errorf("server answered %q", bytes.TrimRight(line, "\r\n"))
	}
	length := int64(-1)
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, unexpectedEOF(err)
		}
		if len(line) <= 2 { // "\r\n": end of the header
			break
		}
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
	if _, err := br.Discard(int(length)); err != nil {
		return 0, unexpectedEOF(err)
	}
	return length, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
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
