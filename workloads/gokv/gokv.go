// Package gokv measures a key-value store kept the way Go code keeps its
// data: a map[uint64][]byte on the Go heap, with kvstore's key
// distributions (uniform, YCSB Zipfian) and mixes (read95, write50). In an
// EGo enclave every page of the Go heap is in the EPC, so such a store pages
// once the heap outgrows the usable EPC, and the collector, which marks the
// whole map every cycle, pages too. In the sim mode the whole process is on
// the software EPC (docs/sim.md), so this cliff is counted.
//
// The footprint (dataset) is the memory the store touches, in 4 KiB pages
// as the EPC holds them: New makes the map with the capacity that leaves
// room (make with a size hint, so it never grows and leaves no garbage) and
// adds keys whose values fill the rest. Its live heap is up to 11% larger:
// the allocator rounds a table's groups up to pages never touched.
// Each value is its own 56-byte slice (kvstore's value size), so a get
// touches the map's slot and the value object, two places in the heap.
// Updates either copy into the value (update=inplace: no allocation, as
// kvstore overwrites its slot) or replace it with a new slice
// (update=alloc: the usual Go idiom, which leaves garbage and so makes the
// collector run and the heap grow to what GOGC allows).
package gokv

import (
	"fmt"
	"math/bits"
	"runtime/metrics"
	"time"

	"github.com/enclavebench/enclavebench/workloads/kvstore"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// ValueBytes is the size of a value (kvstore's slot less its key).
const ValueBytes = 56

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "gokv",
	Doc:  "key-value store in Go values (map[uint64][]byte on the Go heap) at a footprint vs the EPC",
	Params: []workload.Param{
		{Name: "dataset", Doc: "the store's live Go heap: 0.5xEPC, 1xEPC, 2xEPC, or bytes",
			Range: "1MiB .. 16GiB, e.g. 0.5xEPC, 2xEPC, no more than the host's memory",
			// Quick: one point past the usable EPC, not 2x: a sim cell fills
			// the store three times (timed, counted, paged), and the paged
			// fill of 2xEPC took 25-48 s per cell on DC2s_v2-DC8_v2 (docs/sim.md).
			Quick: []string{"0.5xEPC", "1.1xEPC"}, Full: []string{"0.5xEPC", "1xEPC", "2xEPC"},
			Check: workload.BytesInRange(1<<20, 16<<30)},
		{Name: "dist", Doc: "key distribution: uniform, or zipf (YCSB theta 0.99)", Range: "uniform, zipf",
			Quick: []string{"uniform"}, Full: []string{"uniform", "zipf"}, Check: workload.OneOf("uniform", "zipf")},
		{Name: "mix", Doc: "read95: 95% gets, 5% updates (YCSB B); write50: 50/50 (YCSB A)", Range: "read95, write50",
			Quick: []string{"read95"}, Full: []string{"read95", "write50"}, Check: workload.OneOf("read95", "write50")},
		{Name: "update", Doc: "inplace: an update copies into the value; alloc: it stores a new slice (garbage for the collector)",
			Range: "inplace, alloc", Quick: []string{"inplace"}, Full: []string{"inplace", "alloc"},
			Check: workload.OneOf("inplace", "alloc")},
	},
	Metrics: []workload.Metric{
		{Unit: "ops/s", Better: protocol.Higher, Doc: "operations per second"},
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per operation"},
	},
	New:            newBench,
	CountWarm:      countWarm,
	Footprint:      footprint,
	FootprintParam: "dataset",
	Parallelism:    workload.Serial,
}

func footprint(env workload.Env) int64 {
	n, err := workload.ParseBytes(env.Parameters["dataset"], env)
	if err != nil {
		return 0
	}
	return n
}

// Store is a filled map with its operation stream.
type Store struct {
	m         map[uint64][]byte
	keys      int
	live      int64 // heap allocated by the fill, bytes (nothing of it is garbage)
	ring      []uint32
	pos       int
	rng       uint64
	readBelow uint32
	alloc     bool
	val, out  [ValueBytes]byte
	// The setup's plan, last: the fields Ops uses stay at offsets below
	// 128 bytes, so its code stays as it was (a field further on takes a
	// 4-byte displacement, longer instructions, and the assembler's
	// padding added a NOP per operation, 0.5% of the instructions counted).
	zipf  bool
	slots int64 // the map's capacity is slots*7/8
	n     int   // the keys the fill adds
	a0    int64 // allocated() before the fill
	tail  bool  // the fill's tail (see countTail) is still to run
}

func newBench(env workload.Env) (workload.Bench, error) {
	ds := footprint(env)
	readPct := 95
	if env.Parameters["mix"] == "write50" {
		readPct = 50
	}
	s, err := newStore(ds, env.Parameters["dist"] == "zipf", readPct, env.Parameters["update"] == "alloc", env.MaxOps > 0)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// New fills a map until it holds datasetBytes of live heap and prepares an
// operation stream with readPct percent gets.
func New(datasetBytes int64, zipf bool, readPct int, alloc bool) (*Store, error) {
	return newStore(datasetBytes, zipf, readPct, alloc, false)
}

// newStore is New; with leaveTail (the counting pass: Env.MaxOps) it
// leaves the fill's tail to countWarm's touch (or to the first Run).
func newStore(datasetBytes int64, zipf bool, readPct int, alloc, leaveTail bool) (*Store, error) {
	if readPct < 0 || readPct > 100 {
		return nil, fmt.Errorf("gokv: read percentage %d out of 0..100", readPct)
	}
	if datasetBytes < 1<<20 {
		return nil, fmt.Errorf("gokv: a dataset of %d bytes is below 1 MiB", datasetBytes)
	}
	s := &Store{rng: 0x9e3779b97f4a7c15, readBelow: uint32(uint64(readPct) << 32 / 100), alloc: alloc, zipf: zipf}
	if readPct == 100 {
		s.readBelow = ^uint32(0)
	}
	if err := s.plan(datasetBytes); err != nil {
		return nil, err
	}
	s.tail = true
	if leaveTail && s.n <= countTail {
		return s, nil // all of it: the map's making too
	}
	s.a0 = allocated()
	s.m = make(map[uint64][]byte, s.slots/8*7)
	if leaveTail {
		s.add(s.n - countTail)
		return s, nil
	}
	s.finish()
	return s, nil
}

// countTail is how many of the fill's last keys the counting pass runs
// instrumented (bench/counts, Spec.CountWarm). Callgrind's caches are LRU
// (bench/counts: --D1=32768,8,64 --LL=16777216,16,64), so after any
// sequence of accesses that touches at least as many distinct lines in a
// set as the set has ways, the set holds the same lines in the same order
// whatever it held before. Each key's value is a 64-byte object, one line,
// and the fill allocates them one after the other, 126 to an 8 KiB span
// (its last two lines hold its mark bits, which the allocator writes when
// it takes the span), the spans in address order: 262,144 keys' values
// and spans' ends are about 16 lines in each of the LL's 16,384 sets (and
// the D1's 64 sets many times over). countTail is 5/4 of that, at least
// 19 lines in every set (TestCountTailCoversLL), besides the slots and
// the rest of the allocator's metadata the same keys touch. So running only
// the last countTail keys instrumented leaves the simulated caches as the
// whole fill instrumented does, the allocator's metadata and the slots'
// every word included, which no replay by lookups reproduces (one counted
// 7-8% fewer LLC misses, docs/ci.md "Cost"). A fill of at most countTail
// keys runs instrumented whole, from the map's making (which writes every
// group's control word, lines the LL may still hold).
const countTail = 5 << 18 / 4

// countWarm is Spec.CountWarm: touch runs what New left of the fill (its
// last countTail keys, or all of it) and then makes the Zipfian ring, as
// New does after the fill: the same accesses, in the same order, as the
// timed process's New ends with. Its tail is already bounded (countTail):
// env.WarmBytes is not needed.
func countWarm(b workload.Bench, _ workload.Env) func() {
	s, ok := b.(*Store)
	if !ok {
		return func() {}
	}
	return s.finish
}

// finish runs what is left of the setup: the map's making if New left it,
// the fill's tail, the Zipfian ring.
func (s *Store) finish() {
	if !s.tail {
		return
	}
	s.tail = false
	if s.m == nil {
		s.a0 = allocated()
		s.m = make(map[uint64][]byte, s.slots/8*7)
	}
	s.add(s.n)
	s.live = allocated() - s.a0
	if s.zipf {
		s.ring = kvstore.ZipfRing(s.keys)
	}
}

// valueClass is the heap a value takes: the runtime's 64-byte size class
// for a 56-byte slice.
const valueClass = 64

// Go's Swiss-table maps (internal/runtime/maps, Go 1.24 on) keep a large
// map in tables of 1024 slots, in groups of 8 slots behind an 8-byte
// control word; a slot of a map[uint64][]byte is the key and the slice
// header. A table's groups are one 33,792-byte object, which the allocator
// rounds up to 40 KiB. Making the map writes every group's control word, so
// a table touches the first 9 of its 10 pages; the tenth is never touched
// and takes no EPC.
const (
	groupBytes   = 8 + 8*(8+24)
	tableTouched = (1024/8*groupBytes + 4095) / 4096 * 4096
)

// plan sizes the fill so that the memory the store touches, its tables'
// groups and its values, is target: the smallest power of two of slots
// whose tables leave room for the values of (target - tables) / valueClass
// keys at most 3/4 full (a table past 7/8 would split). The map is made
// with that capacity, so it never grows and leaves no garbage; its live
// heap is the bytes allocated, not a collection's count: a forced
// collection would scan the whole map once more (in the sim's paging pass,
// paging it in).
func (s *Store) plan(target int64) error {
	for slots := int64(4096); ; slots *= 2 {
		n := (target - slots/1024*tableTouched) / valueClass
		if n > slots*3/4 {
			continue
		}
		if n <= 0 {
			return fmt.Errorf("gokv: a dataset of %d bytes holds no key (the map's tables take %d)", target, slots/1024*tableTouched)
		}
		s.slots, s.n = slots, int(n)
		return nil
	}
}

func (s *Store) add(n int) {
	for r := s.keys; r < n; r++ {
		v := make([]byte, ValueBytes)
		put(v, uint64(r))
		s.m[kvstore.KeyOf(uint64(r))] = v
	}
	s.keys = max(s.keys, n)
}

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

// allocated is the bytes allocated on the heap so far.
func allocated() int64 {
	metrics.Read(allocSample)
	return int64(allocSample[0].Value.Uint64())
}

func put(v []byte, x uint64) {
	for i := 0; i < 8; i++ {
		v[i] = byte(x >> (8 * i))
	}
}

// Keys is the number of keys in the map.
func (s *Store) Keys() int { return s.keys }

// LiveBytes is the heap the fill allocated: the map and its values, all
// live.
func (s *Store) LiveBytes() int64 { return s.live }

// Ops runs n operations.
func (s *Store) Ops(n int) error {
	for range n {
		x := kvstore.Xorshift(s.rng)
		s.rng = x
		var r uint64
		if s.ring != nil {
			r = uint64(s.ring[s.pos])
			s.pos = (s.pos + 1) & (kvstore.RingSize - 1)
		} else {
			r, _ = bits.Mul64(x, uint64(s.keys))
		}
		k := kvstore.KeyOf(r)
		v, ok := s.m[k]
		if !ok {
			return fmt.Errorf("gokv: key %#x is missing", k)
		}
		switch {
		case uint32(x) < s.readBelow:
			copy(s.out[:], v)
		case s.alloc:
			s.val[8]++
			nv := make([]byte, ValueBytes)
			copy(nv, s.val[:])
			s.m[k] = nv
		default:
			s.val[8]++
			copy(v, s.val[:])
		}
	}
	return nil
}

// Run implements workload.Bench. The fill's tail New left for countWarm
// (Env.MaxOps) runs here if countWarm did not run it (a counted process
// outside Callgrind), before the clock starts: no operation may miss a key.
func (s *Store) Run(n int, r *workload.Report) error {
	s.finish()
	start := time.Now()
	if err := s.Ops(n); err != nil {
		return err
	}
	if d := time.Since(start); d > 0 {
		r.Metric(float64(n)/d.Seconds(), "ops/s", protocol.Higher)
	}
	return nil
}

// Close implements workload.Bench.
func (s *Store) Close() error {
	s.m, s.ring = nil, nil
	return nil
}
