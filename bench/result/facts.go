package result

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/textfmt"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Facts are what a reader needs to interpret a run's cells, recorded in
// run.json by the run itself (schema version 2): readers (report, compare,
// export) never ask today's workload registry or mode table, so an old
// directory reads the same after a workload or mode changes. Directories
// of schema version 1 get theirs from a frozen table (factsV1).
type Facts struct {
	// Workloads are the facts of each workload of the plan, by name.
	Workloads map[string]WorkloadFacts `json:"workloads"`
	// Modes are the facts of each mode of the plan, by name.
	Modes map[string]ModeFacts `json:"modes"`
	// Cells are the facts of each planned cell, by cell key.
	Cells map[string]CellFacts `json:"cells"`
	// Sizes are the facts of each VM size the run used, by name, as the
	// catalog said when it ran. Runs from before they were recorded get
	// them from the frozen catalog of their schema (sizesV2).
	Sizes map[string]SizeFacts `json:"sizes,omitempty"`
	// Baseline is the harness's baseline mode (the plain process enclave
	// figures are compared with), whether or not the run planned it, for
	// the commands reports suggest. Runs from before it was recorded had
	// one: frozenBaseline.
	Baseline string `json:"baseline,omitempty"`
}

// frozenBaseline is the baseline mode of runs whose facts do not name it:
// a frozen fact, like those of schema 1 (factsv1.go), never to follow the
// modes of today.
const frozenBaseline = "native"

// FigureNote is the line (Markdown) a report prints above its tables for
// the figures of the mode named name: the note the run recorded, else, for
// runs from before modes recorded one, the note of its kind frozen as the
// report of that time worded it (the one mode of each kind was sim and
// ego-sim; frozen like factsv1.go, never to follow a mode of today). ""
// for measured modes and modes of no known kind.
func (m ModeFacts) FigureNote(name string) string {
	if m.Note != "" {
		return m.Note
	}
	name = textfmt.Markdown(name)
	switch m.Kind {
	case KindModel:
		return name + " figures are **predictions** of enclavebench's model, not measurements."
	case KindEmulated:
		return name + " figures come from EGo's simulation mode: not hardware figures."
	}
	return ""
}

// SizeFacts describe a VM size a run's cells were sized for.
type SizeFacts struct {
	Family      string `json:"family"`
	VCPUs       int    `json:"vcpus"`
	EPCBytes    int64  `json:"epc_bytes"`
	MemoryBytes int64  `json:"memory_bytes"`
	CPU         string `json:"cpu"`
	// Source is where the figures come from (the published page).
	Source string `json:"source"`
	// Order is the size's place in the catalog of the harness that ran
	// (1-based), the order readers list sizes in; 0 in runs from before it
	// was recorded (SizeOrder then takes the frozen table's).
	Order int `json:"order,omitempty"`
}

// EPCMiB is the EPC in MiB.
func (s SizeFacts) EPCMiB() float64 { return float64(s.EPCBytes) / (1 << 20) }

// WorkloadFacts describe a workload's cells.
type WorkloadFacts struct {
	// Params are the parameter names in declaration order.
	Params []string `json:"params"`
	// Metrics are the units the workload declares, in declaration order.
	Metrics []protocol.Value `json:"metrics,omitempty"`
	// Figures are the figures the workload asks a report for.
	Figures []FigureRole `json:"figures,omitempty"`
	// FootprintParam names the byte-valued parameter that sets the
	// workload's footprint (memsweep's ws); empty when none does.
	FootprintParam string `json:"footprint_param,omitempty"`
}

// FigureRole asks for a figure over one parameter of a workload.
type FigureRole struct {
	// Role is FigureTransitions or FigureScaling.
	Role string `json:"role"`
	// Param is the parameter the figure sweeps (the call class, the
	// thread count).
	Param string `json:"param"`
}

// Figure roles a workload can ask for. The EPC cliff needs no role: it is
// drawn for any workload whose cells' footprints vary with a parameter.
const (
	// FigureTransitions: distributions per value of Param (call classes).
	FigureTransitions = "transitions"
	// FigureScaling: the primary unit against CellFacts.Count (threads).
	FigureScaling = "scaling"
)

// ModeKind says how a mode's figures relate to the platform they
// describe: the one vocabulary of the modes (bench/mode.Kind), run.json's
// facts and the report.
type ModeKind string

// Mode kinds.
const (
	KindMeasured ModeKind = "measured" // measured on the platform itself
	KindEmulated ModeKind = "emulated" // measured on a stand-in (EGo simulation)
	KindModel    ModeKind = "model"    // predicted, not measured
)

// ModeFacts describe a mode's figures.
type ModeFacts struct {
	// Rank orders modes in tables and figures (native first).
	Rank int `json:"rank"`
	// Kind is KindMeasured, KindEmulated or KindModel.
	Kind ModeKind `json:"kind"`
	// Enclave is true for modes that run (or predict) the workload in an
	// enclave: their figures are compared with native.
	Enclave bool `json:"enclave"`
	// LoadTime is true for modes whose cells record the enclave load time.
	LoadTime bool `json:"load_time,omitempty"`
	// Label names the mode's figures in tables and figures ("sim (model,
	// profile X)").
	Label string `json:"label"`
	// Summary says in one sentence what the figures are.
	Summary string `json:"summary"`
	// Note is the line (Markdown) a report prints above its tables so that
	// no reader takes the figures for hardware measurements; modes of kind
	// KindEmulated and KindModel record one. Runs from before it was
	// recorded have none: FigureNote gives theirs.
	Note string `json:"note,omitempty"`
	// ModelsEPC is true for enclave modes whose figures measure or model
	// the size's EPC limit: only they answer sizing and EPC questions.
	// Runs from before it was recorded have none (use EPC).
	ModelsEPC *bool `json:"models_epc,omitempty"`
	// Cannot says what the figures cannot tell ("" when nothing to say).
	Cannot string `json:"cannot,omitempty"`
	// HeapExtra is the key of a cell outcome's Extra holding the enclave
	// heap the mode configured, in MiB; "" when the mode records none or
	// the run is from before it was recorded (HeapBytes then reads the
	// frozen keys of that time).
	HeapExtra string `json:"heap_extra,omitempty"`
}

// frozenHeapKeys are the Extra keys read as the enclave heap size, in
// order, before modes recorded theirs (HeapExtra): the ego modes'
// "ego_heap_mb" (enclave.json's heapSize; EGo's MB are MiB: ego sign
// writes heapSize*256 pages of 4 KiB), then generic ones. Frozen: never
// to follow a mode of today.
var frozenHeapKeys = []string{"ego_heap_mb", "heap_bytes", "heap_mib", "heap_mb"}

// HeapBytes is the enclave heap a cell outcome of the mode recorded in
// extra: under the mode's recorded HeapExtra key (MiB), or, where the run
// recorded none, under the frozen keys (heap_bytes in bytes, the others
// in MiB). ok is false when none holds a positive number.
func (m ModeFacts) HeapBytes(extra map[string]string) (n int64, ok bool) {
	keys := frozenHeapKeys
	if m.HeapExtra != "" {
		keys = []string{m.HeapExtra}
	}
	for _, k := range keys {
		v, ok := extra[k]
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			continue
		}
		if k != "heap_bytes" || m.HeapExtra != "" {
			f *= 1 << 20
		}
		return int64(f), true
	}
	return 0, false
}

// EPC reports whether the mode's figures measure or model the EPC limit:
// the recorded fact, or for runs from before it was recorded, whether the
// mode is an enclave mode measured on hardware or modelled (an emulated
// mode, EGo's simulation, enforces no EPC limit).
func (m ModeFacts) EPC() bool {
	if m.ModelsEPC != nil {
		return *m.ModelsEPC
	}
	return m.Enclave && (m.Kind == KindMeasured || m.Kind == KindModel)
}

// CellFacts describe one cell.
type CellFacts struct {
	// FootprintBytes is the enclave memory the workload allocates in the
	// cell; 0 when negligible, -1 when unknown.
	FootprintBytes int64 `json:"footprint_bytes"`
	// Count is the value of the workload's scaling parameter resolved for
	// the cell's size (threads=vcpus on 4 vCPUs: 4); 0 when none.
	Count int `json:"count,omitempty"`
	// Parallelism is how many goroutines run the workload's operations at
	// once in the cell (workload.Spec.Parallelism); 0 when not declared.
	Parallelism int `json:"parallelism,omitempty"`
}

// Workload returns the facts of workload w (zero when unknown).
func (f *Facts) Workload(w string) WorkloadFacts { return f.Workloads[w] }

// Mode returns the facts of mode m and whether they are known.
func (f *Facts) Mode(m string) (ModeFacts, bool) {
	mf, ok := f.Modes[m]
	return mf, ok
}

// Size returns the facts of size name and whether they are known.
func (f *Facts) Size(name string) (SizeFacts, bool) {
	sz, ok := f.Sizes[name]
	return sz, ok
}

// Cell returns the facts of the cell with key k; a cell without facts has
// an unknown footprint.
func (f *Facts) Cell(k string) CellFacts {
	if c, ok := f.Cells[k]; ok {
		return c
	}
	return CellFacts{FootprintBytes: -1}
}

// ParamOrder is a cell's parameters in their declared order, or sorted
// when the declaration does not cover them all (a cell the facts do not
// describe): names are then still stable.
func ParamOrder(declared []string, params map[string]string) []string {
	var order []string
	for _, p := range declared {
		if _, ok := params[p]; ok {
			order = append(order, p)
		}
	}
	if len(order) == len(params) {
		return order
	}
	order = order[:0]
	for k := range params {
		order = append(order, k)
	}
	sort.Strings(order)
	return order
}
