package workload

import (
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

func TestParseBytes(t *testing.T) {
	env := Env{Size: protocol.Size{EPCBytes: 28 << 20}}
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"4096", 4096},
		{"64KiB", 64 << 10},
		{"16MiB", 16 << 20},
		{"1GB", 1e9},
		{"0.5xEPC", 14 << 20},
		{"2xEPC", 56 << 20},
		// A count that reads as a number but is none must be refused, not
		// turned into a huge negative or zero working set.
		{"NaN", 0},
		{"NaNxEPC", 0},
		{"nanMiB", 0},
		{"+Inf", 0},
		{"InfxEPC", 0},
		{".1", 0},
		{"0.1B", 0},
		{"1e-9xEPC", 0},
		{"0", 0},
		{"-64KiB", 0},
		{"64 KiB", 0},
		{"", 0},
		{"xEPC", 0},
		{"2PiB", 0},
	} {
		got, err := ParseBytes(tc.in, env)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("ParseBytes(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"4096", "64KiB", "0.5xEPC", "NaN", ".1", "1e300GB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s, Env{Size: protocol.Size{EPCBytes: 168 << 20}})
		if err == nil && (n < 1 || n > 1<<50+(1<<50)/2) {
			t.Fatalf("ParseBytes(%q) = %d with no error", s, n)
		}
	})
}
