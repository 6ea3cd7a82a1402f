package fleet

import (
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/runspec"
)

// TestShellQuote has sh read back every quoted word, including random ones.
func TestShellQuote(t *testing.T) {
	t.Parallel()
	words := []string{"", "plain", "a b", "it's", `"dq"`, "$HOME", "`id`", "a\nb", "--flag", "x;rm -rf /", "'", "''", `\`, "*", "~/key", "日本"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(1 + rng.IntN(126)) // no NUL: argv cannot hold one
		}
		words = append(words, string(b))
	}
	var script strings.Builder
	for _, w := range words {
		script.WriteString("printf '%s\\000' " + ShellQuote(w) + "\n")
	}
	out, err := exec.Command("sh", "-c", script.String()).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(words) {
		t.Fatalf("%d words back, want %d", len(got), len(words))
	}
	for i := range words {
		if got[i] != words[i] {
			t.Errorf("%q came back as %q (quoted %s)", words[i], got[i], ShellQuote(words[i]))
		}
	}
}

// TestModeBinaries: the binaries a plan copies besides the workload binary
// are what its modes' descriptors need (mode.Needs.Binaries), each once,
// and DefaultModes is the mode measured on SGX hardware.
func TestModeBinaries(t *testing.T) {
	t.Parallel()
	var names []string
	for _, b := range ModeBinaries(runspec.Spec{Modes: []string{"native", "sim", "sgx", "sim"}}) {
		if b.Build == "" {
			t.Errorf("%s: no build command", b.Name)
		}
		names = append(names, b.Name)
	}
	if strings.Join(names, ",") != "workload-sim" {
		t.Errorf("native, sim, sgx: binaries %v, want workload-sim once", names)
	}
	if bs := ModeBinaries(runspec.Spec{Modes: []string{"native", "sgx", "ego-sim"}}); len(bs) != 0 {
		t.Errorf("native, sgx, ego-sim: binaries %v, want none", bs)
	}
	if m := DefaultModes(); strings.Join(m, ",") != "sgx" {
		t.Errorf("DefaultModes() = %v, want sgx", m)
	}
}
