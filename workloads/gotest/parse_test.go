package gotest

import (
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Output of a test binary run with -test.v -test.benchmem, as Go 1.26
// prints it (a skip's log before its line, a failure's with -v too).
const verboseOutput = `goos: linux
goarch: amd64
pkg: example.com/userbench/kv
cpu: Intel(R) Xeon(R) Processor
BenchmarkHash
BenchmarkHash/size=1KiB
BenchmarkHash/size=1KiB-2         	   10000	      2783 ns/op	 367.92 MB/s	       0 B/op	       0 allocs/op
BenchmarkPut
BenchmarkPut-2        	       1	     39291 ns/op	         1.000 keys	    5648 B/op	       9 allocs/op
BenchmarkNeedsGPU
    kv_test.go:48: needs a GPU
--- SKIP: BenchmarkNeedsGPU
BenchmarkBroken
    kv_test.go:54: broken on purpose
--- FAIL: BenchmarkBroken
FAIL
`

func TestParse(t *testing.T) {
	o, err := Parse([]byte(verboseOutput))
	if err != nil {
		t.Fatal(err)
	}
	if want := "BenchmarkHash BenchmarkHash/size=1KiB BenchmarkPut BenchmarkNeedsGPU BenchmarkBroken"; strings.Join(o.Names, " ") != want {
		t.Errorf("names %q, want %q", o.Names, want)
	}
	if len(o.Results) != 2 {
		t.Fatalf("results %+v, want 2", o.Results)
	}
	h := o.Results[0]
	if h.Name != "BenchmarkHash/size=1KiB" || h.Iters != 10000 {
		t.Errorf("result %+v", h)
	}
	want := []protocol.Value{{Value: 2783, Unit: "ns/op", Better: protocol.Lower}, {Value: 367.92, Unit: "MB/s", Better: protocol.Higher},
		{Value: 0, Unit: "B/op", Better: protocol.Lower}, {Value: 0, Unit: "allocs/op", Better: protocol.Lower}}
	for i, v := range want {
		if i >= len(h.Values) || h.Values[i] != v {
			t.Errorf("value %d: %+v, want %+v", i, h.Values, v)
		}
	}
	if s := Sample(h); s.ElapsedNS != 27830000 || s.Iters != 10000 {
		t.Errorf("sample %+v: want ns/op x iterations", s)
	}
	if v := o.Results[1].Values[1]; v.Unit != "keys" || v.Better != protocol.Lower {
		t.Errorf("a b.ReportMetric unit: %+v, want keys, lower (not a rate)", v)
	}
	if o.Skipped["BenchmarkNeedsGPU"] != "kv_test.go:48: needs a GPU" {
		t.Errorf("skipped %q", o.Skipped)
	}
	if o.Failed["BenchmarkBroken"] != "kv_test.go:54: broken on purpose" {
		t.Errorf("failed %q", o.Failed)
	}
}

// Without -test.v a failure's log follows its line.
func TestParseLogAfterLine(t *testing.T) {
	o, err := Parse([]byte("--- FAIL: BenchmarkX/a=1-4\n    x_test.go:3: one\n    x_test.go:4: two\nFAIL\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Failed["BenchmarkX/a=1"]; got != "x_test.go:3: one\nx_test.go:4: two" {
		t.Errorf("failed %q", o.Failed)
	}
}

func TestBetter(t *testing.T) {
	for unit, want := range map[string]string{"ns/op": protocol.Lower, "MB/s": protocol.Higher, "B/op": protocol.Lower,
		"allocs/op": protocol.Lower, "req/s": protocol.Higher, "p99-ns": protocol.Lower, "keys": protocol.Lower} {
		if got := Better(nil, unit); got != want {
			t.Errorf("Better(%s) = %s, want %s", unit, got, want)
		}
	}
}

func TestPattern(t *testing.T) {
	if got, want := Pattern("BenchmarkGet/size=1KiB/a.b#01"), `^BenchmarkGet$/^size=1KiB$/^a\.b#01$`; got != want {
		t.Errorf("Pattern = %s, want %s", got, want)
	}
}

// Parse never fails on text that is not the benchmark format, and every
// result it returns is a valid sample.
func FuzzParse(f *testing.F) {
	f.Add([]byte(verboseOutput))
	f.Add([]byte("BenchmarkX-8 1 NaN ns/op\n"))
	f.Add([]byte("--- SKIP: \n    \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Parse(b)
		if err != nil {
			return
		}
		for _, r := range o.Results {
			if !strings.HasPrefix(r.Name, "Benchmark") {
				t.Errorf("result name %q", r.Name)
			}
		}
	})
}
