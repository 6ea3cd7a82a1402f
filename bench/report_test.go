package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtures are the synthetic result directories of package report.
func reportFixture(name string) string {
	return filepath.Join("..", "report", "testdata", "fixtures", name)
}

func TestReportCommand(t *testing.T) {
	ctx := context.Background()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	stdout, stderr, code := runBench(t, ctx, "report", "-o", out, "--tolerance", "25%",
		reportFixture("dc-a"), reportFixture("dc-b"), reportFixture("bad-schema"), reportFixture("old-harness"))
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	// One clear message per directory left out.
	for _, want := range []string{"bad-schema: schema version 99", `old-harness: harness version "0.9.0"`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, filepath.Join(out, "report.html")) {
		t.Errorf("stdout does not name the report: %s", stdout)
	}
	for _, f := range []string{"report.html", "report.md", "plotdata.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "within 25% of native") {
		t.Error("--tolerance not applied")
	}

	// -o - is the Markdown report on stdout, the same as report.md, and
	// no directory named "-".
	cwd := t.TempDir()
	t.Chdir(cwd)
	abs := func(name string) string { p, _ := filepath.Abs(filepath.Join(wd, reportFixture(name))); return p }
	stdout, stderr, code = runBench(t, ctx, "report", "-o", "-", "--tolerance", "25%",
		abs("dc-a"), abs("dc-b"), abs("bad-schema"), abs("old-harness"))
	if code != exitOK {
		t.Fatalf("-o -: exit %d, stderr:\n%s", code, stderr)
	}
	// Same report but for the time it was generated and the paths given.
	if !strings.HasPrefix(stdout, "## enclavebench report") || !strings.Contains(stdout, "within 25% of native") ||
		strings.Count(stdout, "\n") != strings.Count(string(md), "\n") {
		t.Errorf("-o - did not print report.md (%d lines, want %d):\n%.400s", strings.Count(stdout, "\n"), strings.Count(string(md), "\n"), stdout)
	}
	if _, err := os.Stat(filepath.Join(cwd, "-")); err == nil {
		t.Error(`-o - created a directory named "-"`)
	}

	// Nothing reportable: exit 2, a message per directory, no report.
	none := filepath.Join(t.TempDir(), "none")
	_, stderr, code = runBench(t, ctx, "report", "-o", none, reportFixture("bad-schema"), reportFixture("empty"), reportFixture("missing"))
	if code != exitUsage {
		t.Errorf("nothing reportable: exit %d, want %d", code, exitUsage)
	}
	if strings.Count(stderr, "bench report: ") < 3 || !strings.Contains(stderr, "nothing to report") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(none, "report.html")); err == nil {
		t.Error("a report was written with nothing to report")
	}

	// Bad flags are usage errors.
	for _, args := range [][]string{
		{"report"},
		{"report", "--tolerance", "20", reportFixture("dc-b")},
		{"report", "--merge", "bogus", reportFixture("dc-b")},
	} {
		if _, _, code := runBench(t, ctx, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestToleranceFlag(t *testing.T) {
	for in, want := range map[string]float64{"20%": 0.2, "0.2": 0.2, "5%": 0.05, "150%": 1.5} {
		var tol tolerance
		if err := tol.Set(in); err != nil || float64(tol) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, float64(tol), err, want)
		}
	}
	for _, in := range []string{"20", "abc", "-5%", "0"} {
		var tol tolerance
		if err := tol.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
}
