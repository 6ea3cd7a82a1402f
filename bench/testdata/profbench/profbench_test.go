// Package profbench is a user benchmark that makes OCALLs from its own
// code (TestGoTestProfileNamesUserCode): each operation reads a file
// through readRecord, one pread each.
package profbench

import (
	"os"
	"path/filepath"
	"testing"
)

//go:noinline
func readRecord(f *os.File, buf []byte) error {
	_, err := f.ReadAt(buf, 0)
	return err
}

func BenchmarkRecord(b *testing.B) {
	path := filepath.Join(b.TempDir(), "record")
	if err := os.WriteFile(path, make([]byte, 64), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := readRecord(f, buf); err != nil {
			b.Fatal(err)
		}
	}
}
