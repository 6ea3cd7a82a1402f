//go:build sim && amd64

package main

import (
	"testing"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

// TestPassesFit: the paging and counting passes run at once only where two
// working sets (the Go heap at twice its live data) leave half the host's
// memory free; with the host's memory unknown, one after the other.
func TestPassesFit(t *testing.T) {
	const gib = int64(1) << 30
	for _, tc := range []struct {
		m       workload.Memory
		hostMem int64
		want    bool
	}{
		{workload.Memory{}, 8 * gib, true},
		{workload.Memory{Mapped: 336 << 20}, 8 * gib, true},  // memsweep 2x DC8_v2's EPC
		{workload.Memory{Mapped: 2 * gib}, 8 * gib, true},    // 4 GiB together: half of 8
		{workload.Memory{Mapped: 2*gib + 1}, 8 * gib, false}, // just over
		{workload.Memory{GoHeap: 1 * gib}, 8 * gib, true},    // 2 GiB each as the heap grows
		{workload.Memory{GoHeap: 1*gib + 1}, 8 * gib, false}, // just over
		{workload.Memory{Mapped: 32 * gib}, 48 * gib, false}, // fits alone, not twice
		{workload.Memory{Mapped: 1 << 20}, 0, false},         // host memory unknown
	} {
		if got := passesFit(tc.m, tc.hostMem); got != tc.want {
			t.Errorf("passesFit(%+v, %d) = %v, want %v", tc.m, tc.hostMem, got, tc.want)
		}
	}
}
