//go:build linux && sim

package swepc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

const (
	// PageSize is the EPC page size.
	PageSize = 4096
	// MinCapPages is the smallest cap: a few pages, so that the pages one
	// instruction touches (up to two, for an access that straddles a page
	// boundary) and a few concurrent faulting threads cannot evict each
	// other's pages before they are used.
	MinCapPages = 8
	// MaxPages is the largest region, in pages.
	MaxPages = 1<<32 - 1
)

// EnvOpen is the environment variable that forces how the userfaultfd is
// obtained: "syscall", "dev", "usermode" or "deny" (act as if denied).
const EnvOpen = "ENCLAVEBENCH_SWEPC_UFFD"

// OpenMode says how a userfaultfd is obtained.
type OpenMode int

const (
	// OpenAuto tries OpenSyscall, OpenDevice, OpenUserMode in turn
	// (or what EnvOpen names).
	OpenAuto OpenMode = iota
	// OpenSyscall is userfaultfd(2) without flags: handles kernel-mode
	// faults; needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1.
	OpenSyscall
	// OpenDevice is /dev/userfaultfd (USERFAULTFD_IOC_NEW, Linux >= 6.1):
	// handles kernel-mode faults; needs read-write access to the device.
	OpenDevice
	// OpenUserMode is userfaultfd(2) with UFFD_USER_MODE_ONLY (Linux >=
	// 5.11, no privilege): syscalls touching a non-resident page of the
	// region fail with EFAULT.
	OpenUserMode
	// openDeny fails every attempt with EPERM (tests, EnvOpen=deny).
	openDeny
)

func (m OpenMode) String() string {
	switch m {
	case OpenAuto:
		return "auto"
	case OpenSyscall:
		return "syscall"
	case OpenDevice:
		return "dev"
	case OpenUserMode:
		return "usermode"
	case openDeny:
		return "deny"
	}
	return fmt.Sprintf("OpenMode(%d)", int(m))
}

// Config describes a software EPC region.
type Config struct {
	// Size of the region in bytes (> 0); rounded up to pages.
	Size int64
	// CapBytes is how many bytes may be resident; rounded down to pages,
	// at least MinCapPages pages. A cap above Size never evicts.
	CapBytes int64
	// Open selects how the userfaultfd is obtained.
	Open OpenMode

	quiet bool // tests: no stderr line on an integrity failure
}

// geometry validates c and returns the region's and cap's page counts.
func (c Config) geometry() (pages, capPages int64, err error) {
	if c.Size <= 0 {
		return 0, 0, fmt.Errorf("swepc: region size %d bytes is invalid: it must be positive", c.Size)
	}
	pages = (c.Size + PageSize - 1) / PageSize
	if pages > MaxPages || c.Size > MaxPages*PageSize {
		return 0, 0, fmt.Errorf("swepc: region size %d bytes is invalid: at most %d pages of %d bytes", c.Size, int64(MaxPages), PageSize)
	}
	capPages = c.CapBytes / PageSize
	if capPages < MinCapPages {
		return 0, 0, fmt.Errorf("swepc: cap %d bytes is invalid: it must hold at least %d pages of %d bytes (%d bytes)",
			c.CapBytes, MinCapPages, PageSize, MinCapPages*PageSize)
	}
	if capPages > pages { // no min(): bench/gotest compiles this file at Go 1.11's language version
		capPages = pages
	}
	if ps := os.Getpagesize(); ps != PageSize {
		return 0, 0, fmt.Errorf("swepc: system page size is %d bytes, the software EPC needs %d", ps, PageSize)
	}
	return pages, capPages, nil
}

// openModes returns the ways to try, in order.
func (c Config) openModes() ([]OpenMode, error) {
	m := c.Open
	if m == OpenAuto {
		switch v := strings.TrimSpace(os.Getenv(EnvOpen)); v {
		case "", "auto":
		case "syscall":
			m = OpenSyscall
		case "dev":
			m = OpenDevice
		case "usermode":
			m = OpenUserMode
		case "deny":
			m = openDeny
		default:
			return nil, fmt.Errorf("swepc: %s=%q: want syscall, dev, usermode, deny or auto", EnvOpen, v)
		}
	}
	if m == OpenAuto {
		return []OpenMode{OpenSyscall, OpenDevice, OpenUserMode}, nil
	}
	return []OpenMode{m}, nil
}

// ErrDenied is matched (errors.Is) by the error New returns when no way of
// obtaining a userfaultfd is permitted.
var ErrDenied = errors.New("userfaultfd denied")

// DeniedError says that no userfaultfd could be obtained, and why.
type DeniedError struct {
	Attempts []Attempt
	// NoKernel is set when the kernel lacks userfaultfd altogether.
	NoKernel bool
}

// Attempt is one failed way of obtaining a userfaultfd.
type Attempt struct {
	Mode OpenMode
	Err  error
}

func (e *DeniedError) Error() string {
	var b strings.Builder
	if e.NoKernel {
		b.WriteString("swepc: userfaultfd is not available in this kernel (CONFIG_USERFAULTFD)")
	} else {
		b.WriteString("swepc: userfaultfd denied")
	}
	b.WriteString(" (")
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", attemptName(a.Mode), a.Err)
	}
	b.WriteString(")")
	if !e.NoKernel {
		b.WriteString(": set vm.unprivileged_userfaultfd=1 or grant CAP_SYS_PTRACE / read-write access to /dev/userfaultfd, and allow the userfaultfd syscall in any seccomp profile")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

func attemptName(m OpenMode) string {
	switch m {
	case OpenSyscall:
		return "userfaultfd(2)"
	case OpenDevice:
		return "/dev/userfaultfd"
	case OpenUserMode:
		return "userfaultfd(2) user-mode-only"
	}
	return m.String()
}

// IntegrityError is a sealed page that failed verification when it was
// loaded: its backing copy was tampered with or replayed.
type IntegrityError struct {
	Page    int64   // page index in the region
	Version uint64  // version the page was expected to have
	Addr    uintptr // address of the page
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("swepc: integrity check failed loading page %d at %#x (version %d): its sealed backing copy was tampered with or replayed", e.Page, e.Addr, e.Version)
}

// Stats are a region's event counts since it was created.
type Stats struct {
	Loads             int64 // evicted pages decrypted, verified and mapped (ELDU)
	Evictions         int64 // resident pages sealed out and dropped (EWB)
	FirstTouch        int64 // never-written pages mapped as zeros
	Refaults          int64 // aged pages used again (CLOCK reference faults)
	Aged              int64 // references cleared by the CLOCK hand
	Faults            int64 // userfaults handled
	Stale             int64 // userfaults for pages that were mapped already
	FaultNS           int64 // handler time spent on faults
	EvictNS           int64 // part of FaultNS spent finding and evicting victims
	IntegrityFailures int64 // loads refused because verification failed
	Resident          int64 // pages resident now
}

// Map returns the counters under their event names. Only monotonic counts
// are included (Resident is a gauge), so differences between two maps are
// meaningful. Keys: epc_loads, epc_evictions (protocol.EventEPCLoads,
// protocol.EventEPCEvicts), epc_first_touch, epc_refaults, epc_aged,
// epc_faults, epc_stale_faults, epc_fault_ns, epc_evict_ns,
// epc_integrity_failures.
func (s Stats) Map() map[string]int64 {
	return map[string]int64{
		protocol.EventEPCLoads:   s.Loads,
		protocol.EventEPCEvicts:  s.Evictions,
		"epc_first_touch":        s.FirstTouch,
		"epc_refaults":           s.Refaults,
		"epc_aged":               s.Aged,
		"epc_faults":             s.Faults,
		"epc_stale_faults":       s.Stale,
		"epc_fault_ns":           s.FaultNS,
		"epc_evict_ns":           s.EvictNS,
		"epc_integrity_failures": s.IntegrityFailures,
	}
}

// kind names a region's backing for reports.
func kind(capPages int64, mode OpenMode) string {
	return fmt.Sprintf("swepc(cap=%.1fMiB, clock, aes-gcm, uffd=%s)", float64(capPages*PageSize)/(1<<20), mode)
}

// Regions of the process EPC that EPC loads and evictions are attributed to.
const (
	RegionArena    = "arena"     // a workload's arena (in the Go heap in the paging pass)
	RegionHeap     = "go_heap"   // the rest of the Go heap's spans in use
	RegionStacks   = "stacks"    // goroutine stacks
	RegionHeapFree = "heap_free" // heap arena memory in no span in use (freed, not yet reused)
	RegionRuntime  = "runtime"   // the runtime's metadata
)

// RegionNames are the regions in the order of Region.ShareRegions' file.
var RegionNames = [...]string{RegionArena, RegionHeap, RegionStacks, RegionHeapFree, RegionRuntime}

// SharedRegionsSize is the size of Region.ShareRegions' file: loads then
// evictions of each of RegionNames, each a little-endian uint64.
const SharedRegionsSize = len(RegionNames) * 16

// ReadSharedRegions reads the loads and evictions by region a process
// shared in path (Region.ShareRegions), regions with none left out.
func ReadSharedRegions(path string) (map[string][2]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != SharedRegionsSize {
		return nil, fmt.Errorf("swepc: %s holds %d bytes, not the %d of shared region counters", path, len(b), SharedRegionsSize)
	}
	out := map[string][2]int64{}
	for i, name := range RegionNames {
		c := [2]int64{int64(binary.LittleEndian.Uint64(b[16*i:])), int64(binary.LittleEndian.Uint64(b[16*i+8:]))}
		if c != [2]int64{} {
			out[name] = c
		}
	}
	return out, nil
}

// SharedStatsSize is the size of the counters Region.ShareStats writes: the
// fields of Stats in order, each a little-endian uint64.
const SharedStatsSize = 11 * 8

// ReadSharedStats reads the counters a region shared in path
// (Region.ShareStats).
func ReadSharedStats(path string) (Stats, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Stats{}, err
	}
	if len(b) != SharedStatsSize {
		return Stats{}, fmt.Errorf("swepc: %s holds %d bytes, not the %d of shared counters", path, len(b), SharedStatsSize)
	}
	var v [11]int64
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return Stats{Loads: v[0], Evictions: v[1], FirstTouch: v[2], Refaults: v[3], Aged: v[4], Faults: v[5], Stale: v[6],
		FaultNS: v[7], EvictNS: v[8], IntegrityFailures: v[9], Resident: v[10]}, nil
}
