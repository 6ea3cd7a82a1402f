//go:build linux && sim && cgo

// Command gcsweep measures what one collection costs in EPC loads when the
// Go heap is on the software EPC (docs/sim.md, "The collector in the
// enclave"): with the whole process on the software EPC (run with
// ENCLAVEBENCH_PROCESS_EPC=1, built with scripts/build-sim.sh), it fills a
// gokv store of the dataset given, then forces collections and prints the
// EPC loads and evictions of each, and their time (emulation included).
//
//	gcsweep CAP_BYTES DATASET_BYTES COLLECTIONS
//	gcsweep CAP_BYTES DATASET_BYTES steady OPS
//
// The second form replaces values (gokv update=alloc, every operation an
// update) for OPS/2 operations to reach the collector's steady state, then
// counts EPC loads, evictions and collections over OPS/2 more; GOGC and
// GOMEMLIMIT from the environment apply.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/enclavebench/enclavebench/workloads/gokv"
	"github.com/enclavebench/enclavebench/workloads/swepc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gcsweep:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) == 5 && os.Args[3] == "steady" {
		return steady()
	}
	if len(os.Args) != 4 {
		return fmt.Errorf("usage: gcsweep CAP_BYTES DATASET_BYTES COLLECTIONS | steady OPS")
	}
	capBytes, err1 := strconv.ParseInt(os.Args[1], 10, 64)
	ds, err2 := strconv.ParseInt(os.Args[2], 10, 64)
	n, err3 := strconv.Atoi(os.Args[3])
	if err1 != nil || err2 != nil || err3 != nil || n < 1 {
		return fmt.Errorf("bad arguments %q", os.Args[1:])
	}
	r, err := swepc.AdoptProcess(capBytes)
	if err != nil {
		return err
	}
	s, err := gokv.New(ds, false, 100, false)
	if err != nil {
		return err
	}
	runtime.GC() // the first one after the fill: its own transient
	var loads, evicts []int64
	var ms []float64
	for range n {
		s0 := r.Stats()
		t0 := time.Now()
		runtime.GC()
		d := time.Since(t0)
		s1 := r.Stats()
		loads = append(loads, s1.Loads-s0.Loads)
		evicts = append(evicts, s1.Evictions-s0.Evictions)
		ms = append(ms, float64(d.Microseconds())/1000)
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(s)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"dataset_bytes": ds, "cap_bytes": capBytes, "keys": s.Keys(), "heap_alloc_bytes": m.HeapAlloc,
		"loads_per_gc": loads, "evictions_per_gc": evicts, "gc_ms": ms,
	})
}

func steady() error {
	capBytes, err1 := strconv.ParseInt(os.Args[1], 10, 64)
	ds, err2 := strconv.ParseInt(os.Args[2], 10, 64)
	ops, err3 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil || err3 != nil || ops < 2 {
		return fmt.Errorf("bad arguments %q", os.Args[1:])
	}
	r, err := swepc.AdoptProcess(capBytes)
	if err != nil {
		return err
	}
	s, err := gokv.New(ds, false, 0, true)
	if err != nil {
		return err
	}
	if err := s.Ops(ops / 2); err != nil {
		return err
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s0 := r.Stats()
	t0 := time.Now()
	if err := s.Ops(ops / 2); err != nil {
		return err
	}
	d := time.Since(t0)
	s1 := r.Stats()
	runtime.ReadMemStats(&m1)
	gcs := int64(m1.NumGC - m0.NumGC)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"dataset_bytes": ds, "cap_bytes": capBytes, "ops": ops / 2, "gc_cycles": gcs,
		"loads": s1.Loads - s0.Loads, "evictions": s1.Evictions - s0.Evictions,
		"heap_sys_bytes": m1.HeapSys, "next_gc_bytes": m1.NextGC, "resident_pages": s1.Resident, "seconds": d.Seconds(),
		"gogc": os.Getenv("GOGC"), "gomemlimit": os.Getenv("GOMEMLIMIT"),
	})
}
