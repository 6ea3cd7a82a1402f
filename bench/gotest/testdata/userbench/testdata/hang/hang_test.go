// Package hang has a benchmark that never returns: its cell must fail with
// the test binary's own timeout report, before the harness kills it.
package hang

import (
	"testing"
	"time"
)

func BenchmarkHang(b *testing.B) {
	time.Sleep(time.Hour)
}
