package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// oldDirs are result directories written by earlier harness code, kept
// frozen: every command must keep reading them the same way.
var oldDirs = map[string]string{
	"dc-a": filepath.Join("..", "report", "testdata", "fixtures", "dc-a"),
	"dc-b": filepath.Join("..", "report", "testdata", "fixtures", "dc-b"),
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./bench -run TestGolden -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %s\nwant: %s\n(go test ./bench -run TestGolden -update rewrites it after a deliberate change)", name, i+1, g, w)
			}
		}
	}
}

// TestGoldenOldResults renders the end-of-run summary table, compare and
// export of result directories written by earlier code and compares them
// with the golden files: an old directory must read the same after a
// change (go test ./bench -run TestGolden -update after a deliberate one).
func TestGoldenOldResults(t *testing.T) {
	for _, name := range []string{"dc-a", "dc-b"} {
		d, err := result.Load(oldDirs[name])
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		printSummary(&b, d)
		checkGolden(t, name+".summary.txt", b.Bytes())
	}
	cases := []struct {
		name string
		args []string
	}{
		{"compare-dc.txt", []string{"compare", oldDirs["dc-a"], oldDirs["dc-b"], "--ignore", "size", "--allow-unmatched"}},
		{"compare-dc.md", []string{"compare", oldDirs["dc-a"], oldDirs["dc-b"], "--ignore", "size", "--allow-unmatched", "--format", "markdown"}},
		{"compare-dc-a-mode.txt", []string{"compare", oldDirs["dc-a"], oldDirs["dc-a"], "--ignore", "mode", "--allow-unmatched"}},
		{"compare-dc-a.json", []string{"compare", oldDirs["dc-a"], oldDirs["dc-a"], "--format", "json"}},
		{"export-dc-a.bmf.json", []string{"export", oldDirs["dc-a"], "--format", "bmf"}},
		{"export-dc-b.gab.json", []string{"export", oldDirs["dc-b"], "--format", "gab"}},
	}
	for _, c := range cases {
		stdout, stderr, code := runBench(t, context.Background(), c.args...)
		var b strings.Builder
		b.WriteString("$ bench " + strings.Join(c.args, " ") + "\n")
		b.WriteString(stdout)
		if stderr != "" {
			b.WriteString("--- stderr\n" + stderr)
		}
		b.WriteString("--- exit " + strconv.Itoa(code) + "\n")
		checkGolden(t, c.name, []byte(filepath.ToSlash(b.String())))
	}
}
