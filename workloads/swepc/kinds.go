//go:build linux && sim && cgo

package swepc

/*
#include "handler.h"
*/
import "C"

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Regions of the process EPC that EPC loads and evictions are attributed to.
const (
	RegionArena    = "arena"     // a workload's arena (in the Go heap in the paging pass)
	RegionHeap     = "go_heap"   // the rest of the Go heap's spans in use
	RegionStacks   = "stacks"    // goroutine stacks
	RegionHeapFree = "heap_free" // heap arena memory in no span in use (freed, not yet reused)
	RegionRuntime  = "runtime"   // the runtime's metadata
)

// ByRegion sums the process EPC's loads and evictions so far by the region
// of memory their page belonged to when ByRegion was next called after
// them (arenas: address ranges of the workload's arenas, which count as
// RegionArena): call it at the ends of what is measured. The totals only
// grow. Nil when this binary has no classifier (built without the
// overlay), or r is not the process EPC.
func (r *Region) ByRegion(arenas [][2]uintptr) map[string][2]int64 {
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
		l, err1 := unix.Mmap(-1, 0, int(r.pages*4), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
		e, err2 := unix.Mmap(-1, 0, int(r.pages*4), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
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
