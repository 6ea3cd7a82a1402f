package main

import (
	"context"
	"io"
	"slices"
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

// runResumeFlags are the flags --resume honours; every other flag would
// change the plan the run recorded, or be ignored, and is refused.
var runResumeFlags = []string{"resume", "timeout", "workload-bin", "progress", "rewrite-derived",
	"source-dir", "ego-debug", "ego-trace-ocalls", "ego-precise-clock", "ego-cache", "profile-file"}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", "run [flags]", runExamples, stderr)
	spec := runspec.AddFlags(fs, runspec.Defaults{Sizes: []string{"dcsv2"}, Modes: []string{mode.Native}, Profile: "quick", Run: true,
		ModesUsage:   strings.Join(mode.Names(), ", ") + ", or auto (native + the best enclave mode here)",
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
	addModeFlags(fs, &o.Modes)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes no arguments, got %q (did you mean --workloads %s?)", fs.Args(), strings.Join(fs.Args(), ","))
	}
	o.Modes.HostSGX = testHostSGX
	o.Output = newProgress(stderr, progressFlag.Value)
	if resume != "" {
		var refused []string
		fs.Visit(func(f *pflag.Flag) {
			if !slices.Contains(runResumeFlags, f.Name) {
				refused = append(refused, "--"+f.Name)
			}
		})
		if len(refused) > 0 {
			return usagef("--resume replays the run's own plan; %s cannot be changed (a resume takes --%s only)",
				strings.Join(refused, ", "), strings.Join(runResumeFlags[1:], ", --"))
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

// addModeFlags defines the flags that configure enclave and model modes.
func addModeFlags(fs *pflag.FlagSet, m *session.ModeOptions) {
	fs.StringVar(&m.ProfileFile, "profile-file", "", "sim: cost profile JSON (default: the built-in published DCsv2 profile)")
	fs.StringVar(&m.SourceDir, "source-dir", "", "sgx/ego-sim: the enclavebench source tree to build with ego-go (default: found from the working directory)")
	fs.BoolVar(&m.EGoDebug, "ego-debug", false, "sgx/ego-sim: sign debug enclaves")
	fs.BoolVar(&m.EGoTrace, "ego-trace-ocalls", false, "sgx/ego-sim: OE_TRACE_OCALLS=1, OCALL counts per cell (perturbs OCALL-heavy cells)")
	fs.BoolVar(&m.PreciseClock, "ego-precise-clock", false, "sgx/ego-sim: ERT_DISABLE_VDSO_CLOCK=1, precise in-enclave clock through OCALLs")
	fs.StringVar(&m.EGoCache, "ego-cache", "", "sgx/ego-sim: cache of built and signed binaries (default ~/.cache/enclavebench/ego)")
}
