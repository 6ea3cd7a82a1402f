//go:build linux && sim && cgo

// Command heapsweep is TestProcessHeapPagesAsArena's program: it sweeps a
// buffer of N pages K times, the buffer either in the Go heap with the whole
// process on the software EPC (heap: run with ENCLAVEBENCH_PROCESS_EPC=1 and
// built with scripts/build-sim.sh) or in a software-EPC region of its own
// (arena), and prints the software EPC's counters of the last K-1 sweeps.
//
//	heapsweep heap|arena PAGES CAP_PAGES SWEEPS
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/enclavebench/enclavebench/workloads/swepc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "heapsweep:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 5 {
		return fmt.Errorf("usage: heapsweep heap|arena PAGES CAP_PAGES SWEEPS")
	}
	pages, err1 := strconv.Atoi(os.Args[2])
	capPages, err2 := strconv.Atoi(os.Args[3])
	sweeps, err3 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil || err3 != nil || sweeps < 2 {
		return fmt.Errorf("bad arguments %q", os.Args[2:])
	}
	var (
		r   *swepc.Region
		buf []byte
		err error
	)
	switch os.Args[1] {
	case "heap":
		if r, err = swepc.AdoptProcess(int64(capPages) * swepc.PageSize); err != nil {
			return err
		}
		buf = make([]byte, pages*swepc.PageSize)
	case "arena":
		if r, err = swepc.New(swepc.Config{Size: int64(pages) * swepc.PageSize, CapBytes: int64(capPages) * swepc.PageSize}); err != nil {
			return err
		}
		buf = r.Bytes()
	default:
		return fmt.Errorf("want heap or arena, got %q", os.Args[1])
	}
	sweep := func() {
		for p := 0; p < pages; p++ {
			buf[p*swepc.PageSize]++
		}
	}
	sweep() // first touch
	s0 := r.Stats()
	for i := 1; i < sweeps; i++ {
		sweep()
	}
	s1 := r.Stats()
	return json.NewEncoder(os.Stdout).Encode(map[string]int64{
		"loads": s1.Loads - s0.Loads, "evictions": s1.Evictions - s0.Evictions,
		"resident_at_start": s0.Resident, "first_touch": s0.FirstTouch,
	})
}
