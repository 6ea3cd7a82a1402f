package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
)

// modeAuto expands to the native baseline plus the best enclave mode this
// host has (see pickEnclaveMode).
const modeAuto = "auto"

// ModeOptions configure the modes of a run.
type ModeOptions struct {
	// Flags are the values of the modes' flags (mode.Flags), by name.
	Flags mode.Options
	// HostSGX overrides SGX detection in the enclave modes (nil: detect;
	// the tests' stand-in ego sets it).
	HostSGX func() bool
	Stderr  io.Writer
}

// pickEnclaveMode chooses the best enclave mode for a host: the
// lowest-ranked enclave mode whose needs (SGX, EGo) the host meets, with the
// reason.
func pickEnclaveMode(fp *host.Fingerprint) (string, string) {
	return pickMode(fp, func(mode.Descriptor) bool { return true })
}

// pickEPCMode is pickEnclaveMode among the modes whose figures measure or
// model the EPC (Descriptor.ModelsEPC).
func pickEPCMode(fp *host.Fingerprint) (string, string) {
	return pickMode(fp, func(d mode.Descriptor) bool { return d.ModelsEPC })
}

func pickMode(fp *host.Fingerprint, want func(mode.Descriptor) bool) (string, string) {
	for _, d := range mode.Descriptors() {
		if !d.Enclave || !want(d) || d.Needs.SGX && !fp.SGX.Usable || d.Needs.EGo && !fp.EGo.Installed {
			continue
		}
		var have []string
		if d.Needs.SGX {
			have = append(have, fmt.Sprintf("SGX is usable (%s)", strings.Join(fp.SGX.Devices, ", ")))
		}
		if d.Needs.EGo {
			have = append(have, fmt.Sprintf("EGo %s is installed", fp.EGo.Version))
		}
		switch {
		case len(have) == 0:
			return d.Name, fmt.Sprintf("neither SGX (%s) nor EGo is available: enclave figures come from the %s", sgxMissing(fp), kindNoun(d))
		case !d.Needs.SGX:
			return d.Name, fmt.Sprintf("%s but SGX is not usable here (%s)", strings.Join(have, " and "), sgxMissing(fp))
		}
		return d.Name, strings.Join(have, " and ")
	}
	return mode.Baseline(), "no enclave mode can run here"
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

// ExpandModes resolves "auto" in a mode list: native, the best enclave mode
// this host has, and, when that mode's figures neither measure nor model
// the EPC (EGo's simulation mode), the best one whose figures do.
func ExpandModes(names []string, fp *host.Fingerprint, stderr io.Writer) []string {
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
		base := mode.Baseline()
		best, why := pickEnclaveMode(fp)
		d, _ := mode.Lookup(best)
		epc := ""
		if d.Enclave && !d.ModelsEPC {
			// Its figures cannot say which size a working set needs: add
			// the best mode whose figures can.
			if m, _ := pickEPCMode(fp); m != base && m != best {
				epc = m
			}
		}
		if epc == "" {
			fmt.Fprintf(stderr, "mode auto: %s and %s: %s\n", base, best, why)
		} else {
			fmt.Fprintf(stderr, "mode auto: %s, %s and %s: %s; %s enforces no EPC limit, so %s is added for the EPC and sizing figures\n", base, best, epc, why, best, epc)
		}
		add(base)
		add(best)
		if epc != "" {
			add(epc)
		}
	}
	return out
}

// Build constructs and checks the modes a run needs. A mode that cannot
// run on this host is bad input (exit 2), reported before any cell runs.
func (m *ModeOptions) Build(ctx context.Context, names []string, fp *host.Fingerprint, workloadBin string) (map[string]mode.Mode, error) {
	out := map[string]mode.Mode{}
	for _, n := range names {
		d, ok := mode.Lookup(n)
		if !ok {
			return nil, &InputError{mode.Validate(n)}
		}
		md, err := d.New(mode.Config{WorkloadBin: workloadBin, Stderr: m.Stderr, Options: m.Flags, HostSGX: m.HostSGX})
		if err != nil {
			return nil, &InputError{err}
		}
		if err := md.Check(ctx); err != nil {
			return nil, inputf("mode %s cannot run here: %v", n, err)
		}
		out[n] = md
	}
	return out, nil
}

// describe records in run.json how the modes are configured: the values
// of their Setting flags (mode_settings), and what a mode describes itself
// (mode.RunDescriber).
func (m *ModeOptions) describe(run *result.Run, modes map[string]mode.Mode) {
	for name, md := range modes {
		if d, ok := mode.Lookup(name); ok {
			if set := d.Settings(m.Flags); set != nil {
				if run.ModeSettings == nil {
					run.ModeSettings = map[string]map[string]string{}
				}
				run.ModeSettings[name] = set
			}
		}
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
