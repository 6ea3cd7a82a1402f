//go:build linux && sim && cgo

package swepc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"pgregory.net/rapid"
)

func newRegion(t testing.TB, pages, capPages int64) *Region {
	t.Helper()
	r, err := New(Config{Size: pages * PageSize, CapBytes: capPages * PageSize, quiet: true})
	if err != nil {
		if errors.Is(err, ErrDenied) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func page(mem []byte, p int64) []byte { return mem[p*PageSize : (p+1)*PageSize] }

// clockModel is the specification of the handler's CLOCK (handler.c),
// replayed in Go for single-threaded access sequences.
type clockModel struct {
	cap, used, hand int64
	frames          []int64
	state           map[int64]int // 0 never, 1 resident, 2 evicted
	ref, mapped     map[int64]bool
	s               Stats
}

func newClockModel(capPages int64) *clockModel {
	return &clockModel{cap: capPages, frames: make([]int64, capPages), state: map[int64]int{},
		ref: map[int64]bool{}, mapped: map[int64]bool{}}
}

func (m *clockModel) access(p int64) {
	switch m.state[p] {
	case 1:
		if !m.mapped[p] {
			m.s.Refaults++
			m.ref[p], m.mapped[p] = true, true
		}
		return
	case 0:
		m.s.FirstTouch++
	case 2:
		m.s.Loads++
	}
	var f int64
	if m.used < m.cap {
		f = m.used
		m.used++
	} else {
		for {
			f = m.hand
			q := m.frames[f]
			m.hand = (m.hand + 1) % m.cap
			if m.ref[q] {
				m.ref[q], m.mapped[q] = false, false
				m.s.Aged++
				continue
			}
			m.state[q] = 2
			m.mapped[q] = false
			m.s.Evictions++
			break
		}
	}
	m.frames[f] = p
	m.state[p], m.ref[p], m.mapped[p] = 1, true, true
}

func checkCounts(t *testing.T, what string, got, want Stats) {
	t.Helper()
	if got.Loads != want.Loads || got.Evictions != want.Evictions || got.FirstTouch != want.FirstTouch ||
		got.Aged != want.Aged || got.Refaults != want.Refaults {
		t.Errorf("%s: got loads=%d evictions=%d first_touch=%d aged=%d refaults=%d, want %d %d %d %d %d",
			what, got.Loads, got.Evictions, got.FirstTouch, got.Aged, got.Refaults,
			want.Loads, want.Evictions, want.FirstTouch, want.Aged, want.Refaults)
	}
}

// A sequential sweep of N pages through a cap of C < N pages, done twice:
// the first pass first-touches every page and evicts N-C of them; in the
// second every page misses (CLOCK, like LRU, keeps exactly the pages the
// sweep will need last), so it loads N pages and evicts N.
func TestSweepCountsExact(t *testing.T) {
	for _, tc := range []struct{ n, c int64 }{{64, 32}, {40, 32}, {200, 8}, {33, 32}} {
		t.Run(fmt.Sprintf("N%d_C%d", tc.n, tc.c), func(t *testing.T) {
			r := newRegion(t, tc.n, tc.c)
			mem := r.Bytes()
			m := newClockModel(tc.c)
			for pass := 1; pass <= 2; pass++ {
				for p := int64(0); p < tc.n; p++ {
					b := page(mem, p)
					if b[17] != byte(pass-1) {
						t.Fatalf("pass %d page %d: byte %d, want %d", pass, p, b[17], pass-1)
					}
					b[17] = byte(pass)
					m.access(p)
				}
				checkCounts(t, fmt.Sprintf("after pass %d", pass), r.Stats(), m.s)
				if pass == 1 && (m.s.FirstTouch != tc.n || m.s.Evictions != tc.n-tc.c || m.s.Loads != 0) {
					t.Errorf("model pass 1: %+v", m.s)
				}
			}
			if tc.n >= 2*tc.c && (m.s.Loads != tc.n || m.s.Evictions != 2*tc.n-tc.c) {
				t.Errorf("model: loads=%d evictions=%d, want %d and %d", m.s.Loads, m.s.Evictions, tc.n, 2*tc.n-tc.c)
			}
			s := r.Stats()
			if s.Resident != tc.c || s.IntegrityFailures != 0 {
				t.Errorf("resident=%d integrity_failures=%d", s.Resident, s.IntegrityFailures)
			}
		})
	}
}

// A page read between evictions keeps being referenced (a read re-faults
// an aged page, which is the emulated accessed bit) and is never evicted.
func TestClockSecondChanceForReads(t *testing.T) {
	const n, c = 200, 8
	r := newRegion(t, n, c)
	mem := r.Bytes()
	page(mem, 0)[5] = 42
	m := newClockModel(c)
	m.access(0)
	for p := int64(1); p < n; p++ {
		page(mem, p)[0] = 1
		m.access(p)
		if v := page(mem, 0)[5]; v != 42 { // read only
			t.Fatalf("page 0 reads %d", v)
		}
		m.access(0)
	}
	s := r.Stats()
	checkCounts(t, "hot page", s, m.s)
	if st := r.pageState(0); st&3 != 1 {
		t.Errorf("hot page 0 state %#x, want resident", st)
	}
	if s.Refaults == 0 || m.state[0] != 1 {
		t.Errorf("no reference faults recorded: %+v", s)
	}
}

func TestInvalidConfig(t *testing.T) {
	for _, c := range []Config{
		{Size: 0, CapBytes: 1 << 20},
		{Size: -4096, CapBytes: 1 << 20},
		{Size: 1 << 20, CapBytes: 0},
		{Size: 1 << 20, CapBytes: -1},
		{Size: 1 << 20, CapBytes: MinCapPages*PageSize - 1},
		{Size: (MaxPages + 1) * PageSize, CapBytes: 1 << 20},
	} {
		r, err := New(c)
		if err == nil {
			r.Close()
			t.Errorf("New(%+v) succeeded", c)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "swepc: ") || !strings.Contains(msg, "invalid") || strings.Contains(msg, "\n") {
			t.Errorf("New(%+v): unclear error %q", c, msg)
		}
	}
	// A cap above the size is fine: nothing is ever evicted.
	r := newRegion(t, 4, 64)
	if r.CapPages() != 4 {
		t.Errorf("cap %d pages, want 4", r.CapPages())
	}
	// Odd sizes round up to pages; the slice keeps the asked length.
	r2, err := New(Config{Size: 3*PageSize + 5, CapBytes: 10*PageSize + 100, quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if len(r2.Bytes()) != 3*PageSize+5 || r2.Pages() != 4 || r2.CapPages() != 4 {
		t.Errorf("len %d pages %d cap %d", len(r2.Bytes()), r2.Pages(), r2.CapPages())
	}
}

func TestDeniedError(t *testing.T) {
	check := func(err error) {
		t.Helper()
		if !errors.Is(err, ErrDenied) {
			t.Fatalf("err = %v, want ErrDenied", err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "vm.unprivileged_userfaultfd=1") ||
			!strings.Contains(msg, "CAP_SYS_PTRACE") || !strings.Contains(msg, "/dev/userfaultfd") {
			t.Errorf("unclear denial: %q", msg)
		}
	}
	_, err := New(Config{Size: 1 << 20, CapBytes: 1 << 16, Open: openDeny})
	check(err)
	t.Setenv(EnvOpen, "deny")
	_, err = New(Config{Size: 1 << 20, CapBytes: 1 << 16})
	check(err)
	t.Setenv(EnvOpen, "bogus")
	if _, err = New(Config{Size: 1 << 20, CapBytes: 1 << 16}); err == nil || !strings.Contains(err.Error(), EnvOpen) {
		t.Errorf("bad %s accepted: %v", EnvOpen, err)
	}
}

// Each way of opening the userfaultfd works (where permitted); the full
// ones also serve faults taken by the kernel inside a syscall.
func TestOpenModes(t *testing.T) {
	for _, m := range []OpenMode{OpenSyscall, OpenDevice, OpenUserMode} {
		t.Run(m.String(), func(t *testing.T) {
			r, err := New(Config{Size: 64 * PageSize, CapBytes: 8 * PageSize, Open: m, quiet: true})
			if err != nil {
				t.Skip(err)
			}
			defer r.Close()
			if r.Mode() != m || !strings.Contains(r.Kind(), "uffd="+m.String()) {
				t.Errorf("mode %v kind %q", r.Mode(), r.Kind())
			}
			mem := r.Bytes()
			for p := int64(0); p < 64; p++ {
				page(mem, p)[9] = byte(p)
			}
			for p := int64(0); p < 64; p++ {
				if page(mem, p)[9] != byte(p) {
					t.Fatalf("page %d wrong", p)
				}
			}
			// Page 1 is evicted now; hand it to write(2).
			if st := r.pageState(1); st&3 != 2 {
				t.Fatalf("page 1 state %#x", st)
			}
			f, err := os.CreateTemp(t.TempDir(), "k")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, err = f.Write(page(mem, 1))
			if m == OpenUserMode {
				if err == nil {
					t.Log("kernel-mode access of a non-resident page succeeded in user-mode-only mode")
				}
				return
			}
			if err != nil {
				t.Fatalf("write(2) from an evicted page: %v", err)
			}
			got := make([]byte, PageSize)
			if _, err := f.ReadAt(got, 0); err != nil || got[9] != 1 {
				t.Fatalf("read back %v %d", err, got[9])
			}
		})
	}
}

// Threads increment their own counters in the same few pages while those
// pages are evicted and loaded under them: no increment may be lost.
func TestConcurrentWritesSamePages(t *testing.T) {
	const pages, capPages, workers, rounds = 24, 8, 4, 60
	r := newRegion(t, pages, capPages)
	mem := r.Bytes()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w%2 == 0 {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			for i := 0; i < rounds; i++ {
				for p := int64(0); p < pages; p++ {
					c := (*uint64)(unsafe.Pointer(&page(mem, p)[w*64]))
					*c++
				}
			}
		}()
	}
	wg.Wait()
	for p := int64(0); p < pages; p++ {
		for w := 0; w < workers; w++ {
			if c := *(*uint64)(unsafe.Pointer(&page(mem, p)[w*64])); c != rounds {
				t.Errorf("page %d worker %d: counter %d, want %d", p, w, c, rounds)
			}
		}
	}
	if s := r.Stats(); s.Evictions == 0 || s.Loads == 0 || s.Resident > capPages {
		t.Errorf("no paging happened: %+v", s)
	}
}

type op struct {
	kind     int // 0 write, 1 read, 2 read shared page, 3 write whole page
	page     int
	off, len int
	seed     byte
}

var opGen = rapid.Custom(func(t *rapid.T) op {
	o := op{
		kind: rapid.IntRange(0, 3).Draw(t, "kind"),
		page: rapid.IntRange(0, 1<<20).Draw(t, "page"),
		off:  rapid.IntRange(0, PageSize-1).Draw(t, "off"),
		seed: rapid.Byte().Draw(t, "seed"),
	}
	o.len = rapid.IntRange(1, PageSize-o.off).Draw(t, "len")
	return o
})

func sharedPattern(p, i int) byte { return byte(p*7 + i*13 + 1) }

// Several goroutines, some locked to their own OS threads, write and read
// random pages of a region 16 times larger than its cap, against a shadow
// copy. Each goroutine writes only its own pages (so the shadow is exact)
// but evictions triggered by all of them hit all pages; a block of shared
// pages is read by everyone at once.
func TestPropertyConcurrentShadow(t *testing.T) {
	const pages, capPages, shared, workers = 1024, 64, 64, 4
	rapid.Check(t, func(rt *rapid.T) {
		procs := rapid.SampledFrom([]int{1, 2, 4}).Draw(rt, "gomaxprocs")
		ops := make([][]op, workers)
		for w := range ops {
			ops[w] = rapid.SliceOfN(opGen, 1, 120).Draw(rt, fmt.Sprintf("ops%d", w))
		}
		r, err := New(Config{Size: pages * PageSize, CapBytes: capPages * PageSize, quiet: true})
		if err != nil {
			rt.Fatal(err)
		}
		defer r.Close()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		mem := r.Bytes()
		shadow := make([]byte, len(mem))
		for p := 0; p < shared; p++ {
			for i := 0; i < PageSize; i++ {
				mem[p*PageSize+i] = sharedPattern(p, i)
			}
		}
		own := (pages - shared) / workers
		written := make([][]int, workers)
		errs := make(chan string, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if w%2 == 1 {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
				}
				for i, o := range ops[w] {
					if o.kind == 2 {
						p := o.page % shared
						for j := o.off; j < o.off+o.len; j++ {
							if mem[p*PageSize+j] != sharedPattern(p, j) {
								errs <- fmt.Sprintf("worker %d op %d: shared page %d byte %d wrong", w, i, p, j)
								return
							}
						}
						continue
					}
					p := shared + (o.page%own)*workers + w
					if o.kind != 1 {
						written[w] = append(written[w], p)
					}
					lo, hi := p*PageSize+o.off, p*PageSize+o.off+o.len
					switch o.kind {
					case 0:
						for j := lo; j < hi; j++ {
							v := o.seed + byte(j)
							mem[j], shadow[j] = v, v
						}
					case 1:
						if !bytes.Equal(mem[lo:hi], shadow[lo:hi]) {
							errs <- fmt.Sprintf("worker %d op %d: page %d [%d,%d) differs from the shadow", w, i, p, o.off, o.off+o.len)
							return
						}
					case 3:
						src := bytes.Repeat([]byte{o.seed, ^o.seed, byte(i)}, PageSize/3+1)[:PageSize]
						copy(mem[p*PageSize:], src)
						copy(shadow[p*PageSize:], src)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			rt.Fatal(e)
		}
		for _, ps := range written {
			for _, p := range ps {
				if !bytes.Equal(page(mem, int64(p)), page(shadow, int64(p))) {
					rt.Fatalf("page %d differs from the shadow at the end", p)
				}
			}
		}
		s := r.Stats()
		if s.IntegrityFailures != 0 || s.Resident > capPages || s.FirstTouch > pages {
			rt.Fatalf("stats %+v", s)
		}
	})
}

// Faults are served by a C thread: even at GOMAXPROCS=1 a load of an
// evicted page takes microseconds, not a scheduler tick.
func TestFaultsProgressAtGOMAXPROCS1(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n, c = 512, 64
	r := newRegion(t, n, c)
	mem := r.Bytes()
	for p := int64(0); p < n; p++ {
		page(mem, p)[0] = 1
	}
	before := r.Stats()
	start := time.Now()
	for p := int64(0); p < n; p++ {
		page(mem, p)[0]++
	}
	el := time.Since(start)
	after := r.Stats()
	loads := after.Loads - before.Loads
	t.Logf("handler: %d ns/fault, evict %d ns/fault, aged %d", (after.FaultNS-before.FaultNS)/loads, (after.EvictNS-before.EvictNS)/loads, after.Aged-before.Aged)
	if loads != n {
		t.Fatalf("%d loads, want %d", loads, n)
	}
	// Finishing at all at GOMAXPROCS=1 shows the handler does not need a P;
	// the latency target lives in BenchmarkFaultGOMAXPROCS1, not here.
	t.Logf("GOMAXPROCS=1: %v per load of an evicted page", el/time.Duration(loads))
}

// TestShareStats: counters moved to a shared file keep counting there, from
// the values they had, and read back as Stats says.
func TestShareStats(t *testing.T) {
	r := newRegion(t, 64, 32)
	mem := r.Bytes()
	for p := int64(0); p < 64; p++ { // first touch 64, evict 32
		page(mem, p)[0] = 1
	}
	path := filepath.Join(t.TempDir(), "stats")
	if err := r.ShareStats(path); err != nil {
		t.Fatal(err)
	}
	for p := int64(0); p < 64; p++ { // loads 64 more, evicts 64 more
		page(mem, p)[0] = 2
	}
	got, err := ReadSharedStats(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := r.Stats(); got != want || got.FirstTouch != 64 || got.Loads != 64 || got.Evictions != 96 {
		t.Fatalf("shared %+v, region %+v; want first touch 64, loads 64, evictions 96", got, want)
	}
	if _, err := ReadSharedStats(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("no error for a missing file")
	}
}
