// Package httpserver measures an HTTP/1.1 server (Go's net/http) running
// inside the workload process, driven by the harness's load generator from
// outside (workloads/loadgen): requests per second and latency p50/p99 for a
// small and a large response. Inside an SGX enclave every accept, read,
// write and epoll wait of the server is an OCALL (EGo forwards all socket
// calls to the host), and the payload crosses the enclave boundary once per
// response: a web service is the workload where transition costs add up
// (published: Redis 43,011 -> 68,120 req/s with switchless calls,
// gramine Documentation/devel/performance.rst).
//
// The workload is driven (protocol.TypeReady): it listens on a loopback
// address (127.0.0.1:0 unless --addr names another), announces it with the
// load it wants (connections scaled to the size's vCPUs), and serves until
// its stdin closes. The load generator stays in the harness so that the
// client's work never runs inside the enclave it measures.
package httpserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Path is the request target that returns the payload.
const Path = "/payload"

// maxConns bounds the connections a cell may ask for.
const maxConns = 1024

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "httpserver",
	Doc:  "HTTP/1.1 server in the workload, loaded from outside by the harness (every socket call is an OCALL in an enclave)",
	Params: []workload.Param{
		{Name: "payload", Doc: "response body size: small (128B) or large (64KiB)",
			Range: "1B .. 16MiB", Quick: []string{"128B", "64KiB"}, Full: []string{"128B", "4KiB", "64KiB"},
			Check: workload.BytesInRange(1, 16<<20)},
		{Name: "conns", Doc: "keep-alive connections of the load generator: N, or a multiple of the size's vCPUs (4xvcpus)",
			Range: "1 .. 1024, or Nxvcpus resolving to that", Quick: []string{"4xvcpus"},
			Full: []string{"1xvcpus", "4xvcpus", "16xvcpus"}, Check: checkConns},
	},
	Metrics: []workload.Metric{
		{Unit: "req/s", Better: protocol.Higher, Doc: "requests per second over all connections"},
		{Unit: "ns/op", Better: protocol.Lower, Doc: "wall time per request (1/throughput)"},
		{Unit: "MB/s", Better: protocol.Higher, Doc: "response body bytes per second"},
		{Unit: "p50-ns", Better: protocol.Lower, Doc: "median request latency seen by the client"},
		{Unit: "p99-ns", Better: protocol.Lower, Doc: "99th percentile request latency seen by the client"},
	},
	New: newBench,
}

// ParseConns reads a connection count: "8", or "4xvcpus" (4 per vCPU).
func ParseConns(v string, vcpus int) (int, error) {
	return workload.ParseCount(v, vcpus, maxConns, "connection")
}

func checkConns(v string, env workload.Env) error {
	_, err := ParseConns(v, env.VCPUs)
	return err
}

// Server is a running httpserver workload.
type Server struct {
	ln      net.Listener
	srv     *http.Server
	conns   int
	payload []byte
	clen    []string
	ctype   []string
	served  chan error
}

func newBench(env workload.Env) (workload.Bench, error) {
	size, err := workload.ParseBytes(env.Parameters["payload"], env)
	if err != nil {
		return nil, err
	}
	conns, err := ParseConns(env.Parameters["conns"], env.VCPUs)
	if err != nil {
		return nil, err
	}
	return Listen(env.Addr, int(size), conns)
}

// Listen starts a server on addr (a loopback host:port; port 0 picks a
// free one) whose Path returns payloadBytes bytes.
func Listen(addr string, payloadBytes, conns int) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("httpserver: address %q: %v (want 127.0.0.1:PORT)", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("httpserver: address %q is not on a loopback IP (127.0.0.1:0 picks a free port)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("httpserver: %s is already in use: pick another port, or 127.0.0.1:0 for any free one", addr)
		}
		return nil, fmt.Errorf("httpserver: listening on %s: %w", addr, err)
	}
	s := &Server{ln: ln, conns: conns, payload: make([]byte, payloadBytes),
		clen: []string{strconv.Itoa(payloadBytes)}, ctype: []string{"application/octet-stream"},
		served: make(chan error, 1)}
	for i := range s.payload {
		s.payload[i] = byte('a' + i%26)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(Path, s.handle)
	s.srv = &http.Server{Handler: mux}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// handle writes the payload; the header values are prebuilt (no
// formatting, no content sniffing per request).
func (s *Server) handle(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Length"] = s.clen
	h["Content-Type"] = s.ctype
	w.Write(s.payload)
}

// Addr is where the server listens.
func (s *Server) Addr() string { return s.ln.Addr().String() }

var _ workload.Driven = (*Server)(nil)

// Ready implements workload.Driven: it announces the server and the load it
// wants to the harness.
func (s *Server) Ready() protocol.Message {
	return protocol.Message{Type: protocol.TypeReady, Addr: s.Addr(),
		Load: &protocol.Load{Kind: protocol.LoadHTTP, Path: Path, Conns: s.conns}}
}

// Run fails: the harness drives this workload from outside (Ready).
func (s *Server) Run(int, *workload.Report) error {
	return errors.New("httpserver is driven by the harness's load generator (bench run); it has no in-process loop")
}

// Close stops the server and its connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
