// Package latency is a fixed-size latency histogram for workloads and the
// harness's load generator: recording is one array increment (no
// allocation, bounded memory however long a repetition runs) and quantiles
// come back with at most 1/32 (3.1%) relative error, like an HDR histogram
// with 5 significant bits.
package latency

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the precision: each power of two is split into 1<<subBits buckets.
const subBits = 5

// buckets covers 0 .. 2^63 ns.
const buckets = (64 - subBits) << subBits

// Histogram counts durations in nanoseconds. The zero value is empty and ready.
type Histogram struct {
	counts [buckets]uint64
	total  uint64
	max    uint64
}

func index(v uint64) int {
	s := max(0, bits.Len64(v)-subBits-1)
	return s<<subBits + int(v>>uint(s))
}

// lower returns the smallest value of bucket i, and the bucket's width.
func lower(i int) (lo, width uint64) {
	if i < 2<<subBits {
		return uint64(i), 1
	}
	s := uint(i>>subBits - 1)
	return uint64(i-int(s<<subBits)) << s, 1 << s
}

// Record counts one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) { h.RecordNS(max(0, int64(d))) }

// RecordNS counts one duration of ns nanoseconds.
func (h *Histogram) RecordNS(ns int64) {
	v := uint64(max(0, ns))
	h.counts[index(v)]++
	h.total++
	h.max = max(h.max, v)
}

// Count is the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.total }

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Quantile returns the q-quantile (0 < q <= 1) in nanoseconds: the middle of
// the bucket that holds the ceil(q*n)-th smallest duration, never more than
// the largest recorded one. NaN when h is empty.
func (h *Histogram) Quantile(q float64) float64 {
	if h.total == 0 {
		return math.NaN()
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	if rank == h.total {
		return float64(h.max)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, w := lower(i)
			return math.Min(float64(lo)+float64(w-1)/2, float64(h.max))
		}
	}
	return float64(h.max)
}
