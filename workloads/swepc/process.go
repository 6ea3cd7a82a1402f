//go:build linux && sim && cgo

package swepc

/*
#include <stdlib.h>
#include "handler.h"
*/
import "C"

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// ProcessEnv is the environment variable that, set to "1" when a binary
// built with the process-EPC overlay starts (scripts/build-sim.sh), makes
// its Go runtime take all its memory from one region, which AdoptProcess
// then puts under the software EPC.
const ProcessEnv = "ENCLAVEBENCH_PROCESS_EPC"

// processMemfd is the name the overlaid runtime gives the region's memfd
// (workloads/swepc/_overlay/procepc_linux.go).
const processMemfd = "/memfd:enclavebench-process-epc"

// ErrNoOverlay is matched (errors.Is) by AdoptProcess's error when the
// binary's runtime has no process EPC: it was built without the overlay.
var ErrNoOverlay = errors.New("built without the process-EPC overlay")

var (
	processMu     sync.Mutex
	processRegion *Region
)

// ProcessMapping is the process EPC's mapping as /proc/self/maps shows it.
type ProcessMapping struct {
	Base, Size uintptr
}

// FindProcess returns the overlaid runtime's region, or an error wrapping
// ErrNoOverlay (with the reason) when this process has none.
func FindProcess() (ProcessMapping, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return ProcessMapping{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, processMemfd) {
			continue
		}
		rng, _, _ := strings.Cut(line, " ")
		lo, hi, _ := strings.Cut(rng, "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || b <= a {
			return ProcessMapping{}, fmt.Errorf("swepc: cannot read the process EPC's mapping %q", line)
		}
		return ProcessMapping{Base: uintptr(a), Size: uintptr(b - a)}, nil
	}
	if os.Getenv(ProcessEnv) != "1" {
		return ProcessMapping{}, fmt.Errorf("swepc: no process EPC: %s=1 was not in the environment when this process started", ProcessEnv)
	}
	return ProcessMapping{}, fmt.Errorf("swepc: no process EPC although %s=1: this binary's Go runtime was %w (build it with scripts/build-sim.sh), so its heap, stacks and runtime memory would not be on the software EPC", ProcessEnv, ErrNoOverlay)
}

// AdoptProcess puts the whole process's Go memory under the software EPC:
// the overlaid runtime's region, capped at capBytes resident bytes, with the
// same CLOCK and AES-GCM backing as New. It needs a userfaultfd that handles
// faults in system calls (a read(2) into the Go heap must page in, not fail
// with EFAULT), so the user-mode-only kind is refused. Once per process;
// the region is never closed.
func AdoptProcess(capBytes int64) (*Region, error) {
	processMu.Lock()
	defer processMu.Unlock()
	if processRegion != nil {
		return nil, errors.New("swepc: the process EPC is adopted already")
	}
	m, err := FindProcess()
	if err != nil {
		return nil, err
	}
	c := Config{Size: int64(m.Size), CapBytes: capBytes}
	pages, capPages, err := c.geometry()
	if err != nil {
		return nil, err
	}
	memfd, err := findMemfd()
	if err != nil {
		return nil, err
	}
	modes, err := c.openModes()
	if err != nil {
		syscall.Close(memfd)
		return nil, err
	}
	var kernel []OpenMode
	for _, md := range modes {
		if md != OpenUserMode {
			kernel = append(kernel, md)
		}
	}
	if len(kernel) == 0 {
		syscall.Close(memfd)
		return nil, fmt.Errorf("swepc: the whole process on the software EPC needs a userfaultfd that handles faults in system calls, not %s=usermode: set vm.unprivileged_userfaultfd=1 or grant CAP_SYS_PTRACE / read-write access to /dev/userfaultfd", EnvOpen)
	}
	fd, mode, err := openUffd(kernel)
	if err != nil {
		syscall.Close(memfd)
		var de *DeniedError
		if errors.As(err, &de) && !de.NoKernel {
			return nil, fmt.Errorf("%w (the whole process on the software EPC cannot use the user-mode-only kind: system calls read and write the Go heap)", err)
		}
		return nil, err
	}
	var avail C.uint64_t
	var cerr C.int
	want := C.uint64_t(featureMinorShmem)
	if C.swepc_uffd_api(C.int(fd), want|featurePoison, &avail, &cerr) != 0 {
		// Without poisoning (Linux < 6.6) ask for the minor faults alone.
		syscall.Close(fd)
		if fd, _, err = openUffd([]OpenMode{mode}); err != nil {
			syscall.Close(memfd)
			return nil, err
		}
		if C.swepc_uffd_api(C.int(fd), want, &avail, &cerr) != 0 {
			syscall.Close(fd)
			syscall.Close(memfd)
			return nil, fmt.Errorf("swepc: UFFDIO_API (minor faults on shmem, Linux >= 5.14): %v", syscall.Errno(cerr))
		}
	}
	poison := avail&featurePoison != 0
	poisonC := C.int(0)
	if poison {
		poisonC = 1
	}
	var why [256]C.char
	h := C.swepc_adopt(C.int(fd), poisonC, C.int(memfd), C.uint64_t(m.Base), C.uint64_t(pages), C.uint64_t(capPages), 0, &why[0], C.int(len(why)))
	if h == nil {
		return nil, fmt.Errorf("swepc: adopting the process EPC: %s", C.GoString(&why[0]))
	}
	r := &Region{c: h, pages: pages, capPages: capPages, mode: mode, poison: poison, process: true}
	processRegion = r
	return r, nil
}

// findMemfd returns a descriptor of the region's memfd (a duplicate the
// software EPC owns).
func findMemfd() (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1, err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, processMemfd) {
			return syscall.Dup(fd)
		}
	}
	return -1, fmt.Errorf("swepc: the process EPC's memfd (%s) is not among this process's descriptors", processMemfd)
}
