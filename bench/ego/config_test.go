package ego

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func size(t *testing.T, name string) sizes.Size {
	t.Helper()
	s, ok := sizes.Lookup(name)
	if !ok {
		t.Fatalf("no size %s", name)
	}
	return s
}

func TestEnclaveConfigGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		p      Params
	}{
		{"dc1s_v2-empty.json", Params{Exe: "workload", Key: "../../key.pem", Size: size(t, "DC1s_v2")}},
		{"dc2s_v2-scratch-fromhost.json", Params{Exe: "workload", Key: "../../../.config/enclavebench/enclave-key.pem",
			Memory: workload.Memory{GoHeap: 100 << 20}, Size: size(t, "DC2s_v2"), ScratchRoot: "/tmp",
			FromHost: []string{"GOMAXPROCS", "FOO", "EDG_X", "BAR", "FOO", "EGOMAXTHREADS"}}},
		{"dc48s_v3-debug-preciseclock.json", Params{Exe: "workload", Key: "k.pem", Debug: true,
			Memory: workload.Memory{Mapped: 1 << 30, GoHeap: 128 << 20}, Size: size(t, "DC48s_v3"), ScratchRoot: "/var/tmp/eb", PreciseClock: true}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			c, err := EnclaveConfig(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.JSON()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", tt.golden), got, "enclave.json", "go test -update rewrites it")
			// EGo's own rules (ego/config/config.go Validate).
			var back Config
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			targets, names := map[string]bool{}, map[string]bool{}
			for _, m := range back.Mounts {
				if m.Target == "" || targets[m.Target] || (m.Type != "hostfs" && m.Type != "memfs") || (m.Type == "hostfs" && m.Source == "") {
					t.Errorf("mount %+v breaks EGo's rules", m)
				}
				targets[m.Target] = true
			}
			for _, e := range back.Env {
				if e.Name == "" || names[e.Name] || strings.Contains(e.Name, "=") {
					t.Errorf("env %+v breaks EGo's rules", e)
				}
				names[e.Name] = true
			}
		})
	}
}

func TestEnclaveConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Params
		want string // in the error
		cfg  bool   // wraps ErrEnclaveConfig
	}{
		{"larger than memory", Params{Exe: "w", Key: "k", Memory: workload.Memory{GoHeap: 3 << 30}, Size: size(t, "DC1s_v2")}, "3072 MiB of Go heap", true},
		{"mapped larger than memory", Params{Exe: "w", Key: "k", Memory: workload.Memory{Mapped: 4 << 30}, Size: size(t, "DC1s_v2")}, "4096 MiB mapped + 2x 0 MiB of Go heap + 64 MB for the Go runtime needs heapSize 4160 MB plus 128 MiB of thread stacks, more than DC1s_v2's 4 GiB", true},
		// 2 GiB mapped + 2x 1 GiB of Go heap: over 4 GiB only with the factor.
		{"mapped and Go heap larger than memory", Params{Exe: "w", Key: "k", Memory: workload.Memory{Mapped: 2 << 30, GoHeap: 1 << 30}, Size: size(t, "DC1s_v2")}, "more than DC1s_v2's 4 GiB", true},
		{"needs large heap", Params{Exe: "w", Key: "k", Memory: workload.Memory{Mapped: 10 << 30, GoHeap: 4 << 30}, Size: size(t, "DC48s_v3")}, "needs heapSize 18496 MB, above the 16384 MB", true},
		{"no exe", Params{Key: "k", Size: size(t, "DC1s_v2")}, "needs exe and key", false},
		{"no key", Params{Exe: "w", Size: size(t, "DC1s_v2")}, "needs exe and key", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := EnclaveConfig(tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if got := errors.Is(err, ErrEnclaveConfig); got != tt.cfg {
				t.Errorf("errors.Is(err, ErrEnclaveConfig) = %v, want %v", got, tt.cfg)
			}
		})
	}
}

func TestHeapMB(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	tests := []struct {
		m    workload.Memory
		want int
	}{
		{workload.Memory{Mapped: -1, GoHeap: -1}, 64},
		{workload.Memory{}, 64},
		{workload.Memory{GoHeap: 1}, 80},                            // 1 MB (rounded up) + 64 -> next 16
		{workload.Memory{Mapped: 1}, 80},                            // the same: 65 -> 80
		{workload.Memory{GoHeap: 8 * mib}, 80},                      // 16 + 64
		{workload.Memory{Mapped: 16 * mib}, 80},                     // a mapping counts once: 16 + 64
		{workload.Memory{Mapped: 17 * mib}, 96},                     // 81 -> 96
		{workload.Memory{GoHeap: 24 * mib}, 112},                    // 48 + 64
		{workload.Memory{GoHeap: 100 * mib}, 272},                   // 200 + 64 -> 272
		{workload.Memory{Mapped: 100 * mib}, 176},                   // 100 + 64 -> 176
		{workload.Memory{Mapped: 1 << 30}, 1088},                    // 1024 + 64
		{workload.Memory{GoHeap: 1 << 30}, 2112},                    // 2048 + 64
		{workload.Memory{Mapped: 336 * mib}, 400},                   // aesgcm at 2xEPC on DC8_v2: 336 + 64 (was 736)
		{workload.Memory{Mapped: 336 * mib, GoHeap: 42 * mib}, 496}, // memsweep random read: 336 + 84 + 64 -> 496
		{workload.Memory{Mapped: 64 * mib, GoHeap: 1}, 144},         // 64 + 1 (rounded up) + 64 -> 144
	}
	for _, tt := range tests {
		got := HeapMB(tt.m)
		if got != tt.want {
			t.Errorf("HeapMB(%+v) = %d, want %d", tt.m, got, tt.want)
		}
		need := max(tt.m.Mapped, 0) + HeapFactor*max(tt.m.GoHeap, 0) + HeapBaseMB*mib
		if b := int64(got) * mib; got%heapStepMB != 0 || b < need || b >= need+heapStepMB*mib {
			t.Errorf("HeapMB(%+v) = %d MB: not the smallest step of %d MB covering %d bytes", tt.m, got, heapStepMB, need)
		}
	}
}

func TestThreads(t *testing.T) {
	t.Parallel()
	tests := []struct{ vcpus, procs, threads int }{
		{0, 1, 30}, {1, 1, 30}, {2, 2, 30}, {8, 8, 30}, {28, 28, 30}, {48, 28, 30},
	}
	for _, tt := range tests {
		p, th := Threads(tt.vcpus)
		if p != tt.procs || th != tt.threads {
			t.Errorf("Threads(%d) = %d, %d, want %d, %d", tt.vcpus, p, th, tt.procs, tt.threads)
		}
	}
}

func TestEveryCatalogSizeFitsAnEmptyWorkload(t *testing.T) {
	t.Parallel()
	for _, s := range sizes.All() {
		if _, err := EnclaveConfig(Params{Exe: "w", Key: "k", Size: s}); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
}

// TestHeapQuickSuite pins the heapSize of every quick-profile cell of the
// workloads that declare where their memory lives, on the four DCsv2
// sizes. Each of these sizes ran in ego-sim with the real EGo (docs/ego.md,
// "Heap sizes"): a change here is a change to run there again before it
// lands. go test -update rewrites the golden file.
func TestHeapQuickSuite(t *testing.T) {
	t.Parallel()
	var names []string
	for n, s := range suite.Workloads {
		if s.Memory != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	run, err := plan.Resolve(plan.Request{Registry: suite.Workloads, HostMem: 64 << 30, Spec: runspec.Spec{
		Workloads: names, Sizes: []string{"dcsv2"}, Modes: []string{EGoSim}, Profile: "quick", Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cells := run.Cells
	var lines []string
	for _, c := range cells {
		h := HeapMB(c.Memory)
		lines = append(lines, fmt.Sprintf("%s heapSize=%d mapped=%d go_heap=%d", c.Key(), h, c.Memory.Mapped, c.Memory.GoHeap))
		if int64(h)<<20 < c.Memory.Mapped+HeapFactor*c.Memory.GoHeap || int64(h)<<20 < c.Footprint {
			t.Errorf("%s: heapSize %d MB does not cover its memory %+v (footprint %d)", c.Key(), h, c.Memory, c.Footprint)
		}
	}
	sort.Strings(lines)
	got := []byte(strings.Join(lines, "\n") + "\n")
	checkGolden(t, filepath.Join("testdata", "heap-quick-dcsv2.txt"), got, "heap sizes", "run them in ego-sim with the real EGo, then go test -update")
}

// checkGolden compares got with the golden file at path (-update
// rewrites it); what names the content, hint how to accept a change.
func checkGolden(t *testing.T, path string, got []byte, what, hint string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: not as in %s (%s):\n%s", what, path, hint, got)
	}
}

func TestOfflineHint(t *testing.T) {
	for out, want := range map[string]bool{
		"go: example.com/x@v1.0.0: module lookup disabled by GOPROXY=off": true,
		"kv_test.go:3:2: undefined: notDefined":                           false,
	} {
		if got := offlineHint([]byte(out), "/src/m") != ""; got != want {
			t.Errorf("offlineHint(%q) set: %v, want %v", out, got, want)
		}
	}
	env := offline([]string{"GOPROXY=https://proxy.golang.org", "HOME=/h"})
	if !slices.Equal(env, []string{"HOME=/h", "GOPROXY=off"}) {
		t.Errorf("offline env %q", env)
	}
}
