package collect

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// profileSet is a real sim run whose stream carries its cell's profile
// (testdata/mkfixtures.go simProfile).
const profileSet = "testdata/simProfile"

// profileLog returns the fixture's log and the index of its profile line.
func profileLog(t *testing.T) ([]string, int) {
	t.Helper()
	ls := lines(readSetLog(t, profileSet, "DC1s_v2"))
	for i, l := range ls {
		if strings.HasPrefix(l, result.StreamPrefix+`{"profile":`) {
			return ls, i
		}
	}
	t.Fatal("the fixture's log has no profile record")
	return nil, 0
}

// wantProfiles reads the profile files the run itself wrote.
func wantProfiles(t *testing.T) map[string][]byte {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(profileSet, "want", "DC1s_v2", result.ProfileDir, "*"))
	if len(m) == 0 {
		t.Fatal("the fixture's run wrote no profile")
	}
	out := map[string][]byte{}
	for _, p := range m {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[result.ProfileDir+"/"+filepath.Base(p)] = b
	}
	return out
}

// TestCollectProfiles: a collected sim run has its cells' profiles,
// byte-identical to the files the run wrote, where its cell outcomes say;
// a corrupt or cut profile record is refused with a message naming the
// cell, and the cell keeps its samples.
func TestCollectProfiles(t *testing.T) {
	t.Parallel()
	ls, pi := profileLog(t)
	want := wantProfiles(t)

	c, out := collectInto(t, []Log{{"pod.log", strings.NewReader(strings.Join(ls, ""))}}, false)
	if len(c.Runs) != 1 {
		t.Fatalf("%d runs", len(c.Runs))
	}
	dir := filepath.Join(out, c.Runs[0].Name)
	for _, f := range []string{result.RunFile, result.SamplesFile, result.CellsFile} {
		got, _ := os.ReadFile(filepath.Join(dir, f))
		w, _ := os.ReadFile(filepath.Join(profileSet, "want", "DC1s_v2", f))
		if !bytes.Equal(got, w) {
			t.Errorf("%s differs from what the run wrote", f)
		}
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, cr := range d.Cells {
		rel := cr.Extra[result.ExtraProfile]
		if rel == "" {
			continue
		}
		named++
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || !bytes.Equal(got, want[rel]) {
			t.Errorf("cell %s: profile %s: %v (%d bytes, the run wrote %d)", cr.Cell, rel, err, len(got), len(want[rel]))
		}
	}
	if named == 0 {
		t.Fatal("no cell names a profile")
	}

	// The same log again (a combined log next to a pod's): identical
	// profile records are duplicates, not problems.
	both := strings.Join(ls, "")
	c2 := Collect([]Log{{"a.log", strings.NewReader(both)}, {"b.log", strings.NewReader(both)}})
	if len(c2.Problems) != 0 || c2.Duplicates == 0 {
		t.Errorf("same log twice: problems %v, %d duplicates", c2.Problems, c2.Duplicates)
	}

	bad := map[string]string{
		// One base64 character of the data changed: the digest no longer matches.
		"corrupt": func() string {
			l := ls[pi]
			i := strings.Index(l, `"data":"`) + len(`"data":"`) + 40
			ch := byte('A')
			if l[i] == 'A' {
				ch = 'B'
			}
			return l[:i] + string(ch) + l[i+1:]
		}(),
		// The line cut in the middle of its data (a pod stopped mid-write).
		"cut": ls[pi][:len(ls[pi])/2] + "\n",
	}
	for name, line := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			log := append(append(append([]string{}, ls[:pi]...), line), ls[pi+1:]...)
			c, out := collectInto(t, []Log{{"pod.log", strings.NewReader(strings.Join(log, ""))}}, true)
			why := "SHA-256"
			if name == "cut" {
				why = "malformed stream record"
			}
			wantProblem(t, c, why, "names its profile "+firstKey(want)+", which is not in the log", "its samples are kept")
			if len(c.Runs) != 1 {
				t.Fatalf("%d runs", len(c.Runs))
			}
			d, err := result.Load(filepath.Join(out, c.Runs[0].Name))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Samples) == 0 {
				t.Error("the cell lost its samples")
			}
			if _, err := os.Stat(filepath.Join(out, c.Runs[0].Name, result.ProfileDir)); err == nil {
				t.Error("a refused profile was written")
			}
		})
	}
}

func firstKey(m map[string][]byte) string {
	for k := range m {
		return k
	}
	return ""
}
