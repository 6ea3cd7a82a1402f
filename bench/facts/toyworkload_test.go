package facts

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// TestToyWorkloadFacts is the harness side of the "Adding a workload"
// recipe (docs/architecture.md; TestToyWorkload in workloads/cmd/workload
// is the workload binary's side): a workload registered in suite.Workloads
// from a test is expanded and validated by the plan, and its facts
// (parameter order, metrics, footprints) go into the results.
func TestToyWorkloadFacts(t *testing.T) {
	toy := &workload.Spec{
		Name: "toy", Doc: "sums a buffer: a test of the workload recipe",
		Params: []workload.Param{
			{Name: "kib", Range: "1..64", Quick: []string{"4", "64"}, Full: []string{"4", "64"},
				Check: func(v string, _ workload.Env) error {
					if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 64 {
						return strconv.ErrRange
					}
					return nil
				}},
			{Name: "where", Range: "host, enclave", Quick: []string{"host"}, Full: []string{"host", "enclave"}},
		},
		Metrics: []workload.Metric{{Unit: "ns/op", Better: protocol.Lower}, {Unit: "MB/s", Better: protocol.Higher}},
		New:     func(workload.Env) (workload.Bench, error) { return nil, nil },
		Footprint: func(env workload.Env) int64 {
			n, _ := strconv.ParseInt(env.Parameters["kib"], 10, 64)
			return n << 10
		},
	}
	suite.Workloads[toy.Name] = toy
	t.Cleanup(func() { delete(suite.Workloads, toy.Name) })

	spec := runspec.Spec{Workloads: []string{"toy"}, Sizes: []string{"DC1s_v2"}, Modes: []string{"native", "sim"}, Profile: "quick", Seed: 1}
	run, err := plan.Resolve(plan.Request{Registry: suite.Workloads, Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	cells := run.Cells
	if len(cells) != 4 { // kib 4, 64 x where host x 2 modes
		t.Fatalf("%d cells, want 4", len(cells))
	}
	bad := spec
	bad.Overrides = map[string][]string{"toy.kib": {"100"}}
	if _, err := plan.Resolve(plan.Request{Registry: suite.Workloads, Spec: bad}); err == nil || !strings.Contains(err.Error(), "(valid: 1..64)") {
		t.Errorf("toy.kib=100: error %v, want one naming the valid range", err)
	}

	f := Record(&result.Run{Plan: result.Plan{Spec: spec}}, cells)
	w := f.Workload("toy")
	if !slices.Equal(w.Params, []string{"kib", "where"}) || len(w.Metrics) != 2 || w.Metrics[1].Unit != "MB/s" {
		t.Errorf("toy facts %+v: want params kib, where and metrics ns/op, MB/s", w)
	}
	for _, c := range cells {
		n, _ := strconv.ParseInt(c.Params["kib"], 10, 64)
		if got := f.Cell(c.Key()).FootprintBytes; got != n<<10 {
			t.Errorf("%s: footprint %d bytes, want %d", c.Key(), got, n<<10)
		}
	}
}

// TestFigureRoleNames: a workload declares its figures in workload's
// vocabulary, which Record copies into run.json, where readers read
// result's: the two must name each role alike.
func TestFigureRoleNames(t *testing.T) {
	for declared, read := range map[string]string{workload.FigureTransitions: result.FigureTransitions, workload.FigureScaling: result.FigureScaling} {
		if declared != read {
			t.Errorf("a workload declares figure role %q, readers read %q", declared, read)
		}
	}
}
