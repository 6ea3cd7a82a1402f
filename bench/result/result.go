// Package result holds the records a run produces (samples, cell outcomes,
// run metadata) and their codecs: JSON lines, the Go benchmark format and CSV.
package result

import (
	"sort"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// SchemaVersion is the version of run.json, samples.jsonl and cells.jsonl
// that this harness writes. Version 2 added Run.Facts; version 3 dropped
// each record's "cell" name, derived since from its fields (CellName);
// Load reads versions MinSchemaVersion to SchemaVersion.
const SchemaVersion = 3

// MinSchemaVersion is the oldest version Load reads: version 1 directories
// get their facts from a frozen table of what version 1 meant.
const MinSchemaVersion = 1

// Readable reports whether Load reads result files of schema version v.
func Readable(v int) bool { return v >= MinSchemaVersion && v <= SchemaVersion }

// File names inside a result directory.
const (
	RunFile     = "run.json"
	SamplesFile = "samples.jsonl"
	CellsFile   = "cells.jsonl"
	BenchFile   = "bench.txt"
	CSVFile     = "results.csv"
)

// Cell identifies one cell of the matrix: workload x parameters x size x mode.
type Cell struct {
	Workload string            `json:"workload"`
	Params   map[string]string `json:"params,omitempty"`
	Size     string            `json:"size"`
	Mode     string            `json:"mode"`
	// ParamOrder keeps the workload's declaration order for names; it is
	// not serialised because Key already fixes it.
	ParamOrder []string `json:"-"`
}

// Key is the cell's stable name in the Go benchmark format, without the
// "Benchmark" prefix: Workload/param=value/.../size=S/mode=M. It always ends
// with the mode, so it never ends in "-<digits>" (which benchfmt would read
// as GOMAXPROCS).
func (c Cell) Key() string {
	var b strings.Builder
	name := c.Workload
	if name != "" {
		b.WriteString(strings.ToUpper(name[:1]) + name[1:])
	}
	order := c.ParamOrder
	if len(order) != len(c.Params) {
		order = make([]string, 0, len(c.Params))
		for k := range c.Params {
			order = append(order, k)
		}
		sort.Strings(order)
	}
	for _, k := range order {
		b.WriteString("/" + k + "=" + c.Params[k])
	}
	b.WriteString("/size=" + c.Size + "/mode=" + c.Mode)
	return b.String()
}

// Sample is one repetition of one cell, as stored in samples.jsonl.
type Sample struct {
	// Cell is the cell's name (Cell.Key()), derived from the record's
	// fields and the run's declared parameter order (Facts.CellName);
	// records of schema 3 on do not store it (EncodeSample).
	Cell      string            `json:"-"`
	Attempt   int               `json:"attempt"`
	Workload  string            `json:"workload"`
	Params    map[string]string `json:"params,omitempty"`
	Size      string            `json:"size"`
	Mode      string            `json:"mode"`
	Rep       int               `json:"rep"`
	Iters     int               `json:"iters"`
	ElapsedNS int64             `json:"elapsed_ns"`
	Values    []protocol.Value  `json:"values"`
	Events    map[string]int64  `json:"events,omitempty"`
	Time      time.Time         `json:"time"`
	// Model is set for figures predicted by the sim mode.
	Model *Model `json:"model,omitempty"`
	// Pool is the sim base pool the run recorded for this sample's cell and
	// attempt (Run.SimBases), attached by Load; nil when none was recorded.
	Pool *SimBase `json:"-"`
}

// Model describes a predicted (not measured) figure of the sim mode.
type Model struct {
	Profile string `json:"profile"` // cost profile name and version
	// Native is the measured figures the prediction started from.
	Native []protocol.Value `json:"native"`
	// EmulationNS is what the emulation itself cost on this host.
	EmulationNS int64 `json:"emulation_ns,omitempty"`
	// BaseNS is the repetition's measured time on plain memory, in the
	// same process and repetition as the counted events; PredictedNS is
	// BaseNS plus the priced events. Both are 0 in samples written before
	// the paired model (their base was the time less the emulation).
	BaseNS      int64 `json:"base_ns,omitempty"`
	PredictedNS int64 `json:"predicted_ns,omitempty"`
	// CountsOnly is set when events could not be counted on this host.
	CountsOnly string `json:"counts_unavailable,omitempty"`
	// Uncounted names enclave costs the prediction leaves out because they
	// could not be counted (protocol.ExtraUncounted).
	Uncounted string `json:"uncounted,omitempty"`
}

// NotPredicted says why a model could not predict the sample
// (Model.CountsOnly); "" when it did, or when no model priced it.
func (s *Sample) NotPredicted() string {
	if s.Model == nil {
		return ""
	}
	return s.Model.CountsOnly
}

// Figures are the values a reader may publish as the sample's mode's: none
// for a sample a model could not predict, whose Values are the measured
// ones it would have started from (a native figure under a model's name).
func (s *Sample) Figures() []protocol.Value {
	if s.NotPredicted() != "" {
		return nil
	}
	return s.Values
}

// Value returns the sample's value in unit.
func (s *Sample) Value(unit string) (protocol.Value, bool) {
	for _, v := range s.Values {
		if v.Unit == unit {
			return v, true
		}
	}
	return protocol.Value{}, false
}

// Status is the outcome of one attempt at a cell (cells.jsonl "status").
type Status string

// Cell statuses.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusNA      Status = "na" // not applicable in this mode (e.g. seal natively)
	StatusSkipped Status = "skipped"
)

// RunStatus is the state of a run (run.json "status").
type RunStatus string

// Run statuses.
const (
	RunRunning     RunStatus = "running"
	RunComplete    RunStatus = "complete"
	RunInterrupted RunStatus = "interrupted" // stopped by a signal: --resume finishes it
	RunFailed      RunStatus = "failed"
)

// CellResult is the outcome of one attempt at a cell, as stored in cells.jsonl.
type CellResult struct {
	// Cell is the cell's name, as Sample.Cell.
	Cell     string            `json:"-"`
	Attempt  int               `json:"attempt"`
	Workload string            `json:"workload"`
	Params   map[string]string `json:"params,omitempty"`
	Size     string            `json:"size"`
	Mode     string            `json:"mode"`
	Status   Status            `json:"status"`
	Reason   string            `json:"reason,omitempty"` // why it failed or does not apply
	ExitCode int               `json:"exit_code,omitempty"`
	Stderr   string            `json:"stderr_tail,omitempty"`
	Samples  int               `json:"samples"`
	Start    time.Time         `json:"start"`
	WallNS   int64             `json:"wall_ns"`  // harness-side, process start to exit
	ChildNS  int64             `json:"child_ns"` // the workload's own lifetime
	// LoadNS is the enclave load time, from the launcher's start to the
	// workload's first line (enclave modes only; never part of a sample).
	LoadNS         int64             `json:"load_ns,omitempty"`
	GOMAXPROCS     int               `json:"gomaxprocs,omitempty"`
	CPUs           int               `json:"cpus,omitempty"`
	Oversubscribed bool              `json:"oversubscribed,omitempty"`
	Arena          string            `json:"arena,omitempty"`
	Extra          map[string]string `json:"extra,omitempty"`
	// HarnessVersion is the version of the harness that ran this attempt
	// (run.json's is the first build's), for the report's version guard.
	HarnessVersion string `json:"harness_version,omitempty"`
}

// Run is the metadata of a run, stored in run.json.
type Run struct {
	SchemaVersion  int              `json:"schema_version"`
	ID             string           `json:"id"`
	HarnessVersion string           `json:"harness_version"`
	HarnessCommit  string           `json:"harness_commit,omitempty"`
	Command        []string         `json:"command"`
	Start          time.Time        `json:"start"`
	End            time.Time        `json:"end,omitzero"`
	Status         RunStatus        `json:"status"`
	Plan           Plan             `json:"plan"`
	Host           host.Fingerprint `json:"host"`
	Profile        *CostProfileRef  `json:"cost_profile,omitempty"`
	// Build is the workload binary of the run (of one side of a
	// --baseline run); runs from before it was recorded for every run
	// have none.
	Build *Build `json:"build,omitempty"`
	// Facts are what readers need to interpret the cells (schema 2; Load
	// fills Dir.Facts from a frozen table for schema 1).
	Facts *Facts `json:"facts,omitempty"`
	// ModeSettings are the settings of each mode that change what its
	// cells measure, by `bench run` flag ("ego-sim" -> "ego-trace-ocalls"
	// -> "true"): --resume refuses to add cells under others. Runs from
	// before they were recorded have none.
	ModeSettings map[string]map[string]string `json:"mode_settings,omitempty"`
	// Counts records the counting pass of a run with --counts (Counts):
	// its tool and method, or why it was unavailable.
	Counts *Counts `json:"counts,omitempty"`
	// GoTest are the test binaries of the user's Go benchmarks the run
	// measures (bench run --gotest); --resume rebuilds them and checks
	// their SHA-256.
	GoTest []GoTestBuild `json:"gotest,omitempty"`
	// SimBases are the native bases the sim mode's slowdowns are over, each
	// estimated across the cells of equal work and parallelism at several
	// sizes (bench/sim/paired.Pools), recorded when the run (or a resume)
	// ended. Runs from before they were recorded have none: their sim
	// slowdowns are over each cell's own base.
	SimBases []SimBase `json:"sim_bases,omitempty"`
}

// SimBase is one pool of sim cells that do the same work with the same
// parallelism at different sizes: on one host their native time per
// operation is one quantity, so it is estimated once, from all their
// repetitions, and each cell's predicted slowdown is over it. A base that
// strayed in one cell's process (host load) then moves no cell's slowdown
// against its peers'.
type SimBase struct {
	// Method names the estimator ("median-per-op/v1": the median over
	// every repetition of the pool's cells of base_ns / iters).
	Method string `json:"method"`
	// Workload, Params (canonical "k=v,k=v"), FootprintBytes and
	// Parallelism are what the pooled cells share; Mode is theirs.
	Workload       string `json:"workload"`
	Params         string `json:"params,omitempty"`
	Mode           string `json:"mode"`
	FootprintBytes int64  `json:"footprint_bytes"`
	Parallelism    int    `json:"parallelism"`
	// BaseNSPerOp is the pooled base; BaseLoNSPerOp and BaseHiNSPerOp its
	// 95% interval (bench/stats: the order statistics of the median).
	BaseNSPerOp   float64 `json:"base_ns_per_op"`
	BaseLoNSPerOp float64 `json:"base_lo_ns_per_op"`
	BaseHiNSPerOp float64 `json:"base_hi_ns_per_op"`
	// Pairs is the number of repetitions it was estimated from.
	Pairs int `json:"pairs"`
	// Cells are the pooled cells, each with the attempt whose samples were
	// used and its own median base.
	Cells []SimBaseCell `json:"cells"`
}

// SimBaseCell is one cell of a SimBase.
type SimBaseCell struct {
	Cell        string  `json:"cell"`
	Size        string  `json:"size"`
	Attempt     int     `json:"attempt"`
	BaseNSPerOp float64 `json:"own_base_ns_per_op"`
	Pairs       int     `json:"pairs"`
}

// GoTestBuild is one package's test binary of a --gotest run.
type GoTestBuild struct {
	Package   string `json:"package"`              // import path
	Module    string `json:"module,omitempty"`     // its module's path
	GoVersion string `json:"go_version,omitempty"` // the module's go directive
	Dir       string `json:"dir"`                  // where the test binary runs
	Tags      string `json:"tags,omitempty"`
	Binary    string `json:"binary"`
	SHA256    string `json:"sha256"`
	CgoFiles  int    `json:"cgo_files,omitempty"`
	// SimBinary is the package's sim flavour, the whole process on the
	// software EPC (bench/gotest: the runtime overlay and the software EPC
	// added), with its SHA-256; none when the run has no sim mode.
	SimBinary string `json:"sim_binary,omitempty"`
	SimSHA256 string `json:"sim_sha256,omitempty"`
	// Benchmarks are the workloads it gives (BenchmarkGet is "Get").
	Benchmarks []string `json:"benchmarks"`
}

// Plan is what a run was asked to do, resolved (every field set); --resume
// replays it. Digest is the spec's (runspec.Spec.Digest) when the run
// started; runs from before it was recorded have none.
type Plan struct {
	runspec.Spec
	Digest string   `json:"digest,omitempty"`
	Cells  []string `json:"cells"` // keys in execution order
}

// Build identifies the workload binary of a run (of one side of a
// --baseline run); --resume checks it.
type Build struct {
	Side        string `json:"side,omitempty"` // "base" or "new"; "" outside --baseline
	WorkloadBin string `json:"workload_bin"`
	SHA256      string `json:"sha256"`
	// ModeBinaries are the binaries modes run besides WorkloadBin (the sim
	// mode's workload-sim).
	ModeBinaries []ModeBinary `json:"mode_binaries,omitempty"`
}

// ModeBinary is a binary a mode runs, with its SHA-256; for a mode that
// builds the workload itself (sgx, ego-sim), also the source tree and the
// digest of the sources it was built from, which --resume checks.
type ModeBinary struct {
	Mode         string `json:"mode"`
	Path         string `json:"path"`
	SHA256       string `json:"sha256"`
	SourceDir    string `json:"source_dir,omitempty"`
	SourceDigest string `json:"source_digest,omitempty"`
}

// CostProfileRef names the sim cost profile a run used.
type CostProfileRef struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	// Digest is the SHA-256 of the profile's content (sim.Profile.Digest):
	// --resume refuses another, and readers match profiles by it rather
	// than by name and version, which an edit keeps. Runs from before it
	// was recorded have none; readers then match by name and version only.
	Digest string `json:"digest,omitempty"`
	Source string `json:"source,omitempty"`
	// UsableEPC is the software EPC's cap per size (sim.UsableEPC: catalog
	// EPC less the measured baseline and the profile's runtime overhead).
	UsableEPC map[string]int64 `json:"usable_epc_bytes,omitempty"`
}
