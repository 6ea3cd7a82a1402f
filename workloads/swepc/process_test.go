//go:build linux && sim && cgo

package swepc

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// buildHeapsweep builds testdata/heapsweep, with the process-EPC overlay
// (scripts/build-sim.sh) or without it (plain go build -tags sim).
func buildHeapsweep(t *testing.T, overlay bool) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "heapsweep")
	cmd := exec.Command("go", "build", "-tags", "sim", "-o", bin, "./testdata/heapsweep")
	if overlay {
		cmd = exec.Command("bash", "../../scripts/build-sim.sh", bin, "./testdata/heapsweep")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	return bin
}

func heapsweep(t *testing.T, bin, kind string, pages, capPages, sweeps int) map[string]int64 {
	t.Helper()
	cmd := exec.Command(bin, kind, strconv.Itoa(pages), strconv.Itoa(capPages), strconv.Itoa(sweeps))
	cmd.Env = append(os.Environ(), ProcessEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		if strings.Contains(msg, ErrDenied.Error()) {
			t.Skip(msg)
		}
		t.Fatalf("%s %s: %s", bin, kind, msg)
	}
	var m map[string]int64
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return m
}

// The Go heap on the process EPC pages as a software-EPC arena of the same
// size does: a cyclic sweep past the cap loads every page of every sweep in
// both, one under the cap loads none. What the heap adds are the runtime's
// own pages (its metadata, the stacks and signal stacks that preemption
// touches while the sweep runs), which share the cap.
func TestProcessHeapPagesAsArena(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := buildHeapsweep(t, true)
	const capPages, sweeps = 1024, 4
	for _, pages := range []int{400, 2048} {
		arena := heapsweep(t, bin, "arena", pages, capPages, sweeps)
		heap := heapsweep(t, bin, "heap", pages, capPages, sweeps)
		t.Logf("%d pages, cap %d: arena %v; heap %v", pages, capPages, arena, heap)
		want := int64(0)
		if pages > capPages {
			want = int64(pages * (sweeps - 1)) // every page of every sweep
		}
		if arena["loads"] != want {
			t.Errorf("%d pages: the arena loaded %d pages, want %d", pages, arena["loads"], want)
		}
		// The runtime's own pages: at most 2% more, never fewer.
		if d := heap["loads"] - arena["loads"]; d < 0 || d > want/50 {
			t.Errorf("%d pages: the heap loaded %d pages, the arena %d: want the same up to 2%% more", pages, heap["loads"], arena["loads"])
		}
		if rt := heap["first_touch"] - arena["first_touch"]; rt <= 0 {
			t.Errorf("%d pages: the process EPC holds no page of the runtime's own (first touches %d heap, %d arena)", pages, heap["first_touch"], arena["first_touch"])
		}
	}
}

// A binary built without the overlay is refused in whole-process mode, with
// the reason.
func TestProcessWithoutOverlay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := buildHeapsweep(t, false)
	cmd := exec.Command(bin, "heap", "100", "64", "2")
	cmd.Env = append(os.Environ(), ProcessEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "built without the process-EPC overlay") || !strings.Contains(string(out), "build-sim.sh") {
		t.Fatalf("err %v, output %q", err, out)
	}
	t.Logf("%s", out)
}

// Without the environment variable, even an overlaid binary has no process
// EPC (the runtime is unchanged), and AdoptProcess says why.
func TestProcessNotRequested(t *testing.T) {
	if os.Getenv(ProcessEnv) != "" {
		t.Skip(ProcessEnv, " is set")
	}
	_, err := AdoptProcess(1 << 20)
	if err == nil || errors.Is(err, ErrNoOverlay) || !strings.Contains(err.Error(), "was not in the environment") {
		t.Fatalf("AdoptProcess: %v", err)
	}
}
