package ego

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/sizes"
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
			Footprint: 100 << 20, Size: size(t, "DC2s_v2"), ScratchRoot: "/tmp",
			FromHost: []string{"GOMAXPROCS", "FOO", "EDG_X", "BAR", "FOO", "EGOMAXTHREADS"}}},
		{"dc48s_v3-debug-preciseclock.json", Params{Exe: "workload", Key: "k.pem", Debug: true,
			Footprint: 1 << 30, Size: size(t, "DC48s_v3"), ScratchRoot: "/var/tmp/eb", PreciseClock: true}},
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
			path := filepath.Join("testdata", tt.golden)
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
				t.Errorf("enclave.json differs from %s (go test -update rewrites it):\n%s", path, got)
			}
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
		{"larger than memory", Params{Exe: "w", Key: "k", Footprint: 3 << 30, Size: size(t, "DC1s_v2")}, "more than DC1s_v2's 4 GiB", true},
		{"needs large heap", Params{Exe: "w", Key: "k", Footprint: 10 << 30, Size: size(t, "DC48s_v3")}, "ego_largeheap", true},
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
	tests := []struct {
		footprint int64
		want      int
	}{
		{-1, 64},
		{0, 64},
		{1, 80},         // 1 MB (rounded up) + 64 -> next 16
		{8 << 20, 80},   // 16 + 64
		{24 << 20, 112}, // 48 + 64
		{100 << 20, 272},
		{1 << 30, 2112},
	}
	for _, tt := range tests {
		if got := HeapMB(tt.footprint); got != tt.want {
			t.Errorf("HeapMB(%d) = %d, want %d", tt.footprint, got, tt.want)
		}
		if got := HeapMB(tt.footprint); got%heapStepMB != 0 || int64(got)<<20 < HeapFactor*tt.footprint {
			t.Errorf("HeapMB(%d) = %d does not cover %dx the footprint in steps of %d", tt.footprint, got, HeapFactor, heapStepMB)
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
