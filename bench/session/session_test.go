package session

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"golang.org/x/sys/unix"
)

// A second writer of a directory is refused with the holder's pid, and
// gets the lock once the first lets go.
func TestLockDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockDir(dir)
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := lockDir(dir)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}

// A child process that holds a copy of the lock's descriptor (as one
// being started by another goroutine does until its exec) must not keep
// the directory locked after unlock: tests and --resume lock it again.
func TestUnlockWhileAChildHoldsTheDescriptor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(dir, LockFile)
	var held *os.File
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == lockPath {
			fd, _ := strconv.Atoi(e.Name())
			dup, err := unix.Dup(fd) // same open file description, our own descriptor
			if err != nil {
				t.Fatal(err)
			}
			held = os.NewFile(uintptr(dup), lockPath)
			break
		}
	}
	if held == nil {
		t.Fatal("lock descriptor not found in /proc/self/fd")
	}
	child := exec.Command("sleep", "30")
	child.ExtraFiles = []*os.File{held} // the child's fd 3 shares the lock's open file description
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	held.Close() // the child's copy is what stays open
	unlock()
	unlock2, err := lockDir(dir)
	if err != nil {
		t.Fatalf("relock while a child holds the old descriptor: %v", err)
	}
	unlock2()
}

func TestCellsToRun(t *testing.T) {
	t.Parallel()
	cell := func(k string) plan.Cell {
		return plan.Cell{Cell: result.Cell{Workload: k, Size: "DC1s_v2", Mode: "native", Params: map[string]string{}}}
	}
	cells := []plan.Cell{cell("a"), cell("b"), cell("c"), cell("d")}
	dir := func(status map[string]result.Status) *result.Dir {
		d := &result.Dir{Cells: map[string]result.CellResult{}}
		for k, s := range status {
			d.Cells[cell(k).Key()] = result.CellResult{Status: s}
		}
		return d
	}
	newSide := dir(map[string]result.Status{"a": result.StatusOK, "b": result.StatusNA, "c": result.StatusFailed, "d": result.StatusOK})
	base := dir(map[string]result.Status{"a": result.StatusOK, "b": result.StatusNA, "c": result.StatusOK})
	var got []string
	for _, c := range CellsToRun(cells, []*result.Dir{newSide, base}) {
		got = append(got, c.Workload)
	}
	if strings.Join(got, ",") != "c,d" {
		t.Errorf("to run: %v, want c (failed on one side) and d (missing on one side)", got)
	}
}

func TestCheckCells(t *testing.T) {
	t.Parallel()
	c := plan.Cell{Cell: result.Cell{Workload: "w", Size: "DC1s_v2", Mode: "native", Params: map[string]string{}}}
	if err := checkCells([]plan.Cell{c}, []string{c.Key()}); err != nil {
		t.Error(err)
	}
	if err := checkCells([]plan.Cell{c}, []string{c.Key(), "X/size=DC1s_v2/mode=native"}); err == nil {
		t.Error("an extra listed cell passed")
	}
	if err := checkCells([]plan.Cell{c}, nil); err == nil {
		t.Error("an unlisted planned cell passed")
	}
}

// binMode is a mode that runs a binary of its own.
type binMode struct {
	mode.NativeMode
	bin string
}

func (m binMode) Binary() string { return m.bin }

// The binaries modes run besides the workload binary are recorded, and a
// resume with another build of them is refused.
func TestModeBinaries(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "workload-sim")
	if err := os.WriteFile(bin, []byte("one build"), 0o755); err != nil {
		t.Fatal(err)
	}
	modes := map[string]mode.Mode{"native": mode.NativeMode{}, "sim": binMode{bin: bin}}
	got, err := modeBinaries(modes)
	if err != nil || len(got) != 1 || got[0].Mode != "sim" || got[0].Path != bin || len(got[0].SHA256) != 64 {
		t.Fatalf("modeBinaries = %+v, %v", got, err)
	}
	d := &result.Dir{Path: "r", Run: result.Run{Build: &result.Build{ModeBinaries: got}}}
	if err := checkModeBinaries(d, modes); err != nil {
		t.Errorf("same build: %v", err)
	}
	if err := os.WriteFile(bin, []byte("another build"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = checkModeBinaries(d, modes)
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "the sim mode's binary") {
		t.Errorf("another build: %v", err)
	}
	d.Run.Build.ModeBinaries = nil // a run from before they were recorded
	if err := checkModeBinaries(d, modes); err != nil {
		t.Errorf("old run: %v", err)
	}
}

// A new run's directory holding any record of another run is refused:
// the run would append to it and adopt the old records.
func TestCheckFreshDir(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		files []string // created in the directory
		sides bool
		want  string // "" for accepted
	}{
		{nil, true, ""},
		{[]string{".lock", "report/report.md"}, true, ""},
		{[]string{"run.json"}, true, "already holds a run"},
		{[]string{"samples.jsonl"}, true, "result files of another run (samples.jsonl) but no run.json"},
		{[]string{"cells.jsonl", "bench.txt", "results.csv"}, true, "(cells.jsonl, bench.txt, results.csv)"},
		{[]string{"provenance/x.lines"}, true, "(provenance)"},
		{[]string{"profiles/x.pb.gz"}, true, "(profiles)"},
		{[]string{"base/run.json", "new/run.json"}, true, "holds a --baseline run"},
		{[]string{"new/samples.jsonl"}, true, "holds a --baseline run"},
		{[]string{"new/samples.jsonl"}, false, ""}, // a --baseline side: its own directory is checked
	} {
		dir := t.TempDir()
		for _, f := range tt.files {
			p := filepath.Join(dir, f)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		err := checkFreshDir(dir, tt.sides)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%v (sides %v): %v, want %q", tt.files, tt.sides, err, tt.want)
		}
	}
}

// A resume prices its sim cells with the run's cost profile: same name,
// version and content.
func TestSameCostProfile(t *testing.T) {
	t.Parallel()
	ref := func(name string, v int, digest string) *result.CostProfileRef {
		return &result.CostProfileRef{Name: name, Version: v, Digest: digest}
	}
	for _, tt := range []struct {
		was, now *result.CostProfileRef
		want     string
	}{
		{ref("mine", 1, "sha256:a"), ref("mine", 1, "sha256:a"), ""},
		{ref("mine", 1, "sha256:a"), ref("mine", 1, "sha256:b"), "cost profile mine v1 was edited since the run started"},
		{ref("mine", 1, "sha256:a"), ref("mine", 2, "sha256:a"), "this resume would use mine v2"},
		// A run of the built-in profile's previous version is told where
		// that version is kept.
		{ref("published", 2, "sha256:a"), ref("published", 3, "sha256:b"), "bench/sim/profiles/published-v2.json"},
		{ref("mine", 1, ""), ref("mine", 1, "sha256:b"), ""}, // a run from before the digest
		{nil, ref("mine", 1, "sha256:b"), ""},
	} {
		err := sameCostProfile("r", tt.was, tt.now)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v -> %+v: %v, want %q", tt.was, tt.now, err, tt.want)
		}
	}
}

// TestSharedModeBinary: --baseline refuses two different workload builds
// whose sides would run one mode binary ($ENCLAVEBENCH_WORKLOAD_SIM names
// one sim build for both sides: the candidate's would never run, and the
// gate would see no change whatever it did), and accepts each side's own
// or an A/A run of one binary.
func TestSharedModeBinary(t *testing.T) {
	sim := func(path string) []result.ModeBinary {
		return []result.ModeBinary{{Mode: "sim", Path: path, SHA256: "s"}}
	}
	for _, c := range []struct {
		name               string
		candBin, baseBin   string
		candPath, basePath string
		refused            bool
	}{
		{"one sim binary for two builds", "/new/workload", "/base/workload", "/x/workload-sim", "/x/workload-sim", true},
		{"each side its own", "/new/workload", "/base/workload", "/new/workload-sim", "/base/workload-sim", false},
		{"A/A: one workload binary", "/x/workload", "/x/workload", "/x/workload-sim", "/x/workload-sim", false},
	} {
		// Equal content: the README's CI example's sides differ in their sim builds alone.
		err := sharedModeBinary(&result.Build{Side: "new", WorkloadBin: c.candBin, SHA256: "w", ModeBinaries: sim(c.candPath)},
			&result.Build{Side: "base", WorkloadBin: c.baseBin, SHA256: "w", ModeBinaries: sim(c.basePath)})
		if (err != nil) != c.refused {
			t.Errorf("%s: error %v, refused want %v", c.name, err, c.refused)
		}
		if err != nil && !strings.Contains(err.Error(), "same sim binary") {
			t.Errorf("%s: %v does not say why", c.name, err)
		}
	}
}
