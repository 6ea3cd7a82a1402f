package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestWrite writes a full report and checks its files.
func TestWrite(t *testing.T) {
	o := testOptions()
	o.PDF = true
	_, r := loadFixtures(t, o, "dc-a", "dc-b")
	out := t.TempDir()
	w, err := Write(r, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Failed) > 0 || w.Figures != len(r.Figures) {
		t.Fatalf("drew %d of %d figures; failed: %v", w.Figures, len(r.Figures), w.Failed)
	}
	for _, f := range r.Figures {
		for _, ext := range []string{"svg", "png", "pdf"} {
			st, err := os.Stat(filepath.Join(out, PlotsDir, f.Name+"."+ext))
			if err != nil || st.Size() < 1000 {
				t.Errorf("%s.%s: %v", f.Name, ext, err)
			}
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, HTMLFile))
	if n := bytes.Count(html, []byte(`src="data:image/png;base64,`)); n != len(r.Figures) {
		t.Errorf("%d embedded images, want %d", n, len(r.Figures))
	}
	for _, bad := range []string{"http://", "https://", "ZgotmplZ"} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("report.html contains %q (must be self-contained and valid)", bad)
		}
	}
	for _, want := range []string{"sim (model, profile published/v1)", "dc-b (Standard_DC8_v2)", "microcode", "0xf8", "EGo 1.9.0", "published/v1 (docs/sgx-facts.md)", "heap is exhausted"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, MarkdownFile))
	if len(md) > MarkdownLimit {
		t.Errorf("report.md has %d bytes, more than %d", len(md), MarkdownLimit)
	}
}

// TestWriteRemovesOnlyItsOwn: a report into a directory removes the plots
// the previous report recorded writing and no longer draws, and nothing
// else: not a file of the user's, not one edited since, not through a
// symbolic link; a plots directory that is a link is refused.
func TestWriteRemovesOnlyItsOwn(t *testing.T) {
	o := testOptions()
	o.PDF = true
	_, withPDF := loadFixtures(t, o, "dc-a")
	_, noPDF := loadFixtures(t, testOptions(), "dc-a")
	out := t.TempDir()
	plots := filepath.Join(out, PlotsDir)
	os.MkdirAll(plots, 0o755)
	mine := filepath.Join(plots, "figure1.pdf")
	os.WriteFile(mine, []byte("mine"), 0o644)
	outside := filepath.Join(t.TempDir(), "elsewhere.pdf")
	os.WriteFile(outside, []byte("elsewhere"), 0o644)
	if err := os.Symlink(outside, filepath.Join(plots, "linked.pdf")); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(withPDF, out); err != nil {
		t.Fatal(err)
	}
	pdfs, _ := filepath.Glob(filepath.Join(plots, "*.pdf"))
	if len(pdfs) < 3 {
		t.Fatalf("first report wrote %d PDFs", len(pdfs))
	}
	// One PDF this report wrote is edited since, one replaced by a link
	// to a file outside: both stay, as do the user's own files.
	edited := filepath.Join(plots, withPDF.Figures[0].Name+".pdf")
	os.WriteFile(edited, []byte("edited by hand"), 0o644)
	relinked := filepath.Join(plots, withPDF.Figures[1].Name+".pdf")
	os.Remove(relinked)
	os.Symlink(outside, relinked)
	// A forged manifest entry naming a file outside plots is ignored.
	m := readManifest(out)
	m.Plots["../"+HTMLFile] = m.Plots[withPDF.Figures[2].Name+".pdf"]
	data, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(out, ManifestFile), data, 0o644)

	if _, err := Write(noPDF, out); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(plots, "*.pdf"))
	sort.Strings(left)
	want := []string{mine, edited, relinked, filepath.Join(plots, "linked.pdf")}
	sort.Strings(want)
	if !slices.Equal(left, want) {
		t.Errorf("PDFs left: %v\nwant %v", left, want)
	}
	for _, p := range []string{mine, outside} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, HTMLFile)); err != nil {
		t.Error(err)
	}
	if m := readManifest(out); len(m.Plots) == 0 || m.Plots[withPDF.Figures[0].Name+".svg"] == "" {
		t.Errorf("manifest after the second report: %v", m)
	}

	// plots as a link to another directory: refused, nothing written there.
	out2 := t.TempDir()
	target := t.TempDir()
	os.WriteFile(filepath.Join(target, "figure1.svg"), []byte("mine"), 0o644)
	os.Symlink(target, filepath.Join(out2, PlotsDir))
	if _, err := Write(noPDF, out2); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("plots linked elsewhere: err %v", err)
	}
	if ents, _ := os.ReadDir(target); len(ents) != 1 {
		t.Errorf("the linked directory holds %d files, want only the user's", len(ents))
	}
}
