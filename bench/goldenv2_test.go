package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// TestGoldenV2Results: the run summary, compare and export of the report's
// fixtures as the schema-2 harness wrote them (report/testdata/fixtures-v2)
// are the golden files of the schema-1 fixtures, but for their paths.
func TestGoldenV2Results(t *testing.T) {
	v1 := filepath.Join("..", "report", "testdata", "fixtures")
	v2 := filepath.Join("..", "report", "testdata", "fixtures-v2")
	dir := func(name string) string { return filepath.Join(v2, name) }
	check := func(name string, got []byte) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(string(b), filepath.ToSlash(v1)+"/", filepath.ToSlash(v2)+"/")
		if string(got) != want {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s of the schema-2 fixtures differs from the golden file at line %d:\n got: %s\nwant: %s", name, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s of the schema-2 fixtures: %d lines, golden %d", name, len(gl), len(wl))
		}
	}
	for _, name := range []string{"dc-a", "dc-b"} {
		d, err := result.Load(dir(name))
		if err != nil {
			t.Fatal(err)
		}
		if d.Run.SchemaVersion != 2 {
			t.Fatalf("%s: schema %d, want 2", name, d.Run.SchemaVersion)
		}
		var b bytes.Buffer
		printSummary(&b, d)
		check(name+".summary.txt", b.Bytes())
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"compare-dc.txt", []string{"compare", dir("dc-a"), dir("dc-b"), "--ignore", "size", "--allow-unmatched"}},
		{"compare-dc.md", []string{"compare", dir("dc-a"), dir("dc-b"), "--ignore", "size", "--allow-unmatched", "--format", "markdown"}},
		{"compare-dc-a-mode.txt", []string{"compare", dir("dc-a"), dir("dc-a"), "--ignore", "mode", "--allow-unmatched"}},
		{"compare-dc-a.json", []string{"compare", dir("dc-a"), dir("dc-a"), "--format", "json"}},
		{"export-dc-a.bmf.json", []string{"export", dir("dc-a"), "--format", "bmf"}},
		{"export-dc-b.gab.json", []string{"export", dir("dc-b"), "--format", "gab"}},
	} {
		stdout, stderr, code := runBench(t, context.Background(), c.args...)
		var b strings.Builder
		b.WriteString("$ bench " + strings.Join(c.args, " ") + "\n")
		b.WriteString(stdout)
		if stderr != "" {
			b.WriteString("--- stderr\n" + stderr)
		}
		b.WriteString("--- exit " + strconv.Itoa(code) + "\n")
		check(c.name, []byte(filepath.ToSlash(b.String())))
	}
}
