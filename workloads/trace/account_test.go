//go:build linux && amd64 && sim

package trace

import (
	"testing"

	"golang.org/x/sys/unix"
)

// A wait the clock ends (sysmon's wake of an idle M) moves from futex_wait
// to the clock's futex_wait, and from its stack's count to the clock's
// when its stack was taken. With stacks on but this wait's not taken (one
// in N is), nothing was to move: the supervisor panicked on the nil map of
// stacks (seen as a sim cell "exited with status 2" under load, when the
// clock's wake came before any sampled stack).
func TestClockWakeOfUnsampledWait(t *testing.T) {
	for _, tc := range []struct {
		name  string
		every int // stackTaker.every; 0: no stacks
	}{
		{"no stacks", 0},
		{"stack not taken", 1 << 62},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Supervisor{waitAddr: map[uint32]uint64{}, waiters: map[uint64][]uint32{}, clockTids: map[uint32]bool{},
				byNr: map[int32]int64{}, waitKey: map[uint32]string{}}
			if tc.every > 0 {
				s.stacks = newStackTaker(tc.every)
			}
			const worker, sysmon, addr = 11, 12, 0x1000
			s.account(&seccompNotif{PID: sysmon, Nr: unix.SYS_NANOSLEEP}, Classify(unix.SYS_NANOSLEEP), 0, 20e3, true)
			s.account(&seccompNotif{PID: worker, Nr: unix.SYS_FUTEX, Args: [6]uint64{addr, futexWait, 7}}, Futex, futexWait, 7, true)
			s.account(&seccompNotif{PID: sysmon, Nr: unix.SYS_FUTEX, Args: [6]uint64{addr, futexWake, 1}}, Futex, futexWake, 0, false)
			if got := s.c.BySyscall["futex_wait"]; got != 0 {
				t.Errorf("futex_wait %d, want 0 (the clock ended it)", got)
			}
			if got := s.c.BySyscall[ClockPrefix+"futex_wait"]; got != 1 {
				t.Errorf("%sfutex_wait %d, want 1", ClockPrefix, got)
			}
			if len(s.c.Stacks) != 0 {
				t.Errorf("stacks %v, want none (none was taken)", s.c.Stacks)
			}
		})
	}
}
