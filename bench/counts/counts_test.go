package counts

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// Dumps of Callgrind 3.19 (--dump-instr=yes), one measured repetition of
// memsweep reads over 56 MiB each: its trigger, summary, and the LLC
// misses of the instructions that stream. Sequential: 2 misses per 4 KiB
// page of the one load that streams (16,384 lines, 512 misses), the rest
// the runtime's; random (a pointer chase): none streams.
func TestParseDump(t *testing.T) {
	for _, tt := range []struct {
		file   string
		want   map[string]int64
		stream int64
	}{
		{"testdata/callgrind-seq.out", map[string]int64{"Ir": 45844, "Dr": 32969, "Dw": 153, "I1mr": 25, "D1mr": 16419, "D1mw": 12,
			"ILmr": 9, "DLmr": 513, "DLmw": 0}, 512},
		{"testdata/callgrind-random.out", map[string]int64{"Ir": 148899, "Dr": 16775, "Dw": 246, "I1mr": 39, "D1mr": 16450, "D1mw": 16,
			"ILmr": 31, "DLmr": 13265, "DLmw": 0}, 0},
	} {
		f, err := os.Open(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, err := ParseDump(f)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if got.Trigger != "Client Request: enclavebench-count-rep-0" {
			t.Errorf("%s: trigger %q", tt.file, got.Trigger)
		}
		if !maps.Equal(got.Counts, tt.want) {
			t.Errorf("%s: counts %v, want %v", tt.file, got.Counts, tt.want)
		}
		if got.StreamLLMisses != tt.stream {
			t.Errorf("%s: %d LLC misses of streaming instructions, want %d", tt.file, got.StreamLLMisses, tt.stream)
		}
	}
	// Callgrind leaves trailing zero counts out of its summary.
	d, err := ParseDump(writeTemp(t, "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 5 4 3 2 1 1\n"))
	if err != nil || d.Counts["D1mw"] != 1 || d.Counts["ILmr"] != 0 || d.Counts["DLmw"] != 0 || len(d.Counts) != 9 {
		t.Errorf("short summary: %v, %v", d, err)
	}
}

// The cost lines as Callgrind's dump.c writes them: positions relative
// to the last cost line's ("+N", "-N", "*"), a call's inclusive cost on
// the line after "calls=" (not the instruction's own, and not a new last
// position), counts left out at the end.
func TestParseDumpSplit(t *testing.T) {
	const head = "positions: instr line\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n"
	for _, tt := range []struct {
		name, body string
		stream     int64
	}{
		// 0x10 streams (64 L1 misses, 2 to memory); 0x20 does not (8 of 8).
		{"two instructions", "0x10 1 64 64 0 0 64 0 0 2\n+16 2 8 8 0 0 8 0 0 8\nsummary: 72 72 0 0 72 0 0 10\n", 2},
		// The same instruction on two lines (relative "*", then -16): its
		// counts add up before it is classified: 64+64 L1 misses, 2+14
		// to memory, 1 in 8: streams.
		{"one instruction, two lines", "0x10 1 64 64 0 0 64 0 0 2\n+16 2 1\n-16 * 64 64 0 0 64 0 0 14\nsummary: 129 128 0 0 128 0 0 16\n", 16},
		// A call's inclusive cost (8 misses of the callee) is left out, and
		// the cost line after it ("*") is 0x10 again, not the call's
		// position: 0x10 has 64+8 L1 misses and 2+14 LLC misses, which
		// does not stream (at 0x14 those 14 would have left 0x10 streaming).
		{"call", "0x10 1 64 64 0 0 64 0 0 2\ncfn=(1) f\ncalls=1 0x900 3\n+4 * 8 8 0 0 8 0 0 8\n* * 1 8 0 0 8 0 0 14\n0x900 3 8 8 0 0 8 0 0 8\nsummary: 73 80 0 0 80 0 0 24\n", 0},
	} {
		d, err := ParseDump(writeTemp(t, head+tt.body))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if d.StreamLLMisses != tt.stream {
			t.Errorf("%s: %d streamed misses, want %d", tt.name, d.StreamLLMisses, tt.stream)
		}
	}
}

func TestParseDumpRefuses(t *testing.T) {
	const head = "positions: instr line\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n"
	for name, text := range map[string]string{
		"no summary":     "events: Ir D1mr\n",
		"long summary":   "events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\nsummary: 1 2 3 4 5 6 7 8 9 10\n",
		"no cache sim":   "events: Ir\nsummary: 100\n",
		"not a count":    "events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\nsummary: 1 2 3 4 x 6 7 8 9\n",
		"negative count": "events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw\nsummary: 1 2 3 4 -5 6 7 8 9\n",
		// LLC misses that cannot be split by instruction (before
		// --dump-instr=yes: positions: line, cost lines left out).
		"no instructions": "positions: line\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 10 1 1 0 1 0 0 1\n",
		// Cost lines whose misses do not add up to the summary's.
		"sum differs":     head + "0x10 1 64 64 0 0 64 0 0 2\nsummary: 64 64 0 0 64 0 0 3\n",
		"bad position":    head + "0xzz 1 64 64 0 0 64 0 0 2\nsummary: 64 64 0 0 64 0 0 2\n",
		"too many counts": head + "0x10 1 1 1 1 1 1 1 1 1 1 1\nsummary: 1\n",
	} {
		f := writeTemp(t, text)
		if _, err := ParseDump(f); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A dump of Callgrind 3.19 without --dump-instr=yes, shortened to its
	// header and summary (LLC misses 17, no cost lines).
	f, err := os.Open("testdata/callgrind.out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := ParseDump(f); err == nil || !strings.Contains(err.Error(), "--dump-instr=yes") {
		t.Errorf("a dump without per-instruction costs: %v", err)
	}
}

// Between the first marks: getppid, read (its continuation line not
// again), futex; the clock read and sysmon's nanosleep are left out.
// Between the second: getpid.
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
	if !slices.Equal(n, []int64{3, 1}) {
		t.Errorf("counted %d system calls, want [3 1] (getppid, read, futex; getpid)", n)
	}
	for text, want := range map[string]string{
		"SYSCALL[1,1](39) sys_getpid() --> x\n":                            "no marked repetition",
		"**1** enclavebench-count-begin\n":                                 "without an end mark",
		"**1** enclavebench-count-end\n":                                   "without a begin mark",
		"**1** enclavebench-count-begin\n**1** enclavebench-count-begin\n": "inside a marked repetition",
	} {
		if _, err := CountSyscalls(writeTemp(t, text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error saying %q", text, err, want)
		}
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

// testhookWorkload finds Valgrind (skipping the test without it, or with
// -short) and builds the test-hook workload binary.
func testhookWorkload(t *testing.T) (*Counter, string) {
	t.Helper()
	c := Find()
	if c.Unavailable != "" {
		t.Skip(c.Unavailable + " (./test.sh installs it)")
	}
	if testing.Short() {
		t.Skip("runs the workload under valgrind")
	}
	bin := filepath.Join(t.TempDir(), "workload")
	build := exec.Command("go", "build", "-tags", "testhook", "-o", bin, "github.com/enclavebench/enclavebench/workloads/cmd/workload")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as run.sh builds it: Valgrind starts it faster
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the workload: %v\n%s", err, out)
	}
	return c, bin
}

// The counting pass of a real workload, and of a test-hook build asked for
// one more system call and 2000 more loop iterations per operation through
// a wrapper script (as scripts/check-gate-scale.sh's candidate): the
// counts see exactly that.
func TestCountWorkload(t *testing.T) {
	c, bin := testhookWorkload(t)
	args := []string{"syscall", "--param", "call=read", "--size", "DC1s_v2,vcpus=1,epc_bytes=29360128,mem_bytes=0",
		"--reps", "6", "--warmup", "1", "--min-time", "20ms"}
	env := []string{"GOMAXPROCS=1"}
	base := c.Count(context.Background(), bin, append(args, "--tmpdir", t.TempDir()), env, t.TempDir())
	// Two candidates, each with one change: an operation made longer by a
	// loop also makes more of the runtime's clock-driven system calls
	// (sysmon) per operation, more so under Valgrind on a loaded host
	// (seen: +1.14 for one pread when both changes were in one build).
	withWork := func(work string) *Result {
		wrapper := filepath.Join(t.TempDir(), "more")
		script := "#!/bin/sh\nENCLAVEBENCH_TEST_WORK=" + work + " exec " + bin + " \"$@\"\n"
		if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return c.Count(context.Background(), wrapper, append(args, "--tmpdir", t.TempDir()), env, t.TempDir())
	}
	more, loops := withWork("syscall=calls:1"), withWork("syscall=loops:2000")
	for _, r := range []*Result{base, more, loops} {
		if r.Err != "" || r.NA != "" {
			t.Fatalf("count: %+v", r)
		}
		if len(r.PerOp) != Segments {
			t.Fatalf("%d values, want %d (one per measured repetition)", len(r.PerOp), Segments)
		}
		// Every event run.json describes, the prefetcher-aware LLC misses
		// in place of the old ll_misses.
		for e := range c.Info().Events {
			if _, ok := r.PerOp[0][e]; !ok {
				t.Errorf("no %s in %v", e, r.PerOp[0])
			}
		}
		if _, ok := r.PerOp[0][result.EventLLMisses]; ok {
			t.Errorf("%s (no prefetcher) counted beside %s: %v", result.EventLLMisses, result.EventLLMissesPF, r.PerOp[0])
		}
	}
	t.Logf("base %v (N=%d)\nmore %v (N=%d)\nloops %v (N=%d)", base.PerOp, base.Iters, more.PerOp, more.Iters, loops.PerOp, loops.Iters)
	for i := range Segments {
		b, m, l := base.PerOp[i], more.PerOp[i], loops.PerOp[i]
		// One pread per operation (and one getppid more), each counted,
		// and a few of the runtime's: futex and epoll_pwait calls that
		// follow the clock (sysmon retaking the P from a thread in pread
		// and handing it to another; under Valgrind on a loaded host,
		// measured 0.02 to 0.10 per operation, different in each process),
		// so the two counts are compared with their exact floors, not with
		// each other: the difference of two processes' runtime calls was
		// +1.140 and +0.914 for one more system call.
		if s := b[result.EventProcessSyscalls]; s < 1 || s > 1.2 {
			t.Errorf("value %d: process_syscalls/op = %.3f, want 1 (one pread) to 1.2", i, s)
		}
		if s := m[result.EventProcessSyscalls]; s < 2 || s > 2.2 {
			t.Errorf("value %d: process_syscalls/op with one more system call = %.3f, want 2 (pread and getppid) to 2.2", i, s)
		}
		// 2000 iterations of a multiply-add loop: 7 instructions each as
		// Go 1.26 compiles it (3 to 8 allowed: another compiler may do
		// better).
		if d := l[result.EventInstructions] - b[result.EventInstructions]; d < 3*2000 || d > 8*2000 {
			t.Errorf("value %d: 2000 loop iterations per operation counted as %+.0f instructions", i, d)
		}
		if a := b[result.EventAllocObjects]; a != 0 {
			t.Errorf("value %d: alloc_objects/op = %v, want 0 (pread allocates nothing)", i, a)
		}
	}
}

// DynamicallyLinked tells a binary with a program interpreter from a
// static one and from what is not ELF (a wrapper script).
func TestDynamicallyLinked(t *testing.T) {
	dir := t.TempDir()
	static := filepath.Join(dir, "static")
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", static, src)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	script := filepath.Join(dir, "wrapper.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		bin  string
		want bool
	}{{"/bin/sh", true}, {static, false}, {script, false}, {filepath.Join(dir, "missing"), false}} {
		if tc.want {
			if _, err := os.Stat(tc.bin); err != nil {
				t.Logf("%s: %v (skipped)", tc.bin, err)
				continue
			}
		}
		if got := DynamicallyLinked(tc.bin); got != tc.want {
			t.Errorf("DynamicallyLinked(%s) = %v, want %v", tc.bin, got, tc.want)
		}
	}
}
