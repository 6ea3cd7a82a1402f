package sim

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// synthDir writes a calibration result directory with known medians and
// loads it back, so the test reads what bench calibrate reads.
func synthDir(t *testing.T, withSim bool) *result.Dir {
	t.Helper()
	dir := t.TempDir()
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := &result.Run{SchemaVersion: result.SchemaVersion, Facts: &result.Facts{}, ID: "synthetic", Status: "complete", Start: time.Unix(0, 0),
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"syscall"}, Sizes: []string{"DC4s_v2"}, Modes: []string{"native", "sim"}, Profile: "quick", Reps: 6}},
		Host: host.Fingerprint{OS: "linux", Arch: "amd64"}}
	if err := st.WriteRun(run); err != nil {
		t.Fatal(err)
	}
	add := func(workload string, params map[string]string, m string, nsop []float64, events map[string]int64, model bool) {
		c := result.Cell{Workload: workload, Params: params, Size: "DC4s_v2", Mode: m}
		for i, v := range nsop {
			s := result.Sample{Cell: c.Key(), Attempt: 1, Workload: workload, Params: params, Size: "DC4s_v2", Mode: m,
				Rep: i, Iters: 1000, ElapsedNS: int64(v * 1000), Values: []protocol.Value{{Value: v, Unit: "ns/op", Better: protocol.Lower}},
				Events: events, Time: time.Unix(1, 0)}
			if model {
				s.Model = &result.Model{Profile: "published/v1", Native: s.Values}
				s.Values = []protocol.Value{{Value: 1e9, Unit: "ns/op", Better: protocol.Lower}} // a prediction: must be ignored
			}
			if err := st.AppendSample(&s); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.AppendCell(&result.CellResult{Cell: c.Key(), Attempt: 1, Workload: workload, Params: params, Size: "DC4s_v2", Mode: m, Status: result.StatusOK, Samples: len(nsop)}); err != nil {
			t.Fatal(err)
		}
	}
	read := map[string]string{"call": "read"}
	small := map[string]string{"ws": "0.5xEPC", "access": "random", "op": "read"}
	big := map[string]string{"ws": "2xEPC", "access": "random", "op": "read"}
	// Medians: syscall 300 -> 3700 ns/op; memsweep 0.5x 80 -> 400; 2x 90 -> 6410.
	add("syscall", read, "native", []float64{290, 300, 310}, nil, false)
	add("syscall", read, "sgx", []float64{3600, 3700, 3900}, nil, false)
	add("memsweep", small, "native", []float64{80, 79, 81}, nil, false)
	add("memsweep", small, "sgx", []float64{400, 390, 420}, nil, false)
	add("memsweep", big, "native", []float64{90, 95, 85}, nil, false)
	add("memsweep", big, "sgx", []float64{6410, 6400, 6500}, nil, false)
	if withSim {
		add("syscall", read, "sim", []float64{300, 300, 300}, map[string]int64{"ocalls": 1250}, true)
		add("memsweep", big, "sim", []float64{90, 90, 90}, map[string]int64{"epc_loads": 500}, true)
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCalibrateArithmetic(t *testing.T) {
	sz, _ := sizes.Lookup("DC4s_v2")
	base, _ := Default().For("DCsv2")
	for _, withSim := range []bool{true, false} {
		d := synthDir(t, withSim)
		pr, notes, err := Calibrate(d.Samples, "sgx", sz, base, "Intel Xeon E-2288G", time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		ocPerOp, loads := 1.25, 0.5
		if !withSim {
			ocPerOp, loads = 1, 0.5
			if len(notes) < 2 {
				t.Errorf("without sim samples the assumptions must be noted: %v", notes)
			}
		}
		wantOC := (3700 - 300) / ocPerOp * 3.7
		wantSwap := ((6410 - 90) - (400 - 80)) / loads * 3.7
		want := map[string][2]float64{
			"ocall":  {pr.OCallCycles, wantOC},
			"ecall":  {pr.ECallCycles, wantOC},
			"load":   {pr.EPCLoadCycles, wantSwap / 2},
			"evict":  {pr.EPCEvictionCycles, wantSwap / 2},
			"mee":    {pr.MEEFactor, 400.0 / 80},
			"clock":  {pr.ClockHz, 3.7e9},
			"ocall0": {math.Round(wantOC), math.Round(wantOC)},
		}
		for k, v := range want {
			if math.Abs(v[0]-v[1]) > 1e-6*v[1] {
				t.Errorf("sim=%v %s = %v, want %v", withSim, k, v[0], v[1])
			}
		}
		// The result is a valid profile.
		p := &Profile{Format: ProfileFormat, Name: "calibrated", Version: 1, Platforms: map[string]*Prices{"DCsv2": pr}}
		b, _ := p.Marshal()
		if _, err := ParseProfile(b); err != nil {
			t.Fatalf("calibrated profile does not load: %v", err)
		}
		if !strings.Contains(pr.Sources["ocall_cycles"], "measured by bench calibrate on DC4s_v2") {
			t.Errorf("source = %q", pr.Sources["ocall_cycles"])
		}
	}
}

// TestCalibrateDRAMLatency: the DRAM latency is kept from a base profile
// that has one; from a base without one (DCsv3's, factor 1) a measured
// factor above 1 takes the native chase's ns/op, noted, so that the
// written profile loads.
func TestCalibrateDRAMLatency(t *testing.T) {
	sz, _ := sizes.Lookup("DC4s_v2")
	d := synthDir(t, true)
	for _, c := range []struct {
		name string
		base func() *Prices
		want float64
		note bool
	}{
		{"kept from the base", func() *Prices { p, _ := Default().For("DCsv2"); return p }, 80, false},
		{"base without one", func() *Prices { p, _ := Default().For("DCsv3"); return p }, 80, true},
	} {
		pr, notes, err := Calibrate(d.Samples, "sgx", sz, c.base(), "cpu", time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		noted := strings.Contains(strings.Join(notes, "\n"), "dram_latency_ns")
		if pr.DRAMLatencyNS != c.want || pr.Sources["dram_latency_ns"] == "" || noted != c.note {
			t.Errorf("%s: dram_latency_ns %v (source %q, notes %q), want %v, noted %v", c.name, pr.DRAMLatencyNS, pr.Sources["dram_latency_ns"], notes, c.want, c.note)
		}
		// The memory bandwidth likewise, or a note that streamed misses
		// are priced as the others.
		bwNoted := strings.Contains(strings.Join(notes, "\n"), "mem_bandwidth_bytes_per_s")
		if wantBW := map[bool]float64{false: 41.6e9, true: 0}[c.note]; pr.MemBandwidthBytesPerS != wantBW || bwNoted != c.note {
			t.Errorf("%s: mem_bandwidth_bytes_per_s %v (noted %v), want %v", c.name, pr.MemBandwidthBytesPerS, bwNoted, wantBW)
		}
		p := &Profile{Format: ProfileFormat, Name: "calibrated", Version: 1, Platforms: map[string]*Prices{"DCsv2": pr}}
		if b, _ := p.Marshal(); func() error { _, err := ParseProfile(b); return err }() != nil {
			t.Errorf("%s: the calibrated profile does not load", c.name)
		}
	}
}

func TestCalibrateNamesMissingCells(t *testing.T) {
	sz, _ := sizes.Lookup("DC4s_v2")
	base, _ := Default().For("DCsv2")
	d := synthDir(t, false)
	var noSGX []result.Sample
	for _, s := range d.Samples {
		if !(s.Workload == "memsweep" && s.Mode == "sgx" && s.Params["ws"] == "2xEPC") {
			noSGX = append(noSGX, s)
		}
	}
	_, _, err := Calibrate(noSGX, "sgx", sz, base, "cpu", time.Now())
	if err == nil || !strings.Contains(err.Error(), "memsweep") || !strings.Contains(err.Error(), "sgx") {
		t.Fatalf("err = %v, want one naming memsweep in mode sgx", err)
	}
}
