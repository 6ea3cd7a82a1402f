package sites

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"
)

var update = flag.Bool("update", false, "rewrite testdata/cell.pb.gz (the report's fixture too)")

// fixture builds a priced sim cell profile: a pread site in user code, a
// 64 KiB write with its two host allocations, a clock-driven sysmon
// sleep, and EPC loads in the Go heap.
func fixture() *profile.Profile {
	fns := map[string]*profile.Function{}
	var p profile.Profile
	fn := func(name, file string) *profile.Function {
		if f, ok := fns[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, Filename: file}
		fns[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	loc := func(lines ...profile.Line) *profile.Location {
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Line: lines}
		p.Location = append(p.Location, l)
		return l
	}
	sys := loc(profile.Line{Function: fn("internal/runtime/syscall/linux.Syscall6", "/go/src/internal/runtime/syscall/linux/asm_linux_amd64.s"), Line: 36})
	pread := loc(profile.Line{Function: fn("golang.org/x/sys/unix.Pread", "/mod/x/sys/unix/syscall_linux.go"), Line: 10},
		profile.Line{Function: fn("example.com/app/store.(*DB).get", "/src/app/store/db.go"), Line: 42})
	write := loc(profile.Line{Function: fn("internal/poll.(*FD).Write", "/go/src/internal/poll/fd_unix.go"), Line: 380})
	handler := loc(profile.Line{Function: fn("example.com/app/api.serve", "/src/app/api/serve.go"), Line: 77})
	sysmon := loc(profile.Line{Function: fn("runtime.usleep", "/go/src/runtime/sys_linux_amd64.s"), Line: 135},
		profile.Line{Function: fn("runtime.sysmon", "/go/src/runtime/proc.go"), Line: 6506})
	heap := loc(profile.Line{Function: fn("[EPC: go_heap]", "")}, profile.Line{Function: fn("[EPC paging]", "")})
	p.SampleType = []*profile.ValueType{{Type: "ocalls", Unit: "count"}, {Type: "ecalls", Unit: "count"},
		{Type: "ocall_time", Unit: "nanoseconds"}, {Type: "ecall_time", Unit: "nanoseconds"}, {Type: "epc_loads", Unit: "count"},
		{Type: "epc_evictions", Unit: "count"}, {Type: "epc_time", Unit: "nanoseconds"}, {Type: "extra_time", Unit: "nanoseconds"}}
	p.DefaultSampleType = "extra_time"
	p.Comments = []string{"enclavebench sim counting pass: 1000 operations"}
	add := func(cause string, clock bool, n int64, locs ...*profile.Location) {
		lb := map[string][]string{"cause": {cause}}
		if clock {
			lb["clock"] = []string{"yes"}
		}
		p.Sample = append(p.Sample, &profile.Sample{Location: locs, Label: lb, Value: []int64{n, 0, n * 3000, 0, 0, 0, 0, n * 3000}})
	}
	add("pread64", false, 1000, sys, pread)
	add("write", false, 1000, sys, write, handler)
	add("oe_host_malloc", false, 1000, sys, write, handler)
	add("oe_host_free", false, 1000, sys, write, handler)
	add("nanosleep", true, 50, sysmon)
	p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{heap}, Label: map[string][]string{"region": {"go_heap"}},
		Value: []int64{0, 0, 0, 0, 200, 200, 200 * 10000, 200 * 10000}})
	return &p
}

func TestSummarize(t *testing.T) {
	var buf bytes.Buffer
	if err := fixture().Write(&buf); err != nil {
		t.Fatal(err)
	}
	// testdata/cell.pb.gz is this fixture, as report's golden test reads it.
	path := filepath.Join("testdata", "cell.pb.gz")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Ops != 1000 || s.ExtraNS != 4000*3000+50*3000+2_000_000 {
		t.Fatalf("ops %d extra %d", s.Ops, s.ExtraNS)
	}
	want := []struct {
		where, cause string
		count        int64
		advice       bool
	}{
		{"example.com/app/api.serve api/serve.go:77", "oe_host_free", 1000, true},
		{"example.com/app/api.serve api/serve.go:77", "oe_host_malloc", 1000, true},
		{"example.com/app/api.serve api/serve.go:77", "write", 1000, true},
		{"example.com/app/store.(*DB).get store/db.go:42", "pread64", 1000, false},
		{"runtime.sysmon runtime/proc.go:6506", "nanosleep", 50, false},
	}
	if len(s.OCalls) != len(want) {
		t.Fatalf("%d sites: %+v", len(s.OCalls), s.OCalls)
	}
	var share float64
	for i, w := range want {
		got := s.OCalls[i]
		if got.Where != w.where || got.Cause != w.cause || got.Count != w.count || (got.Advice != "") != w.advice {
			t.Errorf("site %d = %+v, want %+v", i, got, w)
		}
		share += got.Share
	}
	if len(s.EPC) != 1 || s.EPC[0].Where != "go_heap" || s.EPC[0].Count != 200 || s.EPC[0].Advice == "" {
		t.Errorf("EPC = %+v", s.EPC)
	}
	if share += s.EPC[0].Share; share < 0.999999 || share > 1.000001 {
		t.Errorf("shares add up to %v", share)
	}
	if _, err := Summarize(&profile.Profile{SampleType: []*profile.ValueType{{Type: "cpu", Unit: "nanoseconds"}}}); err == nil {
		t.Error("a CPU profile was summarized")
	}
}
