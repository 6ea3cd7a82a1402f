// Package facts records, with a run's results, what readers need to
// interpret its cells (result.Facts): each workload's parameter order,
// declared metrics and figure roles, each mode's kind and label, each
// cell's footprint. It is the one place that asks the workload registry
// and the modes on behalf of readers, so report, compare and export read
// facts from the results and never import workload packages. The sizes the
// cells were sized for are recorded too, so that editing the size catalog
// changes no old report.
package facts

import (
	"fmt"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Record returns the facts of a run's cells. run supplies the plan's modes
// and the sim cost profile that labels sim figures.
func Record(run *result.Run, cells []plan.Cell) *result.Facts {
	f := &result.Facts{Workloads: map[string]result.WorkloadFacts{}, Modes: map[string]result.ModeFacts{}, Cells: map[string]result.CellFacts{},
		Sizes: map[string]result.SizeFacts{}, Baseline: mode.Baseline()}
	for _, m := range run.Plan.Modes {
		f.Modes[m] = modeFacts(m, profileRef(run))
	}
	for _, c := range cells {
		if sz := c.SizeInfo; sz.Name != "" {
			f.Sizes[sz.Name] = result.SizeFacts{Family: sz.Family, VCPUs: sz.VCPUs, EPCBytes: sz.EPCBytes,
				MemoryBytes: sz.MemBytes(), CPU: sz.CPU, Source: sz.Source, Order: catalogOrder(sz.Name)}
		}
		if c.Spec == nil {
			continue
		}
		if _, ok := f.Workloads[c.Workload]; !ok {
			wf := result.WorkloadFacts{Params: c.Spec.ParamNames(), FootprintParam: c.Spec.FootprintParam}
			for _, m := range c.Spec.Metrics {
				wf.Metrics = append(wf.Metrics, protocol.Value{Unit: m.Unit, Better: m.Better})
			}
			for _, fig := range c.Spec.Figures {
				wf.Figures = append(wf.Figures, result.FigureRole{Role: fig.Role, Param: fig.Param})
			}
			f.Workloads[c.Workload] = wf
		}
		if _, ok := f.Modes[c.Mode]; !ok {
			f.Modes[c.Mode] = modeFacts(c.Mode, profileRef(run))
		}
		cf := result.CellFacts{FootprintBytes: -1}
		switch {
		case c.Spec.Footprint == nil:
			cf.FootprintBytes = 0 // declared negligible
		case c.Footprint > 0:
			cf.FootprintBytes = c.Footprint
		}
		if c.Spec.Parallelism != nil {
			cf.Parallelism = c.Spec.Parallelism(c.Env(0))
		}
		for _, fig := range c.Spec.Figures {
			if fig.Role != result.FigureScaling || fig.Count == nil {
				continue
			}
			if v, ok := c.Params[fig.Param]; ok {
				if n, err := fig.Count(v, c.Env(0)); err == nil {
					cf.Count = n
				}
			}
		}
		f.Cells[c.Key()] = cf
	}
	return f
}

// profileRef names the run's sim cost profile ("name/vN").
func profileRef(run *result.Run) string {
	p := run.Profile
	if p == nil {
		return ""
	}
	if p.Version > 0 {
		return fmt.Sprintf("%s/v%d", p.Name, p.Version)
	}
	return p.Name
}

// catalogOrder is the 1-based place of size name in the catalog (0 when
// it is not there), the order readers list sizes in.
func catalogOrder(name string) int {
	for i, sz := range sizes.All() {
		if sz.Name == name {
			return i + 1
		}
	}
	return 0
}
