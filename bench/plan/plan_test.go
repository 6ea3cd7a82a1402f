package plan

import (
	"reflect"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/suite"
)

func request(t *testing.T) Request {
	t.Helper()
	sz, err := sizes.Select("DC1s_v2,DC2s_v2")
	if err != nil {
		t.Fatal(err)
	}
	return Request{Registry: suite.Workloads, Workloads: []string{"memsweep"}, Sizes: sz, Modes: []string{"native"},
		Profile: Profiles["quick"], HostMem: 8 << 30, Seed: 1}
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
	r.Seed = 2
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
		if c.Footprint <= 0 {
			t.Errorf("%s: footprint %d", c.Key(), c.Footprint)
		}
	}
}

func TestExpandOverride(t *testing.T) {
	t.Parallel()
	r := request(t)
	r.Overrides = map[string][]string{"memsweep.ws": {"1MiB"}, "memsweep.access": {"seq"}}
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
		{"unknown workload", func(r *Request) { r.Workloads = []string{"nope"} }, []string{`unknown workload "nope"`, "memsweep", "syscall"}},
		{"unknown mode", func(r *Request) { r.Modes = []string{"tdx"} }, []string{`unknown mode "tdx"`, "native", "sgx", "ego-sim", "sim"}},
		{"unknown param", func(r *Request) { r.Overrides = map[string][]string{"memsweep.size": {"1"}} }, []string{`no parameter "size"`, "ws"}},
		{"bad value", func(r *Request) { r.Overrides = map[string][]string{"memsweep.access": {"diagonal"}} }, []string{"memsweep.access=diagonal", "seq, random"}},
		{"negative size", func(r *Request) { r.Overrides = map[string][]string{"memsweep.ws": {"-5MiB"}} }, []string{"memsweep.ws=-5MiB", "positive"}},
		{"larger than host", func(r *Request) { r.Overrides = map[string][]string{"memsweep.ws": {"64GiB"}} }, []string{"more than this host's memory"}},
		{"unselected workload", func(r *Request) { r.Overrides = map[string][]string{"syscall.call": {"read"}} }, []string{"not selected"}},
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

func TestParseOverrides(t *testing.T) {
	t.Parallel()
	got, err := ParseOverrides([]string{"kvstore.dataset=1xEPC, 2xEPC", "memsweep.ws=1MiB"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"kvstore.dataset": {"1xEPC", "2xEPC"}, "memsweep.ws": {"1MiB"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	for _, bad := range []string{"kvstore.dataset", "=1", "a.b="} {
		if _, err := ParseOverrides([]string{bad}); err == nil {
			t.Errorf("ParseOverrides(%q) succeeded", bad)
		}
	}
}
