package main

import (
	"context"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/compare"
	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/session"
)

// gatedCells expands a quick plan of workloads x sizes x modes into its
// cells: the timed rows of its comparison.
func gatedCells(t *testing.T, workloads, sizes, modes string) int {
	t.Helper()
	fp := host.Fingerprint{OS: "linux", Arch: "amd64", CPUs: 2, MemBytes: 8 << 30}
	spec := runspec.Spec{Workloads: strings.Split(workloads, ","), Sizes: strings.Split(sizes, ","), Modes: strings.Split(modes, ","), Profile: "quick"}
	_, cells, _, err := session.Resolve(context.Background(), spec, &fp, io.Discard)
	if err != nil {
		t.Fatalf("%s on %s in %s: %v", workloads, sizes, modes, err)
	}
	return len(cells)
}

// TestShippedGatesCanFire: the shipped workflow's rounds and the README's
// CI example's repetitions are enough for bench compare to flag a
// regression of one cell among the cells they run (else the gate would
// refuse every pull request, exit 2).
func TestShippedGatesCanFire(t *testing.T) {
	wf, err := os.ReadFile("../.github/workflows/enclavebench.yml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, k := range []string{"WORKLOADS", "SIZES", "MODES", "ROUNDS", "MIN_EFFECT"} {
		m := regexp.MustCompile(`(?m)^  ` + k + `: "?([^"\s#]+)"?`).FindSubmatch(wf)
		if m == nil {
			t.Fatalf("the workflow has no env %s", k)
		}
		env[k] = string(m[1])
	}
	rounds, err := strconv.Atoi(env["ROUNDS"])
	if err != nil {
		t.Fatal(err)
	}
	o := compare.DefaultOptions()
	cells := gatedCells(t, env["WORKLOADS"], env["SIZES"], env["MODES"])
	if need := compare.SamplesNeeded(cells, o); rounds < need {
		t.Errorf("the workflow runs %d rounds of %d cells; a regression of one cell needs %d", rounds, cells, need)
	}
	t.Logf("workflow: %d cells, %d rounds, %d needed", cells, rounds, compare.SamplesNeeded(cells, o))

	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds, _ := readmeCommands(t, readme)
	found := false
	for _, c := range cmds {
		if !strings.Contains(c.text, "--baseline") {
			continue
		}
		found = true
		flag := func(name, def string) string {
			for i, a := range c.args {
				if a == name && i+1 < len(c.args) {
					return c.args[i+1]
				}
			}
			return def
		}
		reps, err := strconv.Atoi(flag("--reps", "6"))
		if err != nil {
			t.Fatal(err)
		}
		cells := gatedCells(t, flag("--workloads", ""), flag("--sizes", "dcsv2"), flag("--modes", "native"))
		if need := compare.SamplesNeeded(cells, o); reps < need {
			t.Errorf("README.md:%d: %d repetitions (one process each) of %d cells; a regression of one cell needs %d", c.line, reps, cells, need)
		}
		t.Logf("README.md:%d: %d cells, %d repetitions, %d needed", c.line, cells, reps, compare.SamplesNeeded(cells, o))
	}
	if !found {
		t.Fatal("no bench run --baseline in README.md")
	}
}
