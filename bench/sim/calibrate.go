package sim

import (
	"fmt"
	"sort"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// The cells bench calibrate runs on one size.
var (
	CalibrationWorkloads = []string{"syscall", "memsweep"}
	CalibrationParams    = []string{"syscall.call=read", "memsweep.ws=0.5xEPC,2xEPC", "memsweep.access=random", "memsweep.op=read"}
)

// CalibrationModes are the modes bench calibrate runs the cells in, the
// ones Calibrate reads: native and hardware, an enclave measured on SGX
// hardware (the registry's mode.Hardware: the prices are their
// difference), and sim (the events per operation that divide it).
func CalibrationModes(hardware string) []string { return []string{mode.Native, hardware, Name} }

// Calibrate derives prices for size's platform from the samples of a
// calibration run on SGX hardware (native and hardware, the mode that
// measured the enclave there, and sim for the EPC counts; sgx below):
//
//   - ocall_cycles = (sgx - native) ns/op of syscall call=read, divided by
//     the OCALLs per pread the sim mode counted (1 without sim samples),
//     times the clock;
//   - ecall_cycles = ocall_cycles (a round trip either way; not measured
//     separately);
//   - a page swap = the extra (sgx - native) ns/op of memsweep random read
//     at 2xEPC beyond that at 0.5xEPC, divided by the EPC loads per
//     operation the sim mode counted (without sim samples: 1 - EPC/ws =
//     0.5, every access to a page that is not resident), half priced per
//     load and half per eviction;
//   - mee_factor = sgx / native ns/op of memsweep random read at 0.5xEPC
//     (dependent loads over a working set that fits the EPC; it is mostly
//     LLC misses when 0.5xEPC is several times the LLC);
//   - clock_hz, dram_latency_ns, mem_bandwidth_bytes_per_s and
//     enclave_overhead_bytes are kept from base (dram_latency_ns, where base has none and mee_factor > 1: the
//     native ns/op of memsweep random read at 0.5xEPC).
//
// Medians over repetitions are used throughout. notes say what was assumed.
func Calibrate(samples []result.Sample, hardware string, size sizes.Size, base *Prices, hostCPU string, when time.Time) (*Prices, []string, error) {
	cs := calibrationSamples{samples, size}
	med, need := cs.median, cs.need
	var notes []string
	clock := base.ClockHz
	out := *base
	out.Sources = map[string]string{}
	out.Ranges = nil
	src := fmt.Sprintf("measured by bench calibrate on %s (%s), %s: ", size.Name, hostCPU, when.UTC().Format("2006-01-02"))

	read := map[string]string{"call": "read"}
	nat, err := need("syscall", read, mode.Native)
	if err != nil {
		return nil, nil, err
	}
	sgx, err := need("syscall", read, hardware)
	if err != nil {
		return nil, nil, err
	}
	ocPerOp, n := med("syscall", read, Name, perOp(protocol.EventOCalls))
	if n == 0 || ocPerOp <= 0 {
		ocPerOp = 1
		notes = append(notes, "no sim samples of syscall call=read: 1 OCALL per pread assumed")
	}
	ocNS := (sgx - nat) / ocPerOp
	if ocNS <= 0 {
		return nil, nil, fmt.Errorf("syscall call=read is not slower in sgx (%.0f ns/op) than natively (%.0f ns/op): no OCALL cost to derive", sgx, nat)
	}
	out.OCallCycles = ocNS * clock / 1e9
	out.ECallCycles = out.OCallCycles
	out.Sources["ocall_cycles"] = src + fmt.Sprintf("(sgx %.0f - native %.0f ns/op of syscall call=read) / %.3f OCALLs per op x %.3g Hz", sgx, nat, ocPerOp, clock)
	out.Sources["ecall_cycles"] = "assumed equal to the measured OCALL round trip (" + out.Sources["ocall_cycles"] + ")"

	small := map[string]string{"ws": "0.5xEPC", "access": "random", "op": "read"}
	big := map[string]string{"ws": "2xEPC", "access": "random", "op": "read"}
	nat05, err := need("memsweep", small, mode.Native)
	if err != nil {
		return nil, nil, err
	}
	sgx05, err := need("memsweep", small, hardware)
	if err != nil {
		return nil, nil, err
	}
	nat2, err := need("memsweep", big, mode.Native)
	if err != nil {
		return nil, nil, err
	}
	sgx2, err := need("memsweep", big, hardware)
	if err != nil {
		return nil, nil, err
	}
	loads, n := med("memsweep", big, Name, perOp(protocol.EventEPCLoads))
	if n == 0 || loads <= 0 {
		loads = 0.5
		notes = append(notes, "no sim samples of memsweep random 2xEPC: 0.5 EPC loads per access assumed (1 - EPC/ws)")
	}
	swapNS := ((sgx2 - nat2) - (sgx05 - nat05)) / loads
	if swapNS <= 0 {
		return nil, nil, fmt.Errorf("memsweep random read is not slower beyond the EPC (2xEPC: sgx %.0f, native %.0f ns/op; 0.5xEPC: sgx %.0f, native %.0f ns/op): no paging cost to derive", sgx2, nat2, sgx05, nat05)
	}
	out.EPCLoadCycles = swapNS / 2 * clock / 1e9
	out.EPCEvictionCycles = out.EPCLoadCycles
	swapSrc := src + fmt.Sprintf("((sgx %.1f - native %.1f ns/op at 2xEPC) - (sgx %.1f - native %.1f ns/op at 0.5xEPC)) / %.3f EPC loads per access = %.0f ns per swap, half per load and half per eviction",
		sgx2, nat2, sgx05, nat05, loads, swapNS)
	out.Sources["epc_load_cycles"] = swapSrc
	out.Sources["epc_eviction_cycles"] = swapSrc
	out.MEEFactor = max(sgx05/nat05, 1)
	out.Sources["mee_factor"] = src + fmt.Sprintf("sgx %.1f / native %.1f ns/op of memsweep random read at 0.5xEPC (%.0f MiB)", sgx05, nat05, size.EPCMiB()/2)
	if size.EPCMiB()/2 < 64 {
		notes = append(notes, fmt.Sprintf("mee_factor from a %.0f MiB working set: part of it may hit the LLC, so it understates the factor; calibrate on a size with more EPC", size.EPCMiB()/2))
	}
	out.Sources["clock_hz"] = "kept from the base profile: " + base.Sources["clock_hz"]
	out.Sources["enclave_overhead_bytes"] = "kept from the base profile: " + base.Sources["enclave_overhead_bytes"]
	switch {
	case base.MemBandwidthBytesPerS > 0:
		out.Sources["mem_bandwidth_bytes_per_s"] = "kept from the base profile: " + base.Sources["mem_bandwidth_bytes_per_s"]
	case out.MEEFactor > 1:
		notes = append(notes, "no mem_bandwidth_bytes_per_s in the base profile: streamed LLC misses are priced at dram_latency_ns like the others (an upper bound for sequential access); add the CPU's memory bandwidth with its source")
	}
	switch {
	case base.DRAMLatencyNS > 0:
		out.Sources["dram_latency_ns"] = "kept from the base profile: " + base.Sources["dram_latency_ns"]
	case out.MEEFactor > 1:
		// The profile needs it to price simulated misses: the chase's own
		// time per access, one dependent load that mostly misses the LLC.
		out.DRAMLatencyNS = nat05
		out.Sources["dram_latency_ns"] = src + fmt.Sprintf("native %.1f ns/op of memsweep random read at 0.5xEPC (one dependent load per operation)", nat05)
		notes = append(notes, "dram_latency_ns (not in the base profile) from the native time of memsweep random read at 0.5xEPC: an upper bound where part of each access is a TLB miss")
	}
	return &out, notes, nil
}

// calibrationSamples are the samples of a calibration run on one size.
type calibrationSamples struct {
	samples []result.Sample
	size    sizes.Size
}

// median is the median of f over the samples of workload with params in
// mode m on the size (f's false leaves a sample out), and how many there
// were.
func (cs calibrationSamples) median(workload string, params map[string]string, m string, f func(result.Sample) (float64, bool)) (float64, int) {
	var xs []float64
	for _, s := range cs.samples {
		if s.Workload != workload || s.Mode != m || s.Size != cs.size.Name || !match(s.Params, params) {
			continue
		}
		if v, ok := f(s); ok {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return 0, 0
	}
	sort.Float64s(xs)
	return xs[len(xs)/2], len(xs)
}

// need is the median measured ns/op of workload with params in mode m; no
// sample is an error.
func (cs calibrationSamples) need(workload string, params map[string]string, m string) (float64, error) {
	v, n := cs.median(workload, params, m, nsPerOp)
	if n == 0 {
		return 0, fmt.Errorf("calibration needs %s %v in mode %s on %s: no sample", workload, params, m, cs.size.Name)
	}
	return v, nil
}

// nsPerOp is a sample's measured ns/op: in sim samples Values are
// predictions, the measured ones are in Model.Native.
func nsPerOp(s result.Sample) (float64, bool) {
	vals := s.Values
	if s.Model != nil {
		vals = s.Model.Native
	}
	for _, v := range vals {
		if v.Unit == "ns/op" {
			return v.Value, true
		}
	}
	return 0, false
}

// perOp is a sim sample's count of event per operation (counted samples
// only).
func perOp(event string) func(result.Sample) (float64, bool) {
	return func(s result.Sample) (float64, bool) {
		if s.Iters <= 0 || s.Model == nil || s.Model.CountsOnly != "" {
			return 0, false
		}
		return float64(s.Events[event]) / float64(s.Iters), true
	}
}

func match(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
