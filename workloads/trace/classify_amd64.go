//go:build linux && amd64

package trace

import "golang.org/x/sys/unix"

// Class says what a system call becomes inside an EGo enclave.
type Class int

// Classes of system calls.
const (
	// Unsupported: not implemented in an enclave (ENOSYS); not counted.
	Unsupported Class = iota
	// Inside: handled inside the enclave, no transition.
	Inside
	// OCall: forwarded to the host, one OCALL round trip.
	OCall
	// Futex: emulated inside; a blocking wait or a wake of waiters is an OCALL.
	Futex
	// Thread: clone/clone3; a new thread is one OCALL and one ECALL.
	Thread
)

// inside are handled by Edgeless RT without leaving the enclave:
// src/ert/libc/syscalls.c (__syscall: set_thread_area, set_tid_address,
// mmap, munmap, madvise), src/ertlibc/syscall.cpp (ert_syscall), and the
// Open Enclave syscalls that never call out (getrandom uses RDRAND, getcwd,
// mount/umount2 are in-enclave state; sysinfo returns ENOSYS).
var inside = []uintptr{
	unix.SYS_SET_THREAD_AREA, unix.SYS_SET_TID_ADDRESS, unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MADVISE,
	unix.SYS_SCHED_YIELD, unix.SYS_CLOCK_GETTIME, unix.SYS_CLOCK_GETRES, unix.SYS_GETTID,
	unix.SYS_READLINK, unix.SYS_READLINKAT, unix.SYS_PRLIMIT64, unix.SYS_GETRLIMIT, unix.SYS_SETRLIMIT,
	unix.SYS_STATFS, unix.SYS_FSTATFS, unix.SYS_EXIT_GROUP, unix.SYS_EXIT, unix.SYS_FCHMODAT,
	unix.SYS_SCHED_GETAFFINITY, unix.SYS_MPROTECT, unix.SYS_MLOCK, unix.SYS_MUNLOCK, unix.SYS_MLOCKALL,
	unix.SYS_MUNLOCKALL, unix.SYS_MLOCK2, unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGPROCMASK,
	unix.SYS_SIGALTSTACK, unix.SYS_GETRANDOM, unix.SYS_GETCWD, unix.SYS_MOUNT, unix.SYS_UMOUNT2,
	unix.SYS_SYSINFO,
}

// ocalls are the system calls Open Enclave's syscall layer implements by
// calling out to the host (openenclave syscall/syscall.c dispatch table;
// the host side of file, socket, epoll and process-id calls is an
// oe_syscall_*_ocall in syscall/unistd.c, socket.c, epoll.c, hostfs.c).
var ocalls = []uintptr{
	unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_ACCESS, unix.SYS_BIND, unix.SYS_CHDIR,
	unix.SYS_CLOCK_NANOSLEEP, unix.SYS_CLOSE, unix.SYS_CONNECT, unix.SYS_CREAT, unix.SYS_DUP,
	unix.SYS_DUP2, unix.SYS_DUP3, unix.SYS_EPOLL_CREATE, unix.SYS_EPOLL_CREATE1, unix.SYS_EPOLL_CTL,
	unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_WAIT, unix.SYS_FACCESSAT, unix.SYS_FCNTL, unix.SYS_FDATASYNC,
	unix.SYS_FLOCK, unix.SYS_FSTAT, unix.SYS_NEWFSTATAT, unix.SYS_FSYNC, unix.SYS_FTRUNCATE,
	unix.SYS_GETDENTS, unix.SYS_GETDENTS64, unix.SYS_GETEGID, unix.SYS_GETEUID, unix.SYS_GETGID,
	unix.SYS_GETUID, unix.SYS_GETGROUPS, unix.SYS_GETPGID, unix.SYS_GETPGRP, unix.SYS_GETPID,
	unix.SYS_GETPPID, unix.SYS_GETPEERNAME, unix.SYS_GETSOCKNAME, unix.SYS_GETSOCKOPT, unix.SYS_IOCTL,
	unix.SYS_LINK, unix.SYS_LINKAT, unix.SYS_LISTEN, unix.SYS_LSEEK, unix.SYS_LSTAT, unix.SYS_MKDIR,
	unix.SYS_MKDIRAT, unix.SYS_NANOSLEEP, unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_POLL, unix.SYS_PPOLL,
	unix.SYS_PREAD64, unix.SYS_PWRITE64, unix.SYS_PSELECT6, unix.SYS_READ, unix.SYS_READV,
	unix.SYS_RECVFROM, unix.SYS_RECVMSG, unix.SYS_RENAME, unix.SYS_RENAMEAT, unix.SYS_RMDIR,
	unix.SYS_SELECT, unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_SETSOCKOPT, unix.SYS_SHUTDOWN,
	unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_STAT, unix.SYS_STATX, unix.SYS_TRUNCATE,
	unix.SYS_WRITE, unix.SYS_WRITEV, unix.SYS_UNAME, unix.SYS_UNLINK, unix.SYS_UNLINKAT,
	// Go 1.26's netpoll break: EGo v1.6.0 was seen to forward it
	// (ocall_oe_syscall_eventfd_ocall, OE_TRACE_OCALLS; docs/sim.md).
	unix.SYS_EVENTFD, unix.SYS_EVENTFD2,
}

var (
	classes = map[uintptr]Class{unix.SYS_FUTEX: Futex, unix.SYS_CLONE: Thread, unix.SYS_CLONE3: Thread}
	names   = map[uintptr]string{}
)

func init() {
	for _, nr := range inside {
		classes[nr] = Inside
	}
	for _, nr := range ocalls {
		classes[nr] = OCall
	}
	for name, nr := range nameTable {
		names[nr] = name
	}
}

// ocallBufferBytes is Open Enclave's per-thread OCALL buffer
// (OE_DEFAULT_OCALL_BUFFER_SIZE, openenclave host/sgx/enclave.h). An OCALL
// whose marshalled arguments do not fit gets host memory from
// oe_allocate_ocall_buffer instead (enclave/core/sgx/hostcalls.c): one more
// OCALL to allocate it (HandleMalloc in EGo's OCALL trace) and one to free
// it (HandleFree).
const ocallBufferBytes = 16 << 10

// bufferArgs is, for the forwarded calls whose third argument is the length
// of their one buffer, the size of their oeedger8r argument structure,
// marshalled twice (in and out); a read or write on a socket is forwarded
// as recv or send, whose structure has the same size as read's and write's.
var bufferArgs = map[uintptr]uint64{
	unix.SYS_READ: 64, unix.SYS_WRITE: 64, unix.SYS_PREAD64: 72, unix.SYS_PWRITE64: 72,
}

// HostAllocs reports whether forwarding system call nr with a buffer of
// length bytes makes Open Enclave allocate (and later free) host memory
// for its arguments: two more OCALLs. Calls without a single length
// argument (readv, writev, sendmsg, ...) are not sized: false.
func HostAllocs(nr uintptr, length uint64) bool {
	args, ok := bufferArgs[nr]
	if !ok || Classify(nr) != OCall {
		return false
	}
	const align = 16 // OE_EDGER8R_BUFFER_ALIGNMENT
	round := func(n uint64) uint64 { return (n + align - 1) / align * align }
	return 2*round(args)+round(length) > ocallBufferBytes
}

// Classify says what system call nr becomes in an EGo enclave.
func Classify(nr uintptr) Class { return classes[nr] }

// Notified lists the system calls the counting filter sends to the
// supervisor: the forwarded ones, futex and clone/clone3.
func Notified() []uintptr {
	out := append([]uintptr(nil), ocalls...)
	// execve is notified (never counted) so that the supervisor learns that
	// a thread's binary changes (stacks are named from it).
	return append(out, unix.SYS_FUTEX, unix.SYS_CLONE, unix.SYS_CLONE3, unix.SYS_EXECVE, unix.SYS_EXECVEAT)
}

// Name is the system call's name ("sys_<nr>" when unknown).
func Name(nr uintptr) string {
	if n, ok := names[nr]; ok {
		return n
	}
	return "sys_" + itoa(int64(nr))
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := v < 0
	if neg {
		v = -v
	}
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

var nameTable = map[string]uintptr{
	"accept": unix.SYS_ACCEPT, "accept4": unix.SYS_ACCEPT4, "access": unix.SYS_ACCESS, "bind": unix.SYS_BIND,
	"chdir": unix.SYS_CHDIR, "clock_nanosleep": unix.SYS_CLOCK_NANOSLEEP, "close": unix.SYS_CLOSE,
	"connect": unix.SYS_CONNECT, "creat": unix.SYS_CREAT, "dup": unix.SYS_DUP, "dup2": unix.SYS_DUP2,
	"dup3": unix.SYS_DUP3, "epoll_create": unix.SYS_EPOLL_CREATE, "epoll_create1": unix.SYS_EPOLL_CREATE1,
	"epoll_ctl": unix.SYS_EPOLL_CTL, "epoll_pwait": unix.SYS_EPOLL_PWAIT, "epoll_wait": unix.SYS_EPOLL_WAIT,
	"faccessat": unix.SYS_FACCESSAT, "fcntl": unix.SYS_FCNTL, "fdatasync": unix.SYS_FDATASYNC,
	"flock": unix.SYS_FLOCK, "fstat": unix.SYS_FSTAT, "newfstatat": unix.SYS_NEWFSTATAT, "fsync": unix.SYS_FSYNC,
	"ftruncate": unix.SYS_FTRUNCATE, "getdents": unix.SYS_GETDENTS, "getdents64": unix.SYS_GETDENTS64,
	"getegid": unix.SYS_GETEGID, "geteuid": unix.SYS_GETEUID, "getgid": unix.SYS_GETGID, "getuid": unix.SYS_GETUID,
	"getgroups": unix.SYS_GETGROUPS, "getpgid": unix.SYS_GETPGID, "getpgrp": unix.SYS_GETPGRP,
	"getpid": unix.SYS_GETPID, "getppid": unix.SYS_GETPPID, "getpeername": unix.SYS_GETPEERNAME,
	"getsockname": unix.SYS_GETSOCKNAME, "getsockopt": unix.SYS_GETSOCKOPT, "ioctl": unix.SYS_IOCTL,
	"link": unix.SYS_LINK, "linkat": unix.SYS_LINKAT, "listen": unix.SYS_LISTEN, "lseek": unix.SYS_LSEEK,
	"lstat": unix.SYS_LSTAT, "mkdir": unix.SYS_MKDIR, "mkdirat": unix.SYS_MKDIRAT, "nanosleep": unix.SYS_NANOSLEEP,
	"open": unix.SYS_OPEN, "openat": unix.SYS_OPENAT, "poll": unix.SYS_POLL, "ppoll": unix.SYS_PPOLL,
	"pread64": unix.SYS_PREAD64, "pwrite64": unix.SYS_PWRITE64, "pselect6": unix.SYS_PSELECT6,
	"read": unix.SYS_READ, "readv": unix.SYS_READV, "recvfrom": unix.SYS_RECVFROM, "recvmsg": unix.SYS_RECVMSG,
	"rename": unix.SYS_RENAME, "renameat": unix.SYS_RENAMEAT, "rmdir": unix.SYS_RMDIR, "select": unix.SYS_SELECT,
	"sendto": unix.SYS_SENDTO, "sendmsg": unix.SYS_SENDMSG, "setsockopt": unix.SYS_SETSOCKOPT,
	"shutdown": unix.SYS_SHUTDOWN, "socket": unix.SYS_SOCKET, "socketpair": unix.SYS_SOCKETPAIR,
	"stat": unix.SYS_STAT, "statx": unix.SYS_STATX, "truncate": unix.SYS_TRUNCATE, "write": unix.SYS_WRITE,
	"writev": unix.SYS_WRITEV, "uname": unix.SYS_UNAME, "unlink": unix.SYS_UNLINK, "unlinkat": unix.SYS_UNLINKAT,
	"eventfd": unix.SYS_EVENTFD, "eventfd2": unix.SYS_EVENTFD2,
	"futex": unix.SYS_FUTEX, "clone": unix.SYS_CLONE, "clone3": unix.SYS_CLONE3,
}
