package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// TestExplain explains a fixture run whose first sim cell has a profile
// (bench/sites' fixture): the terminal shows its top sites with advice; a
// name no cell has, and a run without profiles, are exit 2.
func TestExplain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "../report/testdata/fixtures/dc-a"
	for _, f := range []string{"run.json", "samples.jsonl", "cells.jsonl"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if _, stderr, code := runBench(t, ctx, "explain", dir); code != 2 || !strings.Contains(stderr, "has a profile") {
		t.Fatalf("explain without profiles: exit %d, %s", code, stderr)
	}
	// Give the first sim cell's outcome a profile.
	b, err := os.ReadFile(filepath.Join(dir, "cells.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	cell := ""
	for i, l := range lines {
		if strings.Contains(l, `"mode":"sim"`) && strings.Contains(l, `"status":"ok"`) {
			lines[i] = strings.Replace(l, `"status":"ok"`, `"status":"ok","extra":{"`+result.ExtraProfile+`":"profiles/cell.pb.gz"}`, 1)
			cell = l[len(`{"cell":"`):strings.Index(l, `","attempt"`)]
			break
		}
	}
	if cell == "" {
		t.Fatal("the fixture has no ok sim cell")
	}
	if err := os.WriteFile(filepath.Join(dir, "cells.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prof, err := os.ReadFile("sites/testdata/cell.pb.gz")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "profiles"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "profiles", "cell.pb.gz"), prof, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBench(t, ctx, "explain", "--top", "2", dir, cell)
	if code != 0 {
		t.Fatalf("explain: exit %d: %s", code, stderr)
	}
	for _, want := range []string{cell, "OCALLs by call site", "oe_host_free", "16 KiB", "... 3 more sites", "EPC loads by region", "go_heap"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("explain's output lacks %q:\n%s", want, stdout)
		}
	}
	if _, stderr, code := runBench(t, ctx, "explain", dir, "NoSuchCell"); code != 2 || !strings.Contains(stderr, "no cell") {
		t.Errorf("explain of an unknown cell: exit %d, %s", code, stderr)
	}
}
