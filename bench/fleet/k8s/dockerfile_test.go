package k8s

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
