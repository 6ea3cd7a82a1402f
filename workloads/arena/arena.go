// Package arena allocates a workload's "enclave memory": the one region that
// holds its large data. Natively and inside EGo it is plain anonymous memory;
// in the sim mode (build tag sim) it is backed by the software EPC, whose
// resident pages are capped at the size's usable EPC, so paging is emulated
// and counted.
package arena

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Arena is one region of enclave memory.
type Arena struct {
	mem     []byte
	backend backend
	heap    bool // in the Go heap (Config.GoHeap)
}

// backend is implemented by the sim build's software EPC.
type backend interface {
	// Kind names the backing, e.g. "swepc(cap=24MiB, clock)".
	Kind() string
	// Stats returns event counts (protocol.EventEPCLoads, ...).
	Stats() map[string]int64
	Close() error
}

// Config selects the backing of new arenas. It is set once by the workload
// binary from its arguments before any workload runs.
type Config struct {
	// CapBytes > 0 asks for the software EPC with that many resident bytes.
	CapBytes int64
	// GoHeap puts arenas in the Go heap (make([]byte)): in the sim mode's
	// paging pass the whole process is on the software EPC
	// (swepc.AdoptProcess), and so is the heap. CapBytes is then ignored.
	GoHeap bool
}

var (
	mu     sync.Mutex
	config Config
	// newBackend is set by the sim build (arena_sim.go).
	newBackend func(size int64, c Config) ([]byte, backend, error)
	live       []*Arena
	heapLive   []*Arena // arenas in the Go heap (Config.GoHeap)
	every      []*Arena // every live arena, in the order they were made (Sweep)
)

// HeapRanges are the address ranges [start, end) of the live arenas in the
// Go heap, so that EPC loads in them can be told from the rest of the heap's.
func HeapRanges() [][2]uintptr {
	mu.Lock()
	defer mu.Unlock()
	var out [][2]uintptr
	for _, a := range heapLive {
		if len(a.mem) > 0 {
			p := uintptr(unsafe.Pointer(&a.mem[0]))
			out = append(out, [2]uintptr{p, p + uintptr(len(a.mem))})
		}
	}
	return out
}

// Configure sets how later arenas are backed. It fails when the software
// EPC is asked for in a build without it.
func Configure(c Config) error {
	mu.Lock()
	defer mu.Unlock()
	if c.CapBytes > 0 && !c.GoHeap && newBackend == nil {
		return fmt.Errorf("this workload binary was built without the software EPC (build it with -tags sim)")
	}
	config = c
	return nil
}

// New allocates size bytes of enclave memory, zeroed.
func New(size int64) (*Arena, error) {
	a, err := newArena(size)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	every = append(every, a)
	mu.Unlock()
	return a, nil
}

func newArena(size int64) (*Arena, error) {
	if size <= 0 {
		return nil, fmt.Errorf("arena: size %d must be positive", size)
	}
	mu.Lock()
	c := config
	mu.Unlock()
	if c.GoHeap {
		a := &Arena{mem: make([]byte, size), heap: true}
		mu.Lock()
		heapLive = append(heapLive, a)
		mu.Unlock()
		return a, nil
	}
	if c.CapBytes > 0 {
		mem, b, err := newBackend(size, c)
		if err != nil {
			return nil, err
		}
		a := &Arena{mem: mem, backend: b}
		mu.Lock()
		live = append(live, a)
		mu.Unlock()
		return a, nil
	}
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("arena: mmap %d bytes: %w", size, err)
	}
	return &Arena{mem: mem}, nil
}

// Bytes is the region. It stays valid until Close.
func (a *Arena) Bytes() []byte { return a.mem }

// Kind names the backing of the arena.
func (a *Arena) Kind() string {
	if a.backend != nil {
		return a.backend.Kind()
	}
	if a.heap {
		return "go-heap"
	}
	return "plain"
}

// Close releases the region.
func (a *Arena) Close() error {
	mu.Lock()
	if i := slices.Index(every, a); i >= 0 {
		every = slices.Delete(every, i, i+1)
	}
	mu.Unlock()
	if a.backend != nil {
		mu.Lock()
		for i, x := range live {
			if x == a {
				live = append(live[:i], live[i+1:]...)
				break
			}
		}
		mu.Unlock()
		err := a.backend.Close()
		a.backend, a.mem = nil, nil
		return err
	}
	if a.mem == nil {
		return nil
	}
	if a.heap {
		mu.Lock()
		for i, x := range heapLive {
			if x == a {
				heapLive = append(heapLive[:i], heapLive[i+1:]...)
				break
			}
		}
		mu.Unlock()
		a.mem = nil
		return nil
	}
	err := unix.Munmap(a.mem)
	a.mem = nil
	return err
}

// Events sums the event counts of every live software-EPC arena; the
// measurement loop reads it around each repetition. Nil when none.
func Events() map[string]int64 {
	mu.Lock()
	defer mu.Unlock()
	if len(live) == 0 {
		return nil
	}
	out := map[string]int64{}
	for _, a := range live {
		for k, v := range a.backend.Stats() {
			out[k] += v
		}
	}
	return out
}

// Describe names how arenas are backed in this process.
func Describe() string {
	mu.Lock()
	defer mu.Unlock()
	if config.GoHeap {
		return "go-heap"
	}
	if config.CapBytes > 0 {
		return fmt.Sprintf("swepc cap=%d", config.CapBytes)
	}
	return "plain"
}

// Sweep reads one byte of every 64-byte line of the live arenas, arena
// after arena in the order they were made, each in address order: the
// touch of a workload whose setup last wrote its arenas that way
// (workload.Spec.CountWarm). The counting pass (bench run --counts) runs
// such a setup with Callgrind's instrumentation off, switches it on and
// sweeps: the simulated caches then hold the arenas' lines as the setup
// left them (the last ones written in the last-level cache), without
// simulating the setup itself. bytes > 0 sweeps only the end of that
// order covering the arenas' last bytes (workload.Env.WarmBytes, which
// says why that leaves the caches the same); 0 sweeps everything.
func Sweep(bytes int64) {
	mu.Lock()
	regions := make([][]byte, 0, len(every))
	sizes := make([]int, 0, len(every))
	for _, a := range every {
		regions = append(regions, a.mem)
		sizes = append(sizes, len(a.mem))
	}
	mu.Unlock()
	var sum uint64
	for k, from := range tailStarts(sizes, bytes) {
		m := regions[k]
		for i := from; i < len(m); i += sweepLine {
			sum += uint64(m[i])
		}
	}
	sweepSink.Store(sum) // so that the reads are not optimised away
}

// tailStarts returns, for regions of the given sizes swept one after the
// other, where in each the sweep of their last bytes starts: len(region)
// for one left out, 0 for one swept whole. Starts are whole lines from the
// region's start (the lines a whole sweep reads), so the tail may cover up
// to a line more than bytes. bytes <= 0: every region whole.
func tailStarts(sizes []int, bytes int64) []int {
	from := make([]int, len(sizes))
	if bytes <= 0 {
		return from
	}
	left := bytes
	for k := len(sizes) - 1; k >= 0; k-- {
		n := int64(sizes[k])
		switch {
		case left <= 0:
			from[k] = sizes[k]
		case left < n:
			from[k] = int((n - left) / sweepLine * sweepLine)
		}
		left -= n
	}
	return from
}

var sweepSink atomic.Uint64

// sweepLine is the cache line of the simulated CPUs (bench/counts).
const sweepLine = 64
