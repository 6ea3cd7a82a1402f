package gokv

import (
	"runtime"
	"testing"

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
