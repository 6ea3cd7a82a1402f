// Command exitstress makes a Go program exit while its other threads are
// busy, to reproduce the host launcher's exit-time crash of EGo v1.6.0 /
// Edgeless RT v0.4.7 (docs/ego.md, "The SIGSEGV at exit is Edgeless RT's").
//
//	exitstress sleep N MS   N goroutines block in nanosleep(2) in a loop
//	exitstress ocall N MS   N goroutines read the clock in a loop (an OCALL
//	                        per read where Edgeless RT has no vDSO clock)
//
// main returns MS milliseconds after starting them (0: at once). Returning
// from main is exit_group, which Edgeless RT forwards as ert_exit_ocall:
// the host's exit() then runs its static destructors while the goroutines'
// threads keep making OCALLs, and a thread the runtime starts meanwhile
// (pthread_create is an OCALL) meets a freed thread manager.
//
// Built with ego-go and signed with enclave.json here (ego-go build -o
// exitstress . && ego sign enclave.json), run in a loop counting exit
// statuses: for i in $(seq 100); do ego run exitstress sleep 8 0; echo $?; done.
// Rewritten from that description; the program first used was lost.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: exitstress sleep|ocall GOROUTINES MS")
		os.Exit(2)
	}
	n, err1 := strconv.Atoi(os.Args[2])
	ms, err2 := strconv.Atoi(os.Args[3])
	if err1 != nil || err2 != nil || n < 1 || ms < 0 {
		fmt.Fprintln(os.Stderr, "exitstress: GOROUTINES must be >= 1 and MS >= 0")
		os.Exit(2)
	}
	var loop func()
	switch os.Args[1] {
	case "sleep":
		loop = func() {
			ts := syscall.NsecToTimespec(int64(time.Millisecond))
			for {
				_ = syscall.Nanosleep(&ts, nil)
			}
		}
	case "ocall":
		loop = func() {
			for {
				_ = time.Now()
			}
		}
	default:
		fmt.Fprintf(os.Stderr, "exitstress: unknown mode %q (sleep, ocall)\n", os.Args[1])
		os.Exit(2)
	}
	for range n {
		go loop()
	}
	time.Sleep(time.Duration(ms) * time.Millisecond)
}
