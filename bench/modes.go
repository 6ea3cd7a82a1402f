package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	_ "github.com/enclavebench/enclavebench/bench/mode/all" // registers every mode
	"github.com/enclavebench/enclavebench/bench/result"
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

// pickEnclaveMode chooses the best enclave mode for a host: the
// lowest-ranked enclave mode whose needs (SGX, EGo) the host meets, with the
// reason.
func pickEnclaveMode(fp *host.Fingerprint) (string, string) {
	for _, d := range mode.Descriptors() {
		if !d.Enclave || d.NeedsSGX && !fp.SGX.Usable || d.NeedsEGo && !fp.EGo.Installed {
			continue
		}
		var have []string
		if d.NeedsSGX {
			have = append(have, fmt.Sprintf("SGX is usable (%s)", strings.Join(fp.SGX.Devices, ", ")))
		}
		if d.NeedsEGo {
			have = append(have, fmt.Sprintf("EGo %s is installed", fp.EGo.Version))
		}
		switch {
		case len(have) == 0:
			return d.Name, fmt.Sprintf("neither SGX (%s) nor EGo is available: enclave figures come from the %s", sgxMissing(fp), kindNoun(d))
		case !d.NeedsSGX:
			return d.Name, fmt.Sprintf("%s but SGX is not usable here (%s)", strings.Join(have, " and "), sgxMissing(fp))
		}
		return d.Name, strings.Join(have, " and ")
	}
	return mode.Native, "no enclave mode can run here"
}

// kindNoun names what a mode is, for the reason --modes auto prints.
func kindNoun(d mode.Descriptor) string {
	if d.Kind == mode.Model {
		return d.Label + " model"
	}
	return d.Label + " mode"
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
		d, ok := mode.Lookup(n)
		if !ok {
			return nil, usageError{mode.Validate(n)}
		}
		md, err := d.New(mode.Config{WorkloadBin: workloadBin, Stderr: m.stderr, Options: m.options()})
		if err != nil {
			return nil, usageError{err}
		}
		if err := md.Check(ctx); err != nil {
			return nil, usagef("mode %s cannot run here: %v", n, err)
		}
		out[n] = md
	}
	return out, nil
}

// options are the mode flags as the modes' constructors take them.
func (m *modeOptions) options() mode.Options {
	return mode.Options{ProfileFile: m.profileFile, SourceDir: m.sourceDir, EGoDebug: m.egoDebug,
		EGoTraceOCalls: m.egoTrace, EGoPreciseClock: m.preciseClock, EGoCache: m.egoCache, HostSGX: testHostSGX}
}

// describe records mode-specific metadata in run.json.
func (m *modeOptions) describe(run *result.Run, modes map[string]mode.Mode) {
	for _, md := range modes {
		if d, ok := md.(mode.RunDescriber); ok {
			d.DescribeRun(run)
		}
	}
}

// provenancePath is where the runner keeps the sample lines an enclave
// report covers, when an enclave mode that keeps them is in the run.
func provenancePath(modes map[string]mode.Mode) func(dir, key string) string {
	for _, d := range mode.Descriptors() {
		if _, ok := modes[d.Name]; ok && d.ProvenancePath != nil {
			return d.ProvenancePath
		}
	}
	return nil
}

// isConfigError reports a Prepare error that is bad input (an enclave
// that cannot fit the size) rather than a failure.
func isConfigError(err error) bool { return errors.Is(err, mode.ErrConfig) }

// binaryModes lists the modes that run the workload binary they are given
// (--baseline applies to them): "native and sim".
func binaryModes() string {
	var names []string
	for _, d := range mode.Descriptors() {
		if !d.BuildsWorkload {
			names = append(names, d.Name)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
