// Package trace counts, for a real run of a workload, the enclave
// transitions EGo would make: every system call that EGo forwards from the
// enclave to the host (an OCALL) and every thread creation (an OCALL that
// asks the host for a thread, then an ECALL when that thread enters the
// enclave). The sim mode prices these counts with a cost profile.
//
// # What counts as an OCALL
//
// EGo's Go runtime routes every system call through the libc syscall()
// of Edgeless RT (edgelesssys/edgelessrt src/ert/libc/syscalls.c), which
// handles some inside the enclave and forwards the rest through Open
// Enclave's syscall layer (openenclave syscall/syscall.c) to the host:
//
//   - inside, no transition: mmap, munmap, madvise, mprotect, mlock*,
//     sched_yield, clock_gettime/getres, gettid, readlink(at), rlimits,
//     statfs, exit_group, fchmodat, sched_getaffinity, rt_sigaction,
//     rt_sigprocmask, sigaltstack, set_tid_address, set_thread_area,
//     getrandom (RDRAND), getcwd, mount (src/ertlibc/syscall.cpp);
//   - futex is emulated inside (src/ert/libc/ertfutex.c): a FUTEX_WAIT whose
//     value still matches is one OCALL (oe_sgx_thread_timedwait_ocall), a
//     mismatch returns EWOULDBLOCK inside; a FUTEX_WAKE that finds waiters in
//     the enclave's own wait list is one OCALL (wake_multiple), one that
//     finds none is free;
//   - thread creation (pthread_create in src/ertlibc/pthread.cpp) is one
//     OCALL (ert_create_thread_ocall) and one ECALL (the new thread enters);
//   - forwarded, one OCALL each: file and socket I/O on host descriptors
//     (read, write, pread64, pwrite64, readv, writev, open(at), close,
//     fstat, lseek, fsync, ...), sockets, epoll, poll/select, nanosleep and
//     clock_nanosleep, getpid/getuid/... and uname (openenclave
//     syscall/unistd.c: each is an oe_syscall_*_ocall); a read or write
//     whose buffer does not fit Open Enclave's 16 KiB OCALL buffer with its
//     marshalled arguments takes two more, to allocate and free host memory
//     for them (HostAllocs; HandleMalloc and HandleFree in EGo's trace);
//   - everything else is not implemented in an enclave (ENOSYS, no OCALL):
//     it is not counted (signals, process creation, getrusage, ...).
//
// Files on EGo's in-enclave memfs are served inside; the sim mode has no
// memfs, so all file I/O is counted as host I/O.
//
// # How they are counted
//
// With seccomp user notification (seccomp(2) SECCOMP_FILTER_FLAG_NEW_LISTENER).
// The counted process installs a filter on all its threads (TSYNC, with
// TSYNC_ESRCH so that the listener descriptor is the return value) that
// sends the forwarded system calls, futex and clone/clone3 to a listener,
// lets everything else run. The supervisor takes the listener out of the
// child's descriptor table itself (pidfd_getfd), so nothing has to run in
// the child between installing the filter and being supervised: a Go
// runtime thread that makes a notified call in that moment simply waits.
// System calls on descriptor SockFD (a unix socket to the supervisor) are
// let through, so the counted process can ask for snapshots.
//
// The supervisor must be another process. A goroutine blocked in a
// notified system call holds its thread in the kernel; a supervisor
// goroutine in the same process could wait for a P behind it. Here the
// supervisor is the parent (the sim workload's timing process), and it
// answers every notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE after
// counting it, so the system call then runs unchanged. For a futex it reads
// the futex word from the child (process_vm_readv, checked with
// SECCOMP_IOCTL_NOTIF_ID_VALID) and keeps the same wait list the enclave's
// futex emulation keeps, so a wait or wake is counted exactly when EGo's
// would be an OCALL. A waiter that timed out leaves the list at its thread's
// next counted system call (EGo removes it as the wait returns).
//
// A notification costs two context switches, microseconds each, so counted
// runs are slow: the sim mode never times them. It counts in a separate
// pass and attaches per-operation rates to the timed, uninstrumented pass.
package trace
