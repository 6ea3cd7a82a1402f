package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/enclavebench/enclavebench/bench/ego"
	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sim"
)

// modeAuto expands to the native baseline plus the best enclave mode this
// host has (see pickEnclaveMode).
const modeAuto = "auto"

// modeOptions are the flags that configure enclave and model modes.
type modeOptions struct {
	profileFile  string
	sourceDir    string
	egoDebug     bool
	egoTrace     bool
	preciseClock bool
	egoCache     string
	stderr       io.Writer
}

// testHostSGX overrides SGX detection in the enclave modes (tests only,
// with the stand-in ego in bench/testdata/ego-standin).
var testHostSGX func() bool

func (m *modeOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&m.profileFile, "profile-file", "", "sim: cost profile JSON (default: the built-in published DCsv2 profile)")
	fs.StringVar(&m.sourceDir, "source-dir", "", "sgx/ego-sim: the enclavebench source tree to build with ego-go (default: found from the working directory)")
	fs.BoolVar(&m.egoDebug, "ego-debug", false, "sgx/ego-sim: sign debug enclaves")
	fs.BoolVar(&m.egoTrace, "ego-trace-ocalls", false, "sgx/ego-sim: OE_TRACE_OCALLS=1, OCALL counts per cell (perturbs OCALL-heavy cells)")
	fs.BoolVar(&m.preciseClock, "ego-precise-clock", false, "sgx/ego-sim: ERT_DISABLE_VDSO_CLOCK=1, precise in-enclave clock through OCALLs")
	fs.StringVar(&m.egoCache, "ego-cache", "", "sgx/ego-sim: cache of built and signed binaries (default ~/.cache/enclavebench/ego)")
}

// pickEnclaveMode chooses the best enclave mode for a host: sgx where SGX
// and EGo are present, else ego-sim where EGo is, else sim, with the reason.
func pickEnclaveMode(fp *host.Fingerprint) (string, string) {
	switch {
	case fp.SGX.Usable && fp.EGo.Installed:
		return mode.SGX, fmt.Sprintf("SGX is usable (%s) and EGo %s is installed", strings.Join(fp.SGX.Devices, ", "), fp.EGo.Version)
	case fp.EGo.Installed:
		return mode.EGoSim, fmt.Sprintf("EGo %s is installed but SGX is not usable here (%s)", fp.EGo.Version, sgxMissing(fp))
	default:
		return mode.Sim, fmt.Sprintf("neither SGX (%s) nor EGo is available: enclave figures come from the sim model", sgxMissing(fp))
	}
}

func sgxMissing(fp *host.Fingerprint) string {
	switch {
	case !fp.SGX.SGX1 && !fp.SGX.SGX2 && len(fp.SGX.CPUFlags) == 0:
		return "the CPU reports no SGX"
	case !fp.SGX.Usable:
		return "no /dev/sgx_enclave or /dev/sgx/enclave device"
	}
	return "SGX usable"
}

// expandModes resolves "auto" in a mode list.
func expandModes(names []string, fp *host.Fingerprint, stderr io.Writer) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range names {
		if n != modeAuto {
			add(n)
			continue
		}
		best, why := pickEnclaveMode(fp)
		fmt.Fprintf(stderr, "mode auto: native and %s: %s\n", best, why)
		add(mode.Native)
		add(best)
	}
	return out
}

// build constructs and checks the modes a run needs. A mode that cannot
// run on this host is bad input (exit 2), reported before any cell runs.
func (m *modeOptions) build(ctx context.Context, names []string, fp *host.Fingerprint, workloadBin string) (map[string]mode.Mode, error) {
	out := map[string]mode.Mode{}
	for _, n := range names {
		if err := mode.Validate(n); err != nil {
			return nil, usageError{err}
		}
		var md mode.Mode
		switch n {
		case mode.Native:
			md = mode.NativeMode{}
		case mode.SGX, mode.EGoSim:
			src, err := m.findSource()
			if err != nil {
				return nil, usagef("mode %s: %v", n, err)
			}
			md = ego.New(ego.Options{Sim: n == mode.EGoSim, SourceDir: src, CacheDir: m.egoCache, Debug: m.egoDebug,
				TraceOCalls: m.egoTrace, PreciseClock: m.preciseClock, Log: m.stderr, HostSGX: testHostSGX})
		case mode.Sim:
			var prof *sim.Profile
			if m.profileFile != "" {
				p, err := sim.LoadProfile(m.profileFile)
				if err != nil {
					return nil, usagef("--profile-file: %v", err)
				}
				prof = p
			}
			md = sim.New(sim.Options{Profile: prof, ProfileSource: m.profileFile, WorkloadBin: workloadBin, Stderr: m.stderr})
		}
		if err := md.Check(ctx); err != nil {
			return nil, usagef("mode %s cannot run here: %v", n, err)
		}
		out[n] = md
	}
	return out, nil
}

// findSource locates the enclavebench source tree (go.mod of this module)
// from --source-dir, the working directory or the executable's directory.
func (m *modeOptions) findSource() (string, error) {
	var starts []string
	if m.sourceDir != "" {
		starts = []string{m.sourceDir}
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

// describe records mode-specific metadata in run.json.
func (m *modeOptions) describe(run *result.Run, modes map[string]mode.Mode) {
	if s, ok := modes[mode.Sim].(*sim.Mode); ok {
		run.Profile = s.ProfileRef()
	}
}

// provenancePath is where the runner keeps the sample lines an enclave
// report covers, when an enclave mode is in the run.
func provenancePath(modes map[string]mode.Mode) func(dir, key string) string {
	for _, n := range []string{mode.SGX, mode.EGoSim} {
		if _, ok := modes[n]; ok {
			return ego.ProvenancePath
		}
	}
	return nil
}

// isConfigError reports a Prepare error that is bad input (an enclave
// that cannot fit the size) rather than a failure.
func isConfigError(err error) bool { return errors.Is(err, ego.ErrEnclaveConfig) }
