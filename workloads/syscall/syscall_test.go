package syscall

import (
	"strings"
	"testing"

	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

func env(t testing.TB, call string) workload.Env {
	return workload.Env{VCPUs: 1, TempDir: t.TempDir(), Parameters: map[string]string{"call": call}}
}

func TestCalls(t *testing.T) {
	t.Parallel()
	for _, call := range []string{"read", "write", "sendrecv", "clock"} {
		t.Run(call, func(t *testing.T) {
			t.Parallel()
			e := env(t, call)
			if err := Spec.Validate(e.Parameters, e); err != nil {
				t.Fatal(err)
			}
			b, err := Spec.New(e)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			var r workload.Report
			if err := b.Run(100, &r); err != nil {
				t.Fatal(err)
			}
			want := int64(100)
			if call == "sendrecv" {
				want = 200
			}
			if r.Events["syscalls"] != want {
				t.Errorf("syscalls event = %d, want %d", r.Events["syscalls"], want)
			}
		})
	}
}

func TestValidateNamesParameterAndRange(t *testing.T) {
	t.Parallel()
	e := env(t, "fork")
	err := Spec.Validate(e.Parameters, e)
	if err == nil || !strings.Contains(err.Error(), "syscall.call=fork") || !strings.Contains(err.Error(), "read, write, sendrecv, clock") {
		t.Fatalf("got %v", err)
	}
}

func TestClockInEnclaveWithoutOCallIsNA(t *testing.T) {
	t.Setenv(vdsoClockEnv, "")
	e := env(t, "clock")
	e.InEnclave = true
	_, err := Spec.New(e)
	if !workload.IsNotApplicable(err) || !strings.Contains(err.Error(), vdsoClockEnv) {
		t.Fatalf("want a not-applicable error naming %s, got %v", vdsoClockEnv, err)
	}
}

// BenchmarkClockWorkload is the workload's loop; BenchmarkRawClockGettime
// is the same syscall written the plain way, the near-hardware reference.
func BenchmarkClockWorkload(b *testing.B) { benchWorkload(b, "clock") }

func BenchmarkRawClockGettime(b *testing.B) {
	var ts unix.Timespec
	for b.Loop() {
		unix.Syscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_MONOTONIC, uintptr(unsafePointer(&ts)), 0)
	}
}

func BenchmarkSendRecvWorkload(b *testing.B) { benchWorkload(b, "sendrecv") }
func BenchmarkReadWorkload(b *testing.B)     { benchWorkload(b, "read") }

// BenchmarkPread is a plain pread of 64 B, the reference for call=read.
func BenchmarkPread(b *testing.B) {
	f, err := unix.Open(b.TempDir()+"/f", unix.O_CREAT|unix.O_RDWR, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(f)
	unix.Pwrite(f, make([]byte, 4096), 0)
	buf := make([]byte, 64)
	for b.Loop() {
		unix.Pread(f, buf, 0)
	}
}

func benchWorkload(b *testing.B, call string) {
	w, err := Spec.New(env(b, call))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	var r workload.Report
	b.ResetTimer()
	if err := w.Run(b.N, &r); err != nil {
		b.Fatal(err)
	}
}

func unsafePointer(ts *unix.Timespec) unsafe.Pointer { return unsafe.Pointer(ts) }
