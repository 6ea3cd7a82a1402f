package counts

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

func TestParseCachegrind(t *testing.T) {
	f, err := os.Open("testdata/cachegrind.out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseCachegrind(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"Ir": 256767512, "I1mr": 18389, "ILmr": 6542, "Dr": 14241910, "D1mr": 11847,
		"DLmr": 5563, "Dw": 1472172, "D1mw": 5429, "DLmw": 3708}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
}

func TestParseCachegrindRefuses(t *testing.T) {
	for name, text := range map[string]string{
		"no summary":     "events: Ir D1mr\n",
		"short summary":  "events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\nsummary: 1 2 3\n",
		"no cache sim":   "events: Ir\nsummary: 100\n",
		"not a count":    "events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\nsummary: 1 2 3 4 x 6 7 8 9\n",
		"negative count": "events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\nsummary: 1 2 3 4 -5 6 7 8 9\n",
	} {
		f := writeTemp(t, text)
		if _, err := ParseCachegrind(f); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Between the marks: getppid, read (its continuation line not again),
// futex; the clock read and sysmon's nanosleep are left out.
func TestCountSyscalls(t *testing.T) {
	f, err := os.Open("testdata/valgrind.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := CountSyscalls(f)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("counted %d system calls, want 3 (getppid, read, futex)", n)
	}
	if _, err := CountSyscalls(writeTemp(t, "SYSCALL[1,1](39) sys_getpid() --> x\n")); err == nil || !strings.Contains(err.Error(), "no marked repetition") {
		t.Errorf("an unmarked log: %v, want an error", err)
	}
}

func writeTemp(t *testing.T, text string) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Without valgrind the counter says so and counts nothing.
func TestUnavailable(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	c := Find()
	if c.Unavailable == "" || !strings.Contains(c.Unavailable, "valgrind not found") || !strings.Contains(c.Unavailable, "time only") {
		t.Fatalf("Unavailable = %q, want valgrind not found ... time only", c.Unavailable)
	}
	if info := c.Info(); info.Unavailable != c.Unavailable || info.Tool != "" {
		t.Errorf("Info = %+v, want only the reason", info)
	}
	if r := c.Count(context.Background(), "/bin/true", nil, nil, t.TempDir()); r.Err == "" || r.PerOp != nil {
		t.Errorf("Count = %+v, want an error and no counts", r)
	}
}

// The counting pass of a real workload, and of a test-hook build asked for
// one more system call and 2000 more loop iterations per operation through
// a wrapper script (as scripts/check-gate-scale.sh's candidate): the
// counts see exactly that.
func TestCountWorkload(t *testing.T) {
	c := Find()
	if c.Unavailable != "" {
		t.Skip(c.Unavailable + " (./test.sh installs it)")
	}
	if testing.Short() {
		t.Skip("runs the workload under valgrind")
	}
	bin := filepath.Join(t.TempDir(), "workload")
	build := exec.Command("go", "build", "-tags", "testhook", "-o", bin, "github.com/enclavebench/enclavebench/workloads/cmd/workload")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the workload: %v\n%s", err, out)
	}
	args := []string{"syscall", "--param", "call=read", "--size", "DC1s_v2,vcpus=1,epc_bytes=29360128,mem_bytes=0", "--mode", "native",
		"--reps", "6", "--warmup", "1", "--min-time", "20ms"}
	env := []string{"GOMAXPROCS=1"}
	base := c.Count(context.Background(), bin, append(args, "--tmpdir", t.TempDir()), env, t.TempDir())
	wrapper := filepath.Join(t.TempDir(), "more")
	script := "#!/bin/sh\nENCLAVEBENCH_TEST_WORK=syscall=calls:1,syscall=loops:2000 exec " + bin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	more := c.Count(context.Background(), wrapper, append(args, "--tmpdir", t.TempDir()), env, t.TempDir())
	for _, r := range []*Result{base, more} {
		if r.Err != "" || r.NA != "" {
			t.Fatalf("count: %+v", r)
		}
		for _, e := range result.CountEvents {
			if _, ok := r.PerOp[e]; !ok {
				t.Errorf("no %s in %v", e, r.PerOp)
			}
		}
	}
	t.Logf("base %v (N=%d)\nmore %v (N=%d)", base.PerOp, base.Iters, more.PerOp, more.Iters)
	// One pread per operation, and a few of the runtime's.
	if s := base.PerOp[result.EventProcessSyscalls]; s < 1 || s > 1.2 {
		t.Errorf("process_syscalls/op = %.3f, want 1 (one pread) to 1.2", s)
	}
	if d := more.PerOp[result.EventProcessSyscalls] - base.PerOp[result.EventProcessSyscalls]; math.Abs(d-1) > 0.1 {
		t.Errorf("one more system call per operation counted as %+.3f", d)
	}
	// 2000 iterations of a multiply-add loop: 7 instructions each as Go
	// 1.26 compiles it (3 to 8 allowed: another compiler may do better).
	if d := more.PerOp[result.EventInstructions] - base.PerOp[result.EventInstructions]; d < 3*2000 || d > 8*2000 {
		t.Errorf("2000 loop iterations per operation counted as %+.0f instructions", d)
	}
	if a := base.PerOp[result.EventAllocObjects]; a != 0 {
		t.Errorf("alloc_objects/op = %v, want 0 (pread allocates nothing)", a)
	}
}
