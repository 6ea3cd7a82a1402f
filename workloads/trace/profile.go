//go:build linux && amd64 && sim

package trace

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/pprof/profile"
)

// Profile turns the sites of a counting pass over ops operations into a
// pprof profile: one sample per site, values ocalls and ecalls, the frames
// of its stack as locations (each program counter one location, its
// inlined calls as its lines), the cause as a label.
func Profile(sites []Site, ops int64, method string) *profile.Profile {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: SampleOCalls, Unit: "count"}, {Type: SampleECalls, Unit: "count"}},
		Comments: []string{
			fmt.Sprintf("enclavebench sim counting pass: %d operations", ops),
			method,
		},
	}
	mappings := map[string]*profile.Mapping{}
	locs := map[string]*profile.Location{} // binary + pc
	funcs := map[string]*profile.Function{}
	fn := func(name, file string) *profile.Function {
		k := name + "\x00" + file
		if f, ok := funcs[k]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: file}
		funcs[k] = f
		p.Function = append(p.Function, f)
		return f
	}
	for _, s := range sites {
		cause, clock := strings.CutPrefix(s.Cause, ClockPrefix)
		smp := &profile.Sample{Value: []int64{0, 0}, Label: map[string][]string{LabelCause: {cause}}}
		if s.Cause == StackECall {
			smp.Value[1] = s.Count
		} else {
			smp.Value[0] = s.Count
		}
		if clock {
			smp.Label[LabelClock] = []string{"yes"}
		}
		if s.NoStack != "" {
			smp.Label[LabelNoStack] = []string{s.NoStack}
		}
		m := mappings[s.Binary]
		if m == nil && s.Binary != "" {
			m = &profile.Mapping{ID: uint64(len(p.Mapping) + 1), File: s.Binary, HasFunctions: true, HasFilenames: true, HasLineNumbers: true, HasInlineFrames: true}
			mappings[s.Binary] = m
			p.Mapping = append(p.Mapping, m)
		}
		for i, pc := range s.PCs {
			k := fmt.Sprintf("%s\x00%x", s.Binary, pc)
			loc := locs[k]
			if loc == nil {
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Address: pc}
				for _, f := range s.Lines[i] {
					loc.Line = append(loc.Line, profile.Line{Function: fn(f.Func, f.File), Line: int64(f.Line)})
				}
				locs[k] = loc
				p.Location = append(p.Location, loc)
			}
			smp.Location = append(smp.Location, loc)
		}
		if len(smp.Location) == 0 {
			// pprof shows samples by location: one that stands for the
			// unknown stack keeps the total exact.
			k := "\x00nostack"
			loc := locs[k]
			if loc == nil {
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn("[stack not taken]", "")}}}
				locs[k] = loc
				p.Location = append(p.Location, loc)
			}
			smp.Location = []*profile.Location{loc}
		}
		p.Sample = append(p.Sample, smp)
	}
	return p
}

// WriteProfile writes p to dir/ProfileFile atomically.
func WriteProfile(dir string, p *profile.Profile) error {
	if err := p.CheckValid(); err != nil {
		return err
	}
	tmp := filepath.Join(dir, ProfileFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ProfileFile))
}
