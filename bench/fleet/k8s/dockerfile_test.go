package k8s

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDockerfile runs the Dockerfile check (no Docker engine here) and ties
// the paths the Jobs use to the image the Dockerfile builds.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	df := filepath.Join("..", "..", "..", "deploy", "Dockerfile")
	out, err := exec.Command("sh", filepath.Join("..", "..", "..", "deploy", "check-dockerfile.sh"), df).CombinedOutput()
	if err != nil {
		t.Fatalf("check-dockerfile.sh: %v\n%s", err, out)
	}
	b, err := os.ReadFile(df)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		`ENTRYPOINT ["` + ImageBench + `"]`,
		"WORKDIR " + ImageSource,
		"COPY --from=build /src " + ImageSource,
		fmt.Sprintf("USER %d:%d", ImageUID, ImageUID),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("deploy/Dockerfile lacks %q (bench/fleet k8s.go relies on it)", want)
		}
	}

	// The check fails on a broken Dockerfile: a missing path, a root user.
	for name, c := range map[string]struct{ from, to, want string }{
		"root":    {fmt.Sprintf("USER %d:%d", ImageUID, ImageUID), "USER 0:0", "USER 0:0 is root"},
		"named":   {fmt.Sprintf("USER %d:%d", ImageUID, ImageUID), "USER enclavebench", "give the uid (and gid) as numbers"},
		"no USER": {fmt.Sprintf("USER %d:%d", ImageUID, ImageUID), "", "runs as root: add USER"},
	} {
		bad := filepath.Join(t.TempDir(), "Dockerfile")
		os.WriteFile(bad, []byte(strings.ReplaceAll(text, c.from, c.to)), 0o644)
		if out, err := exec.Command("sh", filepath.Join("..", "..", "..", "deploy", "check-dockerfile.sh"), bad).CombinedOutput(); err == nil ||
			!strings.Contains(string(out), c.want) {
			t.Errorf("%s: check-dockerfile.sh: %v, want %q:\n%s", name, err, c.want, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "Dockerfile")
	broken := strings.Replace(text, "COPY workloads ./workloads", "COPY workload ./workloads", 1)
	os.WriteFile(bad, []byte(broken), 0o644)
	if out, err := exec.Command("sh", filepath.Join("..", "..", "..", "deploy", "check-dockerfile.sh"), bad).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "COPY workload: not in the repository") {
		t.Errorf("check-dockerfile.sh accepted a COPY of a missing path: %v\n%s", err, out)
	}
}

// TestLocalImageRecipe ties scripts/k8s/images.sh, which builds the local
// cluster's image without Docker, to deploy/Dockerfile: the image config it
// writes is read from the Dockerfile's native stage, and that config is what
// the Jobs rely on; the files it must make are the ones the stage copies.
func TestLocalImageRecipe(t *testing.T) {
	t.Parallel()
	script := filepath.Join("..", "..", "..", "scripts", "k8s", "images.sh")
	out, err := exec.Command("sh", script, "--config", "native").Output()
	if err != nil {
		t.Fatalf("images.sh --config native: %v", err)
	}
	var cfg struct {
		User, WorkingDir string
		Env, Entrypoint  []string
		Cmd              []string
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("images.sh --config native: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("%d:%d", ImageUID, ImageUID); cfg.User != want {
		t.Errorf("User %q, want %q (the Jobs' runAsUser)", cfg.User, want)
	}
	if cfg.WorkingDir != ImageSource {
		t.Errorf("WorkingDir %q, want %q", cfg.WorkingDir, ImageSource)
	}
	if !slices.Equal(cfg.Entrypoint, []string{ImageBench}) {
		t.Errorf("Entrypoint %q, want [%s]", cfg.Entrypoint, ImageBench)
	}
	if !slices.Contains(cfg.Env, "ENCLAVEBENCH_WORKLOAD=/opt/enclavebench/bin/workload") ||
		!slices.ContainsFunc(cfg.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=/opt/enclavebench/bin:/") }) {
		t.Errorf("Env %q lacks the Dockerfile's ENCLAVEBENCH_WORKLOAD and PATH", cfg.Env)
	}
	if len(cfg.Cmd) == 0 || cfg.Cmd[0] != "run" {
		t.Errorf("Cmd %q, want the Dockerfile's bench run", cfg.Cmd)
	}

	// The files the recipe must make: bench, the workload and the sim
	// mode's workload-sim, which the Jobs' bench finds next to itself.
	files, err := exec.Command("sh", script, "--files", "native").Output()
	if err != nil {
		t.Fatalf("images.sh --files native: %v", err)
	}
	for _, want := range []string{ImageBench, "/opt/enclavebench/bin/workload", "/opt/enclavebench/bin/workload-sim"} {
		if !slices.Contains(strings.Fields(string(files)), want) {
			t.Errorf("deploy/Dockerfile's native stage does not copy %s; it copies:\n%s", want, files)
		}
	}
	if out, err := exec.Command("sh", script, "--config", "nostage").CombinedOutput(); err == nil || !strings.Contains(string(out), "no stage nostage") {
		t.Errorf("images.sh --config nostage: %v, want an error naming the stage:\n%s", err, out)
	}
}
