package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/workloads/enclave"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// How much of a failed workload's stderr is kept: its first lines, where
// the Go runtime names a fatal error ("fatal error: out of memory") before
// it prints every goroutine's stack (more than 4 KiB with GOMAXPROCS=8 in
// EGo), and its last lines, where a workload's own error is.
const (
	stderrHead = 1 << 10
	stderrTail = 4 << 10
)

// The foreign stdout lines kept for mode.ExitReporter: the first ones (launcher
// banners) and the last ones (EGo prints its OCALL table at exit).
const (
	maxForeignHead = 192
	maxForeignTail = 64
)

// runCell runs one process of a cell on one side (j) and returns its
// outcome; its samples go to the side's store as they arrive. The error is
// the store's: nothing more can be kept.
func (c *Config) runCell(ctx context.Context, cell plan.Cell, attempt int, j job) (result.CellResult, error) {
	key := cell.Key()
	cr := result.CellResult{Cell: key, Attempt: attempt, Workload: cell.Workload, Params: cell.Params,
		Size: cell.Size, Mode: cell.Mode, Start: time.Now().UTC(), HarnessVersion: c.HarnessVersion}
	m, ok := j.side.Modes[cell.Mode]
	if !ok {
		return fail(cr, "mode "+cell.Mode+" is not available"), nil
	}
	scratchRoot := c.ScratchDir
	if scratchRoot == "" {
		scratchRoot = os.TempDir()
	}
	dir, err := os.MkdirTemp(scratchRoot, scratchPattern())
	if err != nil {
		return fail(cr, "scratch directory: "+err.Error()), nil
	}
	defer os.RemoveAll(dir)
	l := c.launch(cell, dir, j.side.WorkloadBin, j.reps)

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ticker := time.NewTicker(watchdogTick)
	defer ticker.Stop()
	var pgid atomic.Int64 // the cell's process group, once it started
	quit := func() {
		if g := pgid.Load(); g > 0 {
			unix.Kill(-int(g), unix.SIGQUIT)
		}
	}
	wd := startWatchdog(cctx, cancel, quit, c.Spec.Timeout(), runspec.QuitGrace, time.Now(), ticker.C)
	p, err := startCell(cctx, m, l, cell.SizeInfo.VCPUs)
	if p != nil {
		cr.Oversubscribed = p.oversub
		if p.cmd.Process != nil {
			pgid.Store(int64(p.cmd.Process.Pid))
		}
	}
	if err != nil {
		return fail(cr, err.Error()), nil
	}
	rd := &cellReader{c: c, cell: cell, attempt: attempt, j: j, m: m, l: l, cr: &cr, cancel: cancel,
		cctx: cctx, stdin: p.stdin, cpus: p.cpus, started: p.started}
	rd.read(p.stdout)
	if p.stdin != nil {
		p.stdin.Close()
	}
	waitErr := p.cmd.Wait()
	cr.WallNS = time.Since(p.started).Nanoseconds()
	cr.Stderr = p.stderr.String()
	if ee, ok := waitErr.(*exec.ExitError); ok {
		cr.ExitCode = ee.ExitCode()
	}
	if r, ok := m.(mode.ExitReporter); ok {
		r.AfterExit(l, append(rd.foreign, rd.foreignTail...), cr.Stderr, &cr)
	}
	if p, ok := m.(mode.Profiler); ok && waitErr == nil && ctx.Err() == nil {
		if err := keepProfile(p, l, j.side.Store, key, attempt, j.repOffset, &cr); err != nil {
			return cr, err
		}
	}
	if j.counts != nil {
		if cr.Extra == nil {
			cr.Extra = map[string]string{}
		}
		if j.counts.Iters > 0 {
			cr.Extra[result.ExtraCountsIters] = strconv.Itoa(j.counts.Iters)
		}
		if len(j.counts.PerOp) > 0 {
			cr.Extra[result.ExtraCountsValues] = strconv.Itoa(len(j.counts.PerOp))
		}
		if j.counts.Err != "" {
			cr.Extra[result.ExtraCountsError] = j.counts.Err
		}
	}
	if rd.storeErr != nil {
		return cr, rd.storeErr
	}
	if ctx.Err() != nil {
		return cr, nil // the caller sees the interruption
	}
	c.judge(&cr, rd, m, wd.expired.Load(), time.Duration(wd.stopped.Load()), waitErr)
	if cr.Status == result.StatusOK && c.ProvenancePath != nil && cr.Extra[enclave.KeyReportData] != "" {
		if err := writeLines(c.ProvenancePath(j.side.Store.Dir, key), rd.sampleLines); err != nil {
			return cr, err
		}
	}
	return cr, nil
}

// process is a started workload process.
type process struct {
	cmd     *exec.Cmd
	stdout  io.Reader
	stdin   io.WriteCloser // nil unless the mode's command reads stdin (driven.go)
	stderr  *tailBuffer
	cpus    []int
	oversub bool
	started time.Time
}

// startCell starts a cell's process as its mode commands it, on vcpus of
// this host's CPUs; the error is the cell's failure reason (with the
// process that could not start, once its CPUs were chosen).
func startCell(ctx context.Context, m mode.Mode, l mode.Launch, vcpus int) (*process, error) {
	cmd, err := m.Command(ctx, l)
	if err != nil {
		return nil, err
	}
	// Own process group, so a timeout kills the launcher and everything
	// it started (ego run's host process, a wrapped shell). Pdeathsig: a
	// harness killed with SIGKILL takes the launcher with it rather than
	// leave it running as an orphan (the kernel sends it when the thread
	// that started the child ends; Go ends a thread only with a goroutine
	// locked to it, and runCell waits for its child first).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	p := &process{cmd: cmd, stderr: &tailBuffer{head: stderrHead, max: stderrTail}}
	cmd.Stderr = p.stderr
	if p.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if p.stdin, err = stdinPipe(cmd); err != nil { // closed to stop a driven workload (driven.go)
		return nil, err
	}
	p.cpus, p.oversub = cpuSet(vcpus)
	p.started = time.Now()
	if err := startWithAffinity(cmd, p.cpus); err != nil {
		return p, fmt.Errorf("starting %s: %v", l.Binary, err)
	}
	return p, nil
}

// cellReader reads a cell's process output: protocol lines into the
// outcome and the store, other lines kept for the mode (ExitReporter).
type cellReader struct {
	c       *Config
	cell    plan.Cell
	attempt int
	j       job
	m       mode.Mode
	l       mode.Launch
	cr      *result.CellResult
	cancel  context.CancelFunc
	cctx    context.Context
	stdin   io.WriteCloser
	cpus    []int
	started time.Time

	foreign, foreignTail []string
	sampleLines          [][]byte
	protoErr, naReason   string
	done, helloSeen      bool
	storeErr             error
}

// read consumes stdout until the process closes it.
func (rd *cellReader) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		rd.line(sc.Bytes())
	}
	if err := sc.Err(); err != nil && rd.protoErr == "" {
		rd.protoErr = "reading the workload's output: " + err.Error()
	}
}

// line handles one line of the process's stdout.
func (rd *cellReader) line(line []byte) {
	cr := rd.cr
	msg, err := protocol.Parse(line)
	if errors.Is(err, protocol.ErrForeign) {
		if len(rd.foreign) < maxForeignHead {
			rd.foreign = append(rd.foreign, string(line))
		} else {
			if len(rd.foreignTail) == maxForeignTail {
				rd.foreignTail = rd.foreignTail[1:]
			}
			rd.foreignTail = append(rd.foreignTail, string(line))
		}
		return
	}
	if err != nil {
		rd.protoErr = err.Error()
		return
	}
	switch msg.Type {
	case protocol.TypeHello:
		rd.helloSeen = true
		cr.GOMAXPROCS, cr.CPUs, cr.Arena = msg.GOMAXPROCS, msg.CPUs, msg.Arena
		if d, ok := mode.Lookup(rd.cell.Mode); ok && d.RecordsLoadTime {
			cr.LoadNS = time.Since(rd.started).Nanoseconds()
		}
	case protocol.TypeSample:
		rd.addSample(msg.Sample, msg.Extra)
		if rd.c.ProvenancePath != nil {
			rd.sampleLines = append(rd.sampleLines, append([]byte(nil), line...))
		}
	case protocol.TypeReady:
		emit := func(ps *protocol.Sample) { rd.addSample(ps, nil) }
		if err := rd.c.drive(rd.cctx, msg, rd.stdin, rd.j.reps, emit, otherCPUs(rd.cpus)); err != nil && rd.protoErr == "" {
			rd.protoErr = "driving the workload: " + err.Error()
		}
	case protocol.TypeNA:
		rd.naReason = msg.Error
	case protocol.TypeError:
		rd.protoErr = msg.Error
	case protocol.TypeDone:
		rd.done = true
		cr.ChildNS = msg.ElapsedNS
		if len(msg.Extra) > 0 {
			cr.Extra = msg.Extra
		}
	}
}

// addSample finishes a protocol sample (the counting pass's events, the
// mode's Finish), checks it and appends it to the store.
func (rd *cellReader) addSample(ps *protocol.Sample, extra map[string]string) {
	cell, j := rd.cell, rd.j
	s := result.Sample{Cell: cell.Key(), Attempt: rd.attempt, Workload: cell.Workload, Params: cell.Params,
		Size: cell.Size, Mode: cell.Mode, Rep: ps.Rep + j.repOffset, Iters: ps.Iters,
		ElapsedNS: ps.ElapsedNS, Values: ps.Values, Events: ps.Events,
		Time: time.Now().UTC()}
	if j.counts != nil && j.counts.PerOp != nil && ps.Iters > 0 {
		if s.Events == nil {
			s.Events = map[string]int64{}
		}
		maps.Copy(s.Events, j.counts.Events(s.Rep, ps.Iters))
	}
	if err := rd.m.Finish(rd.l, &s, extra); err != nil {
		rd.protoErr = err.Error()
		return
	}
	if err := result.CheckSample(&s); err != nil {
		// An impossible figure fails the cell; it is never stored.
		rd.protoErr = err.Error()
		return
	}
	if rd.storeErr == nil {
		if rd.storeErr = j.side.Store.AppendSample(&s); rd.storeErr == nil {
			rd.cr.Samples++
		} else {
			rd.cancel() // nowhere to put samples: stop the workload
		}
	}
}

// judge sets the status and reason of a finished process's outcome: timed
// out (stopped: the time the harness was stopped, not counted), failed
// (exit, mode, protocol), not applicable, or ok.
func (c *Config) judge(cr *result.CellResult, rd *cellReader, m mode.Mode, expired bool, stopped time.Duration, waitErr error) {
	switch {
	case expired:
		cr.Status, cr.Reason = result.StatusFailed, fmt.Sprintf("timed out after %v (raise --timeout, or the workload hangs)", c.Spec.Timeout())
		if stopped > 0 {
			cr.Reason += fmt.Sprintf("; %v while the harness was stopped not counted", stopped.Round(time.Millisecond))
		}
		if rd.protoErr != "" { // what the workload said when it got the timeout's SIGQUIT
			cr.Reason += ": " + rd.protoErr
		}
	case waitErr != nil:
		cr.Status, cr.Reason = result.StatusFailed, describeExit(waitErr, rd.protoErr)
		if ex := m.Explain(cr.Stderr, cr.ExitCode); ex != "" {
			cr.Reason += ": " + ex
		} else if ex := unknownFlag(cr.Stderr, rd.helloSeen); ex != "" {
			cr.Reason += ": " + ex
		}
	case cr.Status == result.StatusFailed:
		// The mode's AfterExit failed the cell (e.g. an sgx cell that ran
		// in simulation): keep its reason.
	case rd.naReason != "":
		cr.Status, cr.Reason = result.StatusNA, rd.naReason
	case rd.protoErr != "":
		cr.Status, cr.Reason = result.StatusFailed, rd.protoErr
	case !rd.helloSeen || !rd.done:
		cr.Status, cr.Reason = result.StatusFailed, "the workload exited without finishing the protocol (no hello or done line)"
	default:
		cr.Status = result.StatusOK
	}
}

// keepProfile stores the mode's profile of the cell as
// DIR/profiles/<cell key made file-safe>-<hash>-a<attempt>[-r<first rep>].pb.gz
// and records its relative path in the cell's Extra. A profile the mode
// cannot make is noted in the Extra, not an error of the cell.
func keepProfile(p mode.Profiler, l mode.Launch, st *result.Store, key string, attempt, repOffset int, cr *result.CellResult) error {
	data, err := p.CellProfile(l, cr)
	if cr.Extra == nil {
		cr.Extra = map[string]string{}
	}
	if err != nil {
		cr.Extra[result.ExtraProfile+"_error"] = err.Error()
		return nil
	}
	if data == nil {
		return nil
	}
	name := result.FileSafe(key) + fmt.Sprintf("-a%d", attempt)
	if repOffset > 0 {
		name += fmt.Sprintf("-r%d", repOffset)
	}
	rel := result.ProfileDir + "/" + name + ".pb.gz"
	if err := st.WriteProfile(key, rel, data); err != nil {
		return err
	}
	cr.Extra[result.ExtraProfile] = rel
	return nil
}

// writeLines replaces path with lines, one per line.
func writeLines(path string, lines [][]byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b []byte
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	return result.WriteFileAtomic(path, b)
}

func fail(cr result.CellResult, reason string) result.CellResult {
	cr.Status, cr.Reason = result.StatusFailed, reason
	return cr
}

// unknownFlag explains a workload binary that refused a flag the harness
// passed before it said hello: a binary built from another commit than the
// harness (a --baseline or --workload-bin build from before a flag was
// added), whose cells would all fail the same way.
func unknownFlag(stderr string, helloSeen bool) string {
	const refusal = "flag provided but not defined: "
	i := strings.Index(stderr, refusal)
	if helloSeen || i < 0 {
		return ""
	}
	name := strings.TrimSpace(textfmt.FirstLine(stderr[i+len(refusal):]))
	return "the workload binary does not know the harness's flag " + name + ": it was built from another commit than this harness " +
		"(the workload binary and the harness change their command line together); build it from the harness's commit, " +
		"or for a --baseline from before the change, compare against a stored run of the base instead"
}

func describeExit(err error, protoErr string) string {
	var ee *exec.ExitError
	msg := err.Error()
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			msg = "killed by signal " + ws.Signal().String()
		} else {
			msg = fmt.Sprintf("exited with status %d", ee.ExitCode())
		}
	}
	if protoErr != "" {
		msg += ": " + protoErr
	}
	return msg
}

// tailBuffer keeps the first head and the last max bytes written; String
// joins them with a "..." line where it left bytes out, keeping whole lines.
type tailBuffer struct {
	mu   sync.Mutex
	head int
	max  int
	h    []byte // the first head bytes
	buf  []byte // the last max bytes after them
	cut  bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if k := min(t.head-len(t.h), len(p)); k > 0 {
		t.h = append(t.h, p[:k]...)
		p = p[k:]
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
		t.cut = true
	}
	return n, nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.cut {
		return string(t.h) + string(t.buf)
	}
	h := string(t.h)
	if i := strings.LastIndexByte(h, '\n'); i >= 0 {
		h = h[:i+1]
	} else {
		h = ""
	}
	s := string(t.buf)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return h + "...\n" + s
}

var _ io.Writer = (*tailBuffer)(nil)
