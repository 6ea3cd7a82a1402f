package loadgen

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func server(t *testing.T, payload int) string {
	body := strings.Repeat("x", payload)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/p" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestRun(t *testing.T) {
	t.Parallel()
	addr := server(t, 300)
	g, err := Dial(context.Background(), Options{Addr: addr, Path: "/p", Conns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for rep := 0; rep < 2; rep++ { // connections are kept alive across runs
		res, err := g.Run(context.Background(), 30*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests < 3 || res.Bytes != 300*res.Requests || res.Latency.Count() != uint64(res.Requests) {
			t.Fatalf("requests %d bytes %d latencies %d", res.Requests, res.Bytes, res.Latency.Count())
		}
		if res.Elapsed < 30*time.Millisecond || res.RequestsPerSec() <= 0 {
			t.Fatalf("elapsed %v", res.Elapsed)
		}
		if p50, p99 := res.Latency.Quantile(0.5), res.Latency.Quantile(0.99); !(p50 > 0 && p99 >= p50) {
			t.Fatalf("p50 %v p99 %v", p50, p99)
		}
	}
}

func TestRunFailsOnBadStatus(t *testing.T) {
	t.Parallel()
	addr := server(t, 10)
	g, err := Dial(context.Background(), Options{Addr: addr, Path: "/missing", Conns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.Run(context.Background(), 10*time.Millisecond); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("want a 404 error, got %v", err)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	addr := server(t, 10)
	g, err := Dial(context.Background(), Options{Addr: addr, Path: "/p", Conns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.Run(ctx, time.Hour); err == nil {
		t.Fatal("a cancelled run succeeded")
	}
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Addr: "10.1.2.3:80", Conns: 1}, "not a loopback"},
		{Options{Addr: "localhost:80", Conns: 1}, "not a loopback"},
		{Options{Addr: "127.0.0.1", Conns: 1}, "missing port"},
		{Options{Addr: "127.0.0.1:0", Conns: 1}, "port must be"},
		{Options{Addr: "127.0.0.1:80", Conns: 0}, "want at least 1"},
		{Options{Addr: "127.0.0.1:80", Path: "p q", Conns: 1}, "bad request path"},
		{Options{Addr: closed, Conns: 1}, "connecting"},
	}
	for _, tt := range tests {
		if _, err := Dial(context.Background(), tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want %q", tt.o, err, tt.want)
		}
	}
}

func TestReadResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int64
		want string // error substring; "" for success
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 5, ""},
		{"HTTP/1.1 200 OK\r\ncontent-length:0\r\nDate: x\r\n\r\n", 0, ""},
		{"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 0, "500"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, "chunked"},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", 0, "keep-alive"},
		{"HTTP/1.1 200 OK\r\n\r\n", 0, "without Content-Length"},
		{"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", 0, "bad Content-Length"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, "unexpected EOF"},
		{"SSH-2.0-OpenSSH\r\n", 0, "malformed status"},
		{"", 0, "unexpected EOF"},
	}
	for _, tt := range tests {
		n, err := readResponse(bufio.NewReader(strings.NewReader(tt.in)))
		if tt.want == "" {
			if err != nil || n != tt.n {
				t.Errorf("%q: got %d, %v; want %d", tt.in, n, err, tt.n)
			}
		} else if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.in, err, tt.want)
		}
	}
}

// readResponse reads one response through the engine's parser, fed in
// small pieces so that headers and bodies are split across reads.
func readResponse(br *bufio.Reader) (int64, error) {
	var p respParser
	buf := make([]byte, 7)
	for {
		n, err := br.Read(buf)
		b := buf[:n]
		for len(b) > 0 {
			used, done, body, perr := p.feed(b)
			if perr != nil {
				return 0, perr
			}
			b = b[used:]
			if done {
				return body, nil
			}
		}
		if err != nil {
			return 0, io.ErrUnexpectedEOF
		}
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
	f.Add("HTTP/1.0 200\r\nContent-Length: 99999999999999999999\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		n, err := readResponse(bufio.NewReaderSize(strings.NewReader(in), 64))
		if err == nil && (n < 0 || n > int64(len(in))) {
			t.Fatalf("%q: body of %d bytes", in, n)
		}
	})
}
