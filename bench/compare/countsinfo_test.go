package compare

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// writeCountsRun writes a --baseline side of one cell, 6 samples of ns/op
// timeF*(100+i), with run.json's counts record c (nil: none) and no count
// events.
func writeCountsRun(t *testing.T, dir, side string, c *result.Counts, timeF float64) {
	t.Helper()
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := &result.Run{SchemaVersion: result.SchemaVersion, Facts: &result.Facts{}, ID: "ab", Status: "complete", Start: time.Unix(0, 0).UTC(),
		Plan:   result.Plan{Spec: runspec.Spec{Workloads: []string{"a"}, Sizes: []string{"S"}, Modes: []string{"native"}, Profile: "quick", Reps: 6, Counts: true}},
		Host:   host.Fingerprint{OS: "linux", Arch: "amd64"},
		Build:  &result.Build{Side: side, WorkloadBin: "/bin/" + side, SHA256: strings.Repeat("0", 64)},
		Counts: c}
	if err := st.WriteRun(run); err != nil {
		t.Fatal(err)
	}
	key := "A/size=S/mode=native"
	for i := 0; i < 6; i++ {
		v := timeF * float64(100+i)
		s := &result.Sample{Cell: key, Attempt: 1, Workload: "a", Size: "S", Mode: "native", Rep: i, Iters: 1000, ElapsedNS: int64(1000 * v), Time: time.Unix(0, 0).UTC(),
			Values: []protocol.Value{{Value: v, Unit: "ns/op", Better: protocol.Lower}}}
		if err := st.AppendSample(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AppendCell(&result.CellResult{Cell: key, Attempt: 1, Workload: "a", Size: "S", Mode: "native", Status: result.StatusOK, Samples: 6}); err != nil {
		t.Fatal(err)
	}
}

// TestCountsUnavailable: a --counts run made without Valgrind has no count
// events; the gate says why and gates on time (a 2x slowdown is flagged).
func TestCountsUnavailable(t *testing.T) {
	dir := t.TempDir()
	why := "valgrind not found on $PATH (...): no counts, the gate uses time only"
	writeCountsRun(t, filepath.Join(dir, "base"), "base", &result.Counts{Unavailable: why}, 1)
	writeCountsRun(t, filepath.Join(dir, "new"), "new", &result.Counts{Unavailable: why}, 2)
	old, new := loadBoth(t, filepath.Join(dir, "base"), filepath.Join(dir, "new"))
	rep, err := Compare(old, new, gate())
	if err != nil {
		t.Fatal(err)
	}
	for _, sd := range []string{"old", "new"} {
		if !hasWarning(rep, sd+": no counting pass: "+why) {
			t.Errorf("warnings %q: want %s's reason for having no counts", rep.Warnings, sd)
		}
	}
	if rep.Verdict.ExitCode != ExitRegression {
		t.Errorf("2x slower without counts: exit %d (%s), want the time gate's regression", rep.Verdict.ExitCode, rep.Verdict.Summary)
	}
}

// TestCountsHiddenCPU: counts taken where Valgrind hid other CPU features
// from the workload on each side are compared with a warning naming both.
func TestCountsHiddenCPU(t *testing.T) {
	for _, tc := range []struct {
		old, new []string
		warn     bool
	}{
		{[]string{"AVX512F", "SHA"}, []string{"SHA", "AVX512F"}, false},
		{[]string{"SHA"}, nil, true},
		{nil, nil, false},
	} {
		dir := t.TempDir()
		writeCountsRun(t, filepath.Join(dir, "base"), "base", &result.Counts{Tool: "valgrind-test", Values: 3, CPUHidden: tc.old}, 1)
		writeCountsRun(t, filepath.Join(dir, "new"), "new", &result.Counts{Tool: "valgrind-test", Values: 3, CPUHidden: tc.new}, 1)
		old, new := loadBoth(t, filepath.Join(dir, "base"), filepath.Join(dir, "new"))
		rep, err := Compare(old, new, gate())
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, w := range rep.Warnings {
			if strings.Contains(w, "hid other CPU features") {
				got = true
				if !strings.Contains(w, "(SHA) than from new's (none)") {
					t.Errorf("warning %q: want both sides' features", w)
				}
			}
		}
		if got != tc.warn {
			t.Errorf("hidden %v vs %v: warned %v, want %v (%q)", tc.old, tc.new, got, tc.warn, rep.Warnings)
		}
	}
}

func hasWarning(rep *Report, w string) bool {
	for _, x := range rep.Warnings {
		if x == w {
			return true
		}
	}
	return false
}
