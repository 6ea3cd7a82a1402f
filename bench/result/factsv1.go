package result

import (
	"fmt"
	"strconv"
	"strings"
)

// The facts of schema version 1 directories, which did not record them.
// This table is frozen: it says what the harness of schema version 1 meant
// (its workloads' parameter order and footprints, its modes), so that an
// old directory reads the same however today's workloads and modes change.
// Never update it to follow a workload; new facts are recorded by the run.

// v1Params is each v1 workload's parameter order.
var v1Params = map[string][]string{
	"aesgcm":     {"record", "dataset"},
	"attest":     {},
	"compute":    {"task"},
	"fileio":     {"fs", "access", "op", "block", "file"},
	"httpserver": {"payload", "conns"},
	"kvstore":    {"dataset", "dist", "mix"},
	"memsweep":   {"ws", "access", "op"},
	"seal":       {"bytes", "op"},
	"syscall":    {"call"},
	"threads":    {"threads", "sharing"},
}

// v1FootprintParam is the parameter that set a v1 workload's footprint.
var v1FootprintParam = map[string]string{"aesgcm": "dataset", "kvstore": "dataset", "memsweep": "ws"}

// v1Footprint is the enclave memory of a v1 workload's cell for params at
// a size of epc bytes of EPC: the workload's declaration then (0 for those
// that declared none), -1 when it is unknown.
func v1Footprint(w string, params map[string]string, epc int64) int64 {
	pos := func(n int64, err error) int64 {
		if err != nil || n <= 0 {
			return -1
		}
		return n
	}
	switch w {
	case "kvstore":
		const slot = 8 + 56 // kvstore.SlotBytes in v1: an 8-byte key and a 56-byte value
		n, err := v1Bytes(params["dataset"], epc)
		return pos(n/slot*slot, err)
	case "aesgcm":
		return pos(v1Bytes(params["dataset"], epc))
	case "memsweep":
		const line = 64
		n, err := v1Bytes(params["ws"], epc)
		return pos((n+line-1)/line*line, err)
	case "fileio":
		if params["fs"] != "memfs" {
			return -1 // declared 0 off memfs: the v1 report showed it unknown
		}
		return pos(v1Bytes(params["file"], epc))
	}
	if _, ok := v1Params[w]; ok {
		return 0 // declared negligible
	}
	// A workload v1 did not know: its largest byte-valued parameter.
	fp := int64(-1)
	for _, v := range params {
		if n, err := v1Bytes(v, epc); err == nil && n > fp {
			fp = n
		}
	}
	return fp
}

var v1ByteSuffixes = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

// v1Bytes reads a v1 byte count: a number, one with a unit ("64KiB"), or a
// multiple of the EPC ("0.5xEPC"; epc <= 0 when unknown).
func v1Bytes(v string, epc int64) (int64, error) {
	if f, ok := strings.CutSuffix(v, "xEPC"); ok {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || !(x > 0 && x <= 1e6) || epc <= 0 || int64(x*float64(epc)) < 1 { // NaN too
			return 0, fmt.Errorf("%q: not a multiple of a known EPC", v)
		}
		return int64(x * float64(epc)), nil
	}
	mult, num := int64(1), v
	for _, s := range v1ByteSuffixes {
		if n, ok := strings.CutSuffix(v, s.suffix); ok {
			num, mult = n, s.mult
			break
		}
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || !(x*float64(mult) >= 1 && x*float64(mult) <= 1<<50) { // NaN and fractions of a byte too
		return 0, fmt.Errorf("%q is not a byte count", v)
	}
	return int64(x * float64(mult)), nil
}

// ByteCount reads a parameter value as a byte count for ordering: a
// number with a unit ("64KiB", "16MiB"); false when it is not one.
func ByteCount(v string) (int64, bool) {
	n, err := v1Bytes(v, 0)
	return n, err == nil
}

// v1Count reads v1's threads parameter: "8", "vcpus" or "4xvcpus", at most
// 1024 workers.
func v1Count(v string, vcpus int) int {
	const maxCount = 1024
	n := 0
	if f, ok := strings.CutSuffix(v, "vcpus"); ok {
		k := 1
		if f != "" {
			x, found := strings.CutSuffix(f, "x")
			var err error
			if k, err = strconv.Atoi(x); !found || err != nil || k <= 0 || k > maxCount {
				return 0
			}
		}
		n = k * vcpus
	} else {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return 0
		}
	}
	if n < 1 || n > maxCount {
		return 0
	}
	return n
}

// v1Modes are the modes of v1 and what the v1 report said of them, with
// whether they model the EPC (what those modes did in v1: EGo's
// simulation mode enforced no EPC limit then either).
var v1Modes = map[string]ModeFacts{
	"native": {Rank: 0, Kind: KindMeasured, Label: "native", Summary: "a plain process on the host: the baseline", ModelsEPC: &no},
	"sgx":    {Rank: 1, Kind: KindMeasured, Enclave: true, LoadTime: true, Label: "sgx", Summary: "an EGo enclave on SGX hardware", ModelsEPC: &yes},
	"ego-sim": {Rank: 2, Kind: KindEmulated, Enclave: true, LoadTime: true, Label: "ego-sim", ModelsEPC: &no,
		Summary: "EGo's simulation mode: no SGX hardware; OCALLs are real syscalls, so these are not hardware figures",
		Cannot:  "EGo's simulation mode enforces no EPC limit (nothing pages, whatever the working set) and makes no hardware enclave transitions: its figures say nothing about EPC paging, transition costs on SGX or which size a working set needs (the sim and sgx modes answer those)"},
	"sim": {Rank: 3, Kind: KindModel, Enclave: true, Label: "sim", ModelsEPC: &yes,
		Summary: "predicted by enclavebench's model: each repetition's native time, measured in the sim process, plus the enclave events counted for that repetition, priced by the cost profile; its slowdown is over that base, pair by pair (never against the native cells, which another process measured): a prediction, not a measurement"},
}

var yes, no = true, false

// factsV1 gives a schema version 1 directory the facts its harness meant.
func factsV1(d *Dir, cells []CellResult) Facts {
	f := Facts{Workloads: map[string]WorkloadFacts{}, Modes: map[string]ModeFacts{}, Cells: map[string]CellFacts{}}
	simProfile := ""
	if p := d.Run.Profile; p != nil {
		simProfile = p.Name
		if p.Version > 0 {
			simProfile = fmt.Sprintf("%s/v%d", p.Name, p.Version)
		}
	}
	for _, s := range d.Samples {
		if s.Mode == "sim" && s.Model != nil && s.Model.Profile != "" {
			simProfile = s.Model.Profile
			break
		}
	}
	type cell struct {
		key, workload, size, mode string
		params                    map[string]string
	}
	var all []cell
	for _, s := range d.Samples {
		all = append(all, cell{s.Cell, s.Workload, s.Size, s.Mode, s.Params})
	}
	for _, c := range cells {
		all = append(all, cell{c.Cell, c.Workload, c.Size, c.Mode, c.Params})
	}
	for _, c := range all {
		if _, ok := f.Cells[c.key]; ok {
			continue
		}
		if _, ok := f.Workloads[c.workload]; !ok {
			wf := WorkloadFacts{Params: v1ParamOrder(c.workload, c.params), FootprintParam: v1FootprintParam[c.workload]}
			// v1 drew transitions for any workload with a call parameter
			// and scaling for any with a threads parameter.
			for _, p := range wf.Params {
				switch p {
				case "call":
					wf.Figures = append(wf.Figures, FigureRole{FigureTransitions, p})
				case "threads":
					wf.Figures = append(wf.Figures, FigureRole{FigureScaling, p})
				}
			}
			f.Workloads[c.workload] = wf
		}
		if _, ok := f.Modes[c.mode]; !ok {
			mf, known := v1Modes[c.mode]
			if !known {
				mf = ModeFacts{Rank: 4, Kind: "", Enclave: true, Label: c.mode, Summary: "a mode this report does not know"}
			}
			if c.mode == "sim" {
				p := simProfile
				if p == "" {
					p = "unknown"
				}
				mf.Label = "sim (model, profile " + p + ")"
			}
			f.Modes[c.mode] = mf
		}
		cf := CellFacts{FootprintBytes: -1}
		if sz, ok := frozenSize(c.size); ok {
			cf.FootprintBytes = v1Footprint(c.workload, c.params, sz.EPCBytes)
			if v, ok := c.params["threads"]; ok {
				cf.Count = v1Count(v, sz.VCPUs)
			}
		}
		f.Cells[c.key] = cf
	}
	return f
}

// v1ParamOrder is a v1 cell's parameter order: its workload's, else
// sorted.
func v1ParamOrder(w string, params map[string]string) []string {
	return ParamOrder(v1Params[w], params)
}
