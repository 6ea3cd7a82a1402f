//go:build linux && sim && cgo

package swepc

/*
#include "handler.h"
*/
import "C"

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// ByRegion sums the process EPC's loads and evictions so far by the region
// of memory their page belonged to when ByRegion was next called after
// them (arenas: address ranges of the workload's arenas, which count as
// RegionArena): call it at the ends of what is measured. The totals only
// grow. Nil when this binary has no classifier (built without the
// overlay), or r is not the process EPC.
func (r *Region) ByRegion(arenas [][2]uintptr) map[string][2]int64 {
	return r.look(arenas, true)
}

// SkipRegions moves ByRegion's starting point to now without attributing
// the loads and evictions since its last call (they never enter its
// totals), and returns the totals as ByRegion does. Unlike ByRegion it reads only the software EPC's own counters,
// none of the runtime's metadata, which on the process EPC would itself be
// EPC loads: call it where a measured window starts (ByRegion where it
// ends, after the window's counters are read), so the classifier adds no
// loads to a window.
func (r *Region) SkipRegions() map[string][2]int64 {
	return r.look(nil, false)
}

// look is ByRegion, or with classify false SkipRegions.
func (r *Region) look(arenas [][2]uintptr, classify bool) map[string][2]int64 {
	if !haveKinds || !r.process {
		return nil
	}
	base, used := procEPCExtent()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil || base == 0 {
		return nil
	}
	if r.tally == nil {
		// Virtual and untouched until used, outside the software EPC: one
		// counter per page each.
		var arrs [4][]uint32
		for k := range arrs {
			m, err := syscall.Mmap(-1, 0, int(r.pages*4), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
			if err != nil {
				return nil
			}
			arrs[k] = unsafe.Slice((*uint32)(unsafe.Pointer(&m[0])), r.pages)
		}
		r.tally = &regionTally{prevLoads: arrs[0], prevEvicts: arrs[1], dLoads: arrs[2], dEvicts: arrs[3], total: map[string][2]int64{}}
	}
	t := r.tally
	n := min(int64(used/4096), r.pages)
	var lp, ep *C.uint32_t
	C.swepc_page_counts(r.c, &lp, &ep)
	loads := unsafe.Slice((*uint32)(unsafe.Pointer(lp)), n)
	evicts := unsafe.Slice((*uint32)(unsafe.Pointer(ep)), n)
	// First the counts since the last look, all pages at once and reading
	// nothing on the EPC; then the classification, whose reads of the
	// runtime's metadata are EPC loads themselves: they stay in the live
	// counters for the next look (the paging pass's next window start,
	// SkipRegions, drops them), never in this one.
	lo, hi := n, int64(0)
	for i := int64(0); i < n; i++ {
		l, e := atomic.LoadUint32(&loads[i]), atomic.LoadUint32(&evicts[i])
		dl, de := l-t.prevLoads[i], e-t.prevEvicts[i]
		if dl == 0 && de == 0 {
			continue
		}
		t.prevLoads[i], t.prevEvicts[i] = l, e
		if classify {
			t.dLoads[i], t.dEvicts[i] = dl, de
			lo, hi = min(lo, i), i+1
		}
	}
	names := [...]string{"", RegionHeap, RegionStacks, RegionHeapFree, RegionRuntime, RegionArena}
	const arenaKind = 5
	var sum [len(names)][2]int64
	for i := lo; i < hi; i++ {
		dl, de := t.dLoads[i], t.dEvicts[i]
		if dl == 0 && de == 0 {
			continue
		}
		t.dLoads[i], t.dEvicts[i] = 0, 0
		p := base + uintptr(i)*4096
		k := uint8(0)
		for _, a := range arenas {
			if p >= a[0] && p < a[1] {
				k = arenaKind
				break
			}
		}
		if k == 0 {
			k = procEPCKind(p)
			if int(k) >= arenaKind || k == 0 {
				continue
			}
		}
		sum[k][0] += int64(dl)
		sum[k][1] += int64(de)
	}
	for k, c := range sum {
		if c != [2]int64{} {
			v := t.total[names[k]]
			t.total[names[k]] = [2]int64{v[0] + c[0], v[1] + c[1]}
		}
	}
	out := make(map[string][2]int64, len(t.total))
	for k, v := range t.total {
		out[k] = v
	}
	return out
}

// ShareRegions attributes the process EPC's loads and evictions to regions
// (ByRegion, no arenas) when the process exits (a runtime exit hook: a
// user's test binary has no other end it could be called at), by the
// region each page is in then, and writes the totals to the file path
// (SharedRegionsSize bytes, read by ReadSharedRegions), mapped outside
// the software EPC. It looks once, not periodically: a look reads the
// runtime's metadata of every changed page, itself EPC loads (~170 per
// look measured on gokv at 2xEPC), which looks in proportion to the run's
// length would add to a longer run's count.
func (r *Region) ShareRegions(path string) error {
	if !haveKinds || !r.process {
		return fmt.Errorf("swepc: no region classifier (not the process EPC, or built without the runtime overlay)")
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(int64(SharedRegionsSize)); err != nil {
		return err
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, SharedRegionsSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("swepc: mapping the shared region counters: %w", err)
	}
	share := func() {
		m := r.ByRegion(nil)
		for i, name := range RegionNames {
			c := m[name]
			atomic.StoreUint64((*uint64)(unsafe.Pointer(&mem[16*i])), uint64(c[0]))
			atomic.StoreUint64((*uint64)(unsafe.Pointer(&mem[16*i+8])), uint64(c[1]))
		}
	}
	procEPCAtExit(share)
	return nil
}
