package runspec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Flags binds the flags of a run request to a flag set; Spec returns what
// they asked for. `bench run` and `bench plan` share them, so that a plan
// hands every host the request its user wrote.
type Flags struct {
	fs      *pflag.FlagSet
	spec    Spec
	params  []string
	warmup  int
	minTime time.Duration
	timeout time.Duration
}

// Defaults are the values a flag set starts from.
type Defaults struct {
	Sizes, Modes []string
	Profile      string
	ModesUsage   string // what --modes accepts
	ProfileUsage string // what --profile accepts
	// Run adds the flags only a run on this host has (--seed, --rounds).
	Run bool
}

// AddFlags defines the run request's flags on fs.
func AddFlags(fs *pflag.FlagSet, d Defaults) *Flags {
	f := &Flags{fs: fs}
	f.spec.Sizes, f.spec.Modes, f.spec.Profile = d.Sizes, d.Modes, d.Profile
	fs.Var(&listFlag{p: &f.spec.Workloads}, "workloads", "workloads to run, comma-separated (default: all; see bench list)")
	fs.Var(&listFlag{p: &f.spec.Sizes}, "sizes", "sizes: all, dcsv2, dcsv3, dcdsv3, or names (see bench sizes)")
	fs.Var(&listFlag{p: &f.spec.Modes}, "modes", "modes: "+d.ModesUsage)
	fs.StringVar(&f.spec.Profile, "profile", d.Profile, "profile: "+d.ProfileUsage)
	fs.StringArrayVar(&f.params, "param", nil, "override a grid: workload.param=v1,v2 (repeatable)")
	fs.Var(&listFlag{p: &f.spec.Footprints}, "footprint", "absolute enclave memory sizes, e.g. 64MiB,200MiB: set the footprint parameter of every workload that has one (memsweep.ws, kvstore.dataset, aesgcm.dataset) on every size, for sizing")
	fs.Var(&intFlag{p: &f.spec.Reps, min: 1}, "reps", "measured repetitions per cell, 1 or more (default: the profile's)")
	fs.Var(&intFlag{p: &f.warmup, min: 0}, "warmup", "warmup repetitions per cell, 0 or more (default: the profile's)")
	fs.Var(&durationFlag{p: &f.minTime}, "min-time", "minimum duration of a repetition, > 0 (default: the profile's)")
	fs.Var(&durationFlag{p: &f.timeout}, "timeout", "per-cell timeout, > 0 (default: the profile's)")
	fs.BoolVar(&f.spec.Counts, "counts", false, "also count each cell's instructions, simulated cache misses (Xeon E-2288G), system calls and allocations per operation, in an untimed pass under Valgrind (docs/ci.md)")
	if d.Run {
		fs.Var(&seedFlag{p: &f.spec.Seed}, "seed", "seed of the cell order, not 0 (default: random, recorded in run.json)")
		fs.Var(&intFlag{p: &f.spec.Rounds, min: 1}, "rounds", "processes per cell, each measuring reps/rounds repetitions, 1 or more (default 1; with --baseline, one per repetition)")
		fs.Var(&listFlag{p: &f.spec.GoTest}, "gotest", "your own Go benchmarks as workloads: package patterns of your module (./kv, ./...), built with go test -c; see the README, \"Your own code\"")
		fs.StringVar(&f.spec.Bench, "bench", "", "with --gotest: the benchmarks to run, a -test.bench regular expression (default: all)")
		fs.StringVar(&f.spec.Tags, "tags", "", "with --gotest: build tags for go test -c, comma-separated")
	}
	return f
}

// Spec returns the request the parsed flags make. It is validated where it
// is resolved (bench/plan.Resolve), once.
func (f *Flags) Spec() (Spec, error) {
	s := f.spec
	overrides, err := ParseOverrides(f.params)
	if err != nil {
		return Spec{}, err
	}
	s.Overrides = overrides
	if f.fs.Changed("warmup") {
		w := f.warmup
		s.Warmup = &w
	}
	s.MinTimeNS, s.TimeoutNS = f.minTime.Nanoseconds(), f.timeout.Nanoseconds()
	return s, nil
}

// ParseOverrides reads --param values "workload.param=v1,v2". A key given
// twice joins its values; a value given twice is an error, since it would
// run one cell twice.
func ParseOverrides(flags []string) (map[string][]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string][]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--param %q: want workload.parameter=v1,v2", f)
		}
		for _, x := range strings.Split(v, ",") {
			x = strings.TrimSpace(x)
			if x == "" {
				return nil, fmt.Errorf("--param %q: an empty value (want workload.parameter=v1,v2)", f)
			}
			out[k] = append(out[k], x)
		}
	}
	for k, vals := range out {
		if err := checkOverride(k, vals); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listFlag is a comma-separated list flag: the first use replaces the
// default, later ones add to it, an empty value is an error (it would
// otherwise mean "the default", which is not what was typed).
type listFlag struct {
	p   *[]string
	set bool
}

func (f *listFlag) String() string { return strings.Join(*f.p, ",") }
func (f *listFlag) Type() string   { return "strings" }
func (f *listFlag) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty: give at least one name (leave the flag out for the default)")
	}
	if !f.set {
		*f.p, f.set = nil, true
	}
	for _, v := range strings.Split(s, ",") {
		*f.p = append(*f.p, strings.TrimSpace(v))
	}
	return nil
}

// intFlag is an integer flag with a lower bound.
type intFlag struct {
	p   *int
	min int
}

func (f *intFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return strconv.Itoa(*f.p)
}
func (f *intFlag) Type() string { return "int" }
func (f *intFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want an integer, %d or more", f.min)
	}
	if n < f.min {
		return fmt.Errorf("want %d or more", f.min)
	}
	*f.p = n
	return nil
}

// durationFlag is a positive duration flag.
type durationFlag struct{ p *time.Duration }

func (f *durationFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return f.p.String()
}
func (f *durationFlag) Type() string { return "duration" }
func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration such as 20ms, 1.5s or 2m")
	}
	*f.p = d
	return nil
}

// seedFlag is a non-zero seed (0 means "random", which a user who types
// a seed does not mean).
type seedFlag struct{ p *int64 }

func (f *seedFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return strconv.FormatInt(*f.p, 10)
}
func (f *seedFlag) Type() string { return "int" }
func (f *seedFlag) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 || n == math.MinInt64 {
		return fmt.Errorf("want a non-zero integer")
	}
	*f.p = n
	return nil
}

// EnumFlag is a string flag that accepts one of a fixed set of values.
type EnumFlag struct {
	Value string
	Valid []string
}

func (f *EnumFlag) String() string { return f.Value }
func (f *EnumFlag) Type() string   { return "string" }
func (f *EnumFlag) Set(s string) error {
	for _, v := range f.Valid {
		if s == v {
			f.Value = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(f.Valid, ", "))
}
