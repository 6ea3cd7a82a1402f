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

type countBench struct{ runs, ops int }

func (b *countBench) Run(n int, _ *workload.Report) error { b.runs++; b.ops += n; return nil }
func (b *countBench) Close() error                        { return nil }

func TestWorked(t *testing.T) {
	tests := []struct {
		env, name     string
		loops, calls  int
		wantErr       string
		wantUnwrapped bool
	}{
		{"", "syscall", 0, 0, "", true},
		{"syscall=loops:400", "syscall", 400, 0, "", false},
		{"syscall=loops:400,syscall=calls:1,memsweep=calls:3", "syscall", 400, 1, "", false},
		{"memsweep=calls:1", "syscall", 0, 0, "", true},
		{"syscall=loops", "syscall", 0, 0, "want workload=loops:K", false},
		{"syscall=jumps:3", "syscall", 0, 0, "want workload=loops:K", false},
		{"syscall=calls:-1", "syscall", 0, 0, "want workload=loops:K", false},
	}
	for _, tt := range tests {
		t.Setenv(WorkEnv, tt.env)
		inner := &countBench{}
		b, err := worked(tt.name, inner)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.env, err)
		}
		w, ok := b.(workBench)
		if ok == tt.wantUnwrapped {
			t.Errorf("%q: wrapped %v, want %v", tt.env, ok, !tt.wantUnwrapped)
			continue
		}
		if ok && (w.loops != tt.loops || w.calls != tt.calls) {
			t.Errorf("%q: loops %d calls %d, want %d %d", tt.env, w.loops, w.calls, tt.loops, tt.calls)
		}
		if err := b.Run(7, &workload.Report{}); err != nil || inner.ops != 7 {
			t.Errorf("%q: the workload ran %d operations (%v), want 7", tt.env, inner.ops, err)
		}
	}
}

// The built-in hooks (-ldflags -X) apply when the environment sets none,
// only to processes whose arguments contain builtinOnly; the environment
// wins.
func TestBuiltinHooks(t *testing.T) {
	defer func(s, o, w []string) { builtinSlowdown, builtinOnly, builtinWork = s[0], o[0], w[0] }(
		[]string{builtinSlowdown}, []string{builtinOnly}, []string{builtinWork})
	t.Setenv(SlowdownEnv, "")
	t.Setenv(WorkEnv, "")
	builtinSlowdown, builtinWork = "syscall=2", "syscall=calls:1"
	for _, c := range []struct {
		only string
		slow bool
	}{{"", true}, {"-test.", true}, {"no such argument", false}} {
		builtinOnly = c.only
		b, err := slowed("syscall", sleepBench{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := b.(slowBench); ok != c.slow {
			t.Errorf("builtinOnly %q: slowed %v, want %v", c.only, ok, c.slow)
		}
		w, err := worked("syscall", sleepBench{})
		if _, ok := w.(workBench); err != nil || ok != c.slow {
			t.Errorf("builtinOnly %q: worked %#v, %v; want work %v", c.only, w, err, c.slow)
		}
	}
	builtinOnly = ""
	if b, err := worked("syscall", sleepBench{}); err != nil || b.(workBench).calls != 1 {
		t.Errorf("built-in work: %#v, %v; want one call per operation", b, err)
	}
	t.Setenv(WorkEnv, "syscall=calls:3")
	if b, err := worked("syscall", sleepBench{}); err != nil || b.(workBench).calls != 3 {
		t.Errorf("environment over built-in work: %#v, %v; want three calls", b, err)
	}
}

// CountSetupEnv replaces the workload's way of warming the counting pass's
// simulated caches: unset keeps it, instrumented drops it (the setup runs
// instrumented), cold warms nothing; anything else is refused.
func TestCountSetupHook(t *testing.T) {
	touched := 0
	warm := func(workload.Bench, workload.Env) func() { return func() { touched++ } }
	for _, tt := range []struct {
		env     string
		nilWarm bool
		touches int
		bad     bool
	}{{"", false, 1, false}, {"instrumented", true, 0, false}, {"cold", false, 0, false}, {"warm", true, 0, true}} {
		t.Setenv(CountSetupEnv, tt.env)
		touched = 0
		w, err := countSetupHook(warm)
		if (err != nil) != tt.bad || (w == nil) != tt.nilWarm {
			t.Errorf("%q: warm nil %v, error %v; want nil %v, an error %v", tt.env, w == nil, err, tt.nilWarm, tt.bad)
			continue
		}
		if w != nil {
			w(sleepBench{}, workload.Env{})()
		}
		if touched != tt.touches {
			t.Errorf("%q: the workload's touch ran %d times, want %d", tt.env, touched, tt.touches)
		}
	}
}
