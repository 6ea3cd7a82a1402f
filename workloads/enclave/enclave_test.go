package enclave

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

func encodeSamples(t testing.TB, n int) [][]byte {
	t.Helper()
	var lines [][]byte
	for i := 0; i < n; i++ {
		var b bytes.Buffer
		err := protocol.Encode(&b, protocol.Message{Type: protocol.TypeSample, Sample: &protocol.Sample{
			Rep: i, Iters: 10, ElapsedNS: 100,
			Values: []protocol.Value{{Value: 1.5, Unit: "ns/op", Better: protocol.Lower}}}})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b.Bytes())
	}
	return lines
}

// The digest of lines as the workload writes them is the SHA-256 of their
// exact bytes, and the harness's view of the same lines (without newline,
// after a runtime's partial line, with CRLF) digests alike.
func TestDigestAgreesAcrossSides(t *testing.T) {
	t.Parallel()
	lines := encodeSamples(t, 4)
	want := sha256.Sum256(bytes.Join(lines, nil))
	if got := SamplesDigest(lines); got != want {
		t.Fatalf("digest of exact lines %x, want SHA-256 of their bytes %x", got, want)
	}
	views := map[string]func([]byte) []byte{
		"no newline":       func(l []byte) []byte { return bytes.TrimSuffix(l, []byte("\n")) },
		"crlf":             func(l []byte) []byte { return append(bytes.TrimSuffix(l, []byte("\n")), "\r\n"...) },
		"foreign prefix":   func(l []byte) []byte { return append([]byte("[ego] partial "), l...) },
		"split and joined": func(l []byte) []byte { return l },
	}
	for name, view := range views {
		var seen [][]byte
		for _, l := range lines {
			seen = append(seen, view(append([]byte(nil), l...)))
		}
		if name == "split and joined" {
			seen = SplitLines(bytes.Join(seen, nil))
		}
		if got := SamplesDigest(seen); got != want {
			t.Errorf("%s: digest %x, want %x", name, got, want)
		}
	}
	d := NewDigester()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); d.Count() }()
	}
	for _, l := range lines {
		d.Add(l)
	}
	wg.Wait()
	if d.Count() != len(lines) || d.Sum() != want {
		t.Errorf("Digester: count %d, sum %x", d.Count(), d.Sum())
	}
	var zero Digester // usable without NewDigester
	zero.Add(lines[0])
	if zero.Sum() != SamplesDigest(lines[:1]) {
		t.Error("zero Digester disagrees")
	}
	if SamplesDigest(nil) != sha256.Sum256(nil) {
		t.Error("digest of no lines is not SHA-256 of nothing")
	}
}

func TestSplitLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a\n", []string{"a\n"}},
		{"a\nb", []string{"a\n", "b"}},
		{"a\n\nb\n", []string{"a\n", "\n", "b\n"}},
	}
	for _, tt := range tests {
		got := SplitLines([]byte(tt.in))
		var s []string
		for _, l := range got {
			s = append(s, string(l))
		}
		if strings.Join(s, "|") != strings.Join(tt.want, "|") || len(s) != len(tt.want) {
			t.Errorf("SplitLines(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

// Outside an enclave (this test process, in both builds) nothing claims to
// be an enclave and nothing returns EGo's placeholder results.
func TestOutsideAnEnclave(t *testing.T) {
	t.Parallel()
	if InEnclave() || Simulated() {
		t.Fatal("the test process claims to be in an enclave")
	}
	if Memfs() != "" {
		t.Errorf("Memfs() = %q outside an enclave", Memfs())
	}
	if _, _, err := Identity(); !errors.Is(err, ErrNotInEnclave) {
		t.Errorf("Identity: %v", err)
	}
	for _, data := range [][]byte{nil, {}, make([]byte, 65)} {
		if _, err := RemoteReport(data); err == nil || errors.Is(err, ErrNotInEnclave) {
			t.Errorf("RemoteReport(%d bytes): %v, want a data size error (EGo panics on empty data)", len(data), err)
		}
	}
	if _, err := RemoteReport(make([]byte, 32)); !errors.Is(err, ErrNotInEnclave) {
		t.Errorf("RemoteReport: %v", err)
	}
	if _, err := Seal([]byte("x")); !errors.Is(err, ErrNotInEnclave) {
		t.Errorf("Seal: %v", err)
	}
	if _, err := Unseal([]byte("x")); !errors.Is(err, ErrNotInEnclave) {
		t.Errorf("Unseal: %v", err)
	}
	if p := Provenance(NewDigester()); p != nil {
		t.Errorf("Provenance = %v outside an enclave", p)
	}
	if !strings.HasPrefix(ErrNotInEnclave.Error(), "not in an enclave") {
		t.Errorf("ErrNotInEnclave = %q", ErrNotInEnclave)
	}
}

func FuzzDigester(f *testing.F) {
	f.Add([]byte("@enclavebench/1 {\"type\":\"sample\"}\n"))
	f.Add([]byte("noise @enclavebench/1 {}\r\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, line []byte) {
		a := SamplesDigest([][]byte{line})
		b := SamplesDigest([][]byte{append(bytes.TrimRight(line, "\r\n"), '\n')})
		if a != b {
			t.Fatalf("digest depends on the line terminator of %q", line)
		}
	})
}
