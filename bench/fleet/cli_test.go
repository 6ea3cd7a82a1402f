package fleet

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// The command-level tests run the real bench binary: `bench plan` and
// `bench collect` are thin, but their exit codes and messages are what a
// user sees.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds bench, workload and workload-sim once for the
// package's tests.
func binaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the bench binary; skipped with -short")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "fleet-cli-*")
		if buildErr != nil {
			return
		}
		for _, build := range map[string][]string{
			"bench":    {"go", "build", "-o", filepath.Join(binDir, "bench"), "../../bench"},
			"workload": {"go", "build", "-o", filepath.Join(binDir, "workload"), "../../workloads/cmd/workload"},
			// The sim build with the process-EPC runtime overlay.
			"workload-sim": {"bash", "../../scripts/build-sim.sh", filepath.Join(binDir, "workload-sim")},
		} {
			out, err := exec.Command(build[0], build[1:]...).CombinedOutput()
			if err != nil {
				buildErr = errors.New(string(out))
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatalf("building: %v", buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	os.Setenv("ENCLAVEBENCH_IMDS", "off")
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// bench runs the binary; it returns stdout, stderr and the exit code.
func bench(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binaries(t), "bench"), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func TestCLIPlanK8sNodes(t *testing.T) {
	t.Parallel()
	out, errOut, code := bench(t, nil, "plan", "--k8s", "--sizes", "dcsv2", "--workloads", "syscall,memsweep",
		"--image", "example.azurecr.io/enclavebench:v1", "--nodes", "k8s/testdata/nodes.json", "--plan-id", "t1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "not planned: k8s/testdata/nodes.json: no node of size DC1s_v2") {
		t.Errorf("no message for the missing size:\n%s", errOut)
	}
	if n := strings.Count(out, "kind: Job"); n != 3 {
		t.Errorf("%d Jobs, want 3 (DC1s_v2 has no node)", n)
	}
	if !strings.Contains(out, "sgx.intel.com/epc: 100Mi") {
		t.Errorf("DC4s_v2's EPC not capped to its node's")
	}

	// A cluster with no node of any selected size: exit 2.
	none := filepath.Join(t.TempDir(), "nodes.json")
	os.WriteFile(none, []byte(`{"kind":"List","apiVersion":"v1","items":[{"kind":"Node","metadata":{"name":"n1","labels":{"node.kubernetes.io/instance-type":"Standard_D4s_v5"}}}]}`), 0o644)
	_, errOut, code = bench(t, nil, "plan", "--k8s", "--sizes", "DC2s_v2,DC4s_v2", "--image", "x/y:z", "--nodes", none)
	if code != 2 || !strings.Contains(errOut, "no size can be planned") || !strings.Contains(errOut, "Standard_D4s_v5 x1") {
		t.Errorf("exit %d, want 2:\n%s", code, errOut)
	}

	// -o DIR: one file per size.
	dir := t.TempDir()
	if _, errOut, code := bench(t, nil, "plan", "--k8s", "--sizes", "DC2s_v2,DC4s_v2", "--workloads", "syscall", "--image", "x/y:z", "--plan-id", "t2", "-o", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) != 2 {
		t.Errorf("files %v", files)
	}

	// Usage errors.
	for _, args := range [][]string{
		{"plan", "--k8s", "--sizes", "DC2s_v2"},                                   // no image
		{"plan", "--k8s", "--ssh", "h", "--image", "x"},                           // both
		{"plan", "--ssh", "h=DC2s_v2", "--image", "x"},                            // k8s flag with ssh
		{"plan", "--k8s", "--image", "x", "--modes", "enclave"},                   // bad mode
		{"plan", "--k8s", "--image", "x", "--epc", "lots"},                        // bad quantity
		{"plan", "--k8s", "--image", "x", "--toleration", "a=b"},                  // no effect
		{"plan", "--ssh", "-oProxyCommand=x=DC2s_v2"},                             // option-like host
		{"plan", "--ssh", "h1,h2", "--sizes", "DC2s_v2"},                          // sizes do not pair
		{"plan", "--k8s", "--image", "x", "--nodes", "k8s/testdata/nosuch.json"},  // missing file
		{"plan", "--k8s", "--image", "x", "--sizes", "DC2s_v2", "--plan-id", "A"}, // bad plan ID
	} {
		if _, errOut, code := bench(t, nil, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, errOut)
		}
	}

	// Image references that are not: exit 2 with the reason, nothing written.
	for _, image := range []string{"example/eb:1\n  securityContext: {privileged: true}", "ex ample/eb:1", "Example/EB:1"} {
		dir := t.TempDir()
		out, errOut, code := bench(t, nil, "plan", "--k8s", "--sizes", "DC2s_v2", "--workloads", "syscall", "--image", image, "-o", dir)
		if code != 2 || !strings.Contains(errOut, "not an image reference") {
			t.Errorf("--image %q: exit %d, want 2 with the reason:\n%s", image, code, errOut)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) > 0 || out != "" {
			t.Errorf("--image %q: wrote %v and %q", image, files, out)
		}
	}
}

// fakeSSH puts ssh and scp stand-ins first on PATH: each host is a
// directory under hosts; "bad*" hosts refuse connections and "norun*"
// hosts fail the run.
func fakeSSH(t *testing.T) (env []string, hosts string) {
	dir := t.TempDir()
	hosts = filepath.Join(dir, "hosts")
	ssh := `#!/bin/bash
while [ "$1" = "-o" ]; do shift 2; done
host=$1; shift
case "$host" in bad*) echo "ssh: connect to host $host port 22: Connection refused" >&2; exit 255;; esac
case "$host:$*" in norun*bench\ run*) echo "bench: mode sgx cannot run here: no SGX" >&2; exit 2;; esac
mkdir -p "$FAKE_HOSTS/$host" && cd "$FAKE_HOSTS/$host" && exec sh -c "$*"
`
	scp := `#!/bin/bash
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	-o) shift 2; continue;;
	-q|-r) ;;
	*:*) h=${1%%:*}; p=${1#*:}
		case "$h" in bad*) echo "ssh: connect to host $h port 22: Connection refused" >&2; exit 255;; esac
		args+=("$FAKE_HOSTS/$h/$p");;
	*) args+=("$1");;
	esac
	shift
done
exec cp -r "${args[@]}"
`
	os.WriteFile(filepath.Join(dir, "ssh"), []byte(ssh), 0o755)
	os.WriteFile(filepath.Join(dir, "scp"), []byte(scp), 0o755)
	return []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_HOSTS=" + hosts}, hosts
}

func TestCLIPlanSSH(t *testing.T) {
	t.Parallel()
	env, _ := fakeSSH(t)
	results := t.TempDir()
	suite := []string{"--modes", "native", "--workloads", "syscall", "--param", "syscall.call=read,clock", "--reps", "3", "--min-time", "2ms", "--plan-id", "s1"}

	// Printed: a script that sh can parse, with every host.
	out, errOut, code := bench(t, env, append([]string{"plan", "--ssh", "azureuser@dc2=DC2s_v2,dc4", "--sizes", "DC4s_v2", "--ssh-option", "IdentityFile=~/my key"}, suite...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"azureuser@dc2", "'IdentityFile=~/my key'", "nohup ./bin/bench run --modes native --sizes DC4s_v2", "results/s1-DC2s_v2"} {
		if !strings.Contains(out, want) {
			t.Errorf("script lacks %q:\n%s", want, out)
		}
	}
	if b, err := exec.Command("sh", "-n", "-c", out).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v %s", err, b)
	}

	// The printed script itself runs (through the stand-ins), hosts in
	// parallel, and fails when a host fails.
	scripted := t.TempDir()
	out, errOut, code = bench(t, env, append([]string{"plan", "--ssh", "s1=DC2s_v2,bad2=DC4s_v2", "--bin", binaries(t), "--results", scripted}, suite...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	cmd := exec.Command("sh", "-c", out)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("the script succeeded with an unreachable host: %s", b)
	}
	if d, err := result.Load(filepath.Join(scripted, "s1-DC2s_v2")); err != nil || len(d.Samples) != 6 {
		t.Errorf("the script's results: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(scripted, "logs-s1", "bad2-DC4s_v2.log")); !strings.Contains(string(b), "Connection refused") {
		t.Errorf("bad2's log: %s", b)
	}

	// Executed, through the stand-ins: two good hosts, one unreachable,
	// one whose run fails.
	args := append([]string{"plan", "--ssh", "h1=DC2s_v2,h2=DC4s_v2,bad1=DC8_v2,norun1=DC2s_v2", "--exec",
		"--bin", binaries(t), "--results", results}, suite...)
	out, errOut, code = bench(t, env, args...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"DC2s_v2 on h1: ok, results in " + filepath.Join(results, "s1-DC2s_v2"),
		"DC4s_v2 on h2: ok, results in " + filepath.Join(results, "s1-DC4s_v2"),
		`DC8_v2 on bad1: FAILED at "prepare": exit status 255`,
		"| ssh: connect to host bad1 port 22: Connection refused",
		`DC2s_v2 on norun1: FAILED at "run": exit status 2`,
		"| bench: mode sgx cannot run here: no SGX",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "2 of 4 host(s) failed") {
		t.Errorf("stderr: %s", errOut)
	}
	for _, size := range []string{"DC2s_v2", "DC4s_v2"} {
		d, err := result.Load(filepath.Join(results, "s1-"+size))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Samples) != 6 || d.Run.Status != "complete" || d.Run.Plan.Sizes[0] != size {
			t.Errorf("%s: %d samples, status %s, sizes %v", size, len(d.Samples), d.Run.Status, d.Run.Plan.Sizes)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(results, "logs-s1", "*.log"))
	if len(logs) != 4 {
		t.Errorf("logs: %v", logs)
	}

	// The plan ID used again: the host's log keeps the first attempt.
	bench(t, env, append([]string{"plan", "--ssh", "bad1=DC8_v2", "--exec", "--bin", binaries(t), "--results", results}, suite...)...)
	if b, _ := os.ReadFile(filepath.Join(results, "logs-s1", "bad1-DC8_v2.log")); strings.Count(string(b), "=== enclavebench: DC8_v2 on bad1") != 2 {
		t.Errorf("bad1's log after a second attempt:\n%s", b)
	}

	// A binary the plan copies is missing: the hint builds it.
	partial := t.TempDir()
	for _, name := range []string{"bench", "workload"} {
		b, _ := os.ReadFile(filepath.Join(binaries(t), name))
		os.WriteFile(filepath.Join(partial, name), b, 0o755)
	}
	_, errOut, code = bench(t, env, "plan", "--ssh", "h1=DC2s_v2", "--exec", "--bin", partial, "--modes", "native,sim", "--workloads", "syscall")
	if code != 2 || !strings.Contains(errOut, "--exec copies workload-sim to each host") || !strings.Contains(errOut, "scripts/build-sim.sh bin/workload-sim") {
		t.Errorf("missing workload-sim: exit %d\n%s", code, errOut)
	}
	os.Remove(filepath.Join(partial, "workload"))
	_, errOut, code = bench(t, env, "plan", "--ssh", "h1=DC2s_v2", "--exec", "--bin", partial, "--modes", "native", "--workloads", "syscall")
	if code != 2 || !strings.Contains(errOut, "go build -o bin/workload ./workloads/cmd/workload") {
		t.Errorf("missing workload: exit %d\n%s", code, errOut)
	}
}

func TestCLICollect(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	stdout, stderr, code := bench(t, nil, "collect", "collect/testdata/fourSizes/logs", "-o", out)
	if code != 0 || strings.Count(stdout, ", complete (from ") != 4 || stderr != "" {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Again: identical, nothing to do.
	stdout, _, code = bench(t, nil, "collect", "collect/testdata/fourSizes/logs", "-o", out)
	if code != 0 || strings.Count(stdout, "already collected, identical") != 4 {
		t.Errorf("second collect: exit %d\n%s", code, stdout)
	}

	// A cut log: a warning with file and line, the rest kept; --strict exits 2.
	log, _ := os.ReadFile("collect/testdata/fourSizes/logs/DC2s_v2.log")
	cut := filepath.Join(t.TempDir(), "pod.log")
	os.WriteFile(cut, log[:len(log)-200], 0o644)
	stdout, stderr, code = bench(t, nil, "collect", cut, "-o", t.TempDir())
	if code != 0 || !strings.Contains(stderr, "warning: "+cut+":30: stream record cut off") || !strings.Contains(stdout, "interrupted") {
		t.Errorf("cut log: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, _, code = bench(t, nil, "collect", "--strict", cut, "-o", t.TempDir()); code != 2 {
		t.Errorf("--strict: exit %d, want 2", code)
	}
	// A log repeating the run's cells as a second finished attempt: a
	// conflict, named, the run not written, exit 2.
	forged := filepath.Join(t.TempDir(), "forged.log")
	os.WriteFile(forged, bytes.ReplaceAll(log, []byte(`"attempt":1,`), []byte(`"attempt":2,`)), 0o644)
	conflictOut := t.TempDir()
	stdout, stderr, code = bench(t, nil, "collect", "collect/testdata/fourSizes/logs/DC2s_v2.log", forged, "-o", conflictOut)
	if code != 2 || !strings.Contains(stderr, "conflict: "+forged+":") || !strings.Contains(stderr, "finished again as attempt 2") ||
		strings.Contains(stdout, "complete") {
		t.Errorf("forged second attempt: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if ents, _ := os.ReadDir(conflictOut); len(ents) != 0 {
		t.Errorf("forged second attempt: wrote %d entries", len(ents))
	}
	// Nothing of ours: exit 2.
	other := filepath.Join(t.TempDir(), "other.log")
	os.WriteFile(other, []byte("hello\n"), 0o644)
	if _, stderr, code = bench(t, nil, "collect", other); code != 2 || !strings.Contains(stderr, "no runs found") {
		t.Errorf("foreign log: exit %d %s", code, stderr)
	}
}
