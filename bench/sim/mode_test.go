package sim

import (
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/protocol"
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

// A sim workload binary built without the process-EPC overlay is refused
// with the probe's reason, never run on a part of the enclave's memory.
func TestCheckRefusesABinaryWithoutTheOverlay(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), SimBinName)
	probe := `{"seccomp":"","uffd":"","llc":"no PMU","rss_bytes":7000000,"process":"swepc: no process EPC although ENCLAVEBENCH_PROCESS_EPC=1: this binary's Go runtime was built without the process-EPC overlay (build it with scripts/build-sim.sh)"}`
	if err := os.WriteFile(bin+".json", []byte(probe), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\ncat \"$0.json\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := New(Options{WorkloadSimBin: bin, Stderr: io.Discard}).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "built without the process-EPC overlay") || !strings.Contains(err.Error(), "build-sim.sh") {
		t.Fatalf("Check: %v", err)
	}
}

// A driven workload's samples (made by the harness) get the paging pass's
// EPC events per operation; samples the workload counted keep theirs.
func TestAddEPCRate(t *testing.T) {
	t.Parallel()
	p := &trace.EPCPass{Ops: 400, ElapsedNS: 9e6, Events: map[string]int64{
		protocol.EventEPCLoads: 100, protocol.EventEPCEvicts: 120, "epc_integrity_failures": 0, "gc_cycles": 3}}
	s := result.Sample{Iters: 1000}
	addEPCRate(&s, p)
	want := map[string]int64{protocol.EventEPCLoads: 250, protocol.EventEPCEvicts: 300,
		protocol.EventEPCPassOps: 400, protocol.EventEPCPassNS: 9e6}
	if !maps.Equal(s.Events, want) {
		t.Errorf("driven sample: %v, want %v", s.Events, want)
	}
	own := result.Sample{Iters: 1000, Events: map[string]int64{protocol.EventEPCLoads: 7, protocol.EventEPCPassOps: 50}}
	addEPCRate(&own, p)
	if own.Events[protocol.EventEPCLoads] != 7 {
		t.Errorf("a counted sample was overwritten: %v", own.Events)
	}
	addEPCRate(&s, nil) // no paging pass: nothing changes
}
