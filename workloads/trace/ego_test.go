//go:build linux && amd64

package trace

import (
	"testing"

	"golang.org/x/sys/unix"
)

// seenInEGo pins the classification to what EGo was seen to do: the OCALL
// functions EGo v1.6.0 / Edgeless RT v0.4.7 (simulation mode, ego-go
// go1.26.8) reported with OE_TRACE_OCALLS=1 for the quick profile's cells
// (docs/sim.md, "Against EGo's own count"), each with the system call the
// workload made and the class the sim gives it. Seen too, and no system
// call of the workload: Open Enclave's own HandleMalloc/HandleFree
// (TestHostAllocsMatchEGo), HandleThreadWait/HandleThreadWake and
// epoll_wake (a few per process), and the start and exit of the enclave
// (ert_get_args, ert_getaffinity_cpucount, oe_get_clock_vdso_pointers,
// oe_sgx_get_cpuid_table, oe_log, ert_exit: once each).
var seenInEGo = []struct {
	ocall string
	nr    uintptr
	want  Class
}{
	{"ocall_oe_syscall_pread_ocall", unix.SYS_PREAD64, OCall},
	{"ocall_oe_syscall_pwrite_ocall", unix.SYS_PWRITE64, OCall},
	{"ocall_oe_syscall_write_ocall", unix.SYS_WRITE, OCall},
	{"ocall_oe_syscall_writev_ocall", unix.SYS_WRITEV, OCall},
	{"ocall_oe_syscall_open_ocall", unix.SYS_OPENAT, OCall},
	{"ocall_oe_syscall_close_ocall", unix.SYS_CLOSE, OCall},
	{"ocall_oe_syscall_unlink_ocall", unix.SYS_UNLINKAT, OCall},
	{"ocall_oe_syscall_fsync_ocall", unix.SYS_FSYNC, OCall},
	{"ocall_oe_syscall_dup_ocall", unix.SYS_DUP3, OCall},
	{"ocall_oe_syscall_fcntl_ocall", unix.SYS_FCNTL, OCall},
	{"ocall_oe_syscall_getpid_ocall", unix.SYS_GETPID, OCall},
	{"ocall_oe_syscall_nanosleep_ocall", unix.SYS_NANOSLEEP, OCall},
	{"ocall_oe_syscall_epoll_create1_ocall", unix.SYS_EPOLL_CREATE1, OCall},
	{"ocall_oe_syscall_epoll_ctl_ocall", unix.SYS_EPOLL_CTL, OCall},
	{"ocall_oe_syscall_epoll_wait_ocall", unix.SYS_EPOLL_PWAIT, OCall},
	{"ocall_oe_syscall_eventfd_ocall", unix.SYS_EVENTFD2, OCall},
	{"ocall_oe_syscall_read_ocall", unix.SYS_READ, OCall},
	{"ocall_oe_syscall_uname_ocall", unix.SYS_UNAME, OCall},
	// Sockets (httpserver, syscall call=sendrecv): Go's read and write on
	// a socket are forwarded as recv and send, close as close_socket.
	{"ocall_oe_syscall_recv_ocall", unix.SYS_READ, OCall},
	{"ocall_oe_syscall_send_ocall", unix.SYS_WRITE, OCall},
	{"ocall_oe_syscall_close_socket_ocall", unix.SYS_CLOSE, OCall},
	{"ocall_oe_syscall_socket_ocall", unix.SYS_SOCKET, OCall},
	{"ocall_oe_syscall_bind_ocall", unix.SYS_BIND, OCall},
	{"ocall_oe_syscall_listen_ocall", unix.SYS_LISTEN, OCall},
	{"ocall_oe_syscall_accept_ocall", unix.SYS_ACCEPT4, OCall},
	{"ocall_oe_syscall_connect_ocall", unix.SYS_CONNECT, OCall},
	{"ocall_oe_syscall_getsockname_ocall", unix.SYS_GETSOCKNAME, OCall},
	{"ocall_oe_syscall_getsockopt_ocall", unix.SYS_GETSOCKOPT, OCall},
	{"ocall_oe_syscall_setsockopt_ocall", unix.SYS_SETSOCKOPT, OCall},
	{"ocall_ert_create_thread_ocall", unix.SYS_CLONE, Thread},
	{"ocall_oe_sgx_thread_timedwait_ocall", unix.SYS_FUTEX, Futex},
	{"ocall_oe_sgx_thread_wake_multiple_ocall", unix.SYS_FUTEX, Futex},
	// An OCALL here only because this kernel (Linux 6.18) gives Edgeless
	// RT no vDSO clock ("kernel doesn't provide vDSO clock" at every
	// start); on a DCsv2 VM the enclave reads the vDSO: inside.
	{"ocall_ert_clock_gettime_ocall", unix.SYS_CLOCK_GETTIME, Inside},
}

func TestClassificationMatchesEGo(t *testing.T) {
	t.Parallel()
	notified := map[uintptr]bool{}
	for _, nr := range Notified() {
		notified[nr] = true
	}
	for _, s := range seenInEGo {
		if got := Classify(s.nr); got != s.want {
			t.Errorf("%s (EGo's %s): class %d, want %d", Name(s.nr), s.ocall, got, s.want)
		}
		if counted := s.want != Inside; notified[s.nr] != counted {
			t.Errorf("%s (EGo's %s): notified %v, want %v", Name(s.nr), s.ocall, notified[s.nr], counted)
		}
	}
}

// TestHostAllocsMatchEGo pins HostAllocs to EGo's HandleMalloc/HandleFree
// counts (docs/sim.md, "httpserver, call by call"): about one of each per
// 64 KiB httpserver response (1.08-1.21 per request, DC1s_v2-DC8_v2), none
// for 128 B responses, 4 KiB fileio blocks or syscall call=read's preads.
// The limits follow from Open Enclave's 16 KiB OCALL buffer and the
// oeedger8r argument structures (64 B for read/write/recv/send, 72 B for
// pread/pwrite, each marshalled twice, 16-byte aligned).
func TestHostAllocsMatchEGo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		what   string
		nr     uintptr
		length uint64
		want   bool
	}{
		{"httpserver 64 KiB response", unix.SYS_WRITE, 64 << 10, true},
		{"httpserver 128 B response", unix.SYS_WRITE, 128 + 100, false},
		{"httpserver request read (bufio)", unix.SYS_READ, 4 << 10, false},
		{"fileio 4 KiB block", unix.SYS_PWRITE64, 4 << 10, false},
		{"largest write that fits", unix.SYS_WRITE, 16384 - 128, false},
		{"one byte more", unix.SYS_WRITE, 16384 - 128 + 1, true},
		{"largest pread that fits", unix.SYS_PREAD64, 16384 - 160, false},
		{"one byte more", unix.SYS_PREAD64, 16384 - 160 + 1, true},
		{"writev is not sized", unix.SYS_WRITEV, 1 << 20, false},
		{"inside the enclave", unix.SYS_MMAP, 1 << 20, false},
	}
	for _, c := range cases {
		if got := HostAllocs(c.nr, c.length); got != c.want {
			t.Errorf("%s: HostAllocs(%s, %d) = %v, want %v", c.what, Name(c.nr), c.length, got, c.want)
		}
	}
}
