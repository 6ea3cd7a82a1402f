package sim

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

// Sample types the sim mode adds to the counting pass's profile: the
// transitions' time priced by the cost profile, the paging pass's EPC
// loads (and evictions) by region with theirs, and their sum, the
// predicted extra time (the profile's default sample type).
// The names are the result directory's (result.Profile*), which bench/sites
// reads.
const (
	SampleOCallTime = result.ProfileOCallTime
	SampleECallTime = result.ProfileECallTime
	SampleEPCLoads  = result.ProfileEPCLoads
	SampleEPCEvicts = result.ProfileEPCEvictions
	SampleEPCTime   = result.ProfileEPCTime
	SampleExtraTime = result.ProfileExtraTime
	// LabelRegion names the memory an EPC sample's pages belong to.
	LabelRegion = result.ProfileRegion
)

// CellProfile implements mode.Profiler: the counting pass's OCALLs and
// ECALLs by call stack (trace.ProfileFile), priced for the cell's size,
// with the paging pass's EPC loads by region scaled to the same operations.
func (m *Mode) CellProfile(l mode.Launch, _ *result.CellResult) ([]byte, error) {
	if m.denied != "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(l.Dir, trace.ProfileFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := profile.ParseData(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", trace.ProfileFile, err)
	}
	pass, err := m.pass(l.Dir)
	if err != nil {
		return nil, err
	}
	pr, err := m.prof.For(l.Size.Family)
	if err != nil {
		return nil, err
	}
	if err := Price(p, pass, pr, m.prof.Ref()+" "+l.Size.Family); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := p.Write(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Price adds the priced sample types to a counting pass's profile: each
// sample's OCALLs and ECALLs times their price, and one sample per region
// of the paging pass's EPC loads and evictions (pass.EPC, scaled from its
// operations to the counting pass's), at a location named after the region.
func Price(p *profile.Profile, pass *trace.Pass, pr *Prices, prices string) error {
	io, ie := -1, -1
	for i, st := range p.SampleType {
		switch st.Type {
		case trace.SampleOCalls:
			io = i
		case trace.SampleECalls:
			ie = i
		}
	}
	if io < 0 || ie < 0 {
		return fmt.Errorf("the counting pass's profile has no %s and %s sample types", trace.SampleOCalls, trace.SampleECalls)
	}
	ns := func(v float64) int64 { return int64(math.Round(v)) }
	ocallNS, ecallNS := pr.NS(pr.OCallCycles), pr.NS(pr.ECallCycles)
	loadNS, evictNS := pr.NS(pr.EPCLoadCycles), pr.NS(pr.EPCEvictionCycles)
	p.SampleType = append(p.SampleType,
		&profile.ValueType{Type: SampleOCallTime, Unit: "nanoseconds"},
		&profile.ValueType{Type: SampleECallTime, Unit: "nanoseconds"},
		&profile.ValueType{Type: SampleEPCLoads, Unit: "count"},
		&profile.ValueType{Type: SampleEPCEvicts, Unit: "count"},
		&profile.ValueType{Type: SampleEPCTime, Unit: "nanoseconds"},
		&profile.ValueType{Type: SampleExtraTime, Unit: "nanoseconds"})
	p.DefaultSampleType = SampleExtraTime
	width := len(p.SampleType)
	for _, s := range p.Sample {
		oc, ec := float64(s.Value[io]), float64(s.Value[ie])
		o, e := ns(oc*ocallNS), ns(ec*ecallNS)
		s.Value = append(s.Value, o, e, 0, 0, 0, o+e)
	}
	p.Comments = append(p.Comments, fmt.Sprintf("prices: %s: OCALL %.0f ns, ECALL %.0f ns, EPC load %.0f ns, EPC eviction %.0f ns", prices, ocallNS, ecallNS, loadNS, evictNS))
	if pass == nil || pass.EPC == nil || pass.EPC.Ops <= 0 || pass.Ops <= 0 {
		return p.CheckValid()
	}
	scale := float64(pass.Ops) / float64(pass.EPC.Ops)
	p.Comments = append(p.Comments, fmt.Sprintf("EPC loads and evictions: the paging pass's %d operations, scaled to the counting pass's %d", pass.EPC.Ops, pass.Ops))
	regions := EPCRegions(pass.EPC.Events)
	names := make([]string, 0, len(regions))
	for r := range regions {
		names = append(names, r)
	}
	sort.Strings(names)
	fn := &profile.Function{ID: uint64(len(p.Function) + 1), Name: "[EPC paging]", SystemName: "[EPC paging]"}
	p.Function = append(p.Function, fn)
	for _, r := range names {
		le := regions[r]
		loads, evicts := float64(le[0])*scale, float64(le[1])*scale
		if loads <= 0 && evicts <= 0 {
			continue
		}
		rf := &profile.Function{ID: uint64(len(p.Function) + 1), Name: "[EPC: " + r + "]", SystemName: "[EPC: " + r + "]"}
		p.Function = append(p.Function, rf)
		loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: rf}, {Function: fn}}}
		p.Location = append(p.Location, loc)
		v := make([]int64, width)
		v[width-4], v[width-3] = ns(loads), ns(evicts)
		v[width-2] = ns(loads*loadNS + evicts*evictNS)
		v[width-1] = v[width-2]
		p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{loc}, Value: v, Label: map[string][]string{LabelRegion: {r}}})
	}
	return p.CheckValid()
}

// EPCRegions splits a paging pass's events into loads and evictions by
// region: the events region_loads.<region> and region_evictions.<region>
// where the pass attributed them (never in samples: only the pass's record
// has them), the rest of epc_loads and epc_evictions as region
// "unattributed".
func EPCRegions(ev map[string]int64) map[string][2]int64 {
	out := map[string][2]int64{}
	var loads, evicts int64
	for k, v := range ev {
		switch {
		case strings.HasPrefix(k, trace.RegionLoads):
			r := out[k[len(trace.RegionLoads):]]
			r[0] += v
			out[k[len(trace.RegionLoads):]] = r
			loads += v
		case strings.HasPrefix(k, trace.RegionEvictions):
			r := out[k[len(trace.RegionEvictions):]]
			r[1] += v
			out[k[len(trace.RegionEvictions):]] = r
			evicts += v
		}
	}
	if rest := [2]int64{ev[protocol.EventEPCLoads] - loads, ev[protocol.EventEPCEvicts] - evicts}; rest[0] > 0 || rest[1] > 0 {
		out["unattributed"] = [2]int64{max(rest[0], 0), max(rest[1], 0)}
	}
	return out
}

var _ mode.Profiler = (*Mode)(nil)
