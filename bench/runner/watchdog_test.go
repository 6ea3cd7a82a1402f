package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The timeout counts the harness's running time: a gap between ticks
// longer than stoppedGap (the harness stopped) does not count. At the
// timeout the watchdog quits the cell, and cancels it after the grace.
func TestWatchdog(t *testing.T) {
	t.Parallel()
	const grace = 500 * time.Millisecond // 10 ticks
	for _, tt := range []struct {
		name             string
		steps            []time.Duration // clock advance before each tick
		expired, cancels bool
		stopped          time.Duration
	}{
		{"runs out", repeat(watchdogTick, 20), true, false, 0},
		{"not yet", repeat(watchdogTick, 19), false, false, 0},
		{"runs out, then its grace", repeat(watchdogTick, 30), true, true, 0},
		{"runs out, grace not yet", repeat(watchdogTick, 29), true, false, 0},
		// The SIGSTOP: stopped for 5 s mid-cell, 300 ms of running time.
		{"stopped", append(append(repeat(watchdogTick, 2), 5*time.Second), repeat(watchdogTick, 4)...), false, false, 5 * time.Second},
		{"stopped, then hangs", append([]time.Duration{5 * time.Second}, repeat(watchdogTick, 20)...), true, false, 5 * time.Second},
		// Stopped during the grace: that time does not count either.
		{"stopped in the grace", append(append(repeat(watchdogTick, 25), 5*time.Second), repeat(watchdogTick, 4)...), true, false, 5 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := time.Unix(0, 0)
			tick := make(chan time.Time)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			canceled, quit := make(chan struct{}), make(chan struct{})
			w := startWatchdog(ctx, func() { cancel(); close(canceled) }, func() { close(quit) }, time.Second, grace, clock, tick)
			for _, d := range tt.steps {
				clock = clock.Add(d)
				select {
				case <-canceled:
					t.Fatal("canceled early")
				case tick <- clock:
				}
			}
			if tt.expired {
				<-quit
			}
			if tt.cancels {
				<-canceled
			}
			time.Sleep(10 * time.Millisecond) // the last tick's bookkeeping
			select {
			case <-canceled:
				if !tt.cancels {
					t.Error("canceled before the grace ran out")
				}
			default:
			}
			if w.expired.Load() != tt.expired || time.Duration(w.stopped.Load()) != tt.stopped {
				t.Errorf("expired %v, stopped %v; want %v, %v", w.expired.Load(), time.Duration(w.stopped.Load()), tt.expired, tt.stopped)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// Scratch directories of a harness that is gone are removed; those of a
// live one, and directories named otherwise, are kept.
func TestRemoveStaleScratch(t *testing.T) {
	t.Parallel()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dirs := map[string]bool{ // name -> removed
		scratchPrefix + strconv.Itoa(gone.Process.Pid) + "-1":       true,
		scratchPrefix + strconv.Itoa(os.Getpid()) + "-2":            false,
		scratchPrefix + strconv.Itoa(os.Getppid()) + "-3":           false,
		scratchPrefix + "123456789":                                 false, // an older harness's name: no pid
		"other-" + strconv.Itoa(gone.Process.Pid) + "-4":            false,
		scratchPrefix + "x" + strconv.Itoa(gone.Process.Pid) + "-5": false,
	}
	for name := range dirs {
		if err := os.MkdirAll(filepath.Join(root, name, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := removeStaleScratch(root)
	if err != nil || len(removed) != 1 {
		t.Errorf("removed %v, %v", removed, err)
	}
	for name, gone := range dirs {
		if _, err := os.Stat(filepath.Join(root, name)); (err != nil) != gone {
			t.Errorf("%s: removed %v, want %v", name, err != nil, gone)
		}
	}
}
