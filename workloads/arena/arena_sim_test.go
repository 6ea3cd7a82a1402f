//go:build sim && linux && cgo

package arena

import (
	"errors"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/swepc"
)

func configure(t *testing.T, c Config) {
	t.Helper()
	if err := Configure(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Configure(Config{}) })
}

func TestSoftwareEPCArena(t *testing.T) {
	const page, pages, capPages = 4096, 256, 32
	configure(t, Config{CapBytes: capPages * page})
	a, err := New(pages*page + 100)
	if errors.Is(err, swepc.ErrDenied) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if k := a.Kind(); !strings.HasPrefix(k, "swepc(cap=0.1MiB, clock, aes-gcm") {
		t.Errorf("Kind() = %q", k)
	}
	mem := a.Bytes()
	if len(mem) != pages*page+100 {
		t.Fatalf("len %d", len(mem))
	}
	for pass := 0; pass < 2; pass++ {
		for p := 0; p < pages; p++ {
			if mem[p*page+3] != byte(pass) {
				t.Fatalf("pass %d page %d: %d", pass, p, mem[p*page+3])
			}
			mem[p*page+3]++
		}
	}
	ev := Events()
	// Sweep of 256 pages through 32, twice: 224 evictions in the first
	// pass; in the second every page misses (256 loads, 256 evictions).
	if ev[protocol.EventEPCLoads] != pages || ev[protocol.EventEPCEvicts] != 2*pages-capPages {
		t.Errorf("Events() = %v", ev)
	}
	if ev["epc_first_touch"] != pages || ev["epc_integrity_failures"] != 0 {
		t.Errorf("Events() = %v", ev)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if Events() != nil {
		t.Error("closed arena still counted")
	}
}

// When no userfaultfd is permitted, New fails with the one-line reason.
func TestSoftwareEPCDenied(t *testing.T) {
	t.Setenv(swepc.EnvOpen, "deny")
	configure(t, Config{CapBytes: 1 << 20})
	a, err := New(1 << 22)
	if err == nil {
		a.Close()
		t.Fatal("New succeeded")
	}
	msg := err.Error()
	if !errors.Is(err, swepc.ErrDenied) || strings.Contains(msg, "\n") ||
		!strings.Contains(msg, "userfaultfd denied") || !strings.Contains(msg, "vm.unprivileged_userfaultfd=1") {
		t.Errorf("error %q", msg)
	}
	t.Log(msg)
}

func TestSoftwareEPCBadCap(t *testing.T) {
	configure(t, Config{CapBytes: 4096})
	if _, err := New(1 << 20); err == nil || !strings.Contains(err.Error(), "cap 4096 bytes is invalid") {
		t.Errorf("New with a one-page cap: %v", err)
	}
}
