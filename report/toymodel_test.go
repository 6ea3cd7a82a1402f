package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// toyModelDir copies the schema-2 fixture dc-a with its model mode renamed
// toy: a mode of kind model the report has never heard of, with its own
// label, summary and note in run.json's facts; edit, when not nil, then
// changes the recorded facts of the modes.
func toyModelDir(t *testing.T, note string, edit func(modes map[string]any)) string {
	t.Helper()
	src := filepath.Join("testdata", "fixtures-v2", "dc-a")
	dst := filepath.Join(t.TempDir(), "dc-a")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	word := regexp.MustCompile(`\bsim\b`)
	for _, f := range []string{"run.json", "cells.jsonl", "samples.jsonl"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		b = word.ReplaceAll(b, []byte("toy"))
		if f == "run.json" {
			var run map[string]any
			if err := json.Unmarshal(b, &run); err != nil {
				t.Fatal(err)
			}
			modes := run["facts"].(map[string]any)["modes"].(map[string]any)
			m := modes["toy"].(map[string]any)
			if m["kind"] != "model" {
				t.Fatalf("the fixture's toy mode is of kind %v, want model", m["kind"])
			}
			m["label"], m["summary"], m["note"] = "toy (a test model)", "guessed by a test model", note
			if edit != nil {
				edit(modes)
			}
			if b, err = json.Marshal(run); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestToyModelMode: a report of a run whose model mode is named toy
// explains toy's figures with what toy recorded and its name, and names no
// sim mode anywhere: the report's explanations of a model's figures come
// from the run's facts, not from the modes of today.
func TestToyModelMode(t *testing.T) {
	const note = "toy figures are **guesses** of a test model, not measurements."
	o := testOptions()
	in := Load([]string{toyModelDir(t, note, nil)}, o)
	r := Build(in, o)
	var md, html bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "\n> "+note+"\n") {
		t.Errorf("report.md lacks the toy mode's note %q", note)
	}
	if l := grepLines(md.String(), "predictions**"); l != "" {
		t.Errorf("report.md has the model kind's frozen note:\n%s", l)
	}
	for _, want := range []string{"toy samples the model could not price", "6 toy sample(s) could not be predicted"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// No line names sim but the suggestions of what to run for what the
	// run's modes cannot answer (documented as on purpose: they name modes
	// the run did not use, so no recorded fact can word them) and the
	// style sheet's per-mode colours.
	word := regexp.MustCompile(`\bsim\b`)
	suggestion := regexp.MustCompile(`--modes [a-z,-]*\bsim\b|\(sim runs record it\)|tr\.mode-[a-z-]* td `)
	for name, text := range map[string]string{"report.md": md.String(), "report.html": html.String()} {
		for _, l := range strings.Split(text, "\n") {
			if word.MatchString(suggestion.ReplaceAllString(l, "")) {
				t.Errorf("%s names sim: %.300s", name, l)
			}
		}
	}
	if !strings.Contains(html.String(), "Rows of the model (toy) are predictions") {
		t.Error("report.html's tables intro does not name the toy model")
	}
	loadFig := false
	for _, f := range r.Figures {
		if f.Section == SectionLoad {
			loadFig = true
			if !strings.Contains(f.Caption, " Native and toy cells have no enclave load. ") {
				t.Errorf("load-time caption does not name the modes without an enclave load (native, toy): %s", f.Caption)
			}
		}
	}
	for _, f := range r.Figures {
		if word.MatchString(f.Caption) || word.MatchString(f.X.Label) || word.MatchString(f.Y.Label) {
			t.Errorf("figure %s names sim: %s / %s / %s", f.Name, f.Caption, f.X.Label, f.Y.Label)
		}
	}
	if !loadFig {
		t.Error("no load-time figure (the fixture's sgx cells record load time)")
	}
}

// TestNoLoadTimeOmission: when no cell recorded a load time and no mode of
// the report records one (their recorded facts say so), the omission
// names the report's modes, not modes it did not use.
func TestNoLoadTimeOmission(t *testing.T) {
	o := testOptions()
	dir := toyModelDir(t, "toy figures are guesses.", func(modes map[string]any) {
		for _, m := range modes {
			delete(m.(map[string]any), "load_time")
		}
	})
	cells := filepath.Join(dir, "cells.jsonl")
	b, err := os.ReadFile(cells)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cells, regexp.MustCompile(`"load_ns":[0-9]+,`).ReplaceAll(b, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Build(Load([]string{dir}, o), o)
	want := "No enclave load-time plot: none of this report's modes (native, sgx, toy (a test model)) records an enclave's load time."
	for _, om := range r.Omitted {
		if om.Reason == want {
			return
		}
	}
	t.Errorf("omissions %+v lack %q", r.Omitted, want)
}

// TestUncountedSizingNames: with no sizing advice because a model's
// predictions leave EPC paging out, the sizing section names that model's
// mode.
func TestUncountedSizingNames(t *testing.T) {
	r := &Report{
		Workloads:     []*WorkloadTable{{Name: "gotest", Rows: []*Group{{Mode: "toy", Uncounted: "EPC paging"}}}},
		WarningGroups: []WarningGroup{{Kind: "uncounted"}},
	}
	var b strings.Builder
	mdSizing(func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }, r)
	if !strings.Contains(b.String(), "None for the toy cells whose prediction leaves EPC paging out") {
		t.Errorf("sizing section does not name the toy mode:\n%s", b.String())
	}
}
