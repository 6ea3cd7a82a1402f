package plan

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

func request(t *testing.T) Request {
	t.Helper()
	return Request{Registry: suite.Workloads, HostMem: 8 << 30, Spec: runspec.Spec{Workloads: []string{"memsweep"},
		Sizes: []string{"DC1s_v2", "DC2s_v2"}, Modes: []string{"native"}, Profile: "quick", Seed: 1}}
}

// Expand is Resolve's cells (the tests' shorthand).
func Expand(r Request) ([]Cell, error) {
	run, err := Resolve(r)
	if err != nil {
		return nil, err
	}
	return run.Cells, nil
}

// resolveSpec is Resolve's spec.
func resolveSpec(s runspec.Spec) (runspec.Spec, error) {
	run, err := Resolve(Request{Registry: suite.Workloads, Spec: s})
	if err != nil {
		return s, err
	}
	return run.Spec, nil
}

func keys(cells []Cell) []string {
	var k []string
	for _, c := range cells {
		k = append(k, c.Key())
	}
	return k
}

func TestExpand(t *testing.T) {
	t.Parallel()
	r := request(t)
	cells, err := Expand(r)
	if err != nil {
		t.Fatal(err)
	}
	spec := suite.Workloads["memsweep"]
	want := 2 // sizes
	for _, p := range spec.Params {
		want *= len(p.Quick)
	}
	if len(cells) != want {
		t.Fatalf("%d cells, want %d", len(cells), want)
	}
	again, _ := Expand(r)
	if !reflect.DeepEqual(keys(cells), keys(again)) {
		t.Error("the same seed gave another order")
	}
	r.Spec.Seed = 2
	other, _ := Expand(r)
	if reflect.DeepEqual(keys(cells), keys(other)) {
		t.Error("another seed gave the same order")
	}
	seen := map[string]bool{}
	for _, c := range cells {
		if seen[c.Key()] {
			t.Errorf("duplicate cell %s", c.Key())
		}
		seen[c.Key()] = true
		if m := c.Memory; m.Mapped+m.GoHeap < c.Footprint || m != spec.MemoryOf(c.Env(r.HostMem)) {
			t.Errorf("%s: memory %+v is not the spec's for footprint %d", c.Key(), m, c.Footprint)
		}
		if c.Footprint <= 0 {
			t.Errorf("%s: footprint %d", c.Key(), c.Footprint)
		}
	}
}

func TestExpandOverride(t *testing.T) {
	t.Parallel()
	r := request(t)
	r.Spec.Overrides = map[string][]string{"memsweep.ws": {"1MiB"}, "memsweep.access": {"seq"}}
	cells, err := Expand(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 2 {
		t.Fatalf("%d cells: %v", len(cells), keys(cells))
	}
	if cells[0].Params["ws"] != "1MiB" || cells[0].Footprint != 1<<20 {
		t.Errorf("cell %+v", cells[0])
	}
}

func TestExpandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Request)
		want   []string
	}{
		{"unknown workload", func(r *Request) { r.Spec.Workloads = []string{"nope"} }, []string{`unknown workload "nope"`, "memsweep", "syscall"}},
		{"unknown mode", func(r *Request) { r.Spec.Modes = []string{"tdx"} }, []string{`unknown mode "tdx"`, "native", "sgx", "ego-sim", "sim"}},
		{"unknown param", func(r *Request) { r.Spec.Overrides = map[string][]string{"memsweep.size": {"1"}} }, []string{`no parameter "size"`, "ws"}},
		{"bad value", func(r *Request) { r.Spec.Overrides = map[string][]string{"memsweep.access": {"diagonal"}} }, []string{"memsweep.access=diagonal", "seq, random"}},
		{"negative size", func(r *Request) { r.Spec.Overrides = map[string][]string{"memsweep.ws": {"-5MiB"}} }, []string{"memsweep.ws=-5MiB", "positive"}},
		{"larger than host", func(r *Request) { r.Spec.Overrides = map[string][]string{"memsweep.ws": {"64GiB"}} }, []string{"more than this host's memory"}},
		{"size twice", func(r *Request) { r.Spec.Sizes = []string{"dcsv2", "DC1s_v2"} }, []string{"DC1s_v2 is selected twice", "dcsv2"}},
		{"value twice", func(r *Request) { r.Spec.Overrides = map[string][]string{"memsweep.ws": {"1MiB", "1MiB"}} }, []string{"1MiB is listed twice"}},
		{"unselected workload", func(r *Request) { r.Spec.Overrides = map[string][]string{"syscall.call": {"read"}} }, []string{"not selected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(t)
			tt.modify(&r)
			_, err := Expand(r)
			if err == nil {
				t.Fatal("Expand succeeded; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	two := 2
	got, err := resolveSpec(runspec.Spec{Sizes: []string{"dcsv2"}, Modes: []string{"native"}, Profile: "quick", Warmup: &two, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	q := Profiles["quick"]
	if got.Reps != q.Reps || *got.Warmup != 2 || got.MinTime() != q.MinTime || got.Timeout() != q.Timeout ||
		len(got.Sizes) != 4 || !reflect.DeepEqual(got.Workloads, suite.Workloads.Names()) {
		t.Errorf("resolved %+v", got)
	}
	if err := got.ValidateResolved(); err != nil {
		t.Error(err)
	}
	if _, err := resolveSpec(runspec.Spec{Sizes: []string{"dcsv2"}, Modes: []string{"native"}, Profile: "slow"}); err == nil {
		t.Error("unknown profile resolved")
	}
	// A --min-time beyond the profile's timeout: every cell would time out.
	_, err = resolveSpec(runspec.Spec{Sizes: []string{"dcsv2"}, Modes: []string{"native"}, Profile: "quick",
		MinTimeNS: int64(100 * time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "not below the per-cell --timeout 2m0s (the values not given come from profile quick)") {
		t.Errorf("--min-time 100h with the quick profile: %v", err)
	}
}

func TestParseFootprints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{in: []string{"64MiB", "200MiB"}, want: []string{"64MiB", "200MiB"}},
		{in: []string{" 1GiB"}, want: []string{"1GiB"}},
		{in: []string{"0.5xEPC"}, wantErr: "want an absolute size"},
		{in: []string{"64MiB", ""}, wantErr: "empty value"},
		{in: []string{"0"}, wantErr: "must be positive"},
		{in: []string{"-64MiB"}, wantErr: "must be positive"},
		{in: []string{"lots"}, wantErr: "is not a byte count"},
		{in: []string{"64MiB", "67108864"}, wantErr: "the same size as 64MiB"},
	} {
		got, err := ParseFootprints(tc.in)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseFootprints(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
		case err != nil || !reflect.DeepEqual(got, tc.want):
			t.Errorf("ParseFootprints(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestFootprintOverrides(t *testing.T) {
	t.Parallel()
	fp := []string{"64MiB", "200MiB"}
	got, err := FootprintOverrides(suite.Workloads, []string{"memsweep", "kvstore", "aesgcm", "syscall"}, fp, map[string][]string{"kvstore.dist": {"zipf"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"memsweep.ws": fp, "kvstore.dataset": fp, "aesgcm.dataset": fp, "kvstore.dist": {"zipf"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Every size gets the same absolute footprint.
	r := request(t)
	r.Spec.Workloads = []string{"kvstore"}
	r.Spec.Footprints = fp
	run, err := Resolve(r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(run.Spec.Overrides, map[string][]string{"kvstore.dataset": fp}) || !reflect.DeepEqual(run.Spec.Footprints, fp) {
		t.Errorf("resolved: overrides %v, footprints %v", run.Spec.Overrides, run.Spec.Footprints)
	}
	// Replaying the resolved spec (run.json's plan) gives the same cells.
	again, err := Expand(Request{Registry: suite.Workloads, Spec: run.Spec, HostMem: r.HostMem, Stored: true})
	if err != nil {
		t.Fatal(err)
	}
	cells := run.Cells
	if !reflect.DeepEqual(keys(cells), keys(again)) {
		t.Errorf("the stored plan expands to %v, the request to %v", keys(again), keys(cells))
	}
	for _, c := range cells {
		if c.Params["dataset"] != "64MiB" && c.Params["dataset"] != "200MiB" {
			t.Errorf("%s: dataset %s", c.Key(), c.Params["dataset"])
		}
	}
	for _, tc := range []struct {
		workloads []string
		overrides map[string][]string
		wantErr   string
	}{
		{[]string{"syscall", "compute"}, nil, "no selected workload has a footprint parameter (those that do: aesgcm, gokv, kvstore, memsweep)"},
		{[]string{"memsweep"}, map[string][]string{"memsweep.ws": {"1MiB"}}, "--footprint and --param memsweep.ws both set"},
	} {
		if _, err := FootprintOverrides(suite.Workloads, tc.workloads, fp, tc.overrides); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: err %v, want %q", tc.workloads, err, tc.wantErr)
		}
	}
}

// TestQuickShowsTheCliff: the quick profile's memsweep grid has at least
// six working sets per DCsv2 size from <= 0.25x to >= 2x of the size's
// usable EPC, at least two on each side of it, for any enclave baseline in
// the range the sim probe measures (docs/sim.md: 6.2-6.9 MiB; 4-10 MiB here).
func TestQuickShowsTheCliff(t *testing.T) {
	t.Parallel()
	szs, err := sizes.Select("dcsv2")
	if err != nil {
		t.Fatal(err)
	}
	spec := suite.Workloads["memsweep"]
	ws, _ := spec.Param("ws")
	for _, sz := range szs {
		for _, baseline := range []int64{4 << 20, 10 << 20} {
			usable := float64(sz.EPCBytes - baseline)
			below, above := 0, 0
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range ws.Quick {
				n, err := workload.ParseBytes(v, workload.Env{Size: protocol.Size{EPCBytes: sz.EPCBytes}})
				if err != nil {
					t.Fatal(err)
				}
				x := float64(n) / usable
				lo, hi = math.Min(lo, x), math.Max(hi, x)
				if x < 0.95 {
					below++
				} else if x > 1.05 {
					above++
				}
			}
			if len(ws.Quick) < 6 || below < 2 || above < 2 || lo > 0.25 || hi < 2 {
				t.Errorf("%s, baseline %d MiB: %d points, %d below and %d above the usable EPC, spanning %.2fx..%.2fx",
					sz.Name, baseline>>20, len(ws.Quick), below, above, lo, hi)
			}
		}
	}
	access, _ := spec.Param("access")
	if !reflect.DeepEqual(access.Quick, []string{"seq", "random"}) {
		t.Errorf("memsweep quick access %v, want seq and random", access.Quick)
	}
}
