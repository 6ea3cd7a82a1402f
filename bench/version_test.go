package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// Without run.sh's -X main.version, the version comes from what Go
// stamped into the build, so two builds of different trees differ.
func TestVersionOf(t *testing.T) {
	t.Parallel()
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	for _, tt := range []struct {
		set  string
		bi   *debug.BuildInfo
		want string
	}{
		{"v1.2-3-gabcdef0-dirty", vcs("abc", "true"), "v1.2-3-gabcdef0-dirty"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261207023508-3925c40abcde+dirty"}}, "v0.0.0-20261207023508-3925c40abcde+dirty"},
		{"dev", vcs("3925c40abcdef0123456789", "true"), "dev-3925c40abcde-dirty"},
		{"dev", vcs("3925c40abcdef0123456789", "false"), "dev-3925c40abcde"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"dev", nil, "dev"},
	} {
		if got := versionOf(tt.set, tt.bi); got != tt.want {
			t.Errorf("versionOf(%q, %+v) = %q, want %q", tt.set, tt.bi, got, tt.want)
		}
	}
}

// Each cell records its harness, and a run started by one build is not
// resumed by another (the issue's -X main.version=v9.9).
func TestResumeRefusesAnotherHarness(t *testing.T) {
	t.Parallel()
	dir := finishedRun(t)
	_, cells, _ := result.ReadAll(dir)
	if len(cells) != 1 || cells[0].HarnessVersion != harnessVersion() {
		t.Fatalf("cells %+v, want harness_version %q", cells, harnessVersion())
	}
	os.Remove(filepath.Join(dir, result.CellsFile)) // something to run
	editRunJSON(t, dir, func(r map[string]any) { r["harness_version"] = "v9.9" })
	_, stderr, code := runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != exitUsage || !strings.Contains(stderr, "started by harness version v9.9; this bench is "+harnessVersion()) {
		t.Errorf("resume by another build: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, result.CellsFile)); err == nil {
		t.Error("the refused resume ran cells")
	}
}

// run.sh stamps the version git describes into bench, so that the
// version guards can tell builds apart.
func TestRunShStampsVersion(t *testing.T) {
	t.Parallel()
	script, err := os.ReadFile("../run.sh")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	fakes := filepath.Join(tmp, "path")
	log := filepath.Join(tmp, "go.log")
	for path, body := range map[string]string{
		filepath.Join(tmp, "repo", "run.sh"):                     string(script),
		filepath.Join(tmp, "repo", "scripts", "install-deps.sh"): "#!/bin/sh\n",
		filepath.Join(tmp, "repo", "scripts", "build-sim.sh"):    "#!/bin/sh\n",
		// go build ... -o X: log the arguments; X does nothing.
		filepath.Join(fakes, "go"): "#!/bin/sh\necho \"$@\" >> " + log + "\nwhile [ \"$1\" != -o ]; do shift; done\n" +
			"mkdir -p \"$(dirname \"$2\")\"\nprintf '#!/bin/sh\\n' > \"$2\"\nchmod +x \"$2\"\n",
		filepath.Join(fakes, "git"): "#!/bin/sh\ncase \"$1\" in describe) echo v9.9-2-gabcdef0-dirty ;; rev-parse) echo abcdef012345 ;; *) exit 1 ;; esac\n",
	} {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", filepath.Join(tmp, "repo", "run.sh"))
	cmd.Env = append(os.Environ(), "PATH="+fakes+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run.sh: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(log)
	var benchBuild string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(l, "./bench") {
			benchBuild = l
		}
	}
	if !strings.Contains(benchBuild, "-X main.version=v9.9-2-gabcdef0-dirty") || !strings.Contains(benchBuild, "-X main.commit=abcdef012345") {
		t.Errorf("run.sh built bench with %q, want -X main.version from git describe", benchBuild)
	}
}
