package syscall

import (
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/workloads/protocol"

	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

func env(t testing.TB, call string) workload.Env {
	return workload.Env{Size: protocol.Size{VCPUs: 1}, TempDir: t.TempDir(), Parameters: map[string]string{"call": call}}
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
	// The vDSO clock inside an SGX1 enclave: 4 ms steps.
	base, reads := time.Now(), time.Duration(0)
	clockNow = func() time.Time {
		reads += 50
		return base.Add(reads / (4 * time.Millisecond) * (4 * time.Millisecond))
	}
	defer func() { clockNow = time.Now }()
	_, err := Spec.New(e)
	if !workload.IsNotApplicable(err) || !strings.Contains(err.Error(), vdsoClockEnv) {
		t.Fatalf("want a not-applicable error naming %s, got %v", vdsoClockEnv, err)
	}
	// A clock that moves at every read (an OCALL each, as on a kernel
	// without a vDSO clock): the cell measures.
	clockNow = time.Now
	b, err := Spec.New(e)
	if err != nil {
		t.Fatalf("fine clock in an enclave: %v", err)
	}
	b.Close()
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

func TestClockSteps(t *testing.T) {
	t.Parallel()
	base := time.Now()
	fake := func(step, read time.Duration) func() time.Time {
		var now time.Duration
		return func() time.Time {
			now += read
			return base.Add(now / step * step)
		}
	}
	if !clockSteps(fake(4*time.Millisecond, 50*time.Nanosecond)) {
		t.Error("vDSO-like clock (4 ms steps): not stepping; call=clock would measure the vDSO")
	}
	if clockSteps(fake(time.Nanosecond, 3*time.Microsecond)) {
		t.Error("OCALL-priced fine clock (3 µs per read): stepping; call=clock would be na where it is an OCALL")
	}
	if clockSteps(time.Now) {
		t.Error("this host's clock counts as stepping")
	}
}
