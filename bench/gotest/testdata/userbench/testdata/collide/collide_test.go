package collide

import "testing"

// Its cells would be named like the built-in workload compute's.
func BenchmarkCompute(b *testing.B) {
	for i := 0; i < b.N; i++ {
	}
}
