//go:build linux && amd64 && sim

package trace

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary a counted helper: it installs the filter
// and execs the program named by the variable's value.
const helperEnv = "TRACE_TEST_HELPER_EXEC"

func TestMain(m *testing.M) {
	if prog := os.Getenv(helperEnv); prog != "" {
		if err := InstallChild(); err != nil {
			os.Stderr.WriteString("helper: " + err.Error() + "\n")
			os.Exit(3)
		}
		args := strings.Fields(os.Getenv(helperEnv + "_ARGS"))
		err := syscall.Exec(prog, append([]string{prog}, args...), os.Environ())
		os.Stderr.WriteString("helper: exec: " + err.Error() + "\n")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func buildChild(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found: the counted test child is a C program")
	}
	out := filepath.Join(t.TempDir(), "child")
	if b, err := exec.Command(cc, "-O1", "-pthread", "-o", out, "testdata/child.c").CombinedOutput(); err != nil {
		t.Fatalf("building testdata/child.c: %v\n%s", err, b)
	}
	return out
}

// runCounted runs prog args under the filter and supervises it.
func runCounted(t *testing.T, prog string, args ...string) (*Supervisor, string) {
	t.Helper()
	return runCountedWith(t, Options{Timeout: 10 * time.Second}, prog, args...)
}

func runCountedWith(t *testing.T, o Options, prog string, args ...string) (*Supervisor, string) {
	t.Helper()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := os.NewFile(uintptr(pair[0]), "sup"), os.NewFile(uintptr(pair[1]), "child")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+prog, helperEnv+"_ARGS="+strings.Join(args, " "))
	cmd.ExtraFiles = []*os.File{theirs}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	sup, err := SuperviseWith(mine, cmd.Process.Pid, o)
	if err != nil {
		cmd.Wait()
		t.Fatalf("Supervise: %v (stderr: %s)", err, stderr.String())
	}
	werr := cmd.Wait()
	if err := sup.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if werr != nil {
		t.Fatalf("child: %v (stderr: %s)", werr, stderr.String())
	}
	return sup, stdout.String()
}

func TestExactCounts(t *testing.T) {
	prog := buildChild(t)
	sup, _ := runCounted(t, prog, "/proc/self/exe")
	snaps := sup.Snapshots()
	if len(snaps) != 2 {
		t.Fatalf("got %d snapshots, want 2", len(snaps))
	}
	d := snaps[1].Sub(snaps[0])
	want := map[string]int64{"pread64": 102, CauseHostMalloc: 1, CauseHostFree: 1, "getppid": 4, "futex_wait": 6, "futex_wake": 1, "thread_create": 3}
	for k, v := range want {
		if d.BySyscall[k] != v {
			t.Errorf("%s: counted %d, want %d", k, d.BySyscall[k], v)
		}
	}
	for k, v := range d.BySyscall {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected OCALLs counted: %s=%d", k, v)
		}
	}
	if d.OCalls != 118 || d.ECalls != 3 {
		t.Errorf("ocalls=%d ecalls=%d, want 118 and 3 (by cause: %v)", d.OCalls, d.ECalls, d.BySyscall)
	}
}

// TestNotificationOverhead measures what one notified system call costs
// on this host (the reason counted passes are never timed).
func TestNotificationOverhead(t *testing.T) {
	prog := buildChild(t)
	const n = 20000
	_, out := runCounted(t, prog, "/proc/self/exe", strconv.Itoa(n))
	notified, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if err != nil {
		t.Fatalf("child printed %q", out)
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		unix.Getppid()
	}
	plain := float64(time.Since(start).Nanoseconds()) / n
	t.Logf("getppid: %.0f ns notified, %.0f ns plain: %.1f us per notification", notified, plain, (notified-plain)/1000)
}

func TestDeniedIsReported(t *testing.T) {
	// A second listener on a process that already has one is refused
	// (EBUSY): the helper reports it and the supervisor returns DeniedError.
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := os.NewFile(uintptr(pair[0]), "sup"), os.NewFile(uintptr(pair[1]), "child")
	go func() {
		unix.Write(int(theirs.Fd()), append([]byte{msgFail}, "seccomp denied for the test"...))
		theirs.Close()
	}()
	_, err = Supervise(mine, os.Getpid(), 5*time.Second)
	if _, ok := err.(*DeniedError); !ok || !strings.Contains(err.Error(), "denied for the test") {
		t.Fatalf("Supervise = %v, want the child's DeniedError", err)
	}
}

func TestClassify(t *testing.T) {
	for nr, want := range map[uintptr]Class{
		unix.SYS_PREAD64: OCall, unix.SYS_EPOLL_PWAIT: OCall, unix.SYS_NANOSLEEP: OCall, unix.SYS_WRITE: OCall,
		unix.SYS_MMAP: Inside, unix.SYS_SCHED_YIELD: Inside, unix.SYS_CLOCK_GETTIME: Inside, unix.SYS_GETRANDOM: Inside,
		unix.SYS_FUTEX: Futex, unix.SYS_CLONE: Thread, unix.SYS_CLONE3: Thread,
		unix.SYS_TGKILL: Unsupported, unix.SYS_GETRUSAGE: Unsupported,
	} {
		if got := Classify(nr); got != want {
			t.Errorf("Classify(%s) = %v, want %v", Name(nr), got, want)
		}
	}
	if _, err := Filter(); err != nil {
		t.Fatal(err)
	}
}
