package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/session"
	"github.com/enclavebench/enclavebench/bench/sim"
	"github.com/enclavebench/enclavebench/bench/sizes"
)

func init() {
	register(command{name: "calibrate", summary: "measure the sim mode's prices on SGX hardware and write a cost profile", run: calibrateCmd})
}

const calibrateExamples = `  # On a DC4s_v2 VM with SGX and EGo: run the calibration cells, write a profile
  bench calibrate --size DC4s_v2 -o dc4-profile.json

  # Derive a profile from an earlier calibration run (any machine)
  bench calibrate --size DC4s_v2 --from results/20261127T040000Z-1a2b -o dc4-profile.json

  # Use it
  bench run --modes sim --profile-file dc4-profile.json
`

func calibrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", "calibrate [flags]", calibrateExamples, stderr)
	var (
		size    = fs.String("size", "", "the VM size this host is (default: the Azure size the host reports)")
		from    = fs.String("from", "", "derive from this result directory instead of running (native, sgx and sim samples of the calibration cells)")
		out     = fs.StringP("out", "o", "calibrated-profile.json", "profile file to write; - for stdout")
		name    = fs.String("name", "calibrated", "the profile's name")
		version = fs.Int("version", 1, "the profile's version")
		resDir  = fs.String("results", "", "where the calibration run goes (default results/<run-id>)")
		bin     = fs.String("workload-bin", "", "the workload binary (as for bench run)")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("calibrate takes no arguments, got %q", fs.Args())
	}
	if *version < 1 {
		return usagef("--version %d: want a profile version of 1 or more", *version)
	}
	if strings.TrimSpace(*name) == "" {
		return usagef("--name: empty (want the profile's name)")
	}
	ho := host.DefaultOptions()
	if err := ho.Check(); err != nil {
		return usageError{err}
	}
	fp := host.Collect(ctx, ho)
	sizeName := *size
	if sizeName == "" {
		sizeName = fp.AzureSize
	}
	if sizeName == "" {
		return usagef("--size is needed: this host does not report an Azure VM size (%s)", fp.AzureNote)
	}
	sz, ok := sizes.Lookup(sizeName)
	if !ok {
		return usagef("unknown size %q (valid: %s)", sizeName, strings.Join(sizes.Names(), ", "))
	}
	base, err := sim.Default().For(sz.Family)
	if err != nil {
		return usageError{err}
	}
	// The mode that measures an enclave on SGX hardware (sgx), asked of
	// the registry rather than named.
	hardware := mode.Hardware()
	if hardware == "" {
		return usagef("calibrate needs a mode that measures an enclave on SGX hardware, and none is registered")
	}
	modes := sim.CalibrationModes(hardware)
	dir := *from
	if dir == "" {
		if !fp.SGX.SGX1 {
			return exitError{exitUsage, "calibrate measures enclave prices on SGX hardware, and this host has none (CPUID leaf 0x12 reports no SGX); " +
				"the sim mode's built-in profile uses published figures, or derive a profile from a calibration run done elsewhere with --from DIR"}
		}
		// Fail before running anything when the sgx mode cannot run here.
		wbin, err := session.FindWorkloadBin(*bin)
		if err != nil {
			return usageError{err}
		}
		mo := session.ModeOptions{Stderr: stderr, HostSGX: testHostSGX}
		if _, err := mo.Build(ctx, modes, &fp, wbin); err != nil {
			return exitError{exitUsage, "calibrate needs the " + strings.Join(modes, ", ") + " modes: " + err.Error()}
		}
		dir = *resDir
		if dir == "" {
			dir = filepath.Join("results", "calibrate-"+session.NewRunID())
		}
		overrides, err := runspec.ParseOverrides(sim.CalibrationParams)
		if err != nil {
			return err
		}
		spec := runspec.Spec{Workloads: sim.CalibrationWorkloads, Sizes: []string{sz.Name}, Modes: modes,
			Overrides: overrides, Profile: "quick"}
		o := session.Options{Spec: spec, Out: dir, WorkloadBin: *bin, Modes: mo, Output: newProgress(stderr, "auto"),
			Command: append([]string{"bench", "calibrate"}, args...), HarnessVersion: harnessVersion(), HarnessCommit: harnessCommit(),
			Stdout: stderr, Stderr: stderr}
		if err := session.New(ctx, o); err != nil {
			return err
		}
	}
	d, err := result.Load(dir)
	if err != nil {
		return usageError{err}
	}
	cpu := d.Run.Host.CPUModel
	if cpu == "" {
		cpu = fp.CPUModel
	}
	pr, notes, err := sim.Calibrate(d.Samples, hardware, sz, base, cpu, time.Now())
	if err != nil {
		return exitError{exitFailed, "calibrate: " + err.Error()}
	}
	p := &sim.Profile{Format: sim.ProfileFormat, Name: *name, Version: *version,
		Description: fmt.Sprintf("Measured by bench calibrate from %s on %s (%s).", dir, sz.Name, cpu),
		Platforms:   map[string]*sim.Prices{sz.Family: pr}}
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	if _, err := sim.ParseProfile(b); err != nil {
		return fmt.Errorf("calibrate produced an invalid profile: %v", err)
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	fmt.Fprintf(stderr, "%s: OCALL %.0f cycles, EPC swap %.0f cycles, memory-encryption factor %.2f (at %.3g Hz)\n",
		sz.Family, pr.OCallCycles, pr.EPCLoadCycles+pr.EPCEvictionCycles, pr.MEEFactor, pr.ClockHz)
	if *out == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "profile written to %s (use: bench run --modes sim --profile-file %s)\n", *out, *out)
	return nil
}
