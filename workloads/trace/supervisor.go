//go:build linux && amd64 && sim

package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Supervisor counts the notified system calls of one process.
type Supervisor struct {
	listener int
	sock     int

	mu       sync.Mutex
	c        Counts
	snaps    []Counts
	waitAddr map[uint32]uint64   // tid -> futex word it waits on
	waiters  map[uint64][]uint32 // futex word -> waiting tids, oldest first
	// clockTids are threads that sleep on the clock (the Go runtime's
	// sysmon): their OCALLs, and the waits their wakes end, follow time.
	clockTids map[uint32]bool
	byNr      map[int32]int64
	done      chan struct{}
	loopErr   error
	sockDone  chan struct{}
	startTime time.Time

	// stacks takes the call stack of every counted transition (nil: none).
	stacks *stackTaker
	// cur is the notification being handled; its stack is taken at its
	// first counted transition (curKey).
	cur     *seccompNotif
	curDone bool
	curKey  string
	// waitKey is the stack key of each counted futex wait still pending,
	// so a wait the clock ends moves from its site's count to its clock one.
	waitKey map[uint32]string
}

// Supervise takes the listener of process pid (the child whose SockFD is
// the other end of sock) as soon as it has installed its filter, then
// counts until the child exits. It fails with *DeniedError when the child
// could not install the filter, and when the child exits or timeout passes
// first. Taking another process's descriptor needs ptrace access to it
// (the parent of a child has it unless kernel.yama.ptrace_scope >= 2).
func Supervise(sock *os.File, pid int, timeout time.Duration) (*Supervisor, error) {
	return SuperviseWith(sock, pid, Options{Timeout: timeout})
}

// Options configure a Supervisor.
type Options struct {
	// Timeout bounds the wait for the child's filter.
	Timeout time.Duration
	// StackEvery > 0 takes the Go call stack of the thread of one in
	// StackEvery counted notifications, drawn at random (1: every one);
	// Supervisor.Sites scales them to the exact counts of each cause.
	StackEvery int
}

// SuperviseWith is Supervise with options.
func SuperviseWith(sock *os.File, pid int, o Options) (*Supervisor, error) {
	timeout := o.Timeout
	raw, err := sock.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd int
	raw.Control(func(f uintptr) { fd = int(f) })
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, &DeniedError{"pidfd_open of the counted process: " + err.Error() + " (needs Linux >= 5.3)"}
	}
	defer unix.Close(pidfd)
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	listener := -1
	for listener < 0 {
		var buf [4096]byte
		n, err := unix.Read(fd, buf[:])
		switch {
		case err == nil && n == 0:
			return nil, errors.New("trace: the counted process exited before it installed its seccomp filter")
		case err == nil && buf[0] == msgFail:
			return nil, &DeniedError{string(buf[1:n])}
		case err == nil:
			return nil, fmt.Errorf("trace: unexpected message %q from the counted process", buf[0])
		case err != unix.EAGAIN && err != unix.EINTR:
			return nil, fmt.Errorf("trace: reading from the counted process: %v", err)
		}
		if l, err := takeListener(pid, pidfd); err != nil {
			return nil, err
		} else if l >= 0 {
			listener = l
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("trace: the counted process installed no seccomp filter within %v", timeout)
		}
		time.Sleep(200 * time.Microsecond)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(listener)
		return nil, err
	}
	s := &Supervisor{listener: listener, sock: fd, waitAddr: map[uint32]uint64{}, waiters: map[uint64][]uint32{}, clockTids: map[uint32]bool{},
		byNr: map[int32]int64{}, done: make(chan struct{}), sockDone: make(chan struct{}), startTime: time.Now(),
		waitKey: map[uint32]string{}}
	if o.StackEvery > 0 {
		s.stacks = newStackTaker(o.StackEvery)
	}
	go s.loop()
	go s.serveSnapshots(sock)
	return s, nil
}

// takeListener looks for a seccomp listener in pid's descriptor table and
// duplicates it into this process; -1 when there is none yet.
func takeListener(pid, pidfd int) (int, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return -1, nil // exiting or not started: the caller's checks decide
	}
	for _, e := range ents {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil || link != "anon_inode:seccomp notify" {
			continue
		}
		target, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		l, err := unix.PidfdGetfd(pidfd, target, 0)
		if err != nil {
			return -1, &DeniedError{"pidfd_getfd of the counted process's seccomp listener: " + err.Error() +
				" (needs Linux >= 5.6 and ptrace access to the child: kernel.yama.ptrace_scope <= 1 or CAP_SYS_PTRACE)"}
		}
		unix.CloseOnExec(l)
		return l, nil
	}
	return -1, nil
}

// Counts returns the counts so far.
func (s *Supervisor) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countsLocked()
}

func (s *Supervisor) countsLocked() Counts {
	c := s.c
	c.BySyscall = map[string]int64{}
	for k, v := range s.c.BySyscall {
		c.BySyscall[k] = v
	}
	if s.c.Stacks != nil {
		c.Stacks = make(map[string]int64, len(s.c.Stacks))
		for k, v := range s.c.Stacks {
			c.Stacks[k] = v
		}
	}
	return c
}

// Snapshots returns the counts at each of the child's Snapshot calls.
func (s *Supervisor) Snapshots() []Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Counts(nil), s.snaps...)
}

// Wait returns when the counted process (every thread under the filter)
// has exited, or after timeout; it reports a failure of the counting loop.
func (s *Supervisor) Wait(timeout time.Duration) error {
	select {
	case <-s.done:
	case <-time.After(timeout):
		return fmt.Errorf("trace: the counted process did not exit within %v", timeout)
	}
	<-s.sockDone
	return s.loopErr
}

func (s *Supervisor) serveSnapshots(sock *os.File) {
	defer close(s.sockDone)
	defer sock.Close()
	var b [1]byte
	for {
		n, err := unix.Read(s.sock, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return
		}
		if b[0] != msgSnap {
			continue
		}
		s.mu.Lock()
		c := s.countsLocked()
		s.snaps = append(s.snaps, c)
		num := len(s.snaps)
		s.mu.Unlock()
		var out [8 * snapWords]byte
		for i, v := range []int64{c.OCalls, c.ECalls, c.Notifications, int64(num)} {
			binary.LittleEndian.PutUint64(out[8*i:], uint64(v))
		}
		if _, err := unix.Write(s.sock, out[:]); err != nil {
			return
		}
	}
}

func (s *Supervisor) loop() {
	defer close(s.done)
	defer unix.Close(s.listener)
	if s.stacks != nil {
		defer func() {
			s.mu.Lock()
			s.stacks.close()
			s.mu.Unlock()
		}()
	}
	runtime.LockOSThread()
	// Linux >= 6.6: wake the supervisor and the notifying thread on the
	// current CPU; older kernels refuse the flag, which only costs latency.
	_, _, _ = unix.Syscall(unix.SYS_IOCTL, uintptr(s.listener), ioctlNotifSetFlags, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	fds := []unix.PollFd{{Fd: int32(s.listener), Events: unix.POLLIN}}
	for {
		// Poll before receiving: a blocking receive would never return
		// once the counted process has exited, poll reports POLLHUP.
		fds[0].Revents = 0
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			s.loopErr = fmt.Errorf("trace: poll on the seccomp listener: %v", err)
			return
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			return // POLLHUP: no thread uses the filter any more
		}
		var n seccompNotif
		if err := ioctlPtr(s.listener, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&n)); err != nil {
			if err == unix.EINTR || err == unix.ENOENT {
				continue
			}
			s.loopErr = fmt.Errorf("trace: SECCOMP_IOCTL_NOTIF_RECV: %v", err)
			return
		}
		s.handle(&n)
		resp := seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
		if err := ioctlPtr(s.listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp)); err != nil && err != unix.ENOENT && err != unix.EINTR {
			s.loopErr = fmt.Errorf("trace: SECCOMP_IOCTL_NOTIF_SEND: %v", err)
			return
		}
	}
}

func ioctlPtr(fd int, req uint, p unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p))
	if e != 0 {
		return e
	}
	return nil
}

// readChild reads 8 bytes at addr of the notifying thread, then checks
// that the notification is still pending (so the memory was the caller's).
func (s *Supervisor) readChild(n *seccompNotif, addr uint64, size int) (uint64, bool) {
	var buf [8]byte
	local := []unix.Iovec{{Base: &buf[0], Len: uint64(size)}}
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: size}}
	if got, err := unix.ProcessVMReadv(int(n.PID), local, remote, 0); err != nil || got != size {
		return 0, false
	}
	id := n.ID
	if ioctlPtr(s.listener, ioctlNotifIDValid, unsafe.Pointer(&id)) != nil {
		return 0, false
	}
	return binary.LittleEndian.Uint64(buf[:]), true
}

func (s *Supervisor) handle(n *seccompNotif) {
	// Read the child's memory before taking the lock.
	var word uint64
	var wordOK bool
	nr := uintptr(n.Nr)
	class := Classify(nr)
	var cmd uint64
	switch class {
	case Futex:
		cmd = n.Args[1] & futexCmdMask
		if cmd == futexWait || cmd == futexWaitBitset {
			word, wordOK = s.readChild(n, n.Args[0], 4)
		}
	case OCall:
		switch nr {
		case unix.SYS_NANOSLEEP:
			word, wordOK = s.sleepNS(n, n.Args[0])
		case unix.SYS_CLOCK_NANOSLEEP:
			if n.Args[1] == 0 { // relative
				word, wordOK = s.sleepNS(n, n.Args[2])
			}
		}
	case Thread:
		if nr == unix.SYS_CLONE3 {
			word, wordOK = s.readChild(n, n.Args[0], 8) // struct clone_args.flags
		} else {
			word, wordOK = n.Args[0], true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account(n, class, cmd, word, wordOK)
}

// account counts notification n (of class, its futex command cmd, and
// the word its arguments point to as read from the child, when wordOK);
// s.mu is held.
func (s *Supervisor) account(n *seccompNotif, class Class, cmd, word uint64, wordOK bool) {
	nr := uintptr(n.Nr)
	s.c.Notifications++
	tid := n.PID
	s.cur, s.curDone = n, false
	if s.stacks != nil && (nr == unix.SYS_EXECVE || nr == unix.SYS_EXECVEAT) {
		s.stacks.forget(tid)
		s.stacks.execs = true
	}
	if addr, ok := s.waitAddr[tid]; ok {
		// The thread makes another system call: its wait has ended.
		delete(s.waitAddr, tid)
		delete(s.waitKey, tid)
		s.removeWaiter(addr, tid)
	}
	switch class {
	case OCall:
		if wordOK && word >= clockSleepNS {
			s.clockTids[tid] = true
		}
		s.ocall(tid, Name(nr))
		if HostAllocs(nr, n.Args[2]) {
			s.ocall(tid, CauseHostMalloc)
			s.ocall(tid, CauseHostFree)
		}
	case Thread:
		if wordOK && word&cloneThread != 0 {
			s.ocall(tid, "thread_create")
			s.c.ECalls++
			s.stackCount(StackECall, 1)
		}
	case Futex:
		switch cmd {
		case futexWait, futexWaitBitset:
			// Edgeless RT checks the word under its lock and calls out only
			// when it still holds the expected value.
			if wordOK && uint32(word) == uint32(n.Args[2]) {
				s.ocall(tid, "futex_wait")
				addr := n.Args[0]
				s.waitAddr[tid] = addr
				if s.stacks != nil && s.curKey != notSampled {
					// Only a wait whose stack was counted has a count to move
					// if the clock ends it (an unsampled one's key once went
					// to a map no sampled stack had made yet: a nil-map panic
					// of the sim's counting pass, exit status 2).
					s.waitKey[tid] = "futex_wait\x00" + s.curKey
				}
				s.waiters[addr] = append(s.waiters[addr], tid)
			}
		case futexWake, futexWakeBitset, futexRequeue, futexCmpRequeue:
			addr := n.Args[0]
			want := int(uint32(n.Args[2]))
			woken := 0
			for woken < want && len(s.waiters[addr]) > 0 {
				t := s.waiters[addr][0]
				s.waiters[addr] = s.waiters[addr][1:]
				delete(s.waitAddr, t)
				woken++
				if s.clockTids[tid] && !s.clockTids[t] {
					// A wait the clock ended (sysmon waking an idle M)
					// follows time, not the workload's operations.
					s.c.BySyscall["futex_wait"]--
					s.c.BySyscall[ClockPrefix+"futex_wait"]++
					s.c.ClockOCalls++
					if k, ok := s.waitKey[t]; ok {
						s.c.Stacks[k]--
						s.c.Stacks[clockKey(k)]++
					}
				}
				delete(s.waitKey, t)
			}
			if len(s.waiters[addr]) == 0 {
				delete(s.waiters, addr)
			}
			if woken > 0 {
				s.ocall(tid, "futex_wake") // one oe_sgx_thread_wake_multiple_ocall
			}
		}
	}
}

func (s *Supervisor) ocall(tid uint32, cause string) {
	s.c.OCalls++
	if s.c.BySyscall == nil {
		s.c.BySyscall = map[string]int64{}
	}
	if s.clockTids[tid] {
		s.c.ClockOCalls++
		cause = ClockPrefix + cause
	}
	s.c.BySyscall[cause]++
	s.stackCount(cause, 1)
}

// clockSleepNS is the shortest sleep that marks a thread as sleeping on the
// clock: sysmon sleeps 20 us to 10 ms; a spinning M's usleep(3) does not.
const clockSleepNS = 20000

// sleepNS reads a struct timespec at addr of the notifying thread.
func (s *Supervisor) sleepNS(n *seccompNotif, addr uint64) (uint64, bool) {
	sec, ok1 := s.readChild(n, addr, 8)
	nsec, ok2 := s.readChild(n, addr+8, 8)
	if !ok1 || !ok2 || int64(sec) < 0 || int64(nsec) < 0 {
		return 0, false
	}
	return sec*1e9 + nsec, true
}

func (s *Supervisor) removeWaiter(addr uint64, tid uint32) {
	w := s.waiters[addr]
	for i, t := range w {
		if t == tid {
			s.waiters[addr] = append(w[:i], w[i+1:]...)
			break
		}
	}
	if len(s.waiters[addr]) == 0 {
		delete(s.waiters, addr)
	}
}
