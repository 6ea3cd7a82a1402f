package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/bench/ego"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/session"
	"github.com/enclavebench/enclavebench/bench/sim"
)

// Flags that cannot be interpreted are refused before anything runs,
// naming what is valid; none silently becomes a default.
func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	base := []string{"run", "--workloads", "syscall", "--sizes", "DC1s_v2", "--workload-bin", workloadBin}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--reps", "0"}, "1 or more"},
		{[]string{"--timeout", "0"}, "positive duration"},
		{[]string{"--min-time", "0"}, "positive duration"},
		{[]string{"--warmup", "-5"}, "0 or more"},
		{[]string{"--rounds", "-1"}, "1 or more"},
		{[]string{"--seed", "0"}, "non-zero"},
		{[]string{"--reps", "2000000"}, "want at most 1048576 repetitions"},
		{[]string{"--min-time", "100h", "--timeout", "1h"}, "--min-time 100h0m0s is not below the per-cell --timeout 1h0m0s"},
		{[]string{"--progress", "bogus"}, "auto, always, never"},
		{[]string{"--workloads", ""}, "empty: give at least one"},
		{[]string{"--param", "syscall.call=clock,clock"}, "clock is listed twice"},
		{[]string{"--sizes", "dcsv2"}, "DC1s_v2 is selected twice"}, // the run.sh bug: defaults plus the user's
		{[]string{"--modes", "native,native"}, "native is listed twice"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "out")
			_, stderr, code := runBench(t, context.Background(), append(append(base, tt.args...), "-o", dir)...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", code, exitUsage, tt.want, stderr)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("%s was created", dir)
			}
		})
	}
}

// A finished one-cell run to resume in the tests below.
func finishedRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "--modes", "native", "-o", dir)...)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	return dir
}

// editRunJSON rewrites run.json through a generic map.
func editRunJSON(t *testing.T, dir string, edit func(run map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, result.RunFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var run map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // the seed does not fit a float64
	if err := dec.Decode(&run); err != nil {
		t.Fatal(err)
	}
	edit(run)
	if b, err = json.MarshalIndent(run, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// --resume replays what the run recorded: flags it would ignore, an edited
// plan and another workload build are refused.
func TestResumeRefusesChangedInput(t *testing.T) {
	t.Parallel()
	dir := finishedRun(t)
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Run.Plan.Digest != d.Run.Plan.Spec.Digest() || d.Run.Build == nil || d.Run.Build.SHA256 == "" {
		t.Fatalf("run.json records digest %q (spec %s), build %+v", d.Run.Plan.Digest, d.Run.Plan.Spec.Digest(), d.Run.Build)
	}
	other := filepath.Join(t.TempDir(), "workload")
	b, _ := os.ReadFile(workloadBin)
	if err := os.WriteFile(other, append(b, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	resume := []string{"run", "--resume", dir, "--progress", "never"}
	for _, tt := range []struct {
		name  string
		args  []string
		edit  func(map[string]any)
		wants []string
	}{
		{"ignored flags", []string{"--reps", "10", "--min-time", "1s", "--warmup", "2"}, nil, []string{"--reps, --min-time, --warmup cannot be changed"}},
		{"another plan", []string{"--sizes", "DC2s_v2"}, nil, []string{"--sizes cannot be changed"}},
		{"edited plan", nil, func(r map[string]any) { r["plan"].(map[string]any)["reps"] = 60 }, []string{"changed after the run started"}},
		{"edited cells", nil, func(r map[string]any) {
			p := r["plan"].(map[string]any)
			p["cells"] = append(p["cells"].([]any), "Syscall/call=clock/size=DC1s_v2/mode=native")
		}, []string{"plan.cells lists Syscall/call=clock"}},
		{"other build", []string{"--workload-bin", other}, nil, []string{"not the build the run started with", d.Run.Build.SHA256}},
		{"timeout below min-time", []string{"--timeout", "1ms"}, nil, []string{"--min-time 2ms is not below the per-cell --timeout 1ms (--min-time is the run's)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			saved, _ := os.ReadFile(filepath.Join(dir, result.RunFile))
			defer os.WriteFile(filepath.Join(dir, result.RunFile), saved, 0o644)
			if tt.edit != nil {
				editRunJSON(t, dir, tt.edit)
			}
			_, stderr, code := runBench(t, context.Background(), append(resume, tt.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, w := range tt.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
	// The same build resumes (nothing to do).
	_, stderr, code := runBench(t, context.Background(), append(resume, "--workload-bin", workloadBin)...)
	if code != 0 || !strings.Contains(stderr, "0 of 1 cells to run") {
		t.Errorf("resume with the same build: exit %d\n%s", code, stderr)
	}
}

// A directory holding another run's records but no run.json is not a
// fresh -o: the new run would append to samples.jsonl and adopt them (the
// issue's `cp -r base x; rm x/run.json; bench run -o x`).
func TestRunRefusesStaleRecords(t *testing.T) {
	t.Parallel()
	dir := finishedRun(t)
	if err := os.Remove(filepath.Join(dir, result.RunFile)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, result.SamplesFile))
	_, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "--modes", "native", "-o", dir)...)
	if code != exitUsage || !strings.Contains(stderr, "result files of another run") || !strings.Contains(stderr, result.SamplesFile) {
		t.Errorf("exit %d, want %d naming the stale files; stderr:\n%s", code, exitUsage, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, result.SamplesFile))
	if !bytes.Equal(before, after) {
		t.Error("samples.jsonl changed")
	}
	if _, err := os.Stat(filepath.Join(dir, result.RunFile)); err == nil {
		t.Error("run.json was written")
	}
	// A --baseline run's directory is not a fresh -o for a single run either.
	top := filepath.Join(t.TempDir(), "ab")
	os.MkdirAll(filepath.Join(top, "new"), 0o755)
	os.WriteFile(filepath.Join(top, "new", result.CellsFile), before, 0o644)
	_, stderr, code = runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "--modes", "native", "-o", top)...)
	if code != exitUsage || !strings.Contains(stderr, "holds a --baseline run") {
		t.Errorf("-o a --baseline run's directory: exit %d; stderr:\n%s", code, stderr)
	}
}

// bench verify fails when it verified nothing, and says which checks ran.
func TestVerifyNothingFails(t *testing.T) {
	t.Parallel()
	dir := finishedRun(t) // native only: no cell with a report
	out, stderr, code := runBench(t, context.Background(), "verify", dir)
	if code != exitFailed || !strings.Contains(stderr, "nothing to verify") || !strings.Contains(out, "verify: report signatures") ||
		!strings.Contains(out, "checks run on 0 cells with a report") {
		t.Errorf("verify a native run: exit %d, want %d\n%s%s", code, exitFailed, out, stderr)
	}
}

// An edited cost profile keeps its name and version, not its digest: a
// resume with it is refused (the ocall_cycles 12600 -> 126).
func TestResumeRefusesEditedProfile(t *testing.T) {
	t.Parallel()
	simWorkloadBin(t) // next to workloadBin, where the sim mode looks
	tmp := t.TempDir()
	prof := sim.Default()
	prof.Name = "mine"
	b, err := prof.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, "prof.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "run")
	_, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "--modes", "sim", "--profile-file", file, "-o", dir)...)
	if code != 0 {
		t.Fatalf("sim run: exit %d\n%s", code, stderr)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Run.Profile == nil || d.Run.Profile.Digest != prof.Digest() {
		t.Fatalf("run.json cost_profile %+v, want digest %s", d.Run.Profile, prof.Digest())
	}
	for _, pr := range prof.Platforms {
		pr.OCallCycles /= 100
	}
	if b, err = prof.Marshal(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--profile-file", file, "--progress", "never")
	if code != exitUsage || !strings.Contains(stderr, fmt.Sprintf("cost profile mine v%d was edited since the run started", prof.Version)) {
		t.Errorf("resume with the edited profile: exit %d\n%s", code, stderr)
	}
	// The digest the run records is the one the readers match on: a run
	// priced by the edited profile is not compared with the first as if
	// the code had changed.
	edited := filepath.Join(tmp, "edited")
	if _, stderr, code = runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "--modes", "sim", "--profile-file", file, "-o", edited)...); code != 0 {
		t.Fatalf("sim run with the edited profile: exit %d\n%s", code, stderr)
	}
	out, stderr, code := runBench(t, context.Background(), "compare", dir, edited)
	if code != exitUsage || !strings.Contains(out+stderr, "its content differs") {
		t.Errorf("compare across the edited profile: exit %d, want %d naming the content\n%s%s", code, exitUsage, out, stderr)
	}
}

// A run priced by the built-in profile's previous version (published/v2)
// resumes with the file the repository keeps of it, not with the built-in
// v3, whose refusal says where v2 is.
func TestResumeWithPublishedV2(t *testing.T) {
	t.Parallel()
	simWorkloadBin(t)
	v2 := filepath.Join("sim", "profiles", "published-v2.json")
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, code := runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "--modes", "sim", "--profile-file", v2, "-o", dir)...)
	if code != 0 {
		t.Fatalf("sim run priced by published/v2: exit %d\n%s", code, stderr)
	}
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != exitUsage || !strings.Contains(stderr, "this resume would use published v3") || !strings.Contains(stderr, "bench/sim/profiles/published-v2.json") {
		t.Errorf("resume with the built-in profile: exit %d, want %d naming published-v2.json\n%s", code, exitUsage, stderr)
	}
	if _, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--profile-file", v2, "--progress", "never"); code != 0 {
		t.Errorf("resume with published-v2.json: exit %d\n%s", code, stderr)
	}
}

// run.json written before the spec had a digest and a recorded build
// still resumes.
func TestResumeOldRunJSON(t *testing.T) {
	t.Parallel()
	dir := finishedRun(t)
	editRunJSON(t, dir, func(r map[string]any) {
		delete(r["plan"].(map[string]any), "digest")
		delete(r, "build")
		os.Remove(filepath.Join(dir, result.CellsFile)) // the cell is to run again
	})
	_, stderr, code := runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != 0 || !strings.Contains(stderr, "1 of 1 cells to run") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// --resume of a complete run runs nothing and leaves its end time as it
// was (a fleet plan that resumes every host must not restamp them).
func TestResumeCompleteKeepsEnd(t *testing.T) {
	t.Parallel()
	dir := finishedRun(t)
	before, err := result.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	_, stderr, code := runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != 0 || !strings.Contains(stderr, "0 of 1 cells to run") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	after, err := result.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !after.End.Equal(before.End) || after.Status != "complete" {
		t.Errorf("end %v -> %v, status %s", before.End, after.End, after.Status)
	}
}

// One writer per result directory: a second one exits 2 naming the
// holder's pid.
func TestResumeRefusesSecondWriter(t *testing.T) {
	t.Parallel()
	dir := finishedRun(t)
	f, err := os.OpenFile(filepath.Join(dir, session.LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	f.WriteString("4242\n")
	_, stderr, code := runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != exitUsage || !strings.Contains(stderr, "pid 4242") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	_, stderr, code = runBench(t, context.Background(), quick("syscall", "--sizes", "DC1s_v2", "-o", dir)...)
	if code != exitUsage || !strings.Contains(stderr, "pid 4242") {
		t.Errorf("run -o a locked directory: exit %d\n%s", code, stderr)
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	_, stderr, code = runBench(t, context.Background(), "run", "--resume", dir, "--workload-bin", workloadBin, "--progress", "never")
	if code != 0 {
		t.Errorf("after unlock: exit %d\n%s", code, stderr)
	}
}

// ./run.sh passes its defaults only for what the user did not give: its
// --sizes DC1s_v2 runs DC1s_v2 alone.
func TestRunShDefaultsAreReplaced(t *testing.T) {
	t.Parallel()
	script, err := os.ReadFile("../run.sh")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	fakes := filepath.Join(tmp, "path")
	log := filepath.Join(tmp, "args.log")
	for path, body := range map[string]string{
		filepath.Join(tmp, "repo", "run.sh"):                     string(script),
		filepath.Join(tmp, "repo", "scripts", "install-deps.sh"): "#!/bin/sh\n",
		filepath.Join(tmp, "repo", "scripts", "build-sim.sh"):    "#!/bin/sh\n",
		// go build -o X: X logs its arguments, one per line, then a blank line.
		filepath.Join(fakes, "go"): "#!/bin/sh\nwhile [ \"$1\" != -o ]; do shift; done\nmkdir -p \"$(dirname \"$2\")\"\n" +
			"printf '#!/bin/sh\\nprintf \"%%s\\\\n\" \"$@\" >> " + log + "\\necho >> " + log + "\\n' > \"$2\"\nchmod +x \"$2\"\n",
		filepath.Join(fakes, "git"): "#!/bin/sh\nexit 1\n",
	} {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		args []string
		want string // the bench run arguments before -o
	}{
		{nil, "run --modes auto --profile quick --sizes dcsv2"},
		{[]string{"--sizes", "DC1s_v2"}, "run --modes auto --profile quick"},
		{[]string{"--sizes=DC1s_v2", "--modes", "native", "--profile", "full"}, "run"},
	} {
		os.Remove(log)
		cmd := exec.Command("bash", append([]string{filepath.Join(tmp, "repo", "run.sh")}, tt.args...)...)
		cmd.Env = append(os.Environ(), "PATH="+fakes+":"+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("run.sh %v: %v\n%s", tt.args, err, out)
		}
		b, _ := os.ReadFile(log)
		calls := strings.Split(strings.TrimSpace(string(b)), "\n\n")
		got := strings.Fields(calls[0])
		i := 0
		for i < len(got) && got[i] != "-o" {
			i++
		}
		if strings.Join(got[:i], " ") != tt.want || strings.Join(got[min(i+2, len(got)):], " ") != strings.Join(tt.args, " ") {
			t.Errorf("run.sh %v ran bench %v, want %s -o DIR %v", tt.args, got, tt.want, tt.args)
		}
	}
}

// The numeric flags of the other commands refuse NaN, zero and negative
// values too.
func TestOtherCommandsRefuseBadFlags(t *testing.T) {
	t.Parallel()
	dir := finishedRun(t)
	out := filepath.Join(t.TempDir(), "out")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"report", dir, "-o", out, "--alpha", "NaN"}, "--alpha NaN: want a level between 0 and 1"},
		{[]string{"report", dir, "-o", out, "--tolerance", "NaN%"}, "want a positive finite slowdown"},
		{[]string{"report", dir, "-o", out, "--tolerance", "-5%"}, "want a positive finite slowdown"},
		{[]string{"calibrate", "--from", dir, "--size", "DC4s_v2", "-o", out, "--version", "0"}, "--version 0: want a profile version of 1 or more"},
		{[]string{"calibrate", "--from", dir, "--size", "DC4s_v2", "-o", out, "--name", ""}, "--name: empty"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--deadline", "-5m"}, "--deadline -5m0s: want a positive duration"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--reps", "0"}, "want 1 or more"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--modes", "tdx"}, `unknown mode "tdx"`},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--seccomp-profile", "unconfined"}, "want runtime-default or localhost/PATH"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--seccomp-profile", "localhost/../x.json"}, "want a clean path relative"},
		{[]string{"plan", "--ssh", "h1", "--sizes", "DC2s_v2", "--seccomp-profile", "localhost/x.json"}, "--seccomp-profile goes with --k8s"},
		{[]string{"plan", "--ssh", "azureuser@dc2=DC2s_v2", "--modes", "sgx,tdx"}, `unknown mode "tdx"`},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--param", "syscall.call=clock,clock"}, "clock is listed twice"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--sizes", "dcsv2,DC1s_v2"}, "DC1s_v2 is selected twice"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--resource", "sgx.intel.com/epc=-1", "--resource", "cpu=-3"}, "cpu is set by --cpu-request"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--resource", "sgx.intel.com/epc=1"}, "sgx.intel.com/epc is set by --epc"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--resource", "sgx.intel.com/enclave=-1"}, "want a positive quantity"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--resource", "x.io/a=1", "--resource", "x.io/a=2"}, "x.io/a is given twice"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--reps", "2000000"}, "want at most 1048576"},
		{[]string{"plan", "--k8s", "--image", "example/eb:1", "--min-time", "100h"}, "not below the per-cell --timeout"},
		{[]string{"run", "--workloads", "syscall", "--sizes", "DC1s_v2", "--workload-bin", workloadBin, "-o", out, "--min-time", "100h"}, "not below the per-cell --timeout 2m0s"},
	}
	for _, tt := range tests {
		_, stderr, code := runBench(t, context.Background(), tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, want %d with %q; stderr:\n%s", tt.args, code, exitUsage, tt.want, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%q wrote %s", tt.args, out)
		}
	}
}

func TestVerifyOutcome(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n           int
		counts      map[string]int
		digestsOnly bool
		code        int
		want        string
	}{
		{0, nil, false, exitFailed, "nothing to verify"},
		{1, map[string]int{ego.VerdictNoReport: 1}, false, exitFailed, "none of the 1 enclave cell carries a report"},
		{2, map[string]int{ego.VerdictUnverified: 2}, false, exitFailed, "the digests of 2 cells match, but no report signature was checked"},
		{2, map[string]int{ego.VerdictUnverified: 2}, true, 0, "--digests-only: the digests and identities of 2 cells match"},
		{2, map[string]int{ego.VerdictNoReport: 2}, true, exitFailed, "none of the 2 enclave cells"},
		{2, map[string]int{ego.VerdictOK: 1, ego.VerdictNoReport: 1}, false, 0, ""},
		{2, map[string]int{ego.VerdictOK: 1, ego.VerdictFailed: 1}, true, exitFailed, "1 cells failed"},
	} {
		note, err := verifyOutcome("r", tt.n, tt.counts, tt.digestsOnly)
		var stderr bytes.Buffer
		code := exitCode(err, &stderr)
		if code != tt.code || !strings.Contains(note+stderr.String(), tt.want) {
			t.Errorf("%d cells %v, --digests-only %v: exit %d, %q %q; want exit %d with %q", tt.n, tt.counts, tt.digestsOnly, code, note, stderr.String(), tt.code, tt.want)
		}
	}
}
