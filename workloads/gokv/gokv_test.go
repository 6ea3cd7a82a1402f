package gokv

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/enclavebench/enclavebench/workloads/kvstore"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// The dataset is what the store touches; its live heap is that plus the
// never-touched rounding of the map's tables (at most 1/9 of them).
func TestLiveHeapCoversDataset(t *testing.T) {
	if testing.Short() {
		t.Skip("fills tens of MiB")
	}
	for _, ds := range []int64{1 << 20, 8 << 20, 23 << 20, 47 << 20} {
		s, err := New(ds, false, 95, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("dataset %d MiB: %d keys, live heap %.2f MiB", ds>>20, s.Keys(), float64(s.LiveBytes())/(1<<20))
		if r := float64(s.LiveBytes()) / float64(ds); r < 1 || r > 1.12 {
			t.Errorf("dataset %d bytes: live heap %d bytes (%.3fx)", ds, s.LiveBytes(), r)
		}
		s.Close()
		runtime.GC()
	}
}

func TestOps(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		zipf  bool
		read  int
		alloc bool
	}{{false, 95, false}, {true, 50, true}, {false, 100, false}} {
		s, err := New(2<<20, c.zipf, c.read, c.alloc)
		if err != nil {
			t.Fatal(err)
		}
		var r workload.Report
		if err := s.Run(10000, &r); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if _, err := New(1<<10, false, 95, false); err == nil {
		t.Error("a dataset below 1 MiB was accepted")
	}
}

// countWarm's touch runs only the fill's last countTail keys instrumented:
// that leaves Callgrind's LRU caches as the whole fill does only if those
// keys touch at least 16 distinct lines in each of the LL's sets
// (bench/counts: --LL=16777216,16,64, 16,384 sets of 16 ways). Counted
// here: their values' lines and the last two lines of each 8 KiB span
// holding them, where the allocator keeps the span's mark bits (Go 1.25
// on: 126 values a span, not 128), which it writes when it takes the span.
// Not counted: the slots, a margin.
func TestCountTailCoversLL(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 96 MiB")
	}
	const sets, ways = 16384, 16
	s, err := New(96<<20, false, 95, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Keys() <= countTail {
		t.Fatalf("%d keys, want more than countTail %d", s.Keys(), countTail)
	}
	var lines [sets]map[uintptr]bool
	for r := s.Keys() - countTail; r < s.Keys(); r++ {
		v := s.m[kvstore.KeyOf(uint64(r))]
		a := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
		if a%64 != 0 {
			t.Fatalf("key %d: value at %#x, not on a 64-byte line of its own", r, a)
		}
		for _, l := range []uintptr{a, a&^8191 + 8064, a&^8191 + 8128} {
			set := l / 64 % sets
			if lines[set] == nil {
				lines[set] = map[uintptr]bool{}
			}
			lines[set][l] = true
		}
	}
	least := countTail
	for _, l := range lines {
		least = min(least, len(l))
	}
	t.Logf("%d keys; the last %d: at least %d lines in every LL set", s.Keys(), countTail, least)
	if least < ways {
		t.Errorf("the last %d keys' values and spans' ends are %d lines in some LL set, want at least %d (its ways)", countTail, least, ways)
	}
}
