package session

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
)

// resumeBin is the workload binary a resumed side runs: the one asked for
// (the baseline side keeps its own), else the one recorded, and its
// SHA-256 must be the one the run started with.
func resumeBin(d *result.Dir, asked string) (string, error) {
	b := d.Run.Build
	bin := asked
	if b != nil && (bin == "" || b.Side == "base") {
		if _, err := os.Stat(b.WorkloadBin); err == nil || b.Side == "base" {
			bin = b.WorkloadBin
		}
	}
	bin, err := FindWorkloadBin(bin)
	if err != nil {
		return "", &InputError{err}
	}
	if b == nil { // runs from before the binary was recorded
		return bin, nil
	}
	sum, err := result.FileSHA256(bin)
	if err != nil {
		return "", &InputError{err}
	}
	if sum != b.SHA256 {
		what := "workload binary"
		if b.Side != "" {
			what = "the " + b.Side + " workload binary"
		}
		return "", inputf("%s: %s %s (sha256 %s) is not the build the run started with (%s, sha256 %s); resume needs the same build",
			d.Path, what, bin, sum, b.WorkloadBin, b.SHA256)
	}
	return bin, nil
}

// modeBinaries hashes the binaries the modes run besides the workload
// binary (mode.BinaryUser).
func modeBinaries(modes map[string]mode.Mode) ([]result.ModeBinary, error) {
	var out []result.ModeBinary
	for _, name := range slices.Sorted(maps.Keys(modes)) {
		bu, ok := modes[name].(mode.BinaryUser)
		if !ok || bu.Binary() == "" {
			continue
		}
		sum, err := result.FileSHA256(bu.Binary())
		if err != nil {
			return nil, &InputError{fmt.Errorf("mode %s: %v", name, err)}
		}
		out = append(out, result.ModeBinary{Mode: name, Path: bu.Binary(), SHA256: sum})
	}
	return out, nil
}

// checkModeBinaries refuses to resume with a mode binary (the sim mode's
// workload-sim) other than the build the run started with.
func checkModeBinaries(d *result.Dir, modes map[string]mode.Mode) error {
	if d.Run.Build == nil || len(d.Run.Build.ModeBinaries) == 0 {
		return nil // runs from before mode binaries were recorded
	}
	now, err := modeBinaries(modes)
	if err != nil {
		return err
	}
	for _, was := range d.Run.Build.ModeBinaries {
		i := slices.IndexFunc(now, func(b result.ModeBinary) bool { return b.Mode == was.Mode })
		if i < 0 {
			continue
		}
		if now[i].SHA256 != was.SHA256 {
			return inputf("%s: the %s mode's binary %s (sha256 %s) is not the build the run started with (%s, sha256 %s); resume needs the same build",
				d.Path, was.Mode, now[i].Path, now[i].SHA256, was.Path, was.SHA256)
		}
	}
	return nil
}

// buildPinner is a mode that builds the workload itself from sources (the
// ego modes): after Prepare it names what it built.
type buildPinner interface {
	BuildPin() (result.ModeBinary, bool)
}

// pinBuilds records in a side's run.json what each mode that builds the
// workload built it from, and refuses a resume whose build comes from
// other sources than the run's (another --source-dir, an edited tree):
// its cells would measure another program under the same name. The
// binary's SHA-256 is recorded, not compared: a rebuild of the same
// sources after the build cache was cleared need not be byte-identical.
func pinBuilds(sd *side) error {
	for _, name := range slices.Sorted(maps.Keys(sd.modes)) {
		bp, ok := sd.modes[name].(buildPinner)
		if !ok {
			continue
		}
		pin, ok := bp.BuildPin()
		if !ok {
			continue // built nothing (no cell of it to run)
		}
		if sd.run.Build == nil {
			sd.run.Build = &result.Build{}
		}
		bins := sd.run.Build.ModeBinaries
		i := slices.IndexFunc(bins, func(b result.ModeBinary) bool { return b.Mode == name })
		switch {
		case i < 0:
			sd.run.Build.ModeBinaries = append(bins, pin)
		case bins[i].SourceDigest == "": // recorded before builds were pinned
			bins[i] = pin
		case bins[i].SourceDigest != pin.SourceDigest:
			return inputf("%s: the %s mode's workload was built from %s (source digest %s); this resume builds it from %s (source digest %s): "+
				"resume with the same --source-dir and sources, or start a new run",
				sd.dir, name, bins[i].SourceDir, bins[i].SourceDigest, pin.SourceDir, pin.SourceDigest)
		}
	}
	return nil
}

// WorkloadEnv names the environment variable that points at the workload binary.
const WorkloadEnv = "ENCLAVEBENCH_WORKLOAD"

// FindWorkloadBin locates the workload binary: the flag, the environment,
// or next to the bench executable.
func FindWorkloadBin(flag string) (string, error) {
	for _, p := range []string{flag, os.Getenv(WorkloadEnv)} {
		if p != "" {
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("workload binary %s: %v", p, err)
			}
			return filepath.Abs(p)
		}
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "workload")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("cannot find the workload binary: build it with `CGO_ENABLED=0 go build -o bin/workload ./workloads/cmd/workload` (./run.sh does), then pass --workload-bin bin/workload or set $" + WorkloadEnv)
}

// sharedModeBinary refuses a --baseline run of two workload binaries
// whose sides would run one and the same mode binary (the sim mode's
// workload-sim named by $ENCLAVEBENCH_WORKLOAD_SIM or a flag, which apply
// to both sides): the candidate's build of it would never run, and the
// comparison would show no change whatever the candidate did. Two paths
// are two builds, even with equal content: a candidate may differ from
// its base in its sim build alone.
func sharedModeBinary(cand, base *result.Build) error {
	if cand.WorkloadBin == base.WorkloadBin {
		return nil // one workload binary on both sides (an A/A run)
	}
	for _, c := range cand.ModeBinaries {
		for _, b := range base.ModeBinaries {
			if c.Mode == b.Mode && c.Path == b.Path {
				return inputf("--baseline: both sides would run the same %s binary %s (named by a flag or the environment, which apply to both sides), so the candidate's build of it would never run; "+
					"unset it and put each side's build next to its workload binary (%s next to %s and next to %s)", c.Mode, c.Path, filepath.Base(c.Path), cand.WorkloadBin, base.WorkloadBin)
			}
		}
	}
	return nil
}
