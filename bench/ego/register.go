package ego

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

func init() {
	for _, d := range []mode.Descriptor{
		{Name: mode.SGX, Rank: 1, Kind: mode.Measured, NeedsSGX: true, ModelsEPC: true,
			Summary: "an EGo enclave on SGX hardware"},
		{Name: mode.EGoSim, Rank: 2, Kind: mode.Emulated,
			Summary: "EGo's simulation mode without SGX hardware: measures the enclave runtime's software path (its OCALL marshalling, memfs, host allocations); OCALLs are plain syscalls, so these are not hardware figures",
			Cannot:  "EGo's simulation mode enforces no EPC limit (nothing pages, whatever the working set) and makes no hardware enclave transitions: its figures say nothing about EPC paging, transition costs on SGX or which size a working set needs (the sim and sgx modes answer those)"},
	} {
		d.Label, d.Enclave, d.RecordsLoadTime, d.NeedsEGo, d.BuildsWorkload = d.Name, true, true, true, true
		d.ProvenancePath = ProvenancePath
		d.NodeMemory = func(m workload.Memory) int64 { return EnclaveBytes(HeapMB(m)) }
		sim := d.Name == mode.EGoSim
		d.New = func(c mode.Config) (mode.Mode, error) { return newMode(c, sim) }
		mode.Register(d)
	}
}

// newMode constructs the sgx or ego-sim mode from the run's mode flags.
func newMode(c mode.Config, sim bool) (mode.Mode, error) {
	o := c.Options
	src, err := findSource(o.SourceDir)
	if err != nil {
		name := mode.SGX
		if sim {
			name = mode.EGoSim
		}
		return nil, fmt.Errorf("mode %s: %v", name, err)
	}
	return New(Options{Sim: sim, SourceDir: src, CacheDir: o.EGoCache, Debug: o.EGoDebug,
		TraceOCalls: o.EGoTraceOCalls, PreciseClock: o.EGoPreciseClock, Log: c.Stderr, HostSGX: o.HostSGX}), nil
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

// DescribeRun implements mode.RunDescriber: run.json records the flags
// that change what the mode's cells measure (a debug enclave, OCALL
// tracing, the clock), so that a resume cannot mix cells run under others.
func (m *Mode) DescribeRun(run *result.Run) {
	if run.ModeSettings == nil {
		run.ModeSettings = map[string]map[string]string{}
	}
	run.ModeSettings[m.Name()] = map[string]string{
		"ego-debug":         strconv.FormatBool(m.o.Debug),
		"ego-trace-ocalls":  strconv.FormatBool(m.o.TraceOCalls),
		"ego-precise-clock": strconv.FormatBool(m.o.PreciseClock),
	}
}
