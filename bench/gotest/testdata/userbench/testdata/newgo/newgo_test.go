// Package newgo's module needs Go 1.26.5: an ego-go on an older Go cannot
// build it.
package newgo

import "testing"

func BenchmarkNop(b *testing.B) {
	for i := 0; i < b.N; i++ {
	}
}
