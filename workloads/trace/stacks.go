//go:build linux && amd64 && sim

package trace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/callstack"
)

// stackChunk is how much of a stack one process_vm_readv fetches from the
// stack pointer up; deeper frames are read one word at a time.
const stackChunk = 4096

// stackTaker takes the stacks of notifying threads: the stack pointer from
// /proc/TID/syscall (the thread is blocked in the notified system call;
// reading it needs the ptrace access pidfd_getfd already needed), the
// program counter from the notification, the frames from the binary the
// thread runs (/proc/TID/exe), unwound with its pclntab (callstack).
type stackTaker struct {
	every   uint64 // take one in every notifications
	rng     uint64 // xorshift state
	tids    map[uint32]*tidState
	tables  []*callstack.Table
	paths   []string
	byPath  map[string]int // binary path -> index in tables; -1 when it has none
	whyNot  map[string]int64
	chunk   [stackChunk]byte
	chunkAt uint64
	chunkN  int
	tid     int
	// execs is set once a counted thread has called execve: from then on
	// a thread's binary is checked at each stack, because a thread that
	// execs takes over its process's id, whose cached table was the old
	// binary's (seen: 12,144 of 16,000 stacks named from the test binary
	// instead of the program it started).
	execs bool
}

type tidState struct {
	fd    int    // /proc/TID/syscall, kept open
	table int    // index into tables, -1: no Go table
	exe   string // the binary the table is of
}

func newStackTaker(every int) *stackTaker {
	return &stackTaker{every: uint64(every), rng: 0x9e3779b97f4a7c15, tids: map[uint32]*tidState{}, byPath: map[string]int{}, whyNot: map[string]int64{}}
}

// sampled draws whether this notification's stack is taken.
func (st *stackTaker) sampled() bool {
	if st.every <= 1 {
		return true
	}
	st.rng ^= st.rng << 13
	st.rng ^= st.rng >> 7
	st.rng ^= st.rng << 17
	return st.rng%st.every == 0
}

// notSampled is the current notification's key when its stack is not taken.
const notSampled = "\x01"

// stackCount adds v to the current notification's stack under cause.
func (s *Supervisor) stackCount(cause string, v int64) {
	if s.stacks == nil || s.cur == nil {
		return
	}
	if !s.curDone {
		s.curKey = notSampled
		if s.stacks.sampled() {
			s.curKey = s.stacks.take(s.cur)
		}
		s.curDone = true
	}
	if s.curKey == notSampled {
		return
	}
	if s.c.Stacks == nil {
		s.c.Stacks = map[string]int64{}
	}
	s.c.Stacks[cause+"\x00"+s.curKey] += v
}

// clockKey is the key of the same stack under the clock's cause.
func clockKey(k string) string { return ClockPrefix + k }

// take returns the stack of the notifying thread as a key: its binary's
// index and its program counters, or "!reason" when it cannot be taken.
func (st *stackTaker) take(n *seccompNotif) string {
	ts, err := st.state(n.PID)
	if err != nil {
		return "!" + err.Error()
	}
	if st.execs {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", n.PID)); err == nil && exe != ts.exe {
			st.forget(n.PID)
			if ts, err = st.state(n.PID); err != nil {
				return "!" + err.Error()
			}
		}
	}
	if ts.table < 0 {
		return "!not a Go binary"
	}
	sp, err := readSyscallSP(ts.fd)
	if err != nil {
		// The descriptor may be of an exited thread whose id was reused:
		// look the thread up again once.
		st.forget(n.PID)
		if ts, err = st.state(n.PID); err != nil {
			return "!" + err.Error()
		}
		if ts.table < 0 {
			return "!not a Go binary"
		}
		if sp, err = readSyscallSP(ts.fd); err != nil {
			return "!" + err.Error()
		}
	}
	st.tid, st.chunkN = int(n.PID), 0
	pcs := st.tables[ts.table].Unwind(n.IP, sp, st.read)
	var b strings.Builder
	b.WriteByte(byte(ts.table))
	var w [8]byte
	for _, pc := range pcs {
		binary.LittleEndian.PutUint64(w[:], pc)
		b.Write(w[:])
	}
	return b.String()
}

func (st *stackTaker) state(tid uint32) (*tidState, error) {
	if ts, ok := st.tids[tid]; ok {
		return ts, nil
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/syscall", tid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("/proc/%d/syscall: %v", tid, err)
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", tid))
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	idx, ok := st.byPath[exe]
	if !ok {
		idx = -1
		if len(st.tables) < 255 {
			if t, err := callstack.Open(exe); err == nil {
				idx = len(st.tables)
				st.tables = append(st.tables, t)
				st.paths = append(st.paths, exe)
			}
		}
		st.byPath[exe] = idx
	}
	ts := &tidState{fd: fd, table: idx, exe: exe}
	st.tids[tid] = ts
	return ts, nil
}

// runningTries bounds how often readSyscallSP reads a thread that is
// still "running": the notifying thread queues its notification before it
// goes to sleep, so the supervisor can read it a moment too early (seen
// under load: 2 stacks of 12,000 lost).
const runningTries = 1000

// readSyscallSP reads the user stack pointer of a thread blocked in a
// system call: /proc/TID/syscall is "nr a0 .. a5 sp pc".
func readSyscallSP(fd int) (uint64, error) {
	var buf [256]byte
	var n int
	for try := 0; ; try++ {
		var err error
		n, err = unix.Pread(fd, buf[:], 0)
		if err != nil {
			return 0, fmt.Errorf("reading /proc/TID/syscall: %v", err)
		}
		if try == runningTries || !bytes.Equal(bytes.TrimSpace(buf[:n]), []byte("running")) {
			break
		}
		_, _, _ = unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) // let it reach its wait
	}
	f := bytes.Fields(buf[:n])
	if len(f) != 9 {
		return 0, fmt.Errorf("/proc/TID/syscall: %q is not a blocked system call", bytes.TrimSpace(buf[:n]))
	}
	return strconv.ParseUint(strings.TrimPrefix(string(f[7]), "0x"), 16, 64)
}

// read reads the current thread's memory, from one chunk fetched at the
// first read when it covers addr.
func (st *stackTaker) read(addr uint64, buf []byte) error {
	if st.chunkN == 0 {
		st.chunkAt = addr
		local := []unix.Iovec{{Base: &st.chunk[0], Len: stackChunk}}
		remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: stackChunk}}
		// A stack may end before the chunk: then fewer bytes come back.
		n, err := unix.ProcessVMReadv(st.tid, local, remote, 0)
		if err != nil || n <= 0 {
			return processRead(st.tid, addr, buf)
		}
		st.chunkN = n
	}
	if addr >= st.chunkAt && addr+uint64(len(buf)) <= st.chunkAt+uint64(st.chunkN) {
		copy(buf, st.chunk[addr-st.chunkAt:])
		return nil
	}
	return processRead(st.tid, addr, buf)
}

func processRead(pid int, addr uint64, buf []byte) error {
	local := []unix.Iovec{{Base: (*byte)(unsafe.Pointer(&buf[0])), Len: uint64(len(buf))}}
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err != nil {
		return err
	}
	if n != len(buf) {
		return fmt.Errorf("short read at %#x", addr)
	}
	return nil
}

// scaleSites gives each cause's sites its exact count in c, in proportion
// to the stacks taken (largest remainders).
func scaleSites(sites []Site, c Counts) []Site {
	exact := map[string]int64{}
	for k, v := range c.BySyscall {
		exact[k] = v
	}
	// In a window's counts (differences of snapshots) a wait counted before
	// the window and ended by the clock during it (moved to ClockPrefix)
	// is -1 of its cause and +1 of the clock's: the window made no OCALL
	// for it, so the two net out (left as they were, the clock's +1 made
	// the profile one OCALL more than the pass: TestProfileSyscallRead,
	// 5303 against 5302, in ./test.sh at load 9).
	for k, v := range c.BySyscall {
		if v < 0 && !strings.HasPrefix(k, ClockPrefix) {
			exact[ClockPrefix+k] += v
			exact[k] = 0
		}
	}
	for k, v := range exact {
		if v <= 0 {
			delete(exact, k)
		}
	}
	if c.ECalls > 0 {
		exact[StackECall] = c.ECalls
	}
	byCause := map[string][]int{}
	for i, s := range sites {
		byCause[s.Cause] = append(byCause[s.Cause], i)
	}
	var out []Site
	for cause, n := range exact {
		idx := byCause[cause]
		var taken int64
		for _, i := range idx {
			taken += sites[i].Taken
		}
		if taken == 0 {
			out = append(out, Site{Cause: cause, Count: n, NoStack: "no stack taken of this cause (sampled)"})
			continue
		}
		type rem struct {
			i    int
			frac float64
		}
		var rems []rem
		var given int64
		for _, i := range idx {
			share := float64(sites[i].Taken) * float64(n) / float64(taken)
			sites[i].Count = int64(share)
			given += sites[i].Count
			rems = append(rems, rem{i, share - float64(sites[i].Count)})
		}
		sort.SliceStable(rems, func(a, b int) bool { return rems[a].frac > rems[b].frac })
		for k := 0; given < n; k++ {
			sites[rems[k%len(rems)].i].Count++
			given++
		}
		for _, i := range idx {
			if sites[i].Count > 0 {
				out = append(out, sites[i])
			}
		}
	}
	return out
}

// forget drops what is known of a thread (it is about to exec).
func (st *stackTaker) forget(tid uint32) {
	if ts, ok := st.tids[tid]; ok {
		unix.Close(ts.fd)
		delete(st.tids, tid)
	}
}

// close releases the kept descriptors.
func (st *stackTaker) close() {
	for _, ts := range st.tids {
		unix.Close(ts.fd)
	}
	st.tids = map[uint32]*tidState{}
}

// Site is the transitions of one cause counted at one call stack.
type Site struct {
	// Cause is the OCALL's cause (a system call's name, futex_wait, ...,
	// with ClockPrefix where it follows the clock), or StackECall.
	Cause string
	// Binary is the executable the thread ran ("" when no stack).
	Binary string
	// PCs are the stack's program counters, innermost first, and Lines
	// the frames each stands for (inlined calls first); none when the
	// stack could not be taken (NoStack says why).
	PCs     []uint64
	Lines   [][]callstack.Frame
	NoStack string
	// Count is the site's share of its cause's exact count: the stacks
	// taken, scaled by the cause's count over its stacks taken (largest
	// remainders, so a cause's sites add up to its count); Taken is how
	// many stacks were taken there.
	Count int64
	Taken int64
}

// Frames are the site's frames, innermost first, inlined calls included.
func (s Site) Frames() []callstack.Frame {
	var out []callstack.Frame
	for _, l := range s.Lines {
		out = append(out, l...)
	}
	return out
}

// Sites decodes c.Stacks (counts of this supervisor, or differences of
// them), largest first, each cause's sites scaled to its count in c
// (BySyscall; ECalls for StackECall). A cause no stack was taken of is one
// site without a stack. Nil when stacks were not taken.
func (s *Supervisor) Sites(c Counts) []Site {
	if s.stacks == nil {
		return nil
	}
	var out []Site
	for k, v := range c.Stacks {
		if v <= 0 {
			continue
		}
		cause, stack, _ := strings.Cut(k, "\x00")
		site := Site{Cause: cause, Count: v, Taken: v}
		switch {
		case strings.HasPrefix(stack, "!"):
			site.NoStack = stack[1:]
		case len(stack) >= 1 && int(stack[0]) < len(s.stacks.tables):
			t := s.stacks.tables[stack[0]]
			site.Binary = s.stacks.paths[stack[0]]
			for i := 1; i+8 <= len(stack); i += 8 {
				pc := binary.LittleEndian.Uint64([]byte(stack[i : i+8]))
				site.PCs = append(site.PCs, pc)
				site.Lines = append(site.Lines, t.Name(pc, i == 1))
			}
		default:
			site.NoStack = "unknown binary"
		}
		out = append(out, site)
	}
	out = scaleSites(out, c)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Cause != out[j].Cause {
			return out[i].Cause < out[j].Cause
		}
		return fmt.Sprint(out[i].PCs) < fmt.Sprint(out[j].PCs)
	})
	return out
}
