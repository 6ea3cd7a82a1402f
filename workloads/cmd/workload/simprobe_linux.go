//go:build sim && amd64

package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/arena"
	"github.com/enclavebench/enclavebench/workloads/swepc"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

const probeCalls = 2000

func probe() trace.Probe {
	p := trace.Probe{RSSBytes: rssBytes()}
	// userfaultfd: a small software EPC region that must evict; its faults
	// also give the kernel's round trip beyond the handler's own time.
	p.UFFD, p.FaultTrapNS = probeUFFD()
	arena.Configure(arena.Config{})
	p.Seccomp, p.NotifyNS = probeSeccomp()
	var uffd string
	p.Process, uffd, p.ImageBytes, p.RuntimeBytes = probeProcess()
	if p.UFFD == "" {
		p.UFFD = uffd // an arena may do with what the whole process cannot (user-mode-only)
	}
	if c, reason := openLLC(); c == nil {
		p.LLC = reason
	} else {
		c.close()
	}
	p.LLCMissNS = llcMissNS()
	return p
}

// probeSeccomp runs a counted child that times getppid before and after its
// filter, and checks that every call was seen.
func probeSeccomp() (string, float64) {
	defer moreProcs()()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "socketpair: " + err.Error(), 0
	}
	mine, theirs := os.NewFile(uintptr(pair[0]), "supervisor"), os.NewFile(uintptr(pair[1]), "counted")
	defer mine.Close()
	exe, err := os.Executable()
	if err != nil {
		return err.Error(), 0
	}
	cmd := exec.Command(exe, "--sim-probe-child")
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Stderr = os.Stderr
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return err.Error(), 0
	}
	theirs.Close()
	sup, err := trace.Supervise(mine, cmd.Process.Pid, 20*time.Second)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err.Error(), 0
	}
	werr := cmd.Wait()
	if err := sup.Wait(10 * time.Second); err != nil {
		return err.Error(), 0
	}
	if werr != nil {
		return "the counted probe failed: " + werr.Error(), 0
	}
	// A call restarted after a signal is notified twice on kernels without
	// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: allow a few.
	if got := sup.Counts().BySyscall["getppid"]; got < probeCalls || got > probeCalls+probeCalls/100 {
		return fmt.Sprintf("seccomp user notification saw %d of %d system calls", got, probeCalls), 0
	}
	f := strings.Fields(out.String())
	if len(f) != 2 {
		return fmt.Sprintf("the counted probe printed %q", out.String()), 0
	}
	plain, _ := strconv.ParseFloat(f[0], 64)
	notified, _ := strconv.ParseFloat(f[1], 64)
	return "", notified - plain
}

func probeChild() int {
	perCall := func() float64 {
		t0 := time.Now()
		for i := 0; i < probeCalls; i++ {
			unix.Getppid()
		}
		return float64(time.Since(t0).Nanoseconds()) / probeCalls
	}
	plain := perCall()
	if err := trace.InstallChild(); err != nil {
		return 3
	}
	notified := perCall()
	fmt.Printf("%.1f %.1f\n", plain, notified)
	return 0
}

func probeUFFD() (string, float64) {
	const capPages, pages, laps = 8, 64, 40
	if err := arena.Configure(arena.Config{CapBytes: capPages << 12}); err != nil {
		return err.Error(), 0
	}
	defer arena.Configure(arena.Config{})
	a, err := arena.New(pages << 12)
	if err != nil {
		return err.Error(), 0
	}
	b := a.Bytes()
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1 // first touch
	}
	ev0 := arena.Events()
	t0 := time.Now()
	for l := 0; l < laps; l++ {
		for i := 0; i < len(b); i += 4096 {
			b[i]++ // every access loads a page and evicts another
		}
	}
	wall := time.Since(t0).Nanoseconds()
	ev1 := arena.Events()
	if err := a.Close(); err != nil {
		return err.Error(), 0
	}
	faults := ev1["epc_faults"] - ev0["epc_faults"]
	if faults <= 0 {
		return "the software EPC took no fault in its probe", 0
	}
	trap := float64(wall-(ev1["epc_fault_ns"]-ev0["epc_fault_ns"])) / float64(faults)
	return "", max(trap, 0)
}

// rssBytes is this process's resident memory that an enclave would hold:
// everything but the pages of shared libraries and the vDSO.
func rssBytes() int64 {
	image, runtime := smapsRSS()
	return image + runtime
}

// smapsRSS splits that memory into the process EPC's (runtime: the Go
// runtime's memory when it is on the process EPC) and the rest (image).
func smapsRSS() (image, runtime int64) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, 0
	}
	skip, inEPC := false, false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.Contains(f[0], "-") && len(f) >= 5 { // a mapping's header line
			path := ""
			if len(f) >= 6 {
				path = f[5]
			}
			skip = strings.Contains(path, ".so") || path == "[vdso]" || path == "[vvar]" || path == "[vsyscall]"
			inEPC = strings.HasPrefix(path, processMemfdPath)
			continue
		}
		if f[0] == "Rss:" && !skip && len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			if inEPC {
				runtime += kb << 10
			} else {
				image += kb << 10
			}
		}
	}
	return image, runtime
}

// processMemfdPath is how smaps names the process EPC's mapping
// (swepc.ProcessEnv, workloads/swepc/_overlay).
const processMemfdPath = "/memfd:enclavebench-process-epc"

// processProbe is what --sim-probe-process prints.
type processProbe struct {
	Reason         string // no process EPC: the binary lacks the overlay
	UFFD           string // the process EPC cannot be adopted (userfaultfd)
	Image, Runtime int64
}

// probeProcess starts this binary with the process EPC on and reports why
// it has none ("" when it has), why the software EPC cannot adopt it (""
// when it can), and the start-up's memory outside and inside it.
// processProbes is how many start-ups probeProcess measures. One start-up's
// Go runtime can hold much more than the usual (measured: 30 concurrent
// start-ups of workload-sim held 8.1-8.5 MB; under a loaded ./test.sh one
// run's probe put DC1s_v2's usable EPC at 19.4 MiB against 20.1-20.2 in
// four others, and TestEPCCliff's 1.05x then did not page), and the
// baseline moves every cell's usable EPC: DC1s_v2's 5% is 1 MiB.
const processProbes = 5

// probeProcess measures processProbes start-ups of this binary on the
// process EPC and returns the one of median total, so one outlying
// start-up does not move the usable EPC of the whole run.
func probeProcess() (reason, uffd string, image, runtime int64) {
	type probe struct{ image, runtime int64 }
	var ps []probe
	for range processProbes {
		r, u, im, rt := probeProcessOnce()
		if r != "" || u != "" {
			return r, u, 0, 0
		}
		ps = append(ps, probe{im, rt})
	}
	slices.SortFunc(ps, func(a, b probe) int { return cmp.Compare(a.image+a.runtime, b.image+b.runtime) })
	m := ps[len(ps)/2]
	return "", "", m.image, m.runtime
}

func probeProcessOnce() (reason, uffd string, image, runtime int64) {
	exe, err := os.Executable()
	if err != nil {
		return err.Error(), "", 0, 0
	}
	cmd := exec.Command(exe, "--sim-probe-process")
	cmd.Env = append(os.Environ(), swepc.ProcessEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		return "the process-EPC probe failed: " + err.Error(), "", 0, 0
	}
	var r processProbe
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Sprintf("the process-EPC probe printed %q", out), "", 0, 0
	}
	return r.Reason, r.UFFD, r.Image, r.Runtime
}

func probeProcessChild() int {
	var r processProbe
	if _, err := swepc.FindProcess(); err != nil {
		r.Reason = err.Error()
	} else {
		// Measured before adopting: the software EPC's own state is no
		// enclave memory.
		r.Image, r.Runtime = smapsRSS()
		if _, err := swepc.AdoptProcess(1 << 30); err != nil {
			r.UFFD = err.Error()
		}
	}
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

// ---- LLC misses ----

// llcCounter counts LLC misses of every thread of this process (one
// inherited counter per thread that exists when it is opened).
type llcCounter struct{ fds []int }

func openLLC() (*llcCounter, string) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err.Error()
	}
	c := &llcCounter{}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_HARDWARE, Config: unix.PERF_COUNT_HW_CACHE_MISSES,
			Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{})), Bits: unix.PerfBitInherit | unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv}
		fd, err := unix.PerfEventOpen(&attr, tid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			c.close()
			return nil, fmt.Sprintf("perf_event_open(PERF_COUNT_HW_CACHE_MISSES): %v (needs a PMU exposed to this machine, kernel.perf_event_paranoid <= 2 or CAP_PERFMON); the memory-encryption factor is not applied", err)
		}
		c.fds = append(c.fds, fd)
	}
	return c, ""
}

func (c *llcCounter) read() int64 {
	var sum int64
	var buf [8]byte
	for _, fd := range c.fds {
		if n, err := unix.Read(fd, buf[:]); err == nil && n == 8 {
			sum += int64(*(*uint64)(unsafe.Pointer(&buf[0])))
		}
	}
	return sum
}

func (c *llcCounter) close() {
	for _, fd := range c.fds {
		unix.Close(fd)
	}
}

// llcMissNS measures this host's time for one dependent access that misses
// the LLC: a pointer chase through a random cycle over 128 MiB.
func llcMissNS() float64 {
	const lines = 128 << 20 / 64
	next := make([]uint32, lines*16) // one uint32 used per 64-byte line
	perm := make([]uint32, lines)
	for i := range perm {
		perm[i] = uint32(i)
	}
	x := uint64(0x9e3779b97f4a7c15)
	for i := lines - 1; i > 0; i-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := int(x % uint64(i))
		perm[i], perm[j] = perm[j], perm[i]
	}
	for i := 0; i < lines; i++ {
		next[int(perm[i])*16] = perm[(i+1)%lines] * 16
	}
	p := uint32(0)
	const steps = 1 << 20
	t0 := time.Now()
	for i := 0; i < steps; i++ {
		p = next[p]
	}
	d := time.Since(t0)
	if p == 1<<31 {
		fmt.Fprint(io.Discard, p)
	}
	return float64(d.Nanoseconds()) / steps
}
