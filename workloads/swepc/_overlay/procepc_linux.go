// Added to package runtime by enclavebench's sim build (go build -overlay,
// scripts/build-sim.sh); not part of the Go distribution. See
// workloads/swepc/process.go and docs/sim.md, "The whole process on the
// software EPC".

package runtime

import (
	"internal/runtime/atomic"
	"internal/runtime/exithook"
	"internal/runtime/syscall/linux"
	"unsafe"
)

// The process EPC. When the environment holds ENCLAVEBENCH_PROCESS_EPC=1 at
// start-up, every mapping the runtime asks the OS for (heap arenas, hence
// goroutine stacks; the heap's and the collector's metadata; persistentalloc;
// the page allocator's and scavenger's indexes) is carved out of one
// MAP_SHARED mapping of a memfd named "enclavebench-process-epc", created
// before the first allocation. The software EPC (workloads/swepc.AdoptProcess)
// later registers that mapping with userfaultfd and caps its resident pages,
// so the runtime's memory pays for EPC as in an enclave. As in EGo (whose
// Edgeless RT answers madvise with success and does nothing), memory the
// runtime releases stays committed: sysUnused, sysFree and the huge-page
// advice are no-ops in the region, and reused released memory is zeroed
// again (needZeroAfterSysUnusedOS).
//
// Without the variable nothing changes: every function below reports that
// the region is off and mem_linux.go does what the Go distribution does.
const (
	procEPCSize           = 64 << 30 // virtual; only touched pages cost anything
	procEPCArena          = 64 << 20 // heapArenaBytes on linux/amd64: keeps large reservations aligned
	procEPCPage           = 4096
	procEPCMapShrd        = 0x1
	procEPCNoRsv          = 0x4000
	procEPCMFDExec        = 0x1 // MFD_CLOEXEC
	procEPCSysMemfdCreate = 319 // linux/amd64
	procEPCSysFtruncate   = 77  // linux/amd64
)

var procEPC struct {
	state     uint32 // 0 not looked at, 1 off, 2 on; set before any other thread exists
	base, end uintptr
	next      atomic.Uintptr
	fd        int32
}

// procEPCName is the memfd's name (NUL-terminated).
var procEPCName = [...]byte{'e', 'n', 'c', 'l', 'a', 'v', 'e', 'b', 'e', 'n', 'c', 'h', '-', 'p', 'r', 'o', 'c', 'e', 's', 's', '-', 'e', 'p', 'c', 0}

// procEPCOn reports whether the region is in use, creating it at the first
// call. The first call comes from mallocinit, before any other thread.
//
//go:nosplit
func procEPCOn() bool {
	if procEPC.state == 0 {
		procEPCInit()
	}
	return procEPC.state == 2
}

//go:nosplit
func procEPCInit() {
	procEPC.state = 1
	if !procEPCWanted() {
		return
	}
	fd, _, errno := linux.Syscall6(procEPCSysMemfdCreate, uintptr(unsafe.Pointer(&procEPCName[0])), procEPCMFDExec, 0, 0, 0, 0)
	if errno != 0 {
		print("runtime: ENCLAVEBENCH_PROCESS_EPC: memfd_create failed, errno ", errno, "\n")
		exit(2)
	}
	if _, _, errno = linux.Syscall6(procEPCSysFtruncate, fd, procEPCSize, 0, 0, 0, 0); errno != 0 {
		print("runtime: ENCLAVEBENCH_PROCESS_EPC: ftruncate failed, errno ", errno, "\n")
		exit(2)
	}
	p, err := mmap(nil, procEPCSize, _PROT_READ|_PROT_WRITE, procEPCMapShrd|procEPCNoRsv, int32(fd), 0)
	if err != 0 {
		print("runtime: ENCLAVEBENCH_PROCESS_EPC: mmap of the region failed, errno ", err, "\n")
		exit(2)
	}
	madvise(p, procEPCSize, _MADV_NOHUGEPAGE) // 4 KiB pages, as the EPC's
	procEPC.fd = int32(fd)
	procEPC.base = uintptr(p)
	procEPC.end = uintptr(p) + procEPCSize
	procEPC.next.Store(uintptr(p))
	procEPC.state = 2
}

// procEPCWanted looks for ENCLAVEBENCH_PROCESS_EPC=1 in the environment
// block (the runtime has not parsed it yet).
//
//go:nosplit
func procEPCWanted() bool {
	const want = "ENCLAVEBENCH_PROCESS_EPC=1"
	for i := argc + 1; ; i++ {
		p := argv_index(argv, i)
		if p == nil {
			return false
		}
		ok := true
		for j := 0; j <= len(want); j++ {
			c := *(*byte)(add(unsafe.Pointer(p), uintptr(j)))
			if j == len(want) {
				ok = ok && c == 0
				break
			}
			if c != want[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
}

// procEPCIn reports whether [v, v+n) lies in the region.
//
//go:nosplit
func procEPCIn(v unsafe.Pointer, n uintptr) bool {
	return procEPC.state == 2 && uintptr(v) >= procEPC.base && uintptr(v)+n <= procEPC.end
}

// procEPCAlloc carves n bytes out of the region: at v when v is given and
// lies above everything handed out so far (so the heap's arena hints grow
// contiguously), anywhere otherwise (aligned to heap arenas when that
// large). It returns nil when v is outside or below, so the runtime tries
// its next hint, and when the region is exhausted.
//
//go:nosplit
func procEPCAlloc(v unsafe.Pointer, n uintptr) unsafe.Pointer {
	n = alignUp(n, procEPCPage)
	for {
		cur := procEPC.next.Load()
		at := uintptr(v)
		switch {
		case at != 0:
			if at < cur || at&(procEPCPage-1) != 0 {
				return nil
			}
		case n >= procEPCArena:
			at = alignUp(cur, procEPCArena)
		default:
			at = cur
		}
		if at+n < at || at+n > procEPC.end {
			return nil
		}
		if procEPC.next.CompareAndSwap(cur, at+n) {
			return unsafe.Pointer(at)
		}
	}
}

// procEPCKind says what the runtime uses address p of the region for, so
// that the software EPC can attribute EPC loads to it (workloads/swepc,
// Region.ByRegion): 1 a heap span in use, 2 a span of goroutine stacks
// (manually managed), 3 heap arena memory in no span in use, 4 elsewhere in
// the region (the runtime's metadata: heap arena headers, persistentalloc,
// the page allocator's indexes), 0 outside the region. It reads the heap's
// arena index without a lock: a span may change state meanwhile, which
// moves one page's count between kinds, never loses it.
//
//go:linkname procEPCKind
//go:nosplit
func procEPCKind(p uintptr) uint8 {
	if !procEPCIn(unsafe.Pointer(p), 1) {
		return 0
	}
	ri := arenaIndex(p)
	if ri.l1() >= uint(len(mheap_.arenas)) {
		return 4
	}
	l2 := mheap_.arenas[ri.l1()]
	if l2 == nil || ri.l2() >= uint(len(l2)) {
		return 4
	}
	ha := l2[ri.l2()]
	if ha == nil {
		return 4
	}
	s := ha.spans[(p/pageSize)%pagesPerArena]
	if s == nil {
		return 3
	}
	switch s.state.get() {
	case mSpanInUse:
		return 1
	case mSpanManual:
		return 2
	}
	return 3
}

// procEPCAtExit runs f when the process exits (os.Exit or main's return,
// whatever the code), for the software EPC's classifier (Region.ShareRegions):
// a test binary has no other end its last EPC loads could be attributed at.
//
//go:linkname procEPCAtExit
func procEPCAtExit(f func()) {
	exithook.Add(exithook.Hook{F: f, RunOnFailure: true})
}

// procEPCExtent is the region's base and the bytes handed out so far.
//
//go:linkname procEPCExtent
//go:nosplit
func procEPCExtent() (base, used uintptr) {
	if procEPC.state != 2 {
		return 0, 0
	}
	return procEPC.base, procEPC.next.Load() - procEPC.base
}
