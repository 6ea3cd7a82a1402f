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
	"github.com/enclavebench/enclavebench/workloads/protocol"
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
	return workload.Env{Size: c.WorkloadSize(), HostMem: hostMem, Parameters: c.Params}
}

// WorkloadSize is the cell's size as its workload receives it (one value,
// the workload binary's --size).
func (c Cell) WorkloadSize() protocol.Size {
	return protocol.Size{Name: c.Size, VCPUs: c.SizeInfo.VCPUs, EPCBytes: c.SizeInfo.EPCBytes, MemBytes: c.SizeInfo.MemBytes()}
}

// Request is what to resolve: a run spec as its user asked for it (flags,
// a calibration, a fleet plan), or as run.json recorded it (Stored).
type Request struct {
	// Registry is the workloads the spec may name (see Prepare).
	Registry workload.Registry
	Spec     runspec.Spec
	// Stored marks run.json's plan (--resume): resolved when the run
	// started, it is checked complete and expanded as it is; nothing is
	// filled in again (its footprints' overrides are in it already).
	Stored bool
	// Prepare, when set, completes the validated spec with what depends on
	// the host and on chance (the modes "auto" picks, a random seed, the
	// --gotest packages) before it is resolved, and returns the workloads
	// it may name (nil: Registry). Its error is returned as it is.
	Prepare func(*runspec.Spec) (workload.Registry, error)
	// HostMem is the memory of the host the cells run on (workloads refuse
	// what cannot fit); with OnSize, each cell runs on a VM of its size (a
	// fleet plan) and HostMem is not used.
	HostMem int64
	OnSize  bool
}

// Run is a resolved run: what a spec asks for, validated once, with
// everything filled in.
type Run struct {
	// Spec has every field set but the seed and modes of a request
	// without Prepare: run.json's plan.
	Spec    runspec.Spec
	Profile Profile
	Sizes   []sizes.Size
	// Cells are the cells of the run in their randomised order.
	Cells []Cell
}

// On lists the cells of r on one size, in order.
func (r *Run) On(size string) []Cell {
	var out []Cell
	for _, c := range r.Cells {
		if c.Size == size {
			out = append(out, c)
		}
	}
	return out
}

// Resolve validates a request's spec (runspec.Spec.Validate; a stored
// one, ValidateResolved) and resolves it: the profile fills in what the
// spec leaves to it (repetitions, warmup, minimum time, timeout), its size
// selectors become the sizes they select, an empty workload list the
// registry's, its footprints the overrides they set (the resolved spec
// keeps Footprints as the record of the request), and its cells are
// expanded and validated against the workloads and put in the seed's
// order. Every error names what is valid, before anything runs.
func Resolve(r Request) (*Run, error) {
	s := r.Spec
	if r.Stored {
		if err := s.ValidateResolved(); err != nil {
			return nil, fmt.Errorf("run.json's plan cannot be replayed: %v", err)
		}
	} else if err := s.Validate(); err != nil {
		return nil, err
	}
	reg := r.Registry
	if r.Prepare != nil {
		prepared, err := r.Prepare(&s)
		if err != nil {
			return nil, err
		}
		if prepared != nil {
			reg = prepared
		}
	}
	prof, err := LookupProfile(s.Profile)
	if err != nil {
		return nil, err
	}
	run := &Run{Profile: prof}
	if !r.Stored {
		if s, err = fill(reg, s, prof); err != nil {
			return nil, err
		}
	}
	if run.Sizes, err = SelectSizes(s.Sizes); err != nil {
		return nil, err
	}
	s.Sizes = nil
	for _, z := range run.Sizes {
		s.Sizes = append(s.Sizes, z.Name)
	}
	run.Spec = s
	if run.Cells, err = expand(reg, run, r); err != nil {
		if r.Stored {
			return nil, fmt.Errorf("the plan no longer expands: %v", err)
		}
		return nil, err
	}
	return run, nil
}

// fill completes a request from its profile and registry.
func fill(reg workload.Registry, s runspec.Spec, prof Profile) (runspec.Spec, error) {
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

// expand returns the cells of a resolved run in its seed's order.
func expand(reg workload.Registry, run *Run, r Request) ([]Cell, error) {
	s := run.Spec
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
		names = reg.Names()
	}
	specs := make([]*workload.Spec, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		ws, err := reg.Lookup(n)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			specs = append(specs, ws)
			seen[n] = true
		}
	}
	if err := checkOverrides(reg, s.Overrides, seen); err != nil {
		return nil, err
	}
	var cells []Cell
	for _, ws := range specs {
		combos, err := combos(ws, s.Overrides, run.Profile.Full)
		if err != nil {
			return nil, err
		}
		for _, combo := range combos {
			params := map[string]string{}
			for i, p := range ws.Params {
				params[p.Name] = combo[i]
			}
			for _, sz := range run.Sizes {
				hostMem := r.HostMem
				if r.OnSize {
					hostMem = sz.MemBytes()
				}
				for _, m := range s.Modes {
					c := Cell{
						Cell:     result.Cell{Workload: ws.Name, Params: params, Size: sz.Name, Mode: m, ParamOrder: ws.ParamNames()},
						Spec:     ws,
						SizeInfo: sz,
					}
					env := c.Env(hostMem)
					if err := ws.Validate(params, env); err != nil {
						return nil, fmt.Errorf("%v (size %s)", err, sz.Name)
					}
					if ws.Footprint != nil {
						c.Footprint = ws.Footprint(env)
					}
					c.Memory = ws.MemoryOf(env)
					cells = append(cells, c)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(uint64(s.Seed), 0x656e636c617665)) // "enclave"
	rng.Shuffle(len(cells), func(i, j int) { cells[i], cells[j] = cells[j], cells[i] })
	return cells, nil
}

// checkOverrides refuses a --param of a workload or parameter that is not
// there, or of a workload the run does not select.
func checkOverrides(reg workload.Registry, overrides map[string][]string, selected map[string]bool) error {
	for key := range overrides {
		w, p, ok := strings.Cut(key, ".")
		if !ok {
			return fmt.Errorf("--param %q: want workload.parameter=v1,v2", key)
		}
		ws, err := reg.Lookup(w)
		if err != nil {
			return fmt.Errorf("--param %s: %v", key, err)
		}
		if _, ok := ws.Param(p); !ok {
			return fmt.Errorf("--param %s: workload %s has no parameter %q (valid: %s)", key, w, p, strings.Join(ws.ParamNames(), ", "))
		}
		if !selected[w] {
			return fmt.Errorf("--param %s: workload %s is not selected (add it to --workloads)", key, w)
		}
	}
	return nil
}

// combos are the parameter values of a workload's cells: the product of
// its grids (the full or quick ones, or the overrides), or the
// sub-benchmarks that exist among them (Spec.Combos).
func combos(ws *workload.Spec, overrides map[string][]string, full bool) ([][]string, error) {
	grids := make([][]string, len(ws.Params))
	for i, p := range ws.Params {
		g := p.Quick
		if full {
			g = p.Full
		}
		if o, ok := overrides[ws.Name+"."+p.Name]; ok {
			g = o
		}
		if len(g) == 0 {
			return nil, fmt.Errorf("%s.%s: empty grid", ws.Name, p.Name)
		}
		grids[i] = g
	}
	out := product(grids)
	if ws.Combos != nil {
		out = out[:0]
		for _, c := range ws.Combos {
			if inGrids(c, grids) {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no sub-benchmark has the --param values given", ws.Name)
		}
	}
	return out, nil
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
