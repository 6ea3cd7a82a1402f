//go:build linux && amd64 && sim

package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SockFD is the descriptor of the unix socket between a counted process
// and its supervisor (os/exec ExtraFiles[0]).
const SockFD = 3

// Messages on the socket, child to supervisor: msgFail carries the reason
// the filter could not be installed, msgSnap asks for a snapshot, which the
// supervisor answers with snapWords little-endian int64s.
const (
	msgFail   = 'F'
	msgSnap   = 'S'
	snapWords = 4 // ocalls, ecalls, notifications, snapshot number
)

// Kernel ABI (include/uapi/linux/seccomp.h, audit.h, futex.h, sched.h).
const (
	auditArchX8664      = 0xc000003e
	ioctlNotifIDValid   = 0x40082102 // SECCOMP_IOCTL_NOTIF_ID_VALID = _IOW('!', 2, __u64)
	ioctlNotifSetFlags  = 0x40082104 // SECCOMP_IOCTL_NOTIF_SET_FLAGS = _IOW('!', 4, __u64)
	futexCmdMask        = 0x7f       // ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
	futexWait           = 0
	futexWake           = 1
	futexRequeue        = 3
	futexCmpRequeue     = 4
	futexWaitBitset     = 9
	futexWakeBitset     = 10
	cloneThread         = 0x10000
	x32SyscallBit       = 0x40000000
	seccompDataArgsOff  = 16
	seccompDataNrOff    = 0
	seccompDataArchOff  = 4
	bpfMaxJump          = 255
	notifyFilterFlags   = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	seccompNotifSize    = 80
	seccompNotifRespLen = 24
)

// seccompNotif is struct seccomp_notif.
type seccompNotif struct {
	ID    uint64
	PID   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

// seccompNotifResp is struct seccomp_notif_resp.
type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

func init() {
	if unsafe.Sizeof(seccompNotif{}) != seccompNotifSize || unsafe.Sizeof(seccompNotifResp{}) != seccompNotifRespLen {
		panic("trace: seccomp notification structs have the wrong size")
	}
}

// Filter returns the counting filter: allow everything but the notified
// system calls; calls of read, write, sendmsg and recvmsg on SockFD are
// allowed (the snapshot channel).
func Filter() ([]unix.SockFilter, error) {
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: jt, Jf: jf, K: k}
	}
	notified := Notified()
	exempt := []uintptr{unix.SYS_READ, unix.SYS_WRITE, unix.SYS_SENDMSG, unix.SYS_RECVMSG}
	// Layout:
	//   0 ld arch; 1 jeq x86_64 ? next : ALLOW; 2 ld nr; 3 jge x32 ? ALLOW : next
	//   exempt checks (jeq -> FDCHECK), notified checks (jeq -> NOTIFY)
	//   ALLOW; NOTIFY; FDCHECK: ld arg0 lo; jeq SockFD ? next : NOTIFY; ld arg0 hi; jeq 0 ? ALLOW : NOTIFY
	nChecks := len(exempt) + len(notified)
	allow := 4 + nChecks
	notify := allow + 1
	fdcheck := notify + 1
	prog := []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArchOff),
		jeq(auditArchX8664, 0, uint8(allow-2)),
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataNrOff),
		{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, Jt: uint8(allow - 4), Jf: 0, K: x32SyscallBit},
	}
	if fdcheck-4 > bpfMaxJump {
		return nil, fmt.Errorf("trace: filter too long for BPF jumps (%d checks)", nChecks)
	}
	for _, nr := range exempt {
		i := len(prog)
		prog = append(prog, jeq(uint32(nr), uint8(fdcheck-i-1), 0))
	}
	for _, nr := range notified {
		i := len(prog)
		prog = append(prog, jeq(uint32(nr), uint8(notify-i-1), 0))
	}
	prog = append(prog,
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),         // allow
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_USER_NOTIF),    // notify
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArgsOff), // fdcheck: arg0, low word
		jeq(SockFD, 0, 3),
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArgsOff+4), // arg0, high word
		jeq(0, 0, 1),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_USER_NOTIF),
	)
	return prog, nil
}

// DeniedError says that this host does not let a process count its own
// system calls with seccomp user notification.
type DeniedError struct{ Reason string }

func (e *DeniedError) Error() string { return e.Reason }

// InstallChild installs the counting filter on every thread of this process
// and closes its own copy of the listener once the supervisor has taken it
// (Supervise). A failure is reported to the supervisor over SockFD.
func InstallChild() error {
	err := install()
	if err != nil {
		msg := append([]byte{msgFail}, err.Error()...)
		unix.Write(SockFD, msg)
	}
	return err
}

// EnvDeny, set to "deny", makes InstallChild fail as if seccomp were
// denied (tests of the counts-free fallback).
const EnvDeny = "ENCLAVEBENCH_TRACE_SECCOMP"

func install() error {
	if os.Getenv(EnvDeny) == "deny" {
		return &DeniedError{"seccomp user notification denied (" + EnvDeny + "=deny)"}
	}
	prog, err := Filter()
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return &DeniedError{"prctl(PR_SET_NO_NEW_PRIVS): " + err.Error()}
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	// WAIT_KILLABLE_RECV (Linux >= 5.19): once the supervisor has received
	// a notification, a signal no longer interrupts the wait, so the call
	// is not restarted and notified (and counted) twice. Older kernels
	// refuse the flag: install without it.
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, notifyFilterFlags|unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, uintptr(unsafe.Pointer(&fprog)))
	if errno == unix.EINVAL {
		r, _, errno = unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, notifyFilterFlags, uintptr(unsafe.Pointer(&fprog)))
	}
	if errno != 0 {
		return &DeniedError{deniedReason(errno)}
	}
	// From here on, notified system calls of any thread of this process
	// wait for the supervisor, which takes the listener from this process's
	// descriptor table itself (pidfd_getfd): no step of ours has to run
	// between the filter and the supervisor, so the Go scheduler cannot
	// deadlock on a notified futex or nanosleep in between. Closing our copy
	// is itself notified: when it returns, the supervisor is counting, and
	// if the supervisor dies, notified calls fail instead of hanging.
	unix.Close(int(r))
	return nil
}

func deniedReason(errno unix.Errno) string {
	switch errno {
	case unix.EINVAL:
		return "seccomp user notification is not supported by this kernel (needs Linux >= 5.0 with CONFIG_SECCOMP_FILTER; TSYNC_ESRCH needs >= 5.7): " + errno.Error()
	case unix.EACCES, unix.EPERM:
		return "seccomp(SECCOMP_SET_MODE_FILTER) denied: the process needs no_new_privs or CAP_SYS_ADMIN, and a container's seccomp profile must allow seccomp(2): " + errno.Error()
	case unix.EBUSY:
		return "seccomp user notification is already in use for this process (a container runtime's listener): " + errno.Error()
	case unix.ESRCH:
		return "seccomp TSYNC failed: a thread of this process runs under another filter: " + errno.Error()
	}
	return "seccomp(SECCOMP_SET_MODE_FILTER|NEW_LISTENER): " + errno.Error()
}

// Snapshot asks the supervisor for the counts so far (child side; only
// after InstallChild). The supervisor also keeps the full Counts of every
// snapshot (Supervisor.Snapshots).
func Snapshot() (ocalls, ecalls int64, err error) {
	if _, err := unix.Write(SockFD, []byte{msgSnap}); err != nil {
		return 0, 0, fmt.Errorf("trace: snapshot request: %v", err)
	}
	var buf [8 * snapWords]byte
	for got := 0; got < len(buf); {
		n, err := unix.Read(SockFD, buf[got:])
		if err != nil {
			return 0, 0, fmt.Errorf("trace: snapshot reply: %v", err)
		}
		if n == 0 {
			return 0, 0, errors.New("trace: snapshot reply: the supervisor went away")
		}
		got += n
	}
	return int64(binary.LittleEndian.Uint64(buf[0:])), int64(binary.LittleEndian.Uint64(buf[8:])), nil
}
