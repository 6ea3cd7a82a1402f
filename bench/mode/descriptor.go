package mode

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
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
	// Needs are what the host or fleet node that runs the mode's cells
	// must have and hold.
	Needs Needs
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
	// Note is the line a report prints above its tables so that no reader
	// takes the mode's figures for hardware measurements, in Markdown
	// ("sim figures are **predictions** of enclavebench's model, not
	// measurements."). Required of modes whose figures are not measured on
	// the platform (kinds Emulated and Model); bench/facts records it in
	// run.json, so a report words it as the mode did.
	Note string
	// HeapExtra, when set, is the key of a cell outcome's Extra under
	// which the mode records the enclave heap it configured, in MiB (the
	// ego modes' "ego_heap_mb"); bench/facts records it in run.json so a
	// report reads the heap without knowing the mode.
	HeapExtra string
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
	// GoTestSim is true for modes that run a --gotest benchmark's sim
	// flavour (its whole process on the software EPC), which bench/gotest
	// then builds beside the plain test binary.
	GoTestSim bool
	// Flags are the flags of `bench run` that configure the mode (its
	// values reach New in Config.Options); those marked Setting are
	// recorded in run.json and must be the same on --resume.
	Flags []Flag
	// New constructs the mode for a run; its error is shown to the user
	// as bad input (exit 2), so it names the flag or the fix.
	New func(Config) (Mode, error)
}

// Needs are what a mode needs from the host or fleet node that runs its
// cells: `--modes auto` and Check read SGX and EGo, the fleet planners all
// four (the SGX device resource, an EGo host, each cell's memory, the
// binaries to copy).
type Needs struct {
	// SGX and EGo say what the host must have (usable SGX hardware, an
	// EGo installation) for the mode to run.
	SGX, EGo bool
	// NodeMemory, when set, is the memory a cell of the mode holds on the
	// machine that runs it, from the memory the cell's workload declares
	// (an EGo enclave commits its whole heap and its thread stacks when it
	// is created); a fleet plan requests it. Unset: the cell's footprint.
	NodeMemory func(workload.Memory) int64
	// Binaries are the binaries the mode runs besides the workload binary,
	// found next to it (the sim mode's workload-sim): a fleet plan copies
	// them to each host with the workload binary.
	Binaries []Binary
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

// Flag is a flag of `bench run` that configures a mode. The mode declares
// it in its descriptor (Descriptor.Flags); the command adds the flags of
// every registered mode (Flags) and hands their values to the modes
// (Config.Options). Modes that share a flag (sgx and ego-sim) declare the
// same one; it is added once.
type Flag struct {
	Name  string // without "--"
	Usage string
	// Bool makes it a boolean flag (values "true" and "false"); otherwise
	// it takes a string. Either way it defaults to the zero value.
	Bool bool
	// Setting marks a flag that changes what the mode's cells measure (a
	// traced enclave): run.json records its value per mode (mode_settings)
	// and --resume must be given the same value. Other mode flags say
	// where things are (a cache, a source tree, a profile file) and may be
	// given to --resume freely; what they lead to is checked on its own
	// (binaries, sources and cost profile digests).
	Setting bool
}

// Zero is the flag's value when it is not given.
func (f Flag) Zero() string {
	if f.Bool {
		return "false"
	}
	return ""
}

// Options are the values of a run's mode flags by flag name (Flag.Name); a
// flag not given has its zero value. A mode reads the flags it declares.
type Options map[string]string

// String is the value of the string flag name ("" when not given).
func (o Options) String(name string) string { return o[name] }

// Bool is the value of the boolean flag name (false when not given).
func (o Options) Bool(name string) bool { return o[name] == "true" }

// Settings are the values of d's Setting flags in o, by flag name, as
// run.json's mode_settings records them (nil when d has none).
func (d Descriptor) Settings(o Options) map[string]string {
	var out map[string]string
	for _, f := range d.Flags {
		if !f.Setting {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		v, ok := o[f.Name]
		if !ok {
			v = f.Zero()
		}
		out[f.Name] = v
	}
	return out
}

// ResultFolders lists the folders of a result directory the registered
// modes write into (the first element of each ProvenancePath), each once,
// in rank order.
func ResultFolders() []string {
	var out []string
	for _, d := range Descriptors() {
		if d.ProvenancePath == nil {
			continue
		}
		rel := filepath.ToSlash(d.ProvenancePath("", "cell"))
		if top, _, _ := strings.Cut(rel, "/"); top != "" && !slices.Contains(out, top) {
			out = append(out, top)
		}
	}
	return out
}

// Flags lists the flags of the registered modes, each once, in the order
// of the modes' rank and of their declarations.
func Flags() []Flag {
	var out []Flag
	for _, d := range Descriptors() {
		for _, f := range d.Flags {
			if !slices.ContainsFunc(out, func(g Flag) bool { return g.Name == f.Name }) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Config is what the harness gives a mode's constructor.
type Config struct {
	// WorkloadBin is the plain workload binary of this side of the run.
	WorkloadBin string
	// Stderr receives progress notes and one-line notices.
	Stderr io.Writer
	// Options are the mode flags of the run.
	Options Options
	// HostSGX overrides SGX detection in the enclave modes (nil: detect;
	// tests with a stand-in ego set it).
	HostSGX func() bool
}

// ExitReporter is implemented by modes that read more from a finished
// process (OCALL counts, enclave identity): foreign holds the stdout lines
// that were not protocol lines.
type ExitReporter interface {
	AfterExit(l Launch, foreign []string, stderr string, cr *result.CellResult)
}

// Profiler is implemented by modes that keep a profile of a finished cell
// with the results (the sim mode: OCALLs and EPC loads by call site and
// region, in pprof's format). The runner stores what CellProfile returns
// under the result directory's result.ProfileDir and records its path in
// the cell's Extra (result.ExtraProfile); nil data: no profile.
type Profiler interface {
	CellProfile(l Launch, cr *result.CellResult) ([]byte, error)
}

// RunDescriber is implemented by modes that record more of how they were
// configured in run.json than their Setting flags (the sim mode's cost
// profile).
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
	case Measured:
	case Emulated, Model:
		if d.Note == "" {
			panic(fmt.Sprintf("mode.Register: mode %q of kind %s needs a Note", d.Name, d.Kind))
		}
	default:
		panic(fmt.Sprintf("mode.Register: mode %q: unknown kind %q", d.Name, d.Kind))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[d.Name]; dup {
		panic("mode.Register: mode " + d.Name + " registered twice")
	}
	for _, f := range d.Flags {
		if f.Name == "" || f.Usage == "" {
			panic(fmt.Sprintf("mode.Register: mode %q: a flag needs Name and Usage", d.Name))
		}
		for _, o := range registry.byName {
			for _, g := range o.Flags {
				if g.Name == f.Name && g != f {
					panic(fmt.Sprintf("mode.Register: modes %s and %s declare flag --%s differently", o.Name, d.Name, f.Name))
				}
			}
		}
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

// Baseline is the name of the lowest-ranked registered mode that is not an
// enclave (native): the plain process every enclave figure is compared
// with, which the counting pass runs and `bench run` defaults to; "" when
// none is registered.
func Baseline() string {
	for _, d := range Descriptors() {
		if !d.Enclave {
			return d.Name
		}
	}
	return ""
}

// Hardware is the name of the lowest-ranked registered enclave mode whose
// figures are measured on SGX hardware (kind Measured, Needs.SGX): the
// figures bench calibrate fits the sim mode's prices to; "" when none is
// registered.
func Hardware() string {
	for _, d := range Descriptors() {
		if d.Enclave && d.Kind == Measured && d.Needs.SGX {
			return d.Name
		}
	}
	return ""
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
