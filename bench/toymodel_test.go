package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// TestToyModelReaders: the run summary, bench compare and bench export
// label a model's accounts (its measured base, its predicted slowdown)
// with the mode the cells recorded, not with "sim": the schema-2 fixture
// dc-a with its model mode renamed toy names toy where it named sim, and
// sim nowhere.
func TestToyModelReaders(t *testing.T) {
	src := filepath.Join("..", "report", "testdata", "fixtures-v2", "dc-a")
	dir := filepath.Join(t.TempDir(), "dc-a")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sim := regexp.MustCompile(`(^|[^-\w])sim\b`) // not ego-sim
	for _, f := range []string{result.RunFile, "cells.jsonl", "samples.jsonl"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), sim.ReplaceAll(b, []byte("${1}toy")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mf := d.Facts.Modes["toy"]; mf.Kind != result.KindModel {
		t.Fatalf("the renamed mode is of kind %q, want model", mf.Kind)
	}
	var summary bytes.Buffer
	printSummary(&summary, d)
	outputs := map[string]string{"run summary": summary.String()}
	// compare against dc-b (no model cells) as the golden compare-dc.txt
	// does: its verdict is bad input (cells of two sizes match as one),
	// after which the accounts of the model cells are still listed.
	for name, args := range map[string][]string{
		"compare": {"compare", dir, filepath.Join(filepath.Dir(src), "dc-b"), "--ignore", "size", "--allow-unmatched"},
		"export":  {"export", dir, "--format", "gab"},
	} {
		stdout, _, _ := runBench(t, context.Background(), args...)
		outputs[name] = stdout
	}
	for name, want := range map[string]string{
		"run summary": "toy: measured base, predicted slowdown over it",
		"compare":     "toy cells (model: predicted slowdown",
		"export":      "toy model: ",
	} {
		out := outputs[name]
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q", name, want)
		}
		for _, l := range strings.Split(out, "\n") {
			if sim.MatchString(l) {
				t.Errorf("%s still names sim: %s", name, l)
			}
		}
	}
	if !strings.Contains(outputs["export"], "toy: measured base ") {
		t.Error("export lacks the toy cells' measured base")
	}
}
