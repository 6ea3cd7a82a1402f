package result

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/perf/benchunit"

	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// CheckName validates a name or parameter value that goes into a record
// and into cell keys: non-empty UTF-8 without spaces or control
// characters. A space or a newline would split a Go benchmark line or a
// CSV row, and could make up another cell in the derived files.
func CheckName(what, s string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not UTF-8", what, s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fmt.Errorf("%s %q contains a space or control character", what, s)
	}
	return nil
}

// Plausibility bounds. They are not measurements: each is orders of
// magnitude beyond anything a host can produce, so only corrupt or
// made-up figures exceed them.
const (
	// maxSeconds bounds a duration (per operation, a percentile, a
	// repetition): 10^6 s is 11.6 days, far beyond any cell's --timeout.
	maxSeconds = 1e6
	// maxBytesPerSecond is 1 PB/s, thousands of times a server socket's
	// memory bandwidth.
	maxBytesPerSecond = 1e15
	// maxRate bounds other rates (ops/s, req/s): 10^12 per second is a
	// thousand operations per clock cycle of a 1 GHz core.
	maxRate = 1e12
	// maxPerOp bounds per-operation counts (B/op, allocs/op, minflt/op).
	maxPerOp = 1e15
	// maxReps bounds a repetition number: what bench run accepts.
	maxReps = runspec.MaxReps
)

// valueKind classifies a unit into what its values may be; ok is false
// for units of unknown shape (a workload's own unit), of which only
// finiteness is checked.
func valueKind(unit string) (scale float64, max float64, ok bool) {
	for _, sfx := range []struct {
		s string
		f float64
	}{{"-ns", 1e-9}, {"-us", 1e-6}, {"-ms", 1e-3}, {"-s", 1}} {
		if strings.HasSuffix(unit, sfx.s) { // percentiles: p50-ns, p99-us
			return sfx.f, maxSeconds, true
		}
	}
	f, tidy := benchunit.Tidy(1, unit)
	switch {
	case tidy == "sec/op" || tidy == "sec":
		return f, maxSeconds, true
	case tidy == "B/s":
		return f, maxBytesPerSecond, true
	case strings.HasSuffix(tidy, "/s"):
		return f, maxRate, true
	case strings.HasSuffix(tidy, "/op"):
		return f, maxPerOp, true
	}
	return 0, 0, false
}

// CheckValue validates one figure: finite, a unit and a direction, and for
// units whose meaning is known, neither negative nor absurdly large.
func CheckValue(v protocol.Value) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if err := CheckName("unit", v.Unit); err != nil {
		return err
	}
	scale, limit, ok := valueKind(v.Unit)
	if !ok {
		return nil
	}
	if v.Value < 0 {
		return fmt.Errorf("value %v %s is negative", v.Value, v.Unit)
	}
	if v.Value*scale > limit {
		return fmt.Errorf("value %v %s is not plausible (above %g %s)", v.Value, v.Unit, limit/scale, v.Unit)
	}
	return nil
}

// checkKey verifies that a record's cell key names its own workload,
// parameters, size and mode (parameter order aside), so a tampered key
// cannot make up a cell or merge two. Records of schema 3 on store no key:
// theirs is derived from the fields, and this check only guards writers.
func checkKey(key, workload string, params map[string]string, size, mode string) error {
	if err := CheckName("cell", key); err != nil {
		return err
	}
	if err := checkFields(workload, params, size, mode); err != nil {
		return err
	}
	want := Cell{Workload: workload, Params: params, Size: size, Mode: mode}.Key()
	a, b := strings.Split(key, "/"), strings.Split(want, "/")
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		return fmt.Errorf("cell %q does not match its workload, parameters, size and mode (%s)", key, want)
	}
	return nil
}

// checkFields validates the fields a record's cell is named by: clean
// names, parameter names without / or =.
func checkFields(workload string, params map[string]string, size, mode string) error {
	if err := CheckName("workload", workload); err != nil {
		return err
	}
	if err := CheckName("size", size); err != nil {
		return err
	}
	if err := CheckName("mode", mode); err != nil {
		return err
	}
	for k, v := range params {
		if err := CheckName("parameter name", k); err != nil {
			return err
		}
		if strings.ContainsAny(k, "/=") {
			return fmt.Errorf("parameter name %q contains / or =", k)
		}
		if err := CheckName("value of parameter "+k, v); err != nil {
			return err
		}
	}
	return nil
}

// CheckSample validates a sample, when it is written and when it is read.
func CheckSample(s *Sample) error {
	if s.Cell == "" || s.Workload == "" || s.Size == "" || s.Mode == "" {
		return errors.New("sample without cell, workload, size or mode")
	}
	if err := checkKey(s.Cell, s.Workload, s.Params, s.Size, s.Mode); err != nil {
		return err
	}
	if s.Attempt < 1 {
		return fmt.Errorf("sample with attempt %d", s.Attempt)
	}
	if s.Rep < 0 || s.Rep > maxReps {
		return fmt.Errorf("sample with repetition %d", s.Rep)
	}
	if s.Iters <= 0 {
		return fmt.Errorf("sample with %d iterations", s.Iters)
	}
	if s.ElapsedNS < 0 || float64(s.ElapsedNS) > maxSeconds*1e9 {
		return fmt.Errorf("sample with elapsed_ns %d", s.ElapsedNS)
	}
	if len(s.Values) == 0 {
		return errors.New("sample without values")
	}
	if err := checkValues(s.Values); err != nil {
		return err
	}
	for k, n := range s.Events {
		if err := CheckName("event", k); err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("event %s = %d is negative", k, n)
		}
	}
	if m := s.Model; m != nil {
		if err := checkValues(m.Native); err != nil {
			return fmt.Errorf("model: %w", err)
		}
		if m.EmulationNS < 0 {
			return fmt.Errorf("model: emulation_ns %d is negative", m.EmulationNS)
		}
	}
	return nil
}

func checkValues(vs []protocol.Value) error {
	seen := make(map[string]bool, len(vs))
	for _, v := range vs {
		if err := CheckValue(v); err != nil {
			return err
		}
		if seen[v.Unit] {
			return fmt.Errorf("unit %s given twice", v.Unit)
		}
		seen[v.Unit] = true
	}
	return nil
}

// CheckCell validates a cell outcome, when it is written and when it is read.
func CheckCell(c *CellResult) error {
	if c.Cell == "" {
		return errors.New("cell result without a cell")
	}
	if err := checkKey(c.Cell, c.Workload, c.Params, c.Size, c.Mode); err != nil {
		return err
	}
	switch c.Status {
	case StatusOK, StatusFailed, StatusNA, StatusSkipped:
	default:
		return fmt.Errorf("cell result with unknown status %q", c.Status)
	}
	if c.Attempt < 1 {
		return fmt.Errorf("cell result with attempt %d", c.Attempt)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"samples", int64(c.Samples)}, {"wall_ns", c.WallNS}, {"child_ns", c.ChildNS}, {"load_ns", c.LoadNS},
		{"gomaxprocs", int64(c.GOMAXPROCS)}, {"cpus", int64(c.CPUs)}} {
		if f.v < 0 {
			return fmt.Errorf("cell result with %s %d", f.name, f.v)
		}
	}
	return nil
}

// Run statuses.
var runStatuses = []RunStatus{RunRunning, RunComplete, RunInterrupted, RunFailed}

// CheckRun validates run.json: the fields every reader relies on are
// present (a run with no id, start, plan or host would report blank
// columns) and names are clean.
func CheckRun(r *Run) error {
	var missing []string
	need := func(ok bool, name string) {
		if !ok {
			missing = append(missing, name)
		}
	}
	need(r.ID != "", "id")
	need(!r.Start.IsZero(), "start")
	need(r.Status != "", "status")
	need(len(r.Plan.Workloads) > 0, "plan.workloads")
	need(len(r.Plan.Sizes) > 0, "plan.sizes")
	need(len(r.Plan.Modes) > 0, "plan.modes")
	need(r.Plan.Profile != "", "plan.profile")
	need(r.Plan.Reps > 0, "plan.reps")
	need(r.Host.OS != "", "host.os")
	need(r.Host.Arch != "", "host.arch")
	if len(missing) > 0 {
		return fmt.Errorf("missing or empty: %s", strings.Join(missing, ", "))
	}
	if err := CheckName("run id", r.ID); err != nil {
		return err
	}
	if !slices.Contains(runStatuses, r.Status) {
		names := make([]string, len(runStatuses))
		for i, st := range runStatuses {
			names[i] = string(st)
		}
		return fmt.Errorf("status %q, want one of %s", r.Status, strings.Join(names, ", "))
	}
	for _, l := range []struct {
		what  string
		names []string
	}{{"workload", r.Plan.Workloads}, {"size", r.Plan.Sizes}, {"mode", r.Plan.Modes}, {"planned cell", r.Plan.Cells}} {
		for _, n := range l.names {
			if err := CheckName("plan "+l.what, n); err != nil {
				return err
			}
		}
	}
	if err := CheckName("plan profile", r.Plan.Profile); err != nil {
		return err
	}
	p := r.Plan
	if p.Warmup != nil && *p.Warmup < 0 || p.MinTimeNS < 0 || p.TimeoutNS < 0 || p.Rounds < 0 {
		return fmt.Errorf("plan with a negative warmup, min_time_ns, timeout_ns or rounds")
	}
	for k, vs := range p.Overrides {
		for _, v := range vs {
			if err := CheckName("plan override "+k, v); err != nil {
				return err
			}
		}
	}
	return nil
}
