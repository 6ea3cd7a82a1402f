package compare

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewlineInParameterInjectsNothing: a sample whose cell name and
// parameter value hold a newline followed by a benchmark line (a tampered
// samples.jsonl) must not create a made-up cell or add values to another
// cell: compare and export read the records, never text made from them.
func TestNewlineInParameterInjectsNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	victim := "Syscall/call=read/size=DC1s_v2/mode=native"
	writeResultDir(t, dir, 1, map[string][]float64{victim: {100, 101, 102, 103, 104, 105}}, nil)
	// As text, the cell name ends the victim's line with a value of its
	// own, adds a line of a made-up cell, and starts a third line that the
	// writer's values complete.
	evil := victim + ` 1 1 ns/op\nBenchmarkMadeUp/size=DC1s_v2/mode=native 1 7 ns/op\nBenchmarkSyscall/call=x`
	line := `{"cell":"` + evil + `/size=DC1s_v2/mode=native","attempt":1,"workload":"syscall","params":{"call":"x"},` +
		`"size":"DC1s_v2","mode":"native","rep":0,"iters":10,"elapsed_ns":1000,"values":[{"value":100,"unit":"ns/op","better":"lower"}],"time":"1970-01-01T00:00:00Z"}` + "\n"
	f, err := os.OpenFile(filepath.Join(dir, "samples.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s, err := Load(dir)
	if err != nil {
		// Refusing the tampered record is fine too; but never silently.
		if !strings.Contains(err.Error(), "samples.jsonl") {
			t.Fatalf("refused without naming the file: %v", err)
		}
		return
	}
	for _, c := range s.Cells {
		if strings.Contains(c.Name, "MadeUp") && !strings.Contains(c.Name, "\n") {
			t.Errorf("a made-up cell %q appeared", c.Name)
		}
	}
	if c := s.Cell(victim); c == nil || len(c.Values["ns/op"]) != 6 {
		var n int
		if c != nil {
			n = len(c.Values["ns/op"])
		}
		t.Errorf("%s has %d values, want its own 6", victim, n)
	}
	if len(s.Cells) > 2 {
		t.Errorf("%d cells from 2 records' cells", len(s.Cells))
	}
}
