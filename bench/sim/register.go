package sim

import (
	"fmt"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sizes"
)

// Name is the name of the mode this package registers.
const Name = "sim"

func init() {
	mode.Register(mode.Descriptor{
		Name: Name, Rank: 3, Kind: mode.Model, Enclave: true, ModelsEPC: true, Label: Name, GoTestSim: true,
		Needs: mode.Needs{Binaries: []mode.Binary{{Name: SimBinName, Build: BuildCommand}}},
		LongLabel: func(profile string) string {
			if profile == "" {
				profile = "unknown"
			}
			return "sim (model, profile " + profile + ")"
		},
		Summary: "predicted by enclavebench's model: each repetition's native time, measured in the sim process, plus the enclave events counted for that repetition, priced by the cost profile; its slowdown is over that base, pair by pair (never against the native cells, which another process measured): a prediction, not a measurement",
		Note:    "sim figures are **predictions** of enclavebench's model, not measurements.",
		Flags:   []mode.Flag{{Name: FlagProfileFile, Usage: "sim: cost profile JSON (default: the built-in published DCsv2 profile)"}},
		New:     newMode,
	})
}

// FlagProfileFile names the sim mode's cost profile file. It is not a
// setting (mode.Flag.Setting): run.json records the profile it leads to,
// with its digest, and a resume checks that instead of the path.
const FlagProfileFile = "profile-file"

// newMode constructs the sim mode from the run's mode flags.
func newMode(c mode.Config) (mode.Mode, error) {
	var prof *Profile
	f := c.Options.String(FlagProfileFile)
	if f != "" {
		p, err := LoadProfile(f)
		if err != nil {
			return nil, fmt.Errorf("--profile-file: %v", err)
		}
		prof = p
	}
	return New(Options{Profile: prof, ProfileSource: f, WorkloadBin: c.WorkloadBin, Stderr: c.Stderr}), nil
}

// DescribeRun implements mode.RunDescriber: run.json names the cost
// profile and the usable EPC of each size the run plans.
func (m *Mode) DescribeRun(run *result.Run) {
	run.Profile = m.ProfileRef()
	var szs []sizes.Size
	for _, n := range run.Plan.Sizes {
		if sz, ok := sizes.Lookup(n); ok {
			szs = append(szs, sz)
		}
	}
	if u := m.UsableEPCBytes(szs); len(u) > 0 {
		run.Profile.UsableEPC = u
	}
}
