//go:build linux && sim && cgo

package swepc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"
)

// evictPage touches the other pages until all of ps are evicted.
func evictPage(t *testing.T, r *Region, ps ...int64) {
	t.Helper()
	mem := r.Bytes()
	evicted := func() bool {
		for _, p := range ps {
			if r.pageState(p)&3 != 2 {
				return false
			}
		}
		return true
	}
next:
	for q := int64(0); q < r.Pages() && !evicted(); q++ {
		for _, p := range ps {
			if q == p {
				continue next
			}
		}
		page(mem, q)[1]++
	}
	if !evicted() {
		t.Fatalf("pages %v not evicted", ps)
	}
}

// touchExpectFault reads addr and returns the fault address the access
// raised (SIGBUS from the poisoned page), or 0.
func touchExpectFault(b *byte) (addr uintptr, val byte) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if e := recover(); e != nil {
				if a, ok := e.(interface{ Addr() uintptr }); ok {
					addr = a.Addr()
				} else {
					panic(e)
				}
			}
		}()
		val = *b
	}()
	<-done
	return addr, val
}

func needPoison(t *testing.T, r *Region) {
	if !r.Poison() {
		t.Skip("kernel lacks UFFDIO_POISON (Linux >= 6.6): an integrity failure would end the process")
	}
}

func TestTamperedPageDetected(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  int64
	}{{"ciphertext", 100}, {"tag", PageSize + 3}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRegion(t, 32, 8)
			needPoison(t, r)
			mem := r.Bytes()
			copy(page(mem, 3), bytes.Repeat([]byte("secret"), 600))
			evictPage(t, r, 3)
			if err := r.flipBacking(3, tc.off); err != nil {
				t.Fatal(err)
			}
			addr, _ := touchExpectFault(&page(mem, 3)[7])
			want := uintptr(unsafe.Pointer(&page(mem, 3)[0]))
			if addr < want || addr >= want+PageSize {
				t.Fatalf("access of tampered page: fault address %#x, want in page at %#x", addr, want)
			}
			var ie *IntegrityError
			if err := r.Err(); !errors.As(err, &ie) || ie.Page != 3 || ie.Version != 1 {
				t.Fatalf("Err() = %v, want integrity failure of page 3 version 1", r.Err())
			}
			if s := r.Stats(); s.IntegrityFailures != 1 || s.Loads != 0 {
				t.Errorf("stats %+v", s)
			}
			// It stays poisoned; other pages still work.
			if a, _ := touchExpectFault(&page(mem, 3)[0]); a == 0 {
				t.Error("second access of the poisoned page did not fault")
			}
			page(mem, 4)[0] = 9
			if page(mem, 4)[0] != 9 {
				t.Error("neighbour page broken")
			}
			if err := r.Close(); err == nil || !strings.Contains(err.Error(), "integrity check failed") || strings.Contains(err.Error(), "\n") {
				t.Errorf("Close() = %v, want the one-line integrity error", err)
			}
		})
	}
}

// Without SetPanicOnFault, a workload that touches a tampered page dies
// with the handler's line on stderr and Go's SIGBUS report.
func TestTamperedPageKillsProcess(t *testing.T) {
	if os.Getenv("SWEPC_TEST_CHILD") == "1" {
		r, err := New(Config{Size: 32 * PageSize, CapBytes: 8 * PageSize})
		if err != nil {
			t.Fatal(err)
		}
		mem := r.Bytes()
		page(mem, 3)[0] = 1
		evictPage(t, r, 3)
		if err := r.flipBacking(3, 0); err != nil {
			t.Fatal(err)
		}
		fmt.Println("CHILD-READ-VALUE", page(mem, 3)[0])
		t.Fatal("still alive")
	}
	probe := newRegion(t, 16, 8)
	needPoison(t, probe)
	cmd := exec.Command(os.Args[0], "-test.run=^TestTamperedPageKillsProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SWEPC_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("swepc: integrity check failed loading page 3")) ||
		!bytes.Contains(out, []byte("SIGBUS")) || bytes.Contains(out, []byte("CHILD-READ-VALUE")) {
		t.Fatalf("child output:\n%s", out)
	}
}

func TestReplayedPageDetected(t *testing.T) {
	r := newRegion(t, 32, 8)
	needPoison(t, r)
	mem := r.Bytes()
	page(mem, 2)[0] = 'A'
	evictPage(t, r, 2)
	old, err := r.backingSlot(2) // version 1, content A
	if err != nil {
		t.Fatal(err)
	}
	if page(mem, 2)[0] != 'A' { // load it back, correctly
		t.Fatal("page 2 lost its content")
	}
	page(mem, 2)[0] = 'B'
	evictPage(t, r, 2) // version 2, content B
	if err := r.putBackingSlot(2, old); err != nil {
		t.Fatal(err)
	}
	if addr, v := touchExpectFault(&page(mem, 2)[0]); addr == 0 {
		t.Fatalf("replayed page read without fault, got %q", v)
	}
	var ie *IntegrityError
	if !errors.As(r.Err(), &ie) || ie.Page != 2 || ie.Version != 2 {
		t.Fatalf("Err() = %v", r.Err())
	}
}

func TestSwappedSlotDetected(t *testing.T) {
	r := newRegion(t, 32, 8)
	needPoison(t, r)
	mem := r.Bytes()
	page(mem, 5)[0], page(mem, 6)[0] = 5, 6
	evictPage(t, r, 5, 6)
	s6, err := r.backingSlot(6)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.putBackingSlot(5, s6); err != nil { // same version, other page
		t.Fatal(err)
	}
	if addr, _ := touchExpectFault(&page(mem, 5)[0]); addr == 0 {
		t.Fatal("page 5 with page 6's slot read without fault")
	}
	if page(mem, 6)[0] != 6 {
		t.Fatal("page 6 wrong")
	}
}
