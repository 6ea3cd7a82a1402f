//go:build testhook

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

type sleepBench struct{}

func (sleepBench) Run(n int, _ *workload.Report) error {
	time.Sleep(time.Duration(n) * time.Millisecond)
	return nil
}
func (sleepBench) Close() error { return nil }

func TestSlowed(t *testing.T) {
	tests := []struct {
		env, name string
		slow      bool
		wantErr   string
	}{
		{"", "syscall", false, ""},
		{"syscall=2", "syscall", true, ""},
		{"memsweep=2,syscall=2", "syscall", true, ""},
		{"memsweep=2", "syscall", false, ""},
		{"syscall=0.5", "syscall", false, "factor in [1,100]"},
		{"syscall", "syscall", false, "want workload=factor"},
		{"syscall=NaN", "syscall", false, "factor in [1,100]"},
	}
	for _, tt := range tests {
		t.Setenv(SlowdownEnv, tt.env)
		b, err := slowed(tt.name, sleepBench{})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.env, err)
		}
		if _, ok := b.(slowBench); ok != tt.slow {
			t.Errorf("%q: slowed %v, want %v", tt.env, ok, tt.slow)
		}
	}
}

// A slowed run lasts at least factor times the workload's own time.
func TestSlowBenchIsRealTime(t *testing.T) {
	start := time.Now()
	if err := (slowBench{Bench: sleepBench{}, factor: 3}).Run(5, &workload.Report{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Errorf("a 5 ms run slowed 3x lasted %v, want at least 15ms", d)
	}
}
