package fleet

import (
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
	df := filepath.Join("..", "..", "deploy", "Dockerfile")
	out, err := exec.Command("sh", filepath.Join("..", "..", "deploy", "check-dockerfile.sh"), df).CombinedOutput()
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
	} {
		if !strings.Contains(text, want) {
			t.Errorf("deploy/Dockerfile lacks %q (bench/fleet k8s.go relies on it)", want)
		}
	}

	// The check fails on a broken Dockerfile.
	bad := filepath.Join(t.TempDir(), "Dockerfile")
	broken := strings.Replace(text, "COPY workloads ./workloads", "COPY workload ./workloads", 1)
	os.WriteFile(bad, []byte(broken), 0o644)
	if out, err := exec.Command("sh", filepath.Join("..", "..", "deploy", "check-dockerfile.sh"), bad).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "COPY workload: not in the repository") {
		t.Errorf("check-dockerfile.sh accepted a COPY of a missing path: %v\n%s", err, out)
	}
}
