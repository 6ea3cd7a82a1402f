package compare

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// withSettings writes an ego-sim result directory whose run.json records
// the given --ego-trace-ocalls setting, and its bench.txt.
func withSettings(t *testing.T, dir, trace string) {
	t.Helper()
	writeResultDir(t, dir, result.SchemaVersion, map[string][]float64{"A/size=S/mode=ego-sim": {10, 11, 12, 13, 14, 15}}, nil)
	run, err := result.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if trace != "" {
		run.ModeSettings = map[string]map[string]string{"ego-sim": {"ego-debug": "false", "ego-trace-ocalls": trace, "ego-precise-clock": "false"}}
	}
	if err := result.WriteJSONFile(filepath.Join(dir, result.RunFile), run); err != nil {
		t.Fatal(err)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := result.WriteDerived(d); err != nil {
		t.Fatal(err)
	}
}

// TestModeSettingsTravel: cells measured under other mode settings
// (run.json mode_settings) are refused, from directories and from their
// bench.txt alike, and never pooled; --ignore settings compares them.
func TestModeSettingsTravel(t *testing.T) {
	tmp := t.TempDir()
	plain, traced, unrecorded := filepath.Join(tmp, "r", "plain"), filepath.Join(tmp, "r", "traced"), filepath.Join(tmp, "unrecorded")
	withSettings(t, plain, "false")
	withSettings(t, traced, "true")
	withSettings(t, unrecorded, "")
	for _, f := range []string{"", result.BenchFile} {
		old, err := Load(filepath.Join(plain, f))
		if err != nil {
			t.Fatal(err)
		}
		new, err := Load(filepath.Join(traced, f))
		if err != nil {
			t.Fatal(err)
		}
		rep, _ := Compare(old, new, gate())
		if rep.Verdict.ExitCode != ExitBadInput || len(rep.Tables) != 0 || len(rep.Refused) != 1 ||
			!strings.Contains(rep.Refused[0].Reason, "old ego-trace-ocalls=false, new ego-trace-ocalls=true") {
			t.Errorf("%q: exit %d tables %d refused %+v", f, rep.Verdict.ExitCode, len(rep.Tables), rep.Refused)
		}
		o := gate()
		o.Ignore = []string{IgnoreSettings}
		if rep, _ := Compare(old, new, o); rep.Verdict.ExitCode != ExitOK || len(rep.Tables) == 0 {
			t.Errorf("%q with --ignore settings: exit %d refused %+v", f, rep.Verdict.ExitCode, rep.Refused)
		}
	}
	// Rounds measured under other settings are not pooled.
	if _, err := Load(filepath.Join(tmp, "r")); err == nil || !strings.Contains(err.Error(), "other mode settings") {
		t.Errorf("pooling plain and traced: %v", err)
	}
	// A run from before settings were recorded: compared, with a warning.
	old, _ := Load(unrecorded)
	new, _ := Load(traced)
	rep, _ := Compare(old, new, gate())
	if len(rep.Tables) == 0 || !strings.Contains(strings.Join(rep.Warnings, "\n"), "mode settings recorded on one side only") {
		t.Errorf("unrecorded against traced: tables %d warnings %v", len(rep.Tables), rep.Warnings)
	}
}

// TestProfileContentMatched: a cost profile edited under the same name and
// version is another profile.
func TestProfileContentMatched(t *testing.T) {
	sim := func(sha string) string {
		return "cost-profile: mine/v1\ncost-profile-sha256: " + sha + "\n" + strings.Repeat("BenchmarkW/size=S/mode=sim 1 100 ns/op\n", 6)
	}
	a := strings.Repeat("a", 64)
	rep, _ := Compare(mustRead(t, sim(a), "old"), mustRead(t, sim(strings.Repeat("b", 64)), "new"), gate())
	if rep.Verdict.ExitCode != ExitBadInput || len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0].Reason, "mine/v1 in both, but its content differs (sha256 aaaaaaaaaaaa in old, bbbbbbbbbbbb in new)") {
		t.Fatalf("exit %d refused %+v", rep.Verdict.ExitCode, rep.Refused)
	}
	o := gate()
	o.Ignore = []string{IgnoreProfile}
	if rep, _ := Compare(mustRead(t, sim(a), "old"), mustRead(t, sim(strings.Repeat("b", 64)), "new"), o); rep.Verdict.ExitCode != ExitOK {
		t.Errorf("--ignore profile: %+v", rep.Verdict)
	}
	if rep, _ := Compare(mustRead(t, sim(a), "old"), mustRead(t, sim(a), "new"), gate()); rep.Verdict.ExitCode != ExitOK || len(rep.Refused) != 0 {
		t.Errorf("same content: %+v %+v", rep.Verdict, rep.Refused)
	}
	if _, err := poolText(t, "p", "enclavebench-run: r1\n"+sim(a), "enclavebench-run: r2\n"+sim(strings.Repeat("c", 64))); err == nil ||
		!strings.Contains(err.Error(), "other content") {
		t.Errorf("pooling two contents: %v", err)
	}
}
