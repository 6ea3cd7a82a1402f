package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
)

var (
	benchBinOnce sync.Once
	benchBinPath string
	benchBinErr  error
)

// benchBinary builds the bench command once for the tests that signal it.
func benchBinary(t *testing.T) string {
	t.Helper()
	benchBinOnce.Do(func() {
		benchBinPath = filepath.Join(filepath.Dir(workloadBin), "bench")
		if out, err := exec.Command("go", "build", "-o", benchBinPath, ".").CombinedOutput(); err != nil {
			benchBinErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if benchBinErr != nil {
		t.Fatal(benchBinErr)
	}
	return benchBinPath
}

// startHarness starts bench run with its scratch directories under tmp
// (and env added to its environment) and waits until its first cell's
// scratch directory exists (the workload is running); it returns the
// command and that directory.
func startHarness(t *testing.T, tmp string, env []string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(benchBinary(t), args...)
	cmd.Env = append(append(os.Environ(), "TMPDIR="+tmp), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		m, _ := filepath.Glob(filepath.Join(tmp, "enclavebench-cell-*"))
		if len(m) > 0 {
			return cmd, m[0]
		}
	}
	t.Fatalf("no cell started within 60 s:\n%s", out.String())
	return nil, ""
}

// Stopping the harness (SIGSTOP, as Ctrl-Z on its group would) while its
// workload runs does not turn into a timeout at SIGCONT: the workload
// finished meanwhile, and the stopped time is not the cell's.
func TestStoppedHarnessDoesNotTimeOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and stops the bench binary")
	}
	t.Parallel()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "run")
	// A workload that sleeps 3 s under a 2 s timeout, the harness stopped
	// for 2.5 s from the cell's start: at SIGCONT the wall clock is past
	// the timeout and the workload still runs, but the harness has run for
	// a fraction of the timeout when it finishes. The workload stops the
	// harness itself as it starts: a stop sent by this test once it saw the
	// workload start landed up to 2 s later on a loaded host (its polling
	// and /proc scan waiting for a CPU), which is 2 s of the harness's
	// running time before the stop, the whole timeout.
	slow, _ := filepath.Abs("testdata/slow-workload.sh")
	cmd, _ := startHarness(t, tmp, []string{"SLOW_WORKLOAD_STOP_HARNESS=1"}, "run", "--workload-bin", slow, "--workloads", "syscall",
		"--param", "syscall.call=read", "--sizes", "DC1s_v2", "--modes", "native", "--reps", "1", "--warmup", "0", "--timeout", "2s",
		"--progress", "never", "-o", dir)
	for deadline := time.Now().Add(60 * time.Second); !stopped(cmd.Process.Pid); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the workload did not stop the harness within 60 s")
		}
	}
	time.Sleep(2500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	out := cmd.Stdout.(*bytes.Buffer).String()
	if err != nil {
		t.Errorf("bench run: %v\n%s", err, out)
	}
	_, cells, _ := result.ReadAll(dir)
	if len(cells) != 1 || cells[0].Status != result.StatusOK {
		t.Errorf("cells %+v, want one ok cell", cells)
	}
}

// A harness killed with SIGKILL takes its workload with it (no orphan),
// and the next run removes the scratch directory it left.
func TestKilledHarnessLeavesNoOrphan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the bench binary")
	}
	t.Parallel()
	tmp := t.TempDir()
	// The faulty workload hangs on DC2s_v2 (sleep 600), writing nothing,
	// which would end it with SIGPIPE.
	faulty, _ := filepath.Abs("testdata/faulty-workload.sh")
	cmd, scratch := startHarness(t, tmp, nil, "run", "--workload-bin", faulty, "--workloads", "syscall", "--param", "syscall.call=read",
		"--sizes", "DC2s_v2", "--modes", "native", "--progress", "never", "-o", filepath.Join(tmp, "run"))
	child := childOf(t, cmd.Process.Pid)
	argv, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "cmdline"))
	t.Logf("workload pid %d: %s", child, bytes.ReplaceAll(argv, []byte{0}, []byte{' '}))
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(3 * time.Second)
	for alive(child) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(child) {
		syscall.Kill(child, syscall.SIGKILL)
		t.Errorf("the workload (pid %d) outlived its killed harness", child)
	}
	if _, err := os.Stat(scratch); err != nil {
		t.Fatalf("the killed harness's scratch directory %s: %v", scratch, err)
	}
	next := exec.Command(benchBinary(t), quick("syscall", "--sizes", "DC1s_v2", "--modes", "native", "-o", filepath.Join(tmp, "next"))...)
	next.Env = append(os.Environ(), "TMPDIR="+tmp)
	if out, err := next.CombinedOutput(); err != nil {
		t.Fatalf("next run: %v\n%s", err, out)
	}
	if _, err := os.Stat(scratch); err == nil {
		t.Errorf("the next run left %s in place", scratch)
	}
}

// childOf finds the one child process of pid (the cell's workload).
func childOf(t *testing.T, pid int) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			p, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
			f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
			if len(f) > 1 && f[1] == strconv.Itoa(pid) {
				return p
			}
		}
	}
	t.Fatalf("no child of pid %d", pid)
	return 0
}

// stopped reports whether pid is stopped by a signal.
func stopped(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] == "T"
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}
