// Package kvstore measures an in-memory key-value store (the shape of Redis
// or memcached in an enclave) over a dataset of 0.5x, 1x and 2x the size's
// EPC, SGXGauge's LOW/MEDIUM/HIGH footprints: below the EPC every miss in
// the last-level cache pays the memory encryption engine; above it, the hot
// set decides how often pages are evicted and reloaded (EWB/ELDU). Keys are
// drawn uniformly or Zipfian (YCSB's theta 0.99, hot keys scattered over the
// table by hashing), with YCSB's read-heavy (95% reads, 5% updates,
// workload B) and update-heavy (50/50, workload A) mixes.
//
// The store is an open-addressing hash table with linear probing over
// 64-byte slots (8-byte key, 56-byte value) in one arena, filled to 75%.
// One operation is one get (the value is copied out) or one update (a value
// is copied in). Uniform keys come from an inline xorshift generator;
// Zipfian ranks from a precomputed ring of 2^18 draws (1 MiB), so no
// operation pays for a pow().
//
// Latency: timing every operation would cost as much as the operation
// (~20-30 ns for a clock read natively, an OCALL with
// ERT_DISABLE_VDSO_CLOCK=1 in EGo). So one operation in every 64 is timed
// on its own, the cost of a clock read (measured at start) is subtracted,
// and p50/p99 are quantiles of those samples (latency package histogram,
// <= 3% error). Where the clock is coarser than 1 us (EGo's vDSO clock
// moves in ~4 ms steps, ego issue #236) p50/p99 are left out rather than
// reported wrong; ops/s is still reported.
package kvstore

import (
	"fmt"
	"math/bits"
	"slices"
	"time"

	"github.com/enclavebench/enclavebench/workloads/latency"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// LoadFactor is the fraction of slots holding keys.
const LoadFactor = 0.75

// SampleEvery is how often an operation is timed for p50/p99.
const SampleEvery = 64

// RingSize is the length of ZipfRing's ring (1 MiB of ranks).
const RingSize = 1 << 18

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "kvstore",
	Doc:  "in-memory key-value store (hash table in enclave memory) at LOW/MEDIUM/HIGH footprint vs the EPC",
	Params: []workload.Param{
		{Name: "dataset", Doc: "table size in enclave memory: 0.5xEPC (LOW), 1xEPC (MEDIUM), 2xEPC (HIGH), or bytes",
			Range: "64KiB .. 64GiB, e.g. 0.5xEPC, 1xEPC, 2xEPC, no more than the host's memory",
			Quick: []string{"0.5xEPC", "2xEPC"}, Full: []string{"0.5xEPC", "1xEPC", "2xEPC"},
			Check: workload.BytesInRange(64<<10, 64<<30)},
		{Name: "dist", Doc: "key distribution: uniform, or zipf (YCSB theta 0.99)", Range: "uniform, zipf",
			Quick: []string{"uniform", "zipf"}, Full: []string{"uniform", "zipf"}, Check: workload.OneOf("uniform", "zipf")},
		{Name: "mix", Doc: "read95: 95% gets, 5% updates (YCSB B); write50: 50/50 (YCSB A)", Range: "read95, write50",
			Quick: []string{"read95"}, Full: []string{"read95", "write50"}, Check: workload.OneOf("read95", "write50")},
	},
	Metrics: []workload.Metric{
		{Unit: "ops/s", Better: protocol.Higher, Doc: "operations per second"},
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per operation"},
		{Unit: "p50-ns", Better: protocol.Lower, Doc: "median latency of sampled operations (1 in 64)"},
		{Unit: "p99-ns", Better: protocol.Lower, Doc: "99th percentile latency of sampled operations (1 in 64)"},
	},
	New:            newBench,
	CountWarm:      countWarm,
	Footprint:      footprint,
	FootprintParam: "dataset",
	Parallelism:    workload.Serial,
	Memory:         memory,
}

func footprint(env workload.Env) int64 {
	n, err := workload.ParseBytes(env.Parameters["dataset"], env)
	if err != nil {
		return 0
	}
	return n / SlotBytes * SlotBytes
}

// memory: the table is one arena. On the Go heap New holds the fill order
// (a uint32 per key, 3/64 of the table at LoadFactor 0.75) and its
// counting-sort buckets, then the Zipfian ring; counted together, since
// the order may not be collected yet when the ring is allocated.
func memory(env workload.Env) workload.Memory {
	m := workload.Memory{Mapped: footprint(env)}
	keys := int64(float64(m.Mapped/SlotBytes) * LoadFactor)
	m.GoHeap = 4*keys + 4*(homeBuckets+1)
	if env.Parameters["dist"] == "zipf" {
		m.GoHeap += 4 * RingSize
	}
	return m
}

// Store is a loaded table with its operation stream.
type Store struct {
	T         *Table
	keys      int
	ring      []uint32 // Zipfian ranks; nil for uniform
	pos       int
	rng       uint64
	readBelow uint32 // an op is a get when the low 32 random bits are below
	val, out  Value

	hist    latency.Histogram
	clockNS int64 // cost of one clock read, subtracted from samples
	clockOK bool  // the clock resolves < 1 us
}

func newBench(env workload.Env) (workload.Bench, error) {
	ds, err := workload.ParseBytes(env.Parameters["dataset"], env)
	if err != nil {
		return nil, err
	}
	readPct := 95
	if env.Parameters["mix"] == "write50" {
		readPct = 50
	}
	return New(ds, env.Parameters["dist"] == "zipf", readPct)
}

// New fills a table of datasetBytes to LoadFactor with keys KeyOf(0..n-1)
// and prepares an operation stream with readPct percent gets.
func New(datasetBytes int64, zipf bool, readPct int) (*Store, error) {
	if readPct < 0 || readPct > 100 {
		return nil, fmt.Errorf("kvstore: read percentage %d out of 0..100", readPct)
	}
	t, err := NewTable(datasetBytes)
	if err != nil {
		return nil, err
	}
	keys := int(float64(t.Cap()) * LoadFactor)
	if keys < 1 {
		t.Close()
		return nil, fmt.Errorf("kvstore: a dataset of %d bytes holds no key", datasetBytes)
	}
	s := &Store{T: t, keys: keys, rng: 0x9e3779b97f4a7c15, readBelow: uint32(uint64(readPct) << 32 / 100)}
	if readPct == 100 {
		s.readBelow = ^uint32(0)
	}
	for _, r := range t.homeOrder(keys) {
		binaryPut(&s.val, uint64(r))
		if err := t.Put(KeyOf(uint64(r)), &s.val); err != nil {
			t.Close()
			return nil, err
		}
	}
	if zipf {
		s.ring = ZipfRing(keys)
	}
	s.clockNS, s.clockOK = clockCost()
	return s, nil
}

// countWarm is Spec.CountWarm. New's last passes over its data were the
// fill, which put the keys in homeOrder's order (the occupied slots close
// to address order, reading the list of ranks beside; the empty slots, a
// quarter, it never touched), then, for dist=zipf, the writing of the
// ring. touch gets the keys in that order from a list made again here,
// uninstrumented (each get probes the slots its put probed), then reads
// the ring. Measured on DC1s_v2 at 2xEPC, uniform: 1.491, 1.400 and 1.384
// LLC misses per operation in the three repetitions against 1.490, 1.397
// and 1.382 after the fill itself; touching the occupied slots in address
// order instead gave 1.560, 1.464 and 1.433, the whole table 1.62, 1.52
// and 1.47.
//
// With env.WarmBytes (workload.Env.WarmBytes) touch gets only the keys of
// the fill's end: those homed in the table's last tailSpan(WarmBytes)
// slots (warmTail).
func countWarm(b workload.Bench, env workload.Env) func() {
	s, ok := b.(*Store)
	if !ok {
		return func() {}
	}
	order := s.T.homeOrder(s.keys)
	order = order[warmTail(s.T, order, env.WarmBytes):]
	return func() {
		var sum uint64
		for _, r := range order {
			sum += uint64(s.T.Get(KeyOf(uint64(r)))[0])
		}
		for i := 0; i < len(s.ring); i += 16 { // one rank per 64-byte line
			sum += uint64(s.ring[i])
		}
		warmSink = sum
	}
}

// warmTail is where in order (homeOrder's) the fill's end that countWarm's
// touch repeats starts for warmBytes (0: at the start, the whole fill).
// WarmBytes is for contiguous data; the fill touches only the occupied
// slots (a slot is a 64-byte line), LoadFactor of them, spread by the hash
// independently of one another, so the tail spans twice warmBytes of
// slots: each set of the counting pass's LLC (16 MiB, 16 ways: WarmBytes
// 32 MiB) has 64 lines in that span, 48 of them occupied on average, and
// the chance that one of its 16,384 sets has fewer than its 16 ways
// occupied is about 1e-13 (binomial, n 64, p 0.75). TestWarmTailCoversLL
// counts the lines the tail's gets probe on an 80 MiB table: at least 33
// in every set (with a span of warmBytes alone, 14 in some set: too few).
func warmTail(t *Table, order []uint32, warmBytes int64) int {
	span := 2 * warmBytes / SlotBytes
	if warmBytes <= 0 || span >= int64(t.Cap()) {
		return 0
	}
	return t.homeTail(order, t.Cap()-int(span))
}

var warmSink uint64

func binaryPut(v *Value, x uint64) {
	for i := 0; i < 8; i++ {
		v[i] = byte(x >> (8 * i))
	}
}

// ZipfRing is the precomputed ring of RingSize Zipfian ranks (YCSB's
// theta) over keys keys that a store with dist=zipf cycles through: the
// same draws for every store of that many keys, so kvstore and gokv see
// one distribution.
func ZipfRing(keys int) []uint32 {
	z := NewZipf(keys, YCSBTheta)
	ring := make([]uint32, RingSize)
	x := uint64(0x2545f4914f6cdd1d)
	for i := range ring {
		x = Xorshift(x)
		ring[i] = uint32(z.Rank(float64(x>>11) / (1 << 53)))
	}
	return ring
}

// Xorshift is the stores' key generator: Marsaglia's xorshift64.
func Xorshift(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}

// Keys is the number of keys in the table.
func (s *Store) Keys() int { return s.keys }

// Next draws the next operation: its key and whether it is a get.
func (s *Store) Next() (key uint64, get bool) {
	x := Xorshift(s.rng)
	s.rng = x
	var r uint64
	if s.ring != nil {
		r = uint64(s.ring[s.pos])
		s.pos = (s.pos + 1) & (RingSize - 1)
	} else {
		r, _ = bits.Mul64(x, uint64(s.keys))
	}
	return KeyOf(r), uint32(x) < s.readBelow
}

func (s *Store) do(key uint64, get bool) error {
	if get {
		v := s.T.Get(key)
		if v == nil {
			return fmt.Errorf("kvstore: key %#x is missing", key)
		}
		s.out = *v
		return nil
	}
	s.val[8]++
	return s.T.Put(key, &s.val)
}

// Ops runs n operations, timing one in SampleEvery into the histogram.
func (s *Store) Ops(n int) error {
	for n > 0 {
		k := min(n, SampleEvery)
		key, get := s.Next()
		if s.clockOK {
			t0 := time.Now()
			err := s.do(key, get)
			s.hist.RecordNS(int64(time.Since(t0)) - s.clockNS)
			if err != nil {
				return err
			}
		} else if err := s.do(key, get); err != nil {
			return err
		}
		for i := 1; i < k; i++ {
			key, get := s.Next()
			if err := s.do(key, get); err != nil {
				return err
			}
		}
		n -= k
	}
	return nil
}

// Run implements workload.Bench.
func (s *Store) Run(n int, r *workload.Report) error {
	s.hist.Reset()
	start := time.Now()
	if err := s.Ops(n); err != nil {
		return err
	}
	if d := time.Since(start); d > 0 {
		r.Metric(float64(n)/d.Seconds(), "ops/s", protocol.Higher)
	}
	if s.clockOK && s.hist.Count() > 0 {
		r.Metric(s.hist.Quantile(0.50), "p50-ns", protocol.Lower)
		r.Metric(s.hist.Quantile(0.99), "p99-ns", protocol.Lower)
	}
	return nil
}

// Close implements workload.Bench.
func (s *Store) Close() error { return s.T.Close() }

// clockCost measures the cost of one time.Now()/time.Since pair (the
// median of 1001 back-to-back reads) and whether the clock resolves steps
// below 1 us.
func clockCost() (ns int64, fine bool) {
	d := make([]int64, 1001)
	step := int64(-1)
	for i := range d {
		t0 := time.Now()
		x := int64(time.Since(t0))
		d[i] = x
		if x > 0 && (step < 0 || x < step) {
			step = x
		}
	}
	slices.Sort(d)
	if step < 0 { // never moved in 1001 reads: look for the step size
		t0 := time.Now()
		for i := 0; i < 1e6; i++ {
			if x := int64(time.Since(t0)); x > 0 {
				step = x
				break
			}
		}
	}
	return d[len(d)/2], step > 0 && step < 1000
}
