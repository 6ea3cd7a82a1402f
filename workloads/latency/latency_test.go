package latency

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestIndexLowerRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.Uint64Range(0, 1<<62).Draw(t, "v")
		i := index(v)
		if i < 0 || i >= buckets {
			t.Fatalf("index(%d) = %d out of [0,%d)", v, i, buckets)
		}
		lo, w := lower(i)
		if v < lo || v-lo >= w {
			t.Fatalf("v=%d in bucket %d = [%d, %d+%d)", v, i, lo, lo, w)
		}
		if v >= 64 && float64(w)/float64(lo) > 1.0/32+1e-12 {
			t.Fatalf("bucket %d too wide: %d at %d", i, w, lo)
		}
	})
}

func TestQuantileAgainstSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gen  func(r *rand.Rand) int64
	}{
		{"uniform", func(r *rand.Rand) int64 { return r.Int64N(1e6) }},
		{"exp", func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * 5e4) }},
		{"small", func(r *rand.Rand) int64 { return r.Int64N(40) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			xs := make([]int64, 20000)
			for i := range xs {
				xs[i] = tt.gen(r)
				h.RecordNS(xs[i])
			}
			slices.Sort(xs)
			for _, q := range []float64{0.5, 0.9, 0.99, 1} {
				want := float64(xs[int(math.Ceil(q*float64(len(xs))))-1])
				got := h.Quantile(q)
				if math.Abs(got-want) > want/32+1 {
					t.Errorf("q=%v: got %v, want %v within 1/32", q, got, want)
				}
			}
		})
	}
}

func TestEmptyAndMerge(t *testing.T) {
	t.Parallel()
	var a, b Histogram
	if !math.IsNaN(a.Quantile(0.5)) {
		t.Fatal("empty histogram has a quantile")
	}
	a.RecordNS(100)
	b.RecordNS(1000)
	b.RecordNS(-5)
	a.Merge(&b)
	if a.Count() != 3 || a.Quantile(1) != 1000 || a.Quantile(0.01) != 0 {
		t.Fatalf("merged: n=%d max=%v min=%v", a.Count(), a.Quantile(1), a.Quantile(0.01))
	}
	a.Reset()
	if a.Count() != 0 {
		t.Fatal("reset kept counts")
	}
}
