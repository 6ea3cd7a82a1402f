package runner

import (
	"os/exec"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// cpuSet picks the CPUs for a size with vcpus vCPUs: the first vcpus CPUs
// this process may use. Where the host has fewer, it returns them all and
// reports the cell as oversubscribed.
func cpuSet(vcpus int) (cpus []int, oversubscribed bool) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, runtime.NumCPU() < vcpus
	}
	for i := 0; i < len(set)*64 && len(cpus) < vcpus; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, len(cpus) < vcpus
}

// otherCPUs are the CPUs this process may use that are not in cpus (where
// a driven workload's load generator runs, away from the server), or nil
// when there are none or cpus is unknown.
func otherCPUs(cpus []int) []int {
	var set unix.CPUSet
	if len(cpus) == 0 || unix.SchedGetaffinity(0, &set) != nil {
		return nil
	}
	for _, c := range cpus {
		set.Clear(c)
	}
	var out []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			out = append(out, i)
		}
	}
	return out
}

// affinityMu serialises starts: the affinity trick below changes the
// calling thread's mask for the moment of the fork.
var affinityMu sync.Mutex

// startWithAffinity starts cmd so that the child and every thread it creates
// inherit the CPU mask cpus: the fork happens on a locked OS thread whose
// own mask is set to cpus for that moment (Linux children inherit the
// forking thread's affinity).
func startWithAffinity(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) == 0 {
		return cmd.Start()
	}
	affinityMu.Lock()
	defer affinityMu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return cmd.Start()
	}
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return cmd.Start()
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &old); rerr != nil && err == nil {
		// The thread stays locked and is discarded with its mask when
		// we return without unlocking it.
		runtime.LockOSThread()
	}
	return err
}
