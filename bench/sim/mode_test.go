package sim

import (
	"maps"
	"testing"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

func TestAfterExitRecordsTheCountingPass(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		pass *trace.Pass // nil: no pass file
		want map[string]string
	}{
		{"no pass", nil, nil},
		{"unavailable", &trace.Pass{Version: trace.PassVersion, Unavailable: "seccomp denied"}, nil},
		{"counted", &trace.Pass{Version: trace.PassVersion, Ops: 40, ElapsedNS: 9000,
			Counts: trace.Counts{OCalls: 100, ClockOCalls: 7, BySyscall: map[string]int64{
				"pwrite64": 40, "fsync": 40, "futex_wait": 13, trace.ClockPrefix + "nanosleep": 7, "close": 0}}},
			map[string]string{"keep": "me", ExtraPassOps: "40", ExtraPassNS: "9000", ExtraPassOCalls: "100",
				ExtraPassClock: "7", ExtraPassCause + "pwrite64": "40", ExtraPassCause + "fsync": "40",
				ExtraPassCause + "futex_wait": "13", ExtraPassCause + "clock:nanosleep": "7"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if c.pass != nil {
				if err := trace.WritePass(dir, c.pass); err != nil {
					t.Fatal(err)
				}
			}
			cr := result.CellResult{Extra: map[string]string{"keep": "me"}}
			New(Options{}).AfterExit(mode.Launch{Dir: dir}, nil, "", &cr)
			want := c.want
			if want == nil {
				want = map[string]string{"keep": "me"}
			}
			if !maps.Equal(cr.Extra, want) {
				t.Errorf("Extra = %v, want %v", cr.Extra, want)
			}
		})
	}
}
