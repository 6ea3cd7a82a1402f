package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/session"
	"github.com/enclavebench/enclavebench/bench/sim"
)

// readmeCommand is one `bench ...` line of a fenced sh block in README.md.
type readmeCommand struct {
	line   int
	text   string   // as written, without its comment
	args   []string // after the command name, placeholders replaced
	stdout string   // the file of a trailing "> file", else ""
}

// readmeCommands extracts the bench commands of README.md's sh blocks;
// other lines of those blocks (./run.sh, git, benchstat) are returned in
// others with the reason they are not run here.
func readmeCommands(t *testing.T, readme []byte) (cmds []readmeCommand, others []string) {
	t.Helper()
	comment := regexp.MustCompile(`\s+#\s.*$`)
	in := false
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			in = !in && strings.TrimPrefix(line, "```") == "sh"
			continue
		}
		if !in {
			continue
		}
		text := strings.TrimSpace(comment.ReplaceAllString(line, ""))
		words := strings.Fields(text)
		if len(words) == 0 || strings.HasPrefix(words[0], "#") {
			continue
		}
		if words[0] != "bench" && words[0] != "bin/bench" {
			others = append(others, text)
			continue
		}
		if strings.ContainsAny(text, "'\"`$|;&") {
			t.Fatalf("README.md:%d: %q: this test splits words at spaces and knows only `> file`; extend it", n, text)
		}
		c := readmeCommand{line: n, text: text, args: words[1:]}
		if i := slices.Index(c.args, ">"); i >= 0 {
			if i != len(c.args)-2 {
				t.Fatalf("README.md:%d: %q: want `> file` at the end", n, text)
			}
			c.stdout, c.args = c.args[i+1], c.args[:i]
		}
		cmds = append(cmds, c)
	}
	return cmds, others
}

// readmePlaceholders maps the README's stand-in paths to what the test
// made in its directory.
var readmePlaceholders = map[string]string{
	"/tmp/r1":            "r1",
	"results/<run-id>":   "r1",
	"/tmp/base/workload": "base/workload",
	"/tmp/fp":            "fp",
	"/tmp/fp/report":     "fp/report",
	"/tmp/mine":          "mine",
	"/tmp/mine/report":   "mine/report",
	// The --gotest example's package: the test module's.
	"./kv": filepath.Join(userModule, "kv"),
}

// slowedEnv makes the test-hook build's syscall workload make one more
// system call per operation (workloads/cmd/workload,
// ENCLAVEBENCH_TEST_WORK): in the sim mode one more OCALL, a count the
// gate judges exactly (ocalls/op 1 -> 2) and a priced cost that doubles
// the prediction, whatever the host's load does to time.
const slowedEnv = "ENCLAVEBENCH_TEST_WORK=syscall=calls:1"

// readmeSkip says why a README command cannot run here, or "".
func readmeSkip(args []string) string {
	if args[0] == "verify" {
		return "verifies sgx cells' reports, which only SGX hardware makes; on anything else it exits 1 (TestVerifyNothingFails, TestRunEnclaveModesWithStandIn)"
	}
	m := modes(args)
	if slices.Contains(m, "sgx") || slices.Contains(m, "ego-sim") || slices.Contains(m, "auto") {
		return "needs SGX hardware or EGo (TestRunEnclaveModesWithStandIn drives these modes through the stand-in ego)"
	}
	return ""
}

// modes returns the modes a command's --modes flags name.
func modes(args []string) []string {
	var m []string
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--modes="); ok {
			m = append(m, strings.Split(v, ",")...)
		} else if a == "--modes" && i+1 < len(args) {
			m = append(m, strings.Split(args[i+1], ",")...)
		}
	}
	return m
}

// smallRun are flags appended to a README `bench run` that starts a run,
// so that it takes seconds: the same command on small inputs. A command
// that sets --reps keeps them: the CI example's rounds are what lets its
// gate flag a regression of one cell.
func smallRun(args []string) []string {
	out := append([]string{}, args...)
	out = append(out, "--min-time", "2ms", "--warmup", "0", "--progress", "never")
	if !slices.Contains(args, "--reps") {
		out = append(out, "--reps", "3")
	}
	if !slices.Contains(args, "--sizes") {
		out = append(out, "--sizes", "DC1s_v2")
	}
	if i := slices.Index(args, "--workloads"); i >= 0 && i+1 < len(args) {
		for _, w := range strings.Split(args[i+1], ",") {
			switch w {
			case "syscall":
				out = append(out, "--param", "syscall.call=read")
			case "memsweep":
				out = append(out, "--param", "memsweep.ws=256KiB")
			}
		}
	}
	return out
}

// TestREADMECommands runs the bench commands in README.md's examples, in
// order, on small inputs (as x/perf's cmd/benchstat tests its doc): a
// README command that stops working fails here. Runs are shrunk with
// smallRun; placeholders become files of the test's directory.
func TestREADMECommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README example (seconds of workload runs and a sim build)")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds, others := readmeCommands(t, readme)
	if len(cmds) < 10 {
		t.Fatalf("found %d bench commands in README.md, want the examples (at least 10): is the extraction broken?", len(cmds))
	}
	t.Logf("not run, not bench commands (the scripts have their own checks, benchstat is x/perf's): %q", others)

	dir := t.TempDir()
	// The workload binaries where the README's commands look for them.
	for _, d := range []string{"bin", "base"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(workloadBin, filepath.Join(dir, d, "workload")); err != nil {
			t.Fatal(err)
		}
	}
	simBin := ""
	if _, err := exec.LookPath("gcc"); err == nil {
		// The sim build in simbuild/ (what $ENCLAVEBENCH_WORKLOAD_SIM names)
		// and next to base/workload; next to bin/workload, the candidate of
		// the CI example: the same build with the test hook, its syscall
		// workload making one more system call per operation, so that the
		// example's gate has something to find (and must: exit 1). A
		// candidate slowed in time only (3x of its measured base, +25% of
		// a prediction that the priced OCALL dominates) was missed now and
		// then at load average ~25: that is a time change through time's
		// noise, which no gate promises to see; one more OCALL per
		// operation is a count, seen exactly.
		if err := os.MkdirAll(filepath.Join(dir, "simbuild"), 0o755); err != nil {
			t.Fatal(err)
		}
		simBin = filepath.Join(dir, "simbuild", "workload-sim")
		if err := os.Symlink(simWorkloadBin(t), simBin); err != nil {
			t.Fatal(err)
		}
		hookBin := filepath.Join(dir, "simbuild", "workload-sim-slowed")
		hook := exec.Command("bash", "../scripts/build-sim.sh", hookBin)
		hook.Env = append(os.Environ(), "BUILD_SIM_TAGS=sim,testhook")
		if out, err := hook.CombinedOutput(); err != nil {
			t.Fatalf("building the sim workload binary with the test hook: %v\n%s", err, out)
		}
		if err := os.Symlink(simBin, filepath.Join(dir, "base", "workload-sim")); err != nil {
			t.Fatal(err)
		}
		wrapper := "#!/bin/sh\n" + slowedEnv + " exec " + hookBin + ` "$@"` + "\n"
		if err := os.WriteFile(filepath.Join(dir, "bin", "workload-sim"), []byte(wrapper), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	// Where bench finds the workload binaries when no flag names them (the
	// README's bench sits next to them in bin/).
	t.Setenv(session.WorkloadEnv, workloadBin)
	if simBin != "" {
		t.Setenv(sim.SimBinEnv, simBin)
	}
	ctx := context.Background()
	// "bench report dc1/ dc2/ dc4/ dc8/": one run per size, as from four VMs.
	for out, s := range map[string]string{"dc1": "DC1s_v2", "dc2": "DC2s_v2", "dc4": "DC4s_v2", "dc8": "DC8_v2"} {
		args := smallRun([]string{"run", "--workload-bin", workloadBin, "--workloads", "syscall", "--modes", "native", "--sizes", s, "-o", out})
		if _, stderr, code := runBench(t, ctx, args...); code != 0 {
			t.Fatalf("making %s for the cross-size report: exit %d\n%s", out, code, stderr)
		}
	}

	for _, c := range cmds {
		args := slices.Clone(c.args)
		for i, a := range args {
			if p, ok := readmePlaceholders[a]; ok {
				args[i] = p
			}
		}
		if why := readmeSkip(args); why != "" {
			t.Logf("README.md:%d: skipped: %s: %s", c.line, c.text, why)
			continue
		}
		if simBin == "" && (slices.Contains(modes(args), "sim") || args[0] == "explain") {
			t.Logf("README.md:%d: skipped: %s: the sim build needs gcc, which this host lacks", c.line, c.text)
			continue
		}
		if args[0] == "run" && !slices.Contains(args, "--resume") {
			args = smallRun(args)
		}
		baseline := slices.Contains(args, "--baseline")
		if baseline {
			// Each side's sim build next to its workload binary.
			t.Setenv(sim.SimBinEnv, "")
		}
		stdout, stderr, code := runBench(t, ctx, args...)
		if baseline && simBin != "" {
			t.Setenv(sim.SimBinEnv, simBin)
			if code == 0 && slices.Contains(modes(args), "sim") {
				checkSimSides(t, c.line, args)
			}
		}
		// The CI example's gate compares the slowed candidate with its
		// base line: it must find the syscall cell (exit 1). (A memsweep
		// cell flagged too is logged, not failed: at 2 ms per repetition
		// on a loaded host its noise reaches ±100%.) Every other command
		// must exit 0.
		if args[0] == "compare" && slices.Contains(args, "regression") {
			if code != 1 || !strings.Contains(stdout, "regression** `Syscall/") {
				t.Errorf("README.md:%d: %s\n  ran: bench %s\n  exit %d, want 1 flagging the Syscall cell (one more OCALL per operation in the candidate)\n%s\n%s",
					c.line, c.text, strings.Join(args, " "), code, stdout, stderr)
				continue
			}
			if strings.Contains(stdout, "regression** `Memsweep/") {
				t.Logf("README.md:%d: a memsweep cell was flagged too (not slowed: a false alarm of this loaded host)", c.line)
			}
		} else if code != 0 {
			t.Errorf("README.md:%d: %s\n  ran: bench %s\n  exit %d\n%s", c.line, c.text, strings.Join(args, " "), code, stderr)
			continue
		}
		if c.stdout != "" {
			if stdout == "" {
				t.Errorf("README.md:%d: %s: nothing on stdout for %s", c.line, c.text, c.stdout)
			}
			if err := os.WriteFile(c.stdout, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("README.md:%d: ok: bench %s", c.line, strings.Join(args, " "))
	}
}

// checkSimSides: the two sides of a README --baseline run in the sim mode
// ran their own sim builds (the slowed candidate next to bin/workload, the
// base next to base/workload), as run.json records them: with one build on
// both sides the gate's "regression" check would test nothing.
func checkSimSides(t *testing.T, line int, args []string) {
	t.Helper()
	out := args[slices.Index(args, "-o")+1]
	paths := map[string]string{}
	for _, side := range []string{"base", "new"} {
		r, err := result.ReadRun(filepath.Join(out, side))
		if err != nil {
			t.Fatalf("README.md:%d: %v", line, err)
		}
		for _, mb := range r.Build.ModeBinaries {
			if mb.Mode == "sim" {
				paths[side] = mb.Path
			}
		}
	}
	if paths["base"] == "" || paths["base"] == paths["new"] || filepath.Base(filepath.Dir(paths["new"])) != "bin" {
		t.Errorf("README.md:%d: the sides ran sim binaries %q (base) and %q (new): want each its own, the candidate's in bin/", line, paths["base"], paths["new"])
	}
}

// The extraction finds commands in sh blocks only, strips comments, and
// reads a trailing redirection.
func TestREADMECommandExtraction(t *testing.T) {
	readme := []byte("text\n```sh\nbench list   # the workloads\n./run.sh\nbench export d --format bmf > b.json # BMF\n```\n" +
		"```\nbench not-sh\n```\n```sh\nbench report r --tolerance 10%\n```\n")
	cmds, others := readmeCommands(t, readme)
	want := []readmeCommand{
		{line: 3, text: "bench list", args: []string{"list"}},
		{line: 5, text: "bench export d --format bmf > b.json", args: []string{"export", "d", "--format", "bmf"}, stdout: "b.json"},
		{line: 11, text: "bench report r --tolerance 10%", args: []string{"report", "r", "--tolerance", "10%"}},
	}
	if len(cmds) != len(want) {
		t.Fatalf("got %+v, want %+v", cmds, want)
	}
	for i := range want {
		if cmds[i].line != want[i].line || cmds[i].text != want[i].text || !slices.Equal(cmds[i].args, want[i].args) || cmds[i].stdout != want[i].stdout {
			t.Errorf("command %d: got %+v, want %+v", i, cmds[i], want[i])
		}
	}
	if !slices.Equal(others, []string{"./run.sh"}) {
		t.Errorf("others %q, want [./run.sh]", others)
	}
	if why := readmeSkip([]string{"run", "--modes", "native,sgx"}); why == "" {
		t.Error("an sgx run is not skipped")
	}
	if why := readmeSkip([]string{"run", "--modes", "native"}); why != "" {
		t.Errorf("a native run is skipped: %s", why)
	}
}
