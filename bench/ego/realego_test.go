package ego

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runner"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// realEGo skips the test unless a real EGo is on PATH.
func realEGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ego"); err != nil {
		t.Skip("ego is not on PATH: this test needs a real EGo and a Go 1.26 ego-go (docs/ego.md, \"EGo from source\"); CI has none")
	}
	if testing.Short() {
		t.Skip("builds the workload with ego-go and runs enclaves")
	}
}

// realCell is a cell whose footprint, if any, is on the Go heap (as
// fileio's memfs file is declared: workload.Spec.MemoryOf).
func realCell(t *testing.T, workloadName, size string, footprint int64, kv ...string) plan.Cell {
	t.Helper()
	s, ok := sizes.Lookup(size)
	if !ok {
		t.Fatalf("no size %s", size)
	}
	c := result.Cell{Workload: workloadName, Params: map[string]string{}, Size: s.Name, Mode: EGoSim}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Params[kv[i]] = kv[i+1]
		c.ParamOrder = append(c.ParamOrder, kv[i])
	}
	return plan.Cell{Cell: c, SizeInfo: s, Footprint: footprint, Memory: workload.Memory{GoHeap: footprint}}
}

// TestRealEGo runs a small ego-sim suite through the runner with the real
// ego and ego-go, then checks what only a real enclave shows: the
// workload runs inside (EGo's in-enclave detection), memfs files stay in
// the enclave, host variables enclave.json does not declare stay outside.
func TestRealEGo(t *testing.T) {
	realEGo(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	key := filepath.Join(tmp, "keys", "enclave-key.pem")
	scratch := filepath.Join(tmp, "scratch")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	// The build cache is the harness's own (it is keyed by content), so a
	// second run of this test does not rebuild the workload.
	var notes bytes.Buffer
	newMode := func(pkg string) *Mode {
		return New(Options{Sim: true, SourceDir: root, Package: pkg, KeyPath: key, ScratchRoot: scratch,
			TraceOCalls: true, Log: &notes})
	}
	ctx := context.Background()
	m := newMode("")
	if err := m.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	t.Logf("EGo %s (%s), ego-go %s", m.version, m.commit, m.goVersion)

	cells := []plan.Cell{
		realCell(t, "syscall", "DC2s_v2", 0, "call", "read"),
		realCell(t, "compute", "DC2s_v2", 0, "task", "sha256"),
		realCell(t, "fileio", "DC2s_v2", 1<<20, "fs", "memfs", "access", "seq", "op", "write", "block", "4KiB", "file", "1MiB"),
		realCell(t, "seal", "DC2s_v2", 0, "bytes", "4KiB", "op", "seal"),
		realCell(t, "attest", "DC2s_v2", 0),
	}
	rc := &runner.Config{Spec: runspec.Spec{Reps: 2, Warmup: new(0), MinTimeNS: int64(20 * time.Millisecond), TimeoutNS: int64(3 * time.Minute)}, ScratchDir: scratch}
	var launches []mode.Launch
	for _, c := range cells {
		launches = append(launches, rc.Launch(c, ""))
	}
	if err := m.Prepare(ctx, launches); err != nil {
		t.Fatalf("Prepare: %v\nnotes:\n%s", err, notes.String())
	}

	t.Run("suite", func(t *testing.T) {
		crs := runCells(t, ctx, rc, m, cells)
		if len(crs) != len(cells) {
			t.Fatalf("%d cell results, want %d", len(crs), len(cells))
		}
		for _, cr := range crs {
			want := result.StatusOK
			if cr.Workload == "attest" {
				// Open Enclave refuses reports in simulation mode.
				want = result.StatusNA
			}
			if cr.Status != want {
				t.Errorf("%s: %s (%s), want %s\nstderr: %s", cr.Cell, cr.Status, cr.Reason, want, cr.Stderr)
				continue
			}
			t.Logf("%s: %s %s; load %.0f ms; heap %s MB; ocalls %s; ops %s", cr.Cell, cr.Status, cr.Reason,
				float64(cr.LoadNS)/1e6, cr.Extra["ego_heap_mb"], cr.Extra["ocalls_total"], cr.Extra[protocol.ExtraOpsTotal])
			if cr.Extra["ego_version"] == "" || cr.Extra["ego_go_version"] == "" || cr.Extra["ego_ert_version"] == "" {
				t.Errorf("%s: versions not recorded: %v", cr.Cell, cr.Extra)
			}
			if w := cr.Extra["ego_warning"]; w != "" {
				t.Errorf("%s: %s", cr.Cell, w)
			}
			if cr.Status == result.StatusOK && cr.Extra["ocalls_total"] == "" {
				t.Errorf("%s: no OCALL table from OE_TRACE_OCALLS", cr.Cell)
			}
		}
	})

	t.Run("workload inside", func(t *testing.T) {
		// The runner keeps only what it needs of the hello line; read it
		// from the launcher directly.
		dir, err := os.MkdirTemp(scratch, "cell-")
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := m.Command(ctx, rc.Launch(cells[0], dir))
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ego run: %v\n%s", err, out)
		}
		var hello *protocol.Message
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			msg, err := protocol.Parse(sc.Bytes())
			if err == nil && msg.Type == protocol.TypeHello {
				hello = &msg
			}
		}
		if hello == nil || !hello.InEnclave {
			t.Errorf("the workload's hello line does not say it runs inside the enclave: %+v\n%s", hello, out)
		}
	})

	t.Run("memfs and env", func(t *testing.T) {
		p := newMode("./bench/ego/testdata/enclaveprobe")
		if err := p.Check(ctx); err != nil {
			t.Fatal(err)
		}
		cell := realCell(t, "syscall", "DC2s_v2", 0, "call", "read")
		l := rc.Launch(cell, "")
		l.Env = append(l.Env, "ENCLAVEBENCH_PROBE_DECLARED=yes") // a cell's extra environment: declared fromHost
		if err := p.Prepare(ctx, []mode.Launch{l}); err != nil {
			t.Fatalf("Prepare the probe: %v\nnotes:\n%s", err, notes.String())
		}
		dir, err := os.MkdirTemp(scratch, "probe-")
		if err != nil {
			t.Fatal(err)
		}
		l.Dir = dir
		memfsFile := "/enclavebench/memfs/probe-" + filepath.Base(dir)
		hostFile := filepath.Join(dir, "hostfs-file")
		l.Args = []string{"-memfs", memfsFile, "-hostfs", hostFile, "-env", "ENCLAVEBENCH_PROBE_UNDECLARED", "-env", "ENCLAVEBENCH_PROBE_DECLARED", "-env", "GOMAXPROCS"}
		t.Setenv("ENCLAVEBENCH_PROBE_UNDECLARED", "leaked")
		cmd, err := p.Command(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ego run probe: %v\n%s", err, out)
		}
		_, js, ok := strings.Cut(string(out), "probe: ")
		if !ok {
			t.Fatalf("no probe line:\n%s", out)
		}
		js, _, _ = strings.Cut(js, "\n")
		var r struct {
			InEnclave   bool               `json:"in_enclave"`
			Simulated   bool               `json:"simulated"`
			MemfsDir    string             `json:"memfs_dir"`
			Env         map[string]*string `json:"env"`
			MemfsWrite  string             `json:"memfs_write"`
			MemfsRead   string             `json:"memfs_read"`
			HostfsWrite string             `json:"hostfs_write"`
		}
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatalf("probe line %q: %v", js, err)
		}
		t.Logf("probe: %s", js)
		if !r.InEnclave || !r.Simulated {
			t.Errorf("in_enclave %v simulated %v: EGo's detection does not see the simulated enclave", r.InEnclave, r.Simulated)
		}
		if v := r.Env["ENCLAVEBENCH_PROBE_UNDECLARED"]; v != nil {
			t.Errorf("a host variable enclave.json does not declare reached the enclave: %q", *v)
		}
		if v := r.Env["ENCLAVEBENCH_PROBE_DECLARED"]; v == nil || *v != "yes" {
			t.Errorf("the cell's declared (fromHost) variable did not reach the enclave: %v", v)
		}
		if v := r.Env["GOMAXPROCS"]; v == nil || *v != "2" {
			t.Errorf("GOMAXPROCS from enclave.json: %v, want 2", v)
		}
		if r.MemfsWrite != "" || r.MemfsRead == "" || strings.HasPrefix(r.MemfsRead, "error") {
			t.Errorf("memfs write %q, read back %q", r.MemfsWrite, r.MemfsRead)
		}
		// memfs: nowhere on the host, neither at its path nor in the
		// mounted scratch root.
		if _, err := os.Stat(memfsFile); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the memfs file is on the host at %s (%v)", memfsFile, err)
		}
		filepath.Walk(scratch, func(path string, info os.FileInfo, err error) error {
			if err == nil && info.Name() == filepath.Base(memfsFile) {
				t.Errorf("the memfs file reached the host at %s", path)
			}
			return nil
		})
		// hostfs: the control, the same write through the host mount.
		if r.HostfsWrite != "" {
			t.Errorf("hostfs write: %s", r.HostfsWrite)
		} else if _, err := os.Stat(hostFile); err != nil {
			t.Errorf("the hostfs file is not on the host: %v", err)
		}
	})
}
