package mode

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Kind says how a mode's figures relate to the platform they describe: the
// vocabulary run.json's facts record (result.ModeKind).
type Kind = result.ModeKind

// Kinds of mode.
const (
	// Measured figures are measured on the platform itself (a plain
	// process, an enclave on SGX hardware).
	Measured = result.KindMeasured
	// Emulated figures are measured on a stand-in for the platform (EGo's
	// simulation mode: no SGX hardware); reports call them "simulation".
	Emulated = result.KindEmulated
	// Model figures are predicted from measured inputs, not measured.
	Model = result.KindModel
)

// Descriptor holds the facts about a mode that the harness, the fleet
// planner and the results need without a constructed Mode. Every mode
// registers one (Register); code asks the descriptor instead of switching
// on mode names.
type Descriptor struct {
	// Name is the mode's name on the command line and in cell keys.
	Name string
	// Rank orders modes: reports list them by rank, and --modes auto adds
	// the lowest-ranked enclave mode this host can run to native.
	Rank int
	// Kind says whether the figures are measured, emulated or a model.
	Kind Kind
	// Enclave is true for modes that run (or predict) the workload in an
	// enclave; native is the only non-enclave mode today.
	Enclave bool
	// RecordsLoadTime makes the runner record the time from the launch to
	// the workload's hello line as the cell's load time (enclave creation).
	RecordsLoadTime bool
	// NeedsSGX and NeedsEGo say what the host must have (usable SGX
	// hardware, an EGo installation) for the mode to run.
	NeedsSGX, NeedsEGo bool
	// BuildsWorkload is true for modes that build the workload from source
	// themselves (so a --baseline binary cannot apply to them).
	BuildsWorkload bool
	// Label is the mode's short label in tables and figures.
	Label string
	// LongLabel, when set, is the label reports use for a run of the mode
	// configured by ref (the sim cost profile's name): "sim (model,
	// profile X)". Use LabelFor.
	LongLabel func(ref string) string
	// Summary is one sentence for a report's table of modes: what the
	// figures are.
	Summary string
	// NodeMemory, when set, is the memory a cell of the mode holds on the
	// machine that runs it, from the memory the cell's workload declares
	// (an EGo enclave commits its whole heap and its thread stacks when it
	// is created); a fleet plan requests it. Unset: the cell's footprint.
	NodeMemory func(workload.Memory) int64
	// Binaries are the binaries the mode runs besides the workload binary,
	// found next to it (the sim mode's workload-sim): a fleet plan copies
	// them to each host with the workload binary.
	Binaries []Binary
	// ModelsEPC is true for enclave modes whose figures measure or model
	// the EPC limit of the size (paging once a working set exceeds it):
	// only their figures answer which size a working set needs, or any
	// EPC or paging question. A mode without an EPC limit (EGo's
	// simulation) leaves it false.
	ModelsEPC bool
	// Cannot, when set, says in one sentence what the mode's figures
	// cannot tell (reports show it next to them).
	Cannot string
	// ProvenancePath, when set, names the file that keeps the raw sample
	// lines of a cell whose workload reported an enclave report over them
	// (bench verify recomputes the digest from it).
	ProvenancePath func(dir, cellKey string) string
	// New constructs the mode for a run; its error is shown to the user
	// as bad input (exit 2), so it names the flag or the fix.
	New func(Config) (Mode, error)
}

// Binary is a binary a mode runs besides the workload binary.
type Binary struct {
	Name  string // its file name, next to the workload binary
	Build string // the command that builds it, from the module root
}

// LabelFor is the mode's label in reports for a run configured by ref
// (LongLabel, else Label).
func (d Descriptor) LabelFor(ref string) string {
	if d.LongLabel != nil {
		return d.LongLabel(ref)
	}
	return d.Label
}

// Config is what the harness gives a mode's constructor.
type Config struct {
	// WorkloadBin is the plain workload binary of this side of the run.
	WorkloadBin string
	// Stderr receives progress notes and one-line notices.
	Stderr io.Writer
	// Options are the mode flags of the run.
	Options Options
}

// Options are the run's flags that configure enclave and model modes. A
// mode reads the fields it needs and ignores the others.
type Options struct {
	ProfileFile     string `json:"profile_file,omitempty"`      // sim: cost profile JSON ("" = built-in)
	SourceDir       string `json:"source_dir,omitempty"`        // sgx/ego-sim: source tree to build ("" = found)
	EGoDebug        bool   `json:"ego_debug,omitempty"`         // sgx/ego-sim: sign debug enclaves
	EGoTraceOCalls  bool   `json:"ego_trace_ocalls,omitempty"`  // sgx/ego-sim: OE_TRACE_OCALLS=1
	EGoPreciseClock bool   `json:"ego_precise_clock,omitempty"` // sgx/ego-sim: ERT_DISABLE_VDSO_CLOCK=1
	EGoCache        string `json:"ego_cache,omitempty"`         // sgx/ego-sim: build and sign cache
	// HostSGX overrides SGX detection (tests with a stand-in ego).
	HostSGX func() bool `json:"-"`
}

// ExitReporter is implemented by modes that read more from a finished
// process (OCALL counts, enclave identity): foreign holds the stdout lines
// that were not protocol lines.
type ExitReporter interface {
	AfterExit(l Launch, foreign []string, stderr string, cr *result.CellResult)
}

// RunDescriber is implemented by modes that record how they were configured
// in run.json (the sim mode's cost profile).
type RunDescriber interface {
	DescribeRun(run *result.Run)
}

// BinaryUser is implemented by modes that run a binary of their own besides
// the workload binary they are given (the sim mode's workload-sim): run.json
// records its SHA-256 and --resume checks it.
type BinaryUser interface {
	// Binary is the path of the binary the mode runs (known after Check).
	Binary() string
}

// ErrConfig marks a Prepare error that is bad input (an enclave that cannot
// fit the size) rather than a failure: errors.Is(err, ErrConfig).
var ErrConfig = errors.New("mode configuration")

// ConfigError returns an error with text msg that matches ErrConfig.
func ConfigError(msg string) error { return configError(msg) }

type configError string

func (e configError) Error() string      { return string(e) }
func (configError) Is(target error) bool { return target == ErrConfig }

var registry struct {
	sync.RWMutex
	byName map[string]Descriptor
}

// Register adds a mode. It panics on a duplicate or incomplete descriptor:
// registration happens in init functions, where that is a programming error.
func Register(d Descriptor) {
	if d.Name == "" || d.New == nil || d.Label == "" {
		panic(fmt.Sprintf("mode.Register: descriptor %q needs Name, Label and New", d.Name))
	}
	switch d.Kind {
	case Measured, Emulated, Model:
	default:
		panic(fmt.Sprintf("mode.Register: mode %q: unknown kind %q", d.Name, d.Kind))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[d.Name]; dup {
		panic("mode.Register: mode " + d.Name + " registered twice")
	}
	if registry.byName == nil {
		registry.byName = map[string]Descriptor{}
	}
	registry.byName[d.Name] = d
}

// Unregister removes a mode (tests that register a toy mode).
func Unregister(name string) {
	registry.Lock()
	defer registry.Unlock()
	delete(registry.byName, name)
}

// Lookup returns the descriptor of a registered mode.
func Lookup(name string) (Descriptor, bool) {
	registry.RLock()
	defer registry.RUnlock()
	d, ok := registry.byName[name]
	return d, ok
}

// Descriptors returns the registered modes by rank (then name).
func Descriptors() []Descriptor {
	registry.RLock()
	out := make([]Descriptor, 0, len(registry.byName))
	for _, d := range registry.byName {
		out = append(out, d)
	}
	registry.RUnlock()
	slices.SortFunc(out, func(a, b Descriptor) int {
		if a.Rank != b.Rank {
			return a.Rank - b.Rank
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Names lists the registered modes by rank: native, then the enclave modes
// in the order --modes auto prefers them. The enclave modes register from
// their own packages; import bench/mode/all to have them all.
func Names() []string {
	var out []string
	for _, d := range Descriptors() {
		out = append(out, d.Name)
	}
	return out
}

// Validate checks a mode name.
func Validate(name string) error {
	if _, ok := Lookup(name); ok {
		return nil
	}
	return fmt.Errorf("unknown mode %q (valid: %s)", name, strings.Join(Names(), ", "))
}
