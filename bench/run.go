package main

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/session"
)

func init() {
	register(command{name: "run", summary: "run workloads across sizes and modes into a result directory", run: runCmd})
}

const runExamples = `  # The quick suite on every DCsv2 size, natively, into results/<run-id>/
  bench run

  # Two workloads, two sizes, native mode, the quick profile, into a chosen directory
  bench run --workloads syscall,memsweep --sizes DC1s_v2,DC2s_v2 --modes native -o /tmp/r1

  # Which DCsv2 size does a 64 MiB or 200 MiB enclave working set need? (then: bench report DIR)
  bench run --footprint 64MiB,200MiB --modes native,sim

  # Your own Go benchmarks (func BenchmarkX in your module, sub-benchmarks included) as workloads
  bench run --gotest ./... --bench Get --sizes dcsv2 --modes native,sim

  # Override a parameter grid, more repetitions
  bench run --workloads memsweep --param memsweep.ws=0.25xEPC,1xEPC,2xEPC --reps 10

  # Finish the cells an interrupted or killed run left out
  bench run --resume results/20261127T040000Z-1a2b

  # Stream records to stdout (pod logs), summary on stderr
  bench run --sizes DC2s_v2 -o - > run.log

  # A/B: the base branch's workload binary against this one, interleaved, then the gate
  bench run --baseline /tmp/base/workload --workload-bin bin/workload --modes sim -o /tmp/ab
  bench compare /tmp/ab/base /tmp/ab/new --fail-on regression
`

// runResumeFlags are the flags --resume honours besides the modes' flags
// (whose settings the session checks against the run's); every other flag
// would change the plan the run recorded, or be ignored, and is refused.
var runResumeFlags = []string{"resume", "timeout", "workload-bin", "progress", "rewrite-derived"}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "run [flags]", runExamples, stderr)
	spec := runspec.AddFlags(fs, runspec.Defaults{Sizes: []string{"dcsv2"}, Modes: []string{mode.Baseline()}, Profile: "quick", Run: true,
		ModesUsage:   strings.Join(mode.Names(), ", ") + ", or auto (" + mode.Baseline() + " + the best enclave mode here)",
		ProfileUsage: strings.Join(plan.ProfileNames(), ", ")})
	o := session.Options{Stdout: stdout, Stderr: stderr, HarnessVersion: harnessVersion(), HarnessCommit: harnessCommit(),
		Command: append([]string{"bench", "run"}, args...)}
	var resume string
	progressFlag := &runspec.EnumFlag{Value: "auto", Valid: []string{"auto", "always", "never"}}
	fs.StringVarP(&o.Out, "out", "o", "", "result directory (default results/<run-id>); - streams records to stdout")
	fs.StringVar(&resume, "resume", "", "finish the missing and failed cells of an earlier run directory (with --timeout, --workload-bin, --progress, --rewrite-derived and the mode flags only; the --ego-* flags must be the run's)")
	fs.StringVar(&o.WorkloadBin, "workload-bin", "", "the workload binary (default: next to bench, or $ENCLAVEBENCH_WORKLOAD)")
	fs.Var(progressFlag, "progress", "progress bar: auto (only on a terminal), always, never")
	fs.StringVar(&o.Baseline, "baseline", "", "a baseline workload binary: run it and the candidate (--workload-bin) interleaved, into DIR/base and DIR/new (native and sim modes)")
	fs.BoolVar(&o.RewriteDerived, "rewrite-derived", false, "rewrite bench.txt and results.csv even when they would lose rows (samples lost since they were written)")
	o.Modes.Flags = addModeFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes no arguments, got %q (did you mean --workloads %s?)", fs.Args(), strings.Join(fs.Args(), ","))
	}
	o.Modes.HostSGX = testHostSGX
	o.Output = newProgress(stderr, progressFlag.Value)
	if resume != "" {
		allowed := runResumeFlags
		for _, f := range mode.Flags() {
			allowed = append(allowed, f.Name)
		}
		var refused []string
		fs.Visit(func(f *pflag.Flag) {
			if !slices.Contains(allowed, f.Name) {
				refused = append(refused, "--"+f.Name)
			}
		})
		if len(refused) > 0 {
			return usagef("--resume replays the run's own plan; %s cannot be changed (a resume takes --%s only)",
				strings.Join(refused, ", "), strings.Join(allowed[1:], ", --"))
		}
		if fs.Changed("timeout") {
			t, _ := fs.GetDuration("timeout")
			o.Timeout = t
		}
		return session.Resume(ctx, resume, o)
	}
	var err error
	if o.Spec, err = spec.Spec(); err != nil {
		return usageError{err}
	}
	return session.New(ctx, o)
}

// testHostSGX overrides SGX detection in the enclave modes (tests only,
// with the stand-in ego in bench/testdata/ego-standin).
var testHostSGX func() bool

// addModeFlags defines the flags the registered modes declare
// (mode.Flags); the values are read when the flag set is parsed.
func addModeFlags(fs *pflag.FlagSet) mode.Options {
	o := mode.Options{}
	for _, f := range mode.Flags() {
		fs.Var(&modeFlag{o: o, f: f}, f.Name, f.Usage)
		if f.Bool {
			fs.Lookup(f.Name).NoOptDefVal = "true"
		}
		o[f.Name] = f.Zero()
	}
	return o
}

// modeFlag is one mode flag's value in the run's mode.Options.
type modeFlag struct {
	o mode.Options
	f mode.Flag
}

func (v *modeFlag) String() string {
	if v.o == nil {
		return v.f.Zero()
	}
	return v.o[v.f.Name]
}

func (v *modeFlag) Type() string {
	if v.f.Bool {
		return "bool"
	}
	return "string"
}

// IsBoolFlag lets a boolean flag be given without a value (pflag).
func (v *modeFlag) IsBoolFlag() bool { return v.f.Bool }

func (v *modeFlag) Set(s string) error {
	if v.f.Bool {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("must be true or false") // as pflag's boolean flags say it
		}
		s = strconv.FormatBool(b)
	}
	v.o[v.f.Name] = s
	return nil
}
