package main

import (
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

// WarmBytesEnv's value: unset and 0 are the whole pass, a whole number of
// bytes the bound; anything else is refused with the variable's name.
func TestWarmBytes(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want int64
		bad  bool
	}{{"", 0, false}, {"0", 0, false}, {"33554432", 32 << 20, false}, {"-1", 0, true}, {"32MiB", 0, true}, {"1e6", 0, true}, {" 64", 0, true}, {"99999999999999999999", 0, true}} {
		got, err := warmBytes(tt.v)
		if got != tt.want || (err != nil) != tt.bad {
			t.Errorf("%q: %d, %v; want %d, an error %v", tt.v, got, err, tt.want, tt.bad)
		}
		if err != nil && !strings.Contains(err.Error(), workload.WarmBytesEnv) {
			t.Errorf("%q: error %q does not name %s", tt.v, err, workload.WarmBytesEnv)
		}
	}
}
