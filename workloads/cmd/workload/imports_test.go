package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoHarnessImports keeps the workload binary (which runs inside the
// enclave) free of the harness tree, in every build: plain, sim, ego and
// testhook.
func TestNoHarnessImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, tags := range []string{"", "sim", "ego", "testhook"} {
		out, err := exec.Command("go", "list", "-deps", "-tags", tags, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -tags %q: %v\n%s", tags, err, out)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if strings.HasPrefix(pkg, "github.com/enclavebench/enclavebench/bench/") {
				t.Errorf("-tags %q: the workload binary imports %s", tags, pkg)
			}
		}
	}
}
