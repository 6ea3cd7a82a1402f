// Package plan expands what a user asked for (workloads, parameter grids,
// sizes, modes, a profile) into the cells of a run, validated before any run
// starts and put in a randomised, interleaved order.
package plan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Profile sets the grids and the repetition scheme of a run.
type Profile struct {
	Name    string
	Doc     string
	Full    bool // use the workloads' full grids (else quick)
	Reps    int
	Warmup  int
	MinTime time.Duration
	Timeout time.Duration // per cell
}

// Profiles are the built-in profiles. quick gives 6 samples per cell, the
// fewest for which benchmath computes a 95% confidence interval.
var Profiles = map[string]Profile{
	"quick": {Name: "quick", Doc: "CI: small grids, 6 repetitions of >= 20ms", Reps: 6, Warmup: 1, MinTime: 20 * time.Millisecond, Timeout: 2 * time.Minute},
	"full":  {Name: "full", Doc: "publication: full grids, 10 repetitions of >= 200ms", Full: true, Reps: 10, Warmup: 2, MinTime: 200 * time.Millisecond, Timeout: 10 * time.Minute},
}

// ProfileNames lists the built-in profiles.
func ProfileNames() []string {
	var n []string
	for k := range Profiles {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// LookupProfile returns a built-in profile or an error naming the valid ones.
func LookupProfile(name string) (Profile, error) {
	p, ok := Profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("unknown profile %q (valid: %s)", name, strings.Join(ProfileNames(), ", "))
	}
	return p, nil
}

// Cell is one planned cell.
type Cell struct {
	result.Cell
	Spec      *workload.Spec
	SizeInfo  sizes.Size
	Footprint int64
	// Memory is where the cell's memory lives (Spec.MemoryOf), which sizes
	// an enclave's heap.
	Memory workload.Memory
}

// Env is the workload environment of the cell (for validation and sizing).
func (c Cell) Env(hostMem int64) workload.Env {
	return workload.Env{
		Size: c.Size, Mode: c.Mode, VCPUs: c.SizeInfo.VCPUs, EPCBytes: c.SizeInfo.EPCBytes,
		MemBytes: c.SizeInfo.MemBytes(), HostMem: hostMem, Parameters: c.Params,
	}
}

// Request is what to expand: a resolved run spec (see Resolve).
type Request struct {
	Registry workload.Registry
	Spec     runspec.Spec
	HostMem  int64
}

// Resolve fills in what s leaves to its profile (repetitions, warmup,
// minimum time, timeout), selects its sizes by name, lists the workloads
// it runs and adds the overrides its footprints set (the resolved spec
// keeps Footprints as the record of the request). Modes ("auto") and the seed are the caller's: they
// depend on the host and on chance.
func Resolve(reg workload.Registry, s runspec.Spec) (runspec.Spec, error) {
	if err := s.Validate(); err != nil {
		return s, err
	}
	prof, err := LookupProfile(s.Profile)
	if err != nil {
		return s, err
	}
	if s.Reps == 0 {
		s.Reps = prof.Reps
	}
	if s.Warmup == nil {
		w := prof.Warmup
		s.Warmup = &w
	}
	if s.MinTimeNS == 0 {
		s.MinTimeNS = prof.MinTime.Nanoseconds()
	}
	if s.TimeoutNS == 0 {
		s.TimeoutNS = prof.Timeout.Nanoseconds()
	}
	if err := s.CheckTimes("the values not given come from profile " + prof.Name); err != nil {
		return s, err
	}
	if len(s.Footprints) > 0 {
		fp, err := ParseFootprints(s.Footprints)
		if err != nil {
			return s, err
		}
		if s.Overrides, err = FootprintOverrides(reg, s.Workloads, fp, s.Overrides); err != nil {
			return s, err
		}
	}
	sz, err := SelectSizes(s.Sizes)
	if err != nil {
		return s, err
	}
	s.Sizes = nil
	for _, z := range sz {
		s.Sizes = append(s.Sizes, z.Name)
	}
	if len(s.Workloads) == 0 {
		s.Workloads = reg.Names()
	}
	return s, nil
}

// SelectSizes selects the sizes a list of names, families and "all"
// names; a size selected twice (DC1s_v2 and dcsv2) is an error, since it
// would run its cells twice.
func SelectSizes(sel []string) ([]sizes.Size, error) {
	from := map[string]string{}
	for _, part := range sel {
		sz, err := sizes.Select(part)
		if err != nil {
			return nil, err
		}
		for _, z := range sz {
			if prev, ok := from[z.Name]; ok {
				return nil, fmt.Errorf("--sizes: %s is selected twice (by %s and by %s)", z.Name, prev, part)
			}
			from[z.Name] = part
		}
	}
	return sizes.Select(strings.Join(sel, ","))
}

// Expand returns the cells of r in a randomised order. Every error names
// what is valid, and is returned before anything runs.
func Expand(r Request) ([]Cell, error) {
	s := r.Spec
	if err := s.Validate(); err != nil {
		return nil, err
	}
	prof, err := LookupProfile(s.Profile)
	if err != nil {
		return nil, err
	}
	selected, err := SelectSizes(s.Sizes)
	if err != nil {
		return nil, err
	}
	if len(s.Modes) == 0 {
		return nil, fmt.Errorf("no modes selected (valid: %s)", strings.Join(mode.Names(), ", "))
	}
	for _, m := range s.Modes {
		if err := mode.Validate(m); err != nil {
			return nil, err
		}
	}
	names := s.Workloads
	if len(names) == 0 {
		names = r.Registry.Names()
	}
	specs := make([]*workload.Spec, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		s, err := r.Registry.Lookup(n)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			specs = append(specs, s)
			seen[n] = true
		}
	}
	for key := range s.Overrides {
		w, p, ok := strings.Cut(key, ".")
		if !ok {
			return nil, fmt.Errorf("--param %q: want workload.parameter=v1,v2", key)
		}
		s, err := r.Registry.Lookup(w)
		if err != nil {
			return nil, fmt.Errorf("--param %s: %v", key, err)
		}
		if _, ok := s.Param(p); !ok {
			return nil, fmt.Errorf("--param %s: workload %s has no parameter %q (valid: %s)", key, w, p, strings.Join(s.ParamNames(), ", "))
		}
		if !seen[w] {
			return nil, fmt.Errorf("--param %s: workload %s is not selected (add it to --workloads)", key, w)
		}
	}
	var cells []Cell
	for _, s := range specs {
		grids := make([][]string, len(s.Params))
		for i, p := range s.Params {
			g := p.Quick
			if prof.Full {
				g = p.Full
			}
			if o, ok := r.Spec.Overrides[s.Name+"."+p.Name]; ok {
				g = o
			}
			if len(g) == 0 {
				return nil, fmt.Errorf("%s.%s: empty grid", s.Name, p.Name)
			}
			grids[i] = g
		}
		combos := product(grids)
		if s.Combos != nil {
			combos = combos[:0]
			for _, c := range s.Combos {
				if inGrids(c, grids) {
					combos = append(combos, c)
				}
			}
			if len(combos) == 0 {
				return nil, fmt.Errorf("%s: no sub-benchmark has the --param values given", s.Name)
			}
		}
		for _, combo := range combos {
			params := map[string]string{}
			for i, p := range s.Params {
				params[p.Name] = combo[i]
			}
			for _, sz := range selected {
				for _, m := range r.Spec.Modes {
					c := Cell{
						Cell:     result.Cell{Workload: s.Name, Params: params, Size: sz.Name, Mode: m, ParamOrder: s.ParamNames()},
						Spec:     s,
						SizeInfo: sz,
					}
					env := c.Env(r.HostMem)
					if err := s.Validate(params, env); err != nil {
						return nil, fmt.Errorf("%v (size %s)", err, sz.Name)
					}
					if s.Footprint != nil {
						c.Footprint = s.Footprint(env)
					}
					c.Memory = s.MemoryOf(env)
					cells = append(cells, c)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(uint64(r.Spec.Seed), 0x656e636c617665)) // "enclave"
	rng.Shuffle(len(cells), func(i, j int) { cells[i], cells[j] = cells[j], cells[i] })
	return cells, nil
}

// product is the cartesian product of the grids, in order.
func product(grids [][]string) [][]string {
	out := [][]string{{}}
	for _, g := range grids {
		var next [][]string
		for _, prefix := range out {
			for _, v := range g {
				next = append(next, append(append([]string(nil), prefix...), v))
			}
		}
		out = next
	}
	return out
}

// inGrids reports whether every value of combo is in its grid.
func inGrids(combo []string, grids [][]string) bool {
	for i, v := range combo {
		if !slices.Contains(grids[i], v) {
			return false
		}
	}
	return true
}

// ParseFootprints reads --footprint values: absolute byte counts ("64MiB",
// "200MiB", "1GiB"), each positive, none twice. EPC multiples are refused:
// a footprint is what the user's application holds, the same on every size.
func ParseFootprints(values []string) ([]string, error) {
	var out []string
	seen := map[int64]string{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, fmt.Errorf("--footprint: empty value (want absolute sizes, e.g. --footprint 64MiB,200MiB)")
		}
		if strings.HasSuffix(v, "xEPC") {
			return nil, fmt.Errorf("--footprint %s: want an absolute size (e.g. 64MiB); an EPC multiple differs per size (use --param for that)", v)
		}
		n, err := workload.ParseBytes(v, workload.Env{})
		if err != nil {
			return nil, fmt.Errorf("--footprint %s: %v", v, err)
		}
		if prev, ok := seen[n]; ok {
			return nil, fmt.Errorf("--footprint %s: the same size as %s", v, prev)
		}
		seen[n] = v
		out = append(out, v)
	}
	return out, nil
}

// FootprintOverrides sets the footprint parameter (Spec.FootprintParam) of
// every selected workload that has one to footprints, added to overrides.
// It refuses a footprint parameter that --param also sets, and a selection
// in which no workload has one.
func FootprintOverrides(reg workload.Registry, selected []string, footprints []string, overrides map[string][]string) (map[string][]string, error) {
	if len(footprints) == 0 {
		return overrides, nil
	}
	names := selected
	if len(names) == 0 {
		names = reg.Names()
	}
	out := map[string][]string{}
	for k, v := range overrides {
		out[k] = v
	}
	var with []string
	for _, n := range names {
		s, err := reg.Lookup(n)
		if err != nil {
			return nil, err
		}
		if s.FootprintParam == "" {
			continue
		}
		key := s.Name + "." + s.FootprintParam
		if _, ok := overrides[key]; ok {
			return nil, fmt.Errorf("--footprint and --param %s both set %s's footprint: give one", key, s.Name)
		}
		out[key] = append([]string(nil), footprints...)
		with = append(with, s.Name)
	}
	if len(with) == 0 {
		var have []string
		for _, n := range reg.Names() {
			if reg[n].FootprintParam != "" {
				have = append(have, n)
			}
		}
		return nil, fmt.Errorf("--footprint: no selected workload has a footprint parameter (those that do: %s)", strings.Join(have, ", "))
	}
	return out, nil
}
