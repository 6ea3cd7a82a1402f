// Package memsweep measures memory bandwidth and latency over a working set
// swept from well below to well above the size's EPC. Inside an SGX1
// enclave every access that misses the last-level cache goes through the
// memory encryption engine, and a working set larger than the EPC makes the
// driver page 4 KiB pages out and back in (EWB/ELDU, published ~40,000
// cycles per swap: Taassori et al., VAULT, ASPLOS 2018): the curve shows the
// cliff where the working set crosses the EPC.
//
// One operation is one access to a 64-byte cache line:
//   - seq/read: lines in address order, every word read (streaming bandwidth);
//   - seq/write: lines in address order, every word written;
//   - random/read: a dependent pointer chase through a random cyclic
//     permutation of the lines (latency: no two loads overlap);
//   - random/write: stores to pseudo-randomly chosen lines (independent).
package memsweep

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/enclavebench/enclavebench/workloads/arena"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

const lineBytes = 64
const wordsPerLine = lineBytes / 8

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "memsweep",
	Doc:  "memory bandwidth and latency over a working set from below to above the EPC (the EPC cliff)",
	Params: []workload.Param{
		{Name: "ws", Doc: "working set: bytes (64KiB, 16MiB) or a multiple of the size's EPC (0.5xEPC)",
			Range: "64KiB .. 64GiB, e.g. 0.25xEPC .. 4xEPC, no more than the host's memory",
			// Quick: six points from <= 0.25x to >= 2x of every DCsv2
			// size's usable EPC (catalog EPC less the enclave's ~6-7 MiB
			// baseline: 0.77x-0.96x of the catalog), three on each side of
			// the cliff, so the quick profile shows it (bench/plan tests this).
			Quick: []string{"0.15xEPC", "0.4xEPC", "0.7xEPC", "1.1xEPC", "1.5xEPC", "2xEPC"},
			Full:  []string{"0.125xEPC", "0.25xEPC", "0.5xEPC", "0.75xEPC", "0.9xEPC", "1xEPC", "1.1xEPC", "1.5xEPC", "2xEPC", "4xEPC"},
			Check: workload.BytesInRange(64<<10, 64<<30)},
		{Name: "access", Doc: "seq: address order; random: random lines", Range: "seq, random",
			Quick: []string{"seq", "random"}, Full: []string{"seq", "random"}, Check: workload.OneOf("seq", "random")},
		{Name: "op", Doc: "read or write", Range: "read, write",
			Quick: []string{"read"}, Full: []string{"read", "write"}, Check: workload.OneOf("read", "write")},
	},
	Metrics: []workload.Metric{
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per 64-byte line access"},
		{Unit: "MB/s", Better: protocol.Higher, Doc: "bandwidth (64 bytes per access)"},
	},
	New:            newBench,
	CountWarm:      countWarm,
	Footprint:      footprint,
	FootprintParam: "ws",
	Parallelism:    workload.Serial,
	Memory:         memory,
}

func footprint(env workload.Env) int64 {
	n, err := workload.ParseBytes(env.Parameters["ws"], env)
	if err != nil {
		return 0
	}
	return roundLines(n)
}

// memory: the working set is one arena; random reads also hold the
// permutation and its inverse on the Go heap while chain links the lines
// (two uint32 per 64-byte line: 1/8 of the working set).
func memory(env workload.Env) workload.Memory {
	m := workload.Memory{Mapped: footprint(env)}
	if env.Parameters["access"] == "random" && env.Parameters["op"] != "write" {
		m.GoHeap = 2 * 4 * (m.Mapped / lineBytes)
	}
	return m
}

func roundLines(n int64) int64 { return (n + lineBytes - 1) / lineBytes * lineBytes }

type bench struct {
	a      *arena.Arena
	words  []uint64
	lines  int
	random bool
	write  bool
	pos    int    // next line (seq, random/write) or current line (random/read)
	rng    uint64 // xorshift state for random/write
	sink   uint64
}

func newBench(env workload.Env) (workload.Bench, error) {
	ws, err := workload.ParseBytes(env.Parameters["ws"], env)
	if err != nil {
		return nil, err
	}
	ws = roundLines(ws)
	a, err := arena.New(ws)
	if err != nil {
		return nil, err
	}
	mem := a.Bytes()
	b := &bench{
		a:      a,
		words:  unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), len(mem)/8),
		lines:  len(mem) / lineBytes,
		random: env.Parameters["access"] == "random",
		write:  env.Parameters["op"] == "write",
		rng:    0x9e3779b97f4a7c15,
	}
	if b.lines < 2 {
		a.Close()
		return nil, fmt.Errorf("memsweep: working set of %d bytes is too small", ws)
	}
	if b.random && !b.write {
		b.chain()
	} else {
		for i := range b.words {
			b.words[i] = uint64(i)
		}
	}
	return b, nil
}

// chain links the lines into one random cycle (Sattolo's algorithm), so a
// chase visits every line once per lap and the hardware prefetcher cannot
// guess the next line. The arena is written in address order (each line
// gets its successor through the inverse permutation): random-order writes
// would make setup, not the measurement, pay the paging of a working set
// larger than the (software) EPC.
func (b *bench) chain() {
	b.link(b.permutation())
}

// permutation is chain's random cycle: perm lists the lines in the order
// the chase visits them, inv[line] is its position in perm. The same
// every time (a fixed seed).
func (b *bench) permutation() (perm, inv []uint32) {
	perm = make([]uint32, b.lines)
	for i := range perm {
		perm[i] = uint32(i)
	}
	x := b.rng
	for i := b.lines - 1; i > 0; i-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j, _ := bits.Mul64(x, uint64(i)) // uniform in [0, i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	inv = make([]uint32, b.lines)
	for i, p := range perm {
		inv[p] = uint32(i)
	}
	return perm, inv
}

// link writes each line's successor on the cycle into it, in address order.
func (b *bench) link(perm, inv []uint32) { b.linkFrom(0, perm, inv) }

// linkFrom is link's loop from line first on (the end of link's pass).
func (b *bench) linkFrom(first int, perm, inv []uint32) {
	for l := first; l < b.lines; l++ {
		b.words[l*wordsPerLine] = uint64(perm[(int(inv[l])+1)%b.lines])
	}
	b.pos = int(perm[0])
}

// countWarm is Spec.CountWarm: the touch that repeats the end of New's
// last pass over its data covering its last env.WarmBytes (all of it when
// 0 or larger than the working set). For seq and random writes that pass
// wrote the arena in address order (arena.Sweep); for random reads it was
// link, which also read the permutation and its inverse (Go heap, garbage
// afterwards, but in the caches): they are made again here,
// uninstrumented, and link runs again over the last lines (writing the
// values the lines already hold, and the start position New set). Its
// tail reads the lines' part of inv in order and perm at random, as link
// did at its end; the arena's lines alone are WarmBytes contiguous, which
// is what makes the tail enough (workload.Env.WarmBytes).
func countWarm(wb workload.Bench, env workload.Env) func() {
	b, ok := wb.(*bench)
	if !ok || !b.random || b.write {
		return func() { arena.Sweep(env.WarmBytes) }
	}
	first := 0
	if env.WarmBytes > 0 {
		first = max(0, b.lines-int((env.WarmBytes+lineBytes-1)/lineBytes))
	}
	perm, inv := b.permutation()
	return func() { b.linkFrom(first, perm, inv) }
}

func (b *bench) Run(n int, r *workload.Report) error {
	r.BytesPerOp = lineBytes
	switch {
	case !b.random && !b.write:
		b.seqRead(n)
	case !b.random && b.write:
		b.seqWrite(n)
	case b.random && !b.write:
		b.chase(n)
	default:
		b.randWrite(n)
	}
	return nil
}

func (b *bench) seqRead(n int) {
	var sum uint64
	for n > 0 {
		k := min(n, b.lines-b.pos)
		sum += sumLines(b.words[b.pos*wordsPerLine : (b.pos+k)*wordsPerLine])
		n -= k
		b.pos = (b.pos + k) % b.lines
	}
	b.sink += sum
}

func (b *bench) seqWrite(n int) {
	v := b.sink + 1
	for n > 0 {
		k := min(n, b.lines-b.pos)
		fillLines(b.words[b.pos*wordsPerLine:(b.pos+k)*wordsPerLine], v)
		n -= k
		b.pos = (b.pos + k) % b.lines
	}
	b.sink = v
}

// sumLinesGeneric is the portable read kernel: eight independent
// accumulators, one line per iteration.
func sumLinesGeneric(seg []uint64) uint64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 uint64
	for i := 0; i+8 <= len(seg); i += 8 {
		v := seg[i : i+8 : i+8]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		s4 += v[4]
		s5 += v[5]
		s6 += v[6]
		s7 += v[7]
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}

func fillLinesGeneric(seg []uint64, v uint64) {
	for i := 0; i+8 <= len(seg); i += 8 {
		l := seg[i : i+8 : i+8]
		l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7] = v, v, v, v, v, v, v, v
	}
}

func (b *bench) chase(n int) {
	w := b.words
	p := b.pos
	for i := 0; i < n; i++ {
		p = int(w[p*wordsPerLine])
	}
	b.pos = p
}

func (b *bench) randWrite(n int) {
	w := b.words
	x := b.rng
	lines := uint64(b.lines)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j, _ := bits.Mul64(x, lines)
		w[j*wordsPerLine] = x
	}
	b.rng = x
}

func (b *bench) Close() error { return b.a.Close() }
