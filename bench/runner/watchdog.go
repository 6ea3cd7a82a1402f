package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The cell timeout counts the harness's running time, in ticks: a gap
// between two ticks longer than stoppedGap is time the harness did not run
// (SIGSTOP, Ctrl-Z, a suspended VM), which does not count. While the
// harness is stopped the workload runs on (stopping it would put the stop
// inside a measured repetition), so a workload that finished meanwhile is
// not a timeout, and one that hangs times out after --timeout of running
// time. Go's timers run on CLOCK_MONOTONIC, which keeps counting while a
// process is stopped: a plain context.WithTimeout fired at SIGCONT.
//
// At the timeout the cell's process group gets SIGQUIT (a Go process
// prints its goroutines' stacks, kept in the cell's stderr tail; a user's
// benchmark run by workloads/gotest is named in the workload's error) and
// runspec.QuitGrace of running time later SIGKILL. The harness sends both, so the
// stacks come before the kill whatever the workload's own clock said: a
// workload that timed itself from its own start, 3 s before the timeout,
// was starved past the kill on a loaded host (its timer fired 0.75 s late;
// in one run its stderr stayed empty over the 7.6 s of wall time in which
// the harness counted the 4 s timeout).
const (
	watchdogTick = 50 * time.Millisecond
	stoppedGap   = time.Second
)

// watchdog quits, then cancels, a cell after its timeout of running time.
type watchdog struct {
	expired atomic.Bool
	stopped atomic.Int64 // nanoseconds not counted
}

// startWatchdog calls quit after timeout of running time since start and
// cancels ctx (through cancel) grace of running time after that, measured
// by the times tick delivers (a time.Ticker's: when each tick fired); it
// ends with ctx.
func startWatchdog(ctx context.Context, cancel context.CancelFunc, quit func(), timeout, grace time.Duration, start time.Time, tick <-chan time.Time) *watchdog {
	w := &watchdog{}
	go func() {
		var ran time.Duration
		last := start
		for {
			var t time.Time
			select {
			case <-ctx.Done():
				return
			case t = <-tick:
			}
			gap := t.Sub(last)
			last = t
			if gap > stoppedGap {
				w.stopped.Add(int64(gap))
				continue
			}
			ran += gap
			if ran >= timeout && !w.expired.Load() {
				w.expired.Store(true)
				quit()
			}
			if ran >= timeout+grace {
				cancel()
				return
			}
		}
	}()
	return w
}

// scratchPrefix starts the name of a cell's scratch directory; the
// harness's pid follows, so that a later run can tell a directory its
// killed owner left (removeStaleScratch).
const scratchPrefix = "enclavebench-cell-"

// scratchPattern is the os.MkdirTemp pattern of this process's cell
// scratch directories.
func scratchPattern() string { return scratchPrefix + strconv.Itoa(os.Getpid()) + "-*" }

// removeStaleScratch removes the cell scratch directories under root whose
// harness (the pid in their name) is gone: a harness killed with SIGKILL
// cannot remove its own. A directory whose pid runs (its harness, or a
// process that reused the pid) is kept, and so is one named otherwise.
func removeStaleScratch(root string) (removed []string, err error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var errs []string
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), scratchPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, perr := strconv.Atoi(pidText)
		if !ok || perr != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := unix.Kill(pid, 0); err != unix.ESRCH {
			continue // alive (or not ours to signal: EPERM)
		}
		p := filepath.Join(root, e.Name())
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		removed = append(removed, p)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("removing stale cell directories: %s", strings.Join(errs, "; "))
	}
	return removed, nil
}
