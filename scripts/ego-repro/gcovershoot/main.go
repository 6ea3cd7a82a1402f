//go:build ego

// Command gcovershoot unseals a 4 KiB secret in a loop for a while, to watch
// the Go collector inside an EGo enclave with GODEBUG=gctrace=1 (docs/ego.md,
// seal's GC overshoot on DC8_v2): with GOMAXPROCS above the host's CPUs the
// heap at the end of a mark phase ran far past its goal, with Go 1.21.8 and
// Go 1.26.8 ego-go alike.
//
//	gcovershoot SECONDS
//
// Built with ego-go (ego-go build -tags ego -o gcovershoot .), signed with
// enclave.json here (heapSize 192, GOMAXPROCS 8, gctrace on; change
// GOMAXPROCS there to compare), run with ego run gcovershoot 20. It prints the
// iterations done and the runtime's Sys at the end; the gctrace lines go to
// stderr. Rewritten from that description; the program first used, and the
// diagnostic runtime diffs used with it, were lost.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/edgelesssys/ego/ecrypto"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gcovershoot SECONDS")
		os.Exit(2)
	}
	secs, err := strconv.Atoi(os.Args[1])
	if err != nil || secs < 1 {
		fmt.Fprintln(os.Stderr, "gcovershoot: SECONDS must be a whole number >= 1")
		os.Exit(2)
	}
	plain := bytes.Repeat([]byte{0xa5}, 4096)
	sealed, err := ecrypto.SealWithUniqueKey(plain, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gcovershoot: seal:", err)
		os.Exit(1)
	}
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	iters := 0
	for time.Now().Before(deadline) {
		out, err := ecrypto.Unseal(sealed, nil)
		if err != nil || !bytes.Equal(out, plain) {
			fmt.Fprintln(os.Stderr, "gcovershoot: unseal:", err)
			os.Exit(1)
		}
		iters++
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("iterations %d GOMAXPROCS %d sys_bytes %d %s\n", iters, runtime.GOMAXPROCS(0), ms.Sys, runtime.Version())
}
