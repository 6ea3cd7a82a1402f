package compare

import (
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

// gateCell is a cell of a result directory written by writeGateDir: its
// values, the outcome its attempt recorded, and how many samples that
// outcome says it has (-1: as many as there are).
type gateCell struct {
	vals     []float64
	status   result.Status // "" is ok
	reason   string
	recorded int
}

// writeGateDir writes a result directory of one run (id from the path) and
// side ("" outside --baseline).
func writeGateDir(t *testing.T, dir, side string, cells map[string]gateCell) {
	t.Helper()
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := &result.Run{SchemaVersion: result.SchemaVersion, Facts: &result.Facts{}, ID: strings.ReplaceAll(dir, "/", "-"), Status: "complete", Start: time.Unix(0, 0).UTC(),
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"a"}, Sizes: []string{"S"}, Modes: []string{"native"}, Profile: "quick", Reps: 6}},
		Host: host.Fingerprint{OS: "linux", Arch: "amd64"}}
	if side != "" {
		run.Build = &result.Build{Side: side, WorkloadBin: "/bin/" + side, SHA256: strings.Repeat("0", 64)}
	}
	if err := st.WriteRun(run); err != nil {
		t.Fatal(err)
	}
	for key, c := range cells {
		w, _, _ := strings.Cut(key, "/")
		for i, v := range c.vals {
			s := &result.Sample{Cell: key, Attempt: 1, Workload: strings.ToLower(w), Size: keyPart(key, IgnoreSize), Mode: keyPart(key, IgnoreMode),
				Rep: i, Iters: 10, ElapsedNS: int64(v * 10), Time: time.Unix(0, 0).UTC(),
				Values: []protocol.Value{{Value: v, Unit: "ns/op", Better: protocol.Lower}}}
			if err := st.AppendSample(s); err != nil {
				t.Fatal(err)
			}
		}
		status, n := c.status, c.recorded
		if status == "" {
			status = result.StatusOK
		}
		if n < 0 {
			n = len(c.vals)
		}
		if err := st.AppendCell(&result.CellResult{Cell: key, Attempt: 1, Workload: strings.ToLower(w), Size: keyPart(key, IgnoreSize), Mode: keyPart(key, IgnoreMode),
			Status: status, Reason: c.reason, Samples: n}); err != nil {
			t.Fatal(err)
		}
	}
}

func ok8(f float64) gateCell {
	v := []float64{100, 101, 99, 102, 98, 100.5, 99.5, 101.5}
	for i := range v {
		v[i] *= f
	}
	return gateCell{vals: v, recorded: -1}
}

func loadBoth(t *testing.T, a, b string) (*Set, *Set) {
	t.Helper()
	old, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	new, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	return old, new
}

// wantBad compares old and new under --fail-on regression and wants bad
// input (exit 2) with a problem containing each of want.
func wantBad(t *testing.T, old, new *Set, o Options, want ...string) *Report {
	t.Helper()
	rep, err := Compare(old, new, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.ExitCode != ExitBadInput {
		t.Fatalf("exit %d (%s), want 2", rep.Verdict.ExitCode, rep.Verdict.Summary)
	}
	all := strings.Join(rep.Verdict.Problems, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("problems do not say %q:\n%s", w, all)
		}
	}
	return rep
}

const (
	cellA = "A/size=S/mode=native"
	cellB = "B/size=S/mode=native"
)

// TestCrashedNewCellFailsTheGate: a NEW cell that crashed after 2 samples
// (+690%), and one whose samples.jsonl was added to, make the gate's input
// bad (exit 2); bench.txt marks them and reads back marked.
func TestCrashedNewCellFailsTheGate(t *testing.T) {
	tmp := t.TempDir()
	base, pr := filepath.Join(tmp, "base"), filepath.Join(tmp, "pr")
	writeGateDir(t, base, "", map[string]gateCell{cellA: ok8(1), cellB: ok8(1)})
	writeGateDir(t, pr, "", map[string]gateCell{
		cellA: {vals: []float64{790, 792}, status: result.StatusFailed, reason: "exit status 2: panic: boom", recorded: 2},
		cellB: {vals: ok8(1).vals, recorded: 6}, // 8 present, 6 recorded: added to
	})
	old, new := loadBoth(t, base, pr)
	wantBad(t, old, new, gate(), "new cell "+cellA+": samples from a failed attempt (attempt 1: exit status 2: panic: boom)",
		"new cell "+cellB+": attempt 1 recorded 6 samples but samples.jsonl holds 8: samples.jsonl was added to")

	none := gate()
	none.FailOn = FailOnNone
	if rep, _ := Compare(old, new, none); rep.Verdict.ExitCode != ExitOK || !strings.Contains(strings.Join(rep.Warnings, "\n"), "failed attempt") {
		t.Errorf("--fail-on none: exit %d, warnings %q: want 0 with the suspect cells named", rep.Verdict.ExitCode, rep.Warnings)
	}

	d, err := result.Load(pr)
	if err != nil {
		t.Fatal(err)
	}
	if err := result.WriteDerived(d); err != nil {
		t.Fatal(err)
	}
	txt, _ := os.ReadFile(filepath.Join(pr, result.BenchFile))
	if !strings.Contains(string(txt), result.FlawConfig+": samples from a failed attempt") {
		t.Errorf("bench.txt does not mark the crashed cell:\n%s", txt)
	}
	fromTxt, err := Load(filepath.Join(pr, result.BenchFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range fromTxt.Cells {
		if fl := fromTxt.Flaws(c); len(fl) != 1 {
			t.Errorf("%s read back from bench.txt with flaws %q, want its one", c.Name, fl)
		}
	}
	// A clean directory's bench.txt has no mark.
	d, _ = result.Load(base)
	result.WriteDerived(d)
	if txt, _ := os.ReadFile(filepath.Join(base, result.BenchFile)); strings.Contains(string(txt), result.FlawConfig) {
		t.Errorf("a clean bench.txt is marked:\n%s", txt)
	}
}

// TestAllowUnmatchedAcceptsOnlyNewCells: --allow-unmatched accepts a cell
// new in NEW; a cell that vanished from NEW or failed there is a failure
// that names it; a NEW-only cell that failed is too.
func TestAllowUnmatchedAcceptsOnlyNewCells(t *testing.T) {
	tmp := t.TempDir()
	o := gate()
	o.AllowUnmatched = true
	cellC := "C/size=S/mode=native"
	dir := func(name string, cells map[string]gateCell) string {
		p := filepath.Join(tmp, name)
		writeGateDir(t, p, "", cells)
		return p
	}
	base := dir("base", map[string]gateCell{cellA: ok8(1), cellB: ok8(1)})

	added := dir("added", map[string]gateCell{cellA: ok8(1), cellB: ok8(1), cellC: ok8(1)})
	old, new := loadBoth(t, base, added)
	if rep, _ := Compare(old, new, o); rep.Verdict.ExitCode != ExitOK {
		t.Errorf("a cell new in NEW with --allow-unmatched: exit %d (%s), want 0", rep.Verdict.ExitCode, rep.Verdict.Summary)
	}

	vanished := dir("vanished", map[string]gateCell{cellA: ok8(1)})
	old, new = loadBoth(t, base, vanished)
	wantBad(t, old, new, o, "cell "+cellB+" is in old but not in new: not in new")

	failed := dir("failed", map[string]gateCell{cellA: ok8(1), cellB: {status: result.StatusFailed, reason: "timeout after 2m0s"}})
	old, new = loadBoth(t, base, failed)
	wantBad(t, old, new, o, "cell "+cellB+" is in old but not in new: new has no samples for it: failed (timeout after 2m0s)")

	na := dir("na", map[string]gateCell{cellA: ok8(1), cellB: {status: result.StatusNA, reason: "not applicable"}})
	old, new = loadBoth(t, base, na)
	wantBad(t, old, new, o, "cell "+cellB+" is in old but not in new: new has no samples for it: na")

	newFailed := dir("newfailed", map[string]gateCell{cellA: ok8(1), cellB: ok8(1), cellC: {status: result.StatusFailed, reason: "exit status 1"}})
	old, new = loadBoth(t, base, newFailed)
	wantBad(t, old, new, o, "new cell "+cellC+" failed: exit status 1")
}

// TestSameRunAndSwappedSides: a run compared with itself (the same path,
// or a symlink to it) and the sides of a --baseline run swapped are bad
// input; the sides in order are not.
func TestSameRunAndSwappedSides(t *testing.T) {
	tmp := t.TempDir()
	x := filepath.Join(tmp, "x")
	writeGateDir(t, x, "", map[string]gateCell{cellA: ok8(1)})
	link := filepath.Join(tmp, "link")
	if err := os.Symlink(x, link); err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{x, link} {
		old, new := loadBoth(t, x, other)
		wantBad(t, old, new, gate(), "is on both sides")
	}

	ab := filepath.Join(tmp, "ab")
	writeGateDir(t, filepath.Join(ab, "base"), "base", map[string]gateCell{cellA: ok8(1)})
	writeGateDir(t, filepath.Join(ab, "new"), "new", map[string]gateCell{cellA: ok8(2)})
	old, new := loadBoth(t, filepath.Join(ab, "new"), filepath.Join(ab, "base"))
	wantBad(t, old, new, gate(), "the sides are swapped: old ("+filepath.Join(ab, "new")+") was recorded as the new side")
	old, new = loadBoth(t, filepath.Join(ab, "base"), filepath.Join(ab, "new"))
	if rep, _ := Compare(old, new, gate()); rep.Verdict.ExitCode != ExitRegression {
		t.Errorf("base then new, 2x slower: exit %d (%s), want 1", rep.Verdict.ExitCode, rep.Verdict.Summary)
	}
	// bench.txt carries the side.
	for _, s := range []string{"base", "new"} {
		d, _ := result.Load(filepath.Join(ab, s))
		if err := result.WriteDerived(d); err != nil {
			t.Fatal(err)
		}
	}
	old, new = loadBoth(t, filepath.Join(ab, "new", result.BenchFile), filepath.Join(ab, "base", result.BenchFile))
	wantBad(t, old, new, gate(), "the sides are swapped")
}

// TestBenchTxtMarksOnlySuspectCells: in bench.txt a suspect cell's lines
// follow an enclavebench-flaw line that the next clean cell's lines clear.
func TestBenchTxtMarksOnlySuspectCells(t *testing.T) {
	pr := filepath.Join(t.TempDir(), "pr")
	cells := map[string]gateCell{cellB: {vals: []float64{790, 792}, status: result.StatusFailed, reason: "boom", recorded: 2}}
	for _, k := range []string{"C/size=S/mode=native", "D/size=S/mode=native", cellA} {
		cells[k] = ok8(1)
	}
	writeGateDir(t, pr, "", cells)
	d, err := result.Load(pr)
	if err != nil {
		t.Fatal(err)
	}
	if err := result.WriteDerived(d); err != nil {
		t.Fatal(err)
	}
	s, err := Load(filepath.Join(pr, result.BenchFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Cells {
		if fl := s.Flaws(c); (c.Name == cellB) != (len(fl) > 0) {
			t.Errorf("%s: flaws %q", c.Name, fl)
		}
	}
}
