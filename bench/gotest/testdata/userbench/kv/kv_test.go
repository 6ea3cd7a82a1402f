package kv

import (
	"fmt"
	"os"
	"testing"
)

// Sub-benchmarks with key=value names: each becomes one parameter value.
func BenchmarkHash(b *testing.B) {
	for _, n := range []int{1 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("size=%dKiB", n>>10), func(b *testing.B) {
			buf := make([]byte, n)
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				Sum(buf)
			}
		})
	}
}

// A metric of its own, reported with b.ReportMetric, and allocations.
func BenchmarkPut(b *testing.B) {
	s := New()
	v := make([]byte, 64)
	for i := 0; i < b.N; i++ {
		s.Put(fmt.Sprint(i%1024), v)
	}
	b.ReportMetric(float64(len(s.m)), "keys")
}

// Holds a large heap for the whole benchmark and reads it: every operation
// reads each 4 KiB page of one value, in turn, so the benchmark sweeps its
// 32 MiB; its enclave needs the room.
//
//enclavebench:heap 48MiB
//enclavebench:serial
func BenchmarkHeldHeap(b *testing.B) {
	s := New()
	for i := 0; i < 512; i++ {
		s.Put(fmt.Sprint(i), make([]byte, 64<<10)) // 32 MiB held
	}
	b.ResetTimer()
	sum := 0
	for i := 0; i < b.N; i++ {
		v := s.Get(fmt.Sprint(i % 512))
		for j := 0; j < len(v); j += 4096 {
			sum += int(v[j])
		}
	}
	sink = sum
}

var sink int

// Skips itself: its cells are "na" with this reason.
func BenchmarkNeedsGPU(b *testing.B) {
	b.Skip("needs a GPU")
}

// Fails unless told not to: its cells fail with this output.
func BenchmarkBroken(b *testing.B) {
	if os.Getenv("USERBENCH_FIX") == "" {
		b.Fatal("broken on purpose")
	}
	for i := 0; i < b.N; i++ {
	}
}
