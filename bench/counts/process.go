package counts

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// counted is what one counted process gave.
type counted struct {
	na       string
	iters    []int              // of each measured repetition
	events   []map[string]int64 // of each measured repetition
	cg       []map[string]int64 // Callgrind's counts of each measured repetition
	stream   []int64            // the LLC misses of its streaming instructions (Dump.StreamLLMisses)
	syscalls []int64            // between each repetition's marks
}

func (c *Counter) runNative(ctx context.Context, bin string, args, env []string, dir string) (*counted, error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env = append(append(cmd.Environ(), env...), Env...)
	cmd.Dir = dir
	return runProtocol(cmd)
}

func (c *Counter) runValgrind(ctx context.Context, bin string, args, env []string, dir string) (*counted, error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	// Output files and logs per process: bin may be a wrapper (a shell
	// script that sets the environment and runs the workload, as
	// scripts/check-gate-scale.sh's candidate is), whose processes
	// Valgrind follows; only the workload's dumps name a repetition.
	out := filepath.Join(dir, "callgrind.%p.out")
	log := filepath.Join(dir, "valgrind.%p.log")
	vargs := []string{"--tool=callgrind", "--instr-atstart=no", "--cache-sim=yes", cacheI1, cacheD1, cacheLL, hwpref, perInstr, "--trace-children=yes",
		"--callgrind-out-file=" + out, "--trace-syscalls=yes", "--log-file=" + log, bin}
	cmd := exec.CommandContext(cctx, c.Valgrind, append(vargs, args...)...)
	// warmEnv before env: a caller's (a test's) value wins.
	cmd.Env = append(append(append(cmd.Environ(), warmEnv), env...), Env...)
	cmd.Dir = dir
	r, err := runProtocol(cmd)
	outs, _ := filepath.Glob(strings.Replace(out, "%p", "*", 1) + "*")
	logs, _ := filepath.Glob(strings.Replace(log, "%p", "*", 1))
	defer func() {
		for _, f := range append(outs, logs...) {
			os.Remove(f)
		}
	}()
	if err != nil {
		for _, l := range logs {
			if tail := logTail(l); tail != "" {
				err = fmt.Errorf("%v (valgrind log: %s)", err, tail)
				break
			}
		}
		return nil, err
	}
	if r.na != "" {
		return r, nil
	}
	reps := len(r.iters)
	r.cg = make([]map[string]int64, reps)
	r.stream = make([]int64, reps)
	for _, o := range outs {
		d, err := parseDumpFile(o)
		if err != nil {
			return nil, err
		}
		rep, err := strconv.Atoi(strings.TrimPrefix(d.Trigger, dumpTrigger))
		if !strings.HasPrefix(d.Trigger, dumpTrigger) || err != nil {
			continue // another dump: before a repetition, or at exit
		}
		if rep < 0 || rep >= reps || r.cg[rep] != nil {
			return nil, fmt.Errorf("%s: a dump of repetition %d; the workload reported %d repetitions", o, rep, reps)
		}
		r.cg[rep], r.stream[rep] = d.Counts, d.StreamLLMisses
	}
	if slices.IndexFunc(r.cg, func(m map[string]int64) bool { return m == nil }) >= 0 {
		return nil, errors.New("callgrind wrote no dump of some repetition (a workload binary from before the counting pass used Callgrind?)")
	}
	// The system calls of the process that marked its repetitions.
	for _, l := range logs {
		n, err := countSyscallsFile(l)
		if errors.Is(err, errUnmarked) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", l, err)
		}
		r.syscalls = n
	}
	if r.syscalls == nil {
		return nil, errUnmarked
	}
	if len(r.syscalls) != reps {
		return nil, fmt.Errorf("valgrind's trace marks %d repetitions; the workload reported %d", len(r.syscalls), reps)
	}
	for i, n := range r.iters {
		if n != r.iters[0] {
			return nil, fmt.Errorf("repetition %d ran %d operations, repetition 0 %d", i, n, r.iters[0])
		}
	}
	return r, nil
}

// runProtocol runs a workload process and reads its protocol lines: each
// sample's iterations and events, or its not-applicable reason.
func runProtocol(cmd *exec.Cmd) (*counted, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	r := &counted{}
	var protoErr string
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		msg, err := protocol.Parse(sc.Bytes())
		if err != nil {
			continue
		}
		switch msg.Type {
		case protocol.TypeSample:
			r.iters = append(r.iters, msg.Sample.Iters)
			r.events = append(r.events, msg.Sample.Events)
		case protocol.TypeNA:
			r.na = msg.Error
		case protocol.TypeError:
			protoErr = msg.Error
		case protocol.TypeReady:
			return nil, errors.New("a server workload (driven by the harness's load generator) is not counted")
		}
	}
	if r.na != "" {
		return r, nil
	}
	if runErr != nil || protoErr != "" {
		msg := strings.TrimSpace(protoErr)
		if msg == "" {
			msg = lastLine(stderr.String())
		}
		return nil, fmt.Errorf("%v: %s", runErr, msg)
	}
	if len(r.iters) == 0 || slices.Min(r.iters) <= 0 {
		return nil, errors.New("the workload reported no repetition")
	}
	return r, nil
}

// logTail is the last lines of Valgrind's log that are not the system
// call trace: where it says why it stopped.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "SYSCALL[") && !strings.HasPrefix(l, "-->") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 3 {
		keep = keep[len(keep)-3:]
	}
	return strings.Join(keep, " / ")
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// DynamicallyLinked reports whether the executable bin names a program
// interpreter (the dynamic loader). Valgrind then reads the C library's
// symbols and debug information (Debian's valgrind recommends libc6-dbg)
// at each counted process's start: measured here (Valgrind 3.19, the
// workload binary with cgo against CGO_ENABLED=0), 0.64 s against 0.37 s
// of start-up (median of 8 each, --tool=none).
func DynamicallyLinked(bin string) bool {
	f, err := elf.Open(bin)
	if err != nil {
		return false // not ELF, or a wrapper script: nothing to say
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// HiddenCPU lists the x86 features the workload binary bin sees natively
// but not under Valgrind (whose CPU model lacks some: SHA, AVX-512, ...):
// code that picks its path by feature takes another one in the counted
// runs than in the timed ones.
func (c *Counter) HiddenCPU(ctx context.Context, bin string) ([]string, error) {
	if c.Unavailable != "" {
		return nil, nil
	}
	native, err := exec.CommandContext(ctx, bin, cpuFeaturesArg).Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", bin, cpuFeaturesArg, err)
	}
	under, err := exec.CommandContext(ctx, c.Valgrind, "-q", "--tool=none", "--trace-children=yes", bin, cpuFeaturesArg).Output()
	if err != nil {
		return nil, fmt.Errorf("valgrind %s %s: %v", bin, cpuFeaturesArg, err)
	}
	seen := strings.Fields(string(under))
	var hidden []string
	for _, f := range strings.Fields(string(native)) {
		if !slices.Contains(seen, f) {
			hidden = append(hidden, f)
		}
	}
	return hidden, nil
}

// cpuFeaturesArg is the workload binary's feature listing
// (workloads/cmd/workload CPUFeaturesArg).
const cpuFeaturesArg = "--cpu-features"
