package report

import (
	"strings"
	"testing"
)

func TestLoadFit(t *testing.T) {
	t.Parallel()
	type k struct {
		label string
		heap  float64
	}
	// 40 ms + 30 ms per 100 MiB, exactly; each value is one cell.
	keys := []k{{"ego-sim", 64}, {"ego-sim", 128}, {"ego-sim", 256}, {"sgx", 64}}
	vals := map[k][]float64{
		{"ego-sim", 64}: {40 + 0.3*64, 40 + 0.3*64}, {"ego-sim", 128}: {40 + 0.3*128}, {"ego-sim", 256}: {40 + 0.3*256},
		{"sgx", 64}: {1, 2, 3}, // one heap size: no line
	}
	got := loadFit(keys, vals, func(x k) (string, float64) { return x.label, x.heap })
	want := "Load time against heap size, ego-sim: 40.0 ms + 30.0 ms per 100 MiB of heap (least squares over 4 cells, 64.0-256.0 MiB; r²=1.00). "
	if got != want {
		t.Errorf("loadFit = %q\nwant      %q", got, want)
	}
	if strings.Contains(got, "sgx") {
		t.Error("a label with one heap size got a line")
	}
	if s := loadFit(keys[:1], vals, func(x k) (string, float64) { return x.label, x.heap }); s != "" {
		t.Errorf("one heap size: %q, want nothing", s)
	}
}
