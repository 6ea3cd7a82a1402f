package compare

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// writeResultDir makes a result directory with samples of cells.
func writeResultDir(t *testing.T, dir string, schema int, cells map[string][]float64, failed map[string]string) {
	t.Helper()
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := &result.Run{SchemaVersion: schema, Facts: &result.Facts{}, ID: filepath.Base(dir), Status: "complete", Start: time.Unix(0, 0).UTC(),
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"a"}, Sizes: []string{"S"}, Modes: []string{"native"}, Profile: "quick", Reps: 6}},
		Host: host.Fingerprint{OS: "linux", Arch: "amd64"}}
	if err := st.WriteRun(run); err != nil {
		t.Fatal(err)
	}
	for key, vals := range cells {
		w, _, _ := strings.Cut(key, "/")
		for i, v := range vals {
			s := &result.Sample{Cell: key, Attempt: 1, Workload: strings.ToLower(w), Params: paramsOf(key), Size: keyPart(key, IgnoreSize), Mode: keyPart(key, IgnoreMode),
				Rep: i, Iters: 10, ElapsedNS: int64(v * 10), Time: time.Unix(0, 0).UTC(),
				Values: []protocol.Value{{Value: v, Unit: "ns/op", Better: protocol.Lower}},
				Events: map[string]int64{"minflt": 0}}
			if err := st.AppendSample(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.AppendCell(&result.CellResult{Cell: key, Attempt: 1, Workload: strings.ToLower(w), Params: paramsOf(key), Size: keyPart(key, IgnoreSize), Mode: keyPart(key, IgnoreMode),
			Status: result.StatusOK, Samples: len(vals)}); err != nil {
			t.Fatal(err)
		}
	}
	for key, reason := range failed {
		w, _, _ := strings.Cut(key, "/")
		if err := st.AppendCell(&result.CellResult{Cell: key, Attempt: 1, Workload: strings.ToLower(w), Params: paramsOf(key), Size: keyPart(key, IgnoreSize), Mode: keyPart(key, IgnoreMode),
			Status: result.StatusFailed, Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBadInput(t *testing.T) {
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good")
	writeResultDir(t, good, result.SchemaVersion, map[string][]float64{"A/size=S/mode=native": {1, 2, 3, 4, 5, 6}}, nil)
	v2 := filepath.Join(tmp, "v2")
	writeResultDir(t, v2, result.SchemaVersion+1, map[string][]float64{"A/size=S/mode=native": {1, 2, 3}}, nil)
	none := filepath.Join(tmp, "none")
	writeResultDir(t, none, result.SchemaVersion, nil, nil)
	empty := filepath.Join(tmp, "empty")
	writeResultDir(t, empty, result.SchemaVersion, nil, map[string]string{"A/size=S/mode=native": "exit status 1: boom"})
	notDir := filepath.Join(tmp, "plain")
	os.Mkdir(notDir, 0o755)
	noBench := filepath.Join(tmp, "notes.txt")
	os.WriteFile(noBench, []byte("hello\nPASS\n"), 0o644)
	badLine := filepath.Join(tmp, "bad.txt")
	os.WriteFile(badLine, []byte("BenchmarkA 1 2 ns/op\nBenchmarkA x 2 ns/op\n"), 0o644)
	nan := filepath.Join(tmp, "nan.txt")
	os.WriteFile(nan, []byte("BenchmarkA 1 NaN ns/op\n"), 0o644)
	unreadable := filepath.Join(tmp, "secret.txt")
	os.WriteFile(unreadable, []byte("BenchmarkA 1 2 ns/op\n"), 0o000)

	cases := []struct{ path, want string }{
		{filepath.Join(tmp, "missing"), "no such file or directory"},
		{v2, fmt.Sprintf("schema version %d", result.SchemaVersion+1)},
		{empty, "no samples: all 1 cells have none (first: A/size=S/mode=native failed: exit status 1: boom)"},
		{notDir, "no run.json"},
		{none, `no samples: the run (status "complete", 0 cells planned) recorded no cell yet`},
		{noBench, "no samples (not a result directory or a Go benchmark format file"},
		{badLine, "line 2: parsing iteration count"},
		{nan, "not a finite number"},
	}
	if os.Geteuid() != 0 { // root reads anything
		cases = append(cases, struct{ path, want string }{unreadable, "permission denied"})
	}
	for _, c := range cases {
		_, err := Load(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.path) {
			t.Errorf("Load(%s) = %v, want an error naming the path and %q", filepath.Base(c.path), err, c.want)
		}
	}
	if _, err := Load(good); err != nil {
		t.Fatal(err)
	}
}

// TestFailedCellExplained: a cell that failed on one side is listed with
// the failure, not dropped.
func TestFailedCellExplained(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	vals := []float64{1, 2, 3, 4, 5, 6}
	writeResultDir(t, a, result.SchemaVersion, map[string][]float64{"A/size=S/mode=native": vals, "B/size=S/mode=native": vals}, nil)
	writeResultDir(t, b, result.SchemaVersion, map[string][]float64{"A/size=S/mode=native": vals}, map[string]string{"B/size=S/mode=native": "timeout after 2m0s"})
	old, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	new, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := Compare(old, new, gate())
	if rep.Verdict.ExitCode != ExitBadInput || len(rep.Unmatched) != 1 || !strings.Contains(rep.Unmatched[0].Reason, "failed (timeout after 2m0s)") {
		t.Fatalf("verdict %+v unmatched %+v", rep.Verdict, rep.Unmatched)
	}
}

// TestDirEqualsBenchTxt: a result directory reads exactly as its bench.txt,
// and directories of result directories pool their rounds.
func TestDirEqualsBenchTxt(t *testing.T) {
	tmp := t.TempDir()
	r1, r2 := filepath.Join(tmp, "rounds", "r1"), filepath.Join(tmp, "rounds", "r2")
	writeResultDir(t, r1, result.SchemaVersion, map[string][]float64{"A/size=S/mode=native": {1, 2, 3}}, nil)
	writeResultDir(t, r2, result.SchemaVersion, map[string][]float64{"A/size=S/mode=native": {4, 5, 6}}, nil)
	d, err := result.Load(r1)
	if err != nil {
		t.Fatal(err)
	}
	if err := result.WriteDerived(d); err != nil {
		t.Fatal(err)
	}
	fromDir, err := Load(r1)
	if err != nil {
		t.Fatal(err)
	}
	fromTxt, err := Load(filepath.Join(r1, result.BenchFile))
	if err != nil {
		t.Fatal(err)
	}
	if !sameSet(fromDir, fromTxt) {
		t.Fatalf("dir %+v\ntxt %+v", fromDir.Cells[0], fromTxt.Cells[0])
	}
	pooled, err := Load(filepath.Join(tmp, "rounds"))
	if err != nil {
		t.Fatal(err)
	}
	if got := pooled.Cell("A/size=S/mode=native").Values["ns/op"]; len(got) != 6 || len(pooled.Runs) != 2 {
		t.Fatalf("pooled %v runs %v", got, pooled.Runs)
	}
}

func sameSet(a, b *Set) bool {
	if len(a.Cells) != len(b.Cells) {
		return false
	}
	for _, c := range a.Cells {
		d := b.Cell(c.Name)
		if d == nil || d.Profile != c.Profile || strings.Join(d.Units, ",") != strings.Join(c.Units, ",") {
			return false
		}
		for u, vs := range c.Values {
			ws := d.Values[u]
			if len(ws) != len(vs) {
				return false
			}
			for i := range vs {
				if vs[i] != ws[i] && !(math.IsNaN(vs[i]) && math.IsNaN(ws[i])) {
					return false
				}
			}
			if a.Units[u] != b.Units[u] {
				return false
			}
		}
	}
	return true
}
