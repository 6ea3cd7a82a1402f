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
		// Virtual and untouched until used: one counter per page each.
		l, err1 := syscall.Mmap(-1, 0, int(r.pages*4), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
		e, err2 := syscall.Mmap(-1, 0, int(r.pages*4), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
		if err1 != nil || err2 != nil {
			return nil
		}
		r.tally = &regionTally{prevLoads: unsafe.Slice((*uint32)(unsafe.Pointer(&l[0])), r.pages),
			prevEvicts: unsafe.Slice((*uint32)(unsafe.Pointer(&e[0])), r.pages), total: map[string][2]int64{}}
	}
	t := r.tally
	n := min(int64(used/4096), r.pages)
	var lp, ep *C.uint32_t
	C.swepc_page_counts(r.c, &lp, &ep)
	loads := unsafe.Slice((*uint32)(unsafe.Pointer(lp)), n)
	evicts := unsafe.Slice((*uint32)(unsafe.Pointer(ep)), n)
	names := [...]string{"", RegionHeap, RegionStacks, RegionHeapFree, RegionRuntime}
	for i := int64(0); i < n; i++ {
		l, e := atomic.LoadUint32(&loads[i]), atomic.LoadUint32(&evicts[i])
		dl, de := l-t.prevLoads[i], e-t.prevEvicts[i]
		if dl == 0 && de == 0 {
			continue
		}
		t.prevLoads[i], t.prevEvicts[i] = l, e
		if !classify {
			continue
		}
		p := base + uintptr(i)*4096
		name := ""
		for _, a := range arenas {
			if p >= a[0] && p < a[1] {
				name = RegionArena
				break
			}
		}
		if name == "" {
			k := procEPCKind(p)
			if int(k) >= len(names) || k == 0 {
				continue
			}
			name = names[k]
		}
		c := t.total[name]
		c[0] += int64(dl)
		c[1] += int64(de)
		t.total[name] = c
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
