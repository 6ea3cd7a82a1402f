package gotest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCountPassRunsTheBenchmarkAlike: a benchmark that calibrates to b.N = 1
// is counted at 2 and 4 iterations, never at 1 and 2: the testing package
// calls the benchmark function once at -test.benchtime=1x and twice above,
// so 2n less n would hold a whole extra set-up.
func TestCountPassRunsTheBenchmarkAlike(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "args")
	// A stand-in test binary: logs its -test.benchtime and prints the
	// result line of b.N = 1 for the calibration, else of the count asked.
	bin := filepath.Join(dir, "x.test")
	script := `#!/bin/sh
for a in "$@"; do case $a in -test.benchtime=*) bt=${a#-test.benchtime=};; esac; done
echo "$bt" >>` + log + `
n=1
case $bt in *x) n=${bt%x};; esac
echo "BenchmarkX"
printf 'BenchmarkX-1\t%s\t1000 ns/op\n' "$n"
echo PASS
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o := Options{Bin: bin, Dir: dir, Bench: "BenchmarkX", VCPUs: 1, MinTime: time.Millisecond, TempDir: dir}
	marks := 0
	n, _, err := o.CountPass(context.Background(), func() { marks++ })
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || marks != 4 || strings.Fields(string(got))[1] != "2x" || strings.Fields(string(got))[2] != "4x" {
		t.Fatalf("n = %d, %d marks, runs %q: want n = 2, 4 marks, runs at 1ms, 2x, 4x", n, marks, got)
	}
}
