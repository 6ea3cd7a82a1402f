package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/compare"
)

// TestNewlineInCellInjectsNothing: a tampered sample whose cell name holds
// a newline and benchmark lines (issue 14 item 9) adds no made-up
// benchmark to the exports and no value to another cell.
func TestNewlineInCellInjectsNothing(t *testing.T) {
	src := filepath.Join("..", "..", "report", "testdata", "fixtures", "dc-b")
	dir := filepath.Join(t.TempDir(), "dc-b")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"run.json", "samples.jsonl", "cells.jsonl"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clean, err := compare.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	victim := "Syscall/call=read/size=DC8_v2/mode=native"
	evil := victim + ` 1 1 ns/op\nBenchmarkMadeUp/size=DC8_v2/mode=native 1 7 ns/op\nBenchmarkSyscall/call=x`
	line := `{"cell":"` + evil + `/size=DC8_v2/mode=native","attempt":1,"workload":"syscall","params":{"call":"x"},` +
		`"size":"DC8_v2","mode":"native","rep":0,"iters":10,"elapsed_ns":1000,"values":[{"value":100,"unit":"ns/op","better":"lower"}],"time":"2026-11-21T10:00:00Z"}` + "\n"
	f, err := os.OpenFile(filepath.Join(dir, "samples.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
	f.Close()
	set, err := compare.Load(dir)
	if err != nil {
		if !strings.Contains(err.Error(), "samples.jsonl") {
			t.Fatalf("refused without naming the file: %v", err)
		}
		return
	}
	bmf := ToBMF(Points(set, nil))
	for name := range bmf {
		if strings.HasPrefix(name, "MadeUp") {
			t.Errorf("a made-up benchmark %q was exported", name)
		}
	}
	n := func(s *compare.Set) int { return len(s.Cell(victim).Values["ns/op"]) }
	if n(set) != n(clean) {
		t.Errorf("%s has %d values after the tampered line, %d before", victim, n(set), n(clean))
	}
}
