package ego

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Names of the modes this package registers.
const (
	SGX    = "sgx"
	EGoSim = "ego-sim"
)

func init() {
	for _, d := range []mode.Descriptor{
		{Name: SGX, Rank: 1, Kind: mode.Measured, Needs: mode.Needs{SGX: true}, ModelsEPC: true,
			Summary: "an EGo enclave on SGX hardware"},
		{Name: EGoSim, Rank: 2, Kind: mode.Emulated,
			Summary: "EGo's simulation mode without SGX hardware: measures the enclave runtime's software path (its OCALL marshalling, memfs, host allocations); OCALLs are plain syscalls, so these are not hardware figures",
			Note:    "ego-sim figures come from EGo's simulation mode: not hardware figures.",
			Cannot:  "EGo's simulation mode enforces no EPC limit (nothing pages, whatever the working set) and makes no hardware enclave transitions: its figures say nothing about EPC paging, transition costs on SGX or which size a working set needs (the sim and sgx modes answer those)"},
	} {
		d.Label, d.Enclave, d.RecordsLoadTime, d.Needs.EGo, d.BuildsWorkload = d.Name, true, true, true, true
		d.ProvenancePath = ProvenancePath
		d.Flags = Flags
		d.Needs.NodeMemory = func(m workload.Memory) int64 { return EnclaveBytes(HeapMB(m)) }
		d.HeapExtra = ExtraHeapMB
		sim := d.Name == EGoSim
		d.New = func(c mode.Config) (mode.Mode, error) { return newMode(c, sim) }
		mode.Register(d)
	}
}

// ExtraHeapMB is the cell outcome's Extra key of the enclave's heapSize
// (enclave.json; MiB), recorded by AfterExit and declared in the
// descriptors (mode.Descriptor.HeapExtra) for reports.
const ExtraHeapMB = "ego_heap_mb"

// The flags of the sgx and ego-sim modes (both declare them all).
const (
	FlagSourceDir    = "source-dir"
	FlagDebug        = "ego-debug"
	FlagTraceOCalls  = "ego-trace-ocalls"
	FlagPreciseClock = "ego-precise-clock"
	FlagCache        = "ego-cache"
)

// Flags are the flags of `bench run` that configure the sgx and ego-sim
// modes. A debug enclave, OCALL tracing and the clock change what the
// cells measure, so run.json records them and a resume must match them;
// the source tree is pinned by its digest instead (BuildPin).
var Flags = []mode.Flag{
	{Name: FlagSourceDir, Usage: "sgx/ego-sim: the enclavebench source tree to build with ego-go (default: found from the working directory)"},
	{Name: FlagDebug, Bool: true, Setting: true, Usage: "sgx/ego-sim: sign debug enclaves"},
	{Name: FlagTraceOCalls, Bool: true, Setting: true, Usage: "sgx/ego-sim: OE_TRACE_OCALLS=1, OCALL counts per cell (perturbs OCALL-heavy cells)"},
	{Name: FlagPreciseClock, Bool: true, Setting: true, Usage: "sgx/ego-sim: ERT_DISABLE_VDSO_CLOCK=1, precise in-enclave clock through OCALLs"},
	{Name: FlagCache, Usage: "sgx/ego-sim: cache of built and signed binaries (default ~/.cache/enclavebench/ego)"},
}

// newMode constructs the sgx or ego-sim mode from the run's mode flags.
func newMode(c mode.Config, sim bool) (mode.Mode, error) {
	o := c.Options
	src, err := findSource(o.String(FlagSourceDir))
	if err != nil {
		name := SGX
		if sim {
			name = EGoSim
		}
		return nil, fmt.Errorf("mode %s: %v", name, err)
	}
	return New(Options{Sim: sim, SourceDir: src, CacheDir: o.String(FlagCache), Debug: o.Bool(FlagDebug),
		TraceOCalls: o.Bool(FlagTraceOCalls), PreciseClock: o.Bool(FlagPreciseClock), Log: c.Stderr, HostSGX: c.HostSGX}), nil
}

// findSource locates the enclavebench source tree (go.mod of this module)
// from dir, else the working directory or the executable's directory.
func findSource(dir string) (string, error) {
	var starts []string
	if dir != "" {
		starts = []string{dir}
	} else {
		if wd, err := os.Getwd(); err == nil {
			starts = append(starts, wd)
		}
		if exe, err := os.Executable(); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	for _, s := range starts {
		for dir := s; ; dir = filepath.Dir(dir) {
			b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && strings.Contains(string(b), "module github.com/enclavebench/enclavebench\n") {
				return filepath.Abs(dir)
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", errors.New("cannot find the enclavebench source tree to build the enclave binary from (run from the repository, or pass --source-dir)")
}
