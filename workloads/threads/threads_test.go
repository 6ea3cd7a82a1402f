package threads

import (
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

func TestParseThreads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v     string
		vcpus int
		want  int
		err   string
	}{
		{"1", 4, 1, ""},
		{"vcpus", 4, 4, ""},
		{"2xvcpus", 4, 8, ""},
		{"0", 4, 0, "out of range"},
		{"-3", 4, 0, "out of range"},
		{"2000", 4, 0, "out of range"},
		{"xvcpus", 4, 0, "not vcpus"},
		{"2vcpus", 4, 0, "not vcpus"},
		{"vcpus", 0, 0, "unknown"},
		{"lots", 4, 0, "not a worker count"},
	}
	for _, tt := range tests {
		got, err := ParseThreads(tt.v, tt.vcpus)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: got %d, %v; want error %q", tt.v, got, err, tt.err)
			}
		} else if err != nil || got != tt.want {
			t.Errorf("%q: got %d, %v; want %d", tt.v, got, err, tt.want)
		}
	}
}

func FuzzParseThreads(f *testing.F) {
	for _, s := range []string{"1", "vcpus", "4xvcpus", "xvcpus", "-1xvcpus", "99999999999999999999"} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, v string, vcpus int) {
		n, err := ParseThreads(v, vcpus)
		if err == nil && (n < 1 || n > MaxThreads) {
			t.Fatalf("%q, %d: accepted %d workers", v, vcpus, n)
		}
	})
}

func TestRunAllSharings(t *testing.T) {
	t.Parallel()
	for _, sharing := range []string{"none", "atomic", "mutex"} {
		for _, th := range []int{1, 3} {
			w, err := New(th, sharing)
			if err != nil {
				t.Fatal(err)
			}
			var r workload.Report
			if err := w.Run(1001, &r); err != nil {
				t.Fatal(err)
			}
			b := w.(*bench)
			if sharing == "atomic" && b.counter.Load() != 1001 {
				t.Errorf("atomic counter %d, want 1001", b.counter.Load())
			}
			if len(r.Values) != 1 || r.Values[0].Unit != "ops/s" {
				t.Errorf("%s/%d: values %v", sharing, th, r.Values)
			}
		}
	}
}

func TestValidateNamesRange(t *testing.T) {
	t.Parallel()
	err := Spec.Validate(map[string]string{"threads": "0", "sharing": "none"}, workload.Env{Size: protocol.Size{VCPUs: 2}})
	if err == nil || !strings.Contains(err.Error(), "threads.threads=0") || !strings.Contains(err.Error(), "1 .. 1024") {
		t.Fatalf("got %v", err)
	}
}
