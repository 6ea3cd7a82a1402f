package report

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
)

// fullWS is memsweep's full working-set grid.
var fullWS = []string{"0.125xEPC", "0.25xEPC", "0.5xEPC", "0.75xEPC", "0.9xEPC", "1xEPC", "1.1xEPC", "1.5xEPC", "2xEPC", "4xEPC"}

// BenchmarkReport100k writes a whole report (load, statistics, every plot
// as SVG and PNG, HTML, Markdown) from a synthetic run of 100,000+ samples:
// 4 DCsv2 sizes x native, sgx, sim x memsweep's full grid, syscall,
// threads and kvstore, 312 repetitions per cell.
//
//	go test ./report -run '^$' -bench Report100k -benchtime 3x
func BenchmarkReport100k(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	n := writeMainFixture(b, dir, 42, "bench", []string{"DC1s_v2", "DC2s_v2", "DC4s_v2", "DC8_v2"},
		[]string{mode.Native, modeSGX, modeSim}, 312, fullWS)
	if n < 100_000 {
		b.Fatalf("fixture has %d samples, want 100,000", n)
	}
	out := b.TempDir()
	o := testOptions()
	var figures int
	var load, build, write time.Duration
	cpu0 := cpuTime()
	for b.Loop() {
		t0 := time.Now()
		in := Load([]string{dir}, o)
		t1 := time.Now()
		r := Build(in, o)
		t2 := time.Now()
		w, err := Write(r, out)
		load, build, write = load+t1.Sub(t0), build+t2.Sub(t1), write+time.Since(t2)
		if err != nil {
			b.Fatal(err)
		}
		if len(w.Failed) > 0 {
			b.Fatalf("figures failed: %v", w.Failed)
		}
		figures = w.Figures
	}
	per := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	// CPU time does not depend on what else runs on the machine.
	b.ReportMetric(per(cpuTime()-cpu0), "cpu-ms/op")
	b.ReportMetric(per(load), "load-ms/op")
	b.ReportMetric(per(build), "build-ms/op")
	b.ReportMetric(per(write), "write-ms/op")
	b.ReportMetric(float64(n), "samples")
	b.ReportMetric(float64(figures), "figures")
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
