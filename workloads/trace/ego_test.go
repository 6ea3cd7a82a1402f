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
// workload made and the class the sim gives it.
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
