package httpserver

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

func TestServes(t *testing.T) {
	t.Parallel()
	env := workload.Env{Size: protocol.Size{VCPUs: 2}, Addr: "127.0.0.1:0", Parameters: map[string]string{"payload": "128B", "conns": "4xvcpus"}}
	if err := Spec.Validate(env.Parameters, env); err != nil {
		t.Fatal(err)
	}
	b, err := Spec.New(env)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := b.(*Server)
	ready := s.Ready()
	if err := ready.Validate(); err != nil || ready.Type != protocol.TypeReady || ready.Load.Conns != 8 || ready.Addr == "" {
		t.Fatalf("ready %+v: %v", ready, err)
	}
	resp, err := http.Get("http://" + ready.Addr + ready.Load.Path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 128 || resp.ContentLength != 128 {
		t.Fatalf("status %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	if err := b.Run(1, &workload.Report{}); err == nil {
		t.Error("Run of a driven workload succeeded")
	}
}

func TestAddressErrors(t *testing.T) {
	t.Parallel()
	s, err := Listen("127.0.0.1:0", 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct{ addr, want string }{
		{s.Addr(), "already in use"},
		{"0.0.0.0:0", "not on a loopback IP"},
		{"localhost:0", "not on a loopback IP"},
		{"127.0.0.1", "want 127.0.0.1:PORT"},
	}
	for _, tt := range tests {
		if x, err := Listen(tt.addr, 10, 1); err == nil || !strings.Contains(err.Error(), tt.want) {
			if x != nil {
				x.Close()
			}
			t.Errorf("%s: got %v, want %q", tt.addr, err, tt.want)
		}
	}
}

func TestParseConns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v     string
		vcpus int
		want  int
		err   string
	}{
		{"8", 2, 8, ""},
		{"4xvcpus", 2, 8, ""},
		{"1xvcpus", 8, 8, ""},
		{"0", 2, 0, "out of range"},
		{"2000", 2, 0, "out of range"},
		{"600xvcpus", 2, 0, "out of range"},
		{"-1xvcpus", 2, 0, "positive multiple"},
		{"4xvcpus", 0, 0, "unknown"},
		{"many", 2, 0, "not a connection count"},
	}
	for _, tt := range tests {
		got, err := ParseConns(tt.v, tt.vcpus)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: got %d, %v; want error %q", tt.v, got, err, tt.err)
			}
		} else if err != nil || got != tt.want {
			t.Errorf("%q: got %d, %v; want %d", tt.v, got, err, tt.want)
		}
	}
	err := Spec.Validate(map[string]string{"payload": "0", "conns": "4"}, workload.Env{Size: protocol.Size{VCPUs: 1}})
	if err == nil || !strings.Contains(err.Error(), "httpserver.payload=0") || !strings.Contains(err.Error(), "1B .. 16MiB") {
		t.Errorf("payload 0: %v", err)
	}
}

func FuzzParseConns(f *testing.F) {
	for _, s := range []string{"1", "4xvcpus", "xvcpus", "9999999999999999999xvcpus", "-3"} {
		f.Add(s, 4)
	}
	f.Fuzz(func(t *testing.T, v string, vcpus int) {
		n, err := ParseConns(v, vcpus)
		if err == nil && (n < 1 || n > maxConns) {
			t.Fatalf("%q, %d: accepted %d connections", v, vcpus, n)
		}
	})
}
