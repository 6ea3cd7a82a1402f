package ego

import (
	"strings"
	"testing"
)

func TestMinVersionIsNewestRequirement(t *testing.T) {
	t.Parallel()
	for _, r := range Requirements {
		if CompareVersions(r.Since, MinVersion) > 0 {
			t.Errorf("requirement %q since %s is newer than MinVersion %s", r.What, r.Since, MinVersion)
		}
		if r.Source == "" {
			t.Errorf("requirement %q has no source", r.What)
		}
	}
	if len(missingRequirements(MinVersion)) != 0 {
		t.Errorf("EGo %s (MinVersion) misses %v", MinVersion, missingRequirements(MinVersion))
	}
}

func TestVersionGate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ego, goVersion, need string
		want                       []string // substrings of the error; nil: accepted
		pairing                    bool     // accepted with a pairing note
	}{
		{"release on Go 1.26", "1.9.0", "go1.26.1", "1.26.0", nil, false},
		// EGo v1.6.0 built from source with a Go 1.26 ego-go
		// (docs/ego.md): the runtime is older than the toolchain.
		{"old runtime, new ego-go", "1.6.0", "go1.26.8", "1.26.0", nil, true},
		{"old runtime, its own ego-go", "1.6.0", "go1.21.8", "1.26.0",
			[]string{"ego-go at /x/ego-go is go1.21.8", "needs go 1.26.0 (go.mod)", "EGo v1.9.0 or newer"}, false},
		{"release too old for the launcher", "1.0.1", "go1.26.8", "1.26.0",
			[]string{"EGo 1.0.1 at /x/ego lacks", "ERT_DISABLE_VDSO_CLOCK (ego.Options.PreciseClock) (since v1.1.0)"}, false},
		{"much too old", "0.3.3", "go1.16", "1.26.0", []string{"executableHeap", "EGOMAXTHREADS", "ERT_DISABLE_VDSO_CLOCK"}, false},
		{"suffixed toolchain", "1.9.0", "go1.26.1 X:nocoverageredesign", "1.26.0", nil, false},
		{"no go directive", "1.6.0", "go1.21.8", "", nil, true},
	}
	for _, tt := range tests {
		err := versionError("/x/ego", tt.ego, "/x/ego-go", tt.goVersion, tt.need)
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != nil && err == nil:
			t.Errorf("%s: accepted", tt.name)
		}
		for _, w := range tt.want {
			if err != nil && !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.name, err, w)
			}
		}
		if tt.want == nil {
			p := Pairing(tt.ego, tt.goVersion)
			if (p != "") != tt.pairing {
				t.Errorf("%s: Pairing = %q", tt.name, p)
			}
			if p != "" && (!strings.Contains(p, tt.ego) || !strings.Contains(p, tt.goVersion)) {
				t.Errorf("%s: Pairing %q does not name both versions", tt.name, p)
			}
		}
	}
}
