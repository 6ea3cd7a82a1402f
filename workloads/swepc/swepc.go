//go:build linux && sim && cgo

package swepc

/*
#cgo CFLAGS: -O2 -Wall
#cgo LDFLAGS: -lcrypto -lpthread
#include <stdlib.h>
#include "handler.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// uffd features (include/uapi/linux/userfaultfd.h).
const (
	featureMinorShmem = 1 << 10 // UFFD_FEATURE_MINOR_SHMEM, Linux 5.14
	featurePoison     = 1 << 14 // UFFD_FEATURE_POISON, Linux 6.6
)

// Region is a software EPC region.
type Region struct {
	mu       sync.Mutex // guards c against Close
	c        *C.swepc
	mem      []byte
	pages    int64
	capPages int64
	mode     OpenMode
	poison   bool
	process  bool  // the process EPC (AdoptProcess): never closed
	last     Stats // counters at Close
	closeErr error
	tally    *regionTally // ByRegion's state (the process EPC)
}

// regionTally is what ByRegion has attributed so far: each page's counts
// at the last call (in memory outside the process EPC, so that keeping it
// pages nothing) and the totals by region.
type regionTally struct {
	prevLoads, prevEvicts []uint32
	// dLoads and dEvicts hold a look's per-page counts between its
	// snapshot and its classification (zero outside a look).
	dLoads, dEvicts []uint32
	total           map[string][2]int64
}

// New creates a region of c.Size bytes, zeroed, of which at most c.CapBytes
// (rounded down to pages) are resident at any time, and starts its fault
// handler thread. Errors are one line.
func New(c Config) (*Region, error) {
	pages, capPages, err := c.geometry()
	if err != nil {
		return nil, err
	}
	modes, err := c.openModes()
	if err != nil {
		return nil, err
	}
	fd, mode, err := openUffd(modes)
	if err != nil {
		return nil, err
	}
	// Probe the features on this fd (UFFDIO_API may be issued only once per
	// fd), then enable what is needed on a fresh one of the same kind.
	var avail C.uint64_t
	var cerr C.int
	if C.swepc_uffd_api(C.int(fd), 0, &avail, &cerr) != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("swepc: UFFDIO_API: %v", syscall.Errno(cerr))
	}
	syscall.Close(fd)
	if avail&featureMinorShmem == 0 {
		return nil, errors.New("swepc: this kernel's userfaultfd lacks minor faults on shmem (UFFD_FEATURE_MINOR_SHMEM, Linux >= 5.14)")
	}
	want := C.uint64_t(featureMinorShmem)
	poison := avail&featurePoison != 0
	if poison {
		want |= featurePoison
	}
	fd, _, err = openUffd([]OpenMode{mode})
	if err != nil {
		return nil, err
	}
	if C.swepc_uffd_api(C.int(fd), want, &avail, &cerr) != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("swepc: UFFDIO_API (features %#x): %v", uint64(want), syscall.Errno(cerr))
	}
	var why [256]C.char
	quiet := C.int(0)
	if c.quiet {
		quiet = 1
	}
	poisonC := C.int(0)
	if poison {
		poisonC = 1
	}
	// swepc_new owns fd from here on.
	h := C.swepc_new(C.int(fd), poisonC, C.uint64_t(pages), C.uint64_t(capPages), quiet, &why[0], C.int(len(why)))
	if h == nil {
		return nil, fmt.Errorf("swepc: %s", C.GoString(&why[0]))
	}
	base := C.swepc_base(h)
	r := &Region{
		c:        h,
		mem:      unsafe.Slice((*byte)(base), c.Size),
		pages:    pages,
		capPages: capPages,
		mode:     mode,
		poison:   poison,
	}
	return r, nil
}

func openUffd(modes []OpenMode) (int, OpenMode, error) {
	var attempts []Attempt
	enosys, other := false, false
	for _, m := range modes {
		var how C.int
		switch m {
		case OpenSyscall:
			how = C.SWEPC_OPEN_SYSCALL
		case OpenDevice:
			how = C.SWEPC_OPEN_DEV
		case OpenUserMode:
			how = C.SWEPC_OPEN_USERMODE
		case openDeny:
			for _, d := range []OpenMode{OpenSyscall, OpenDevice, OpenUserMode} {
				attempts = append(attempts, Attempt{Mode: d, Err: syscall.EPERM})
			}
			other = true
			continue
		default:
			return -1, m, fmt.Errorf("swepc: unknown open mode %v", m)
		}
		var cerr C.int
		fd := C.swepc_uffd_open(how, &cerr)
		if fd >= 0 {
			return int(fd), m, nil
		}
		e := syscall.Errno(cerr)
		switch {
		case e == syscall.ENOSYS:
			enosys = true
		case m == OpenDevice && e == syscall.ENOENT:
			// A missing device node says nothing about the kernel.
		default:
			other = true
		}
		attempts = append(attempts, Attempt{Mode: m, Err: e})
	}
	return -1, OpenAuto, &DeniedError{Attempts: attempts, NoKernel: enosys && !other}
}

// Bytes is the region; valid until Close.
func (r *Region) Bytes() []byte { return r.mem }

// Pages is the region's size in pages.
func (r *Region) Pages() int64 { return r.pages }

// CapPages is how many pages may be resident.
func (r *Region) CapPages() int64 { return r.capPages }

// Mode says how the userfaultfd was obtained.
func (r *Region) Mode() OpenMode { return r.mode }

// Poison reports whether an integrity failure poisons the page (SIGBUS to
// the faulting thread) rather than ending the process.
func (r *Region) Poison() bool { return r.poison }

// Kind names the backing, e.g. "swepc(cap=24.0MiB, clock, aes-gcm, uffd=syscall)".
func (r *Region) Kind() string { return kind(r.capPages, r.mode) }

// Stats returns the counters. After Close they stay at their last values.
func (r *Region) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return r.last
	}
	return r.statsLocked()
}

func (r *Region) statsLocked() Stats {
	var s C.swepc_stats
	C.swepc_get_stats(r.c, &s)
	return Stats{
		Loads:             int64(s.loads),
		Evictions:         int64(s.evictions),
		FirstTouch:        int64(s.first_touch),
		Refaults:          int64(s.refaults),
		Aged:              int64(s.aged),
		Faults:            int64(s.faults),
		Stale:             int64(s.stale),
		FaultNS:           int64(s.fault_ns),
		EvictNS:           int64(s.evict_ns),
		IntegrityFailures: int64(s.integrity_failures),
		Resident:          int64(s.resident),
	}
}

// Err returns the first integrity failure (*IntegrityError), or nil.
func (r *Region) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return r.closeErr
	}
	return r.errLocked()
}

func (r *Region) errLocked() error {
	var page, version, addr C.uint64_t
	if C.swepc_get_error(r.c, &page, &version, &addr) == 0 {
		return nil
	}
	return &IntegrityError{Page: int64(page), Version: uint64(version), Addr: uintptr(addr)}
}

// Close stops the handler and unmaps the region; using Bytes afterwards
// crashes. It returns the integrity failure, if there was one.
func (r *Region) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return r.closeErr
	}
	if r.process {
		return errors.New("swepc: the process EPC holds the Go runtime's memory and cannot be closed")
	}
	r.last = r.statsLocked()
	r.closeErr = r.errLocked()
	C.swepc_close(r.c)
	r.c, r.mem = nil, nil
	return r.closeErr
}

// ---- test hooks ----

// pageState returns the handler's state byte of page p (-1 if out of range).
func (r *Region) pageState(p int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(C.swepc_test_state(r.c, C.uint64_t(p)))
}

// flipBacking flips one bit of byte off of evicted page p's sealed slot.
func (r *Region) flipBacking(p, off int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if C.swepc_test_flip(r.c, C.uint64_t(p), C.uint64_t(off)) != 0 {
		return fmt.Errorf("page %d is not evicted", p)
	}
	return nil
}

// backingSlot copies evicted page p's sealed slot.
func (r *Region) backingSlot(p int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := make([]byte, C.SWEPC_SLOT)
	if C.swepc_test_get_slot(r.c, C.uint64_t(p), unsafe.Pointer(&b[0])) != 0 {
		return nil, fmt.Errorf("page %d is not evicted", p)
	}
	return b, nil
}

// putBackingSlot overwrites evicted page p's sealed slot.
func (r *Region) putBackingSlot(p int64, b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(b) != C.SWEPC_SLOT {
		return fmt.Errorf("slot is %d bytes, want %d", len(b), C.SWEPC_SLOT)
	}
	if C.swepc_test_put_slot(r.c, C.uint64_t(p), unsafe.Pointer(&b[0])) != 0 {
		return fmt.Errorf("page %d is not evicted", p)
	}
	return nil
}

// ShareStats moves the region's counters into a file at path (created, or
// truncated, to SharedStatsSize bytes and mapped shared for the rest of the
// process), where ReadSharedStats reads them, also after this process
// exits: a user's test binary on the process EPC cannot report them itself
// at its end (bench/gotest). Once per region.
func (r *Region) ShareStats(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(SharedStatsSize); err != nil {
		return err
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, SharedStatsSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("swepc: mapping the shared counters: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		syscall.Munmap(mem)
		return errors.New("swepc: the region is closed")
	}
	C.swepc_share_stats(r.c, (*C.swepc_stats)(unsafe.Pointer(&mem[0])))
	return nil
}

// The counters' layout in C (handler.h, swepc_stats): 11 uint64 fields.
var _ = [1]struct{}{}[unsafe.Sizeof(C.swepc_stats{})-SharedStatsSize]
