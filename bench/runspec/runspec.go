// Package runspec is the one description of a run request: what `bench run`
// reads from its flags, what run.json records (the plan), what `--resume`
// replays, what `bench plan` hands to every host and what `bench calibrate`
// and `--baseline` drive.
//
// A Spec as the user wrote it leaves some fields to the profile (zero Reps,
// MinTimeNS, TimeoutNS, nil Warmup, zero Seed) and may name size families
// and the auto mode; a resolved Spec, the one recorded in run.json, has
// every field set. Flags and Args are inverses: a Spec rendered with Args
// and parsed with Flags is the same Spec.
package runspec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Spec is a run request. Its JSON fields are those of run.json's plan, so
// that run.json written before the spec existed reads as a Spec.
type Spec struct {
	Workloads []string `json:"workloads"` // empty: all
	Sizes     []string `json:"sizes"`     // names, or families and "all" before resolution
	Modes     []string `json:"modes"`     // mode names, or "auto" before resolution
	Profile   string   `json:"profile"`
	// Overrides replace a workload's grid: "kvstore.dataset" -> values.
	Overrides map[string][]string `json:"overrides,omitempty"`
	// Footprints are absolute enclave working sets ("64MiB") for the
	// footprint parameter of every workload that has one (--footprint);
	// resolving the spec adds the overrides they set.
	Footprints []string `json:"footprints,omitempty"`
	Reps       int      `json:"reps"`             // 0: the profile's
	Warmup     *int     `json:"warmup"`           // nil: the profile's
	MinTimeNS  int64    `json:"min_time_ns"`      // 0: the profile's
	TimeoutNS  int64    `json:"timeout_ns"`       // 0: the profile's
	Seed       int64    `json:"seed"`             // 0: random
	Rounds     int      `json:"rounds,omitempty"` // processes per cell and side; 0: one
	// GoTest are package patterns whose Go benchmarks are workloads of the
	// run (--gotest, bench/gotest); directory patterns are made absolute
	// when the spec is resolved. Bench selects them (-test.bench syntax),
	// Tags are their build tags.
	GoTest []string `json:"gotest,omitempty"`
	Bench  string   `json:"bench,omitempty"`
	Tags   string   `json:"tags,omitempty"`
	// Counts asks for the untimed counting pass (bench/counts): per-op
	// instructions, simulated cache misses, system calls and allocations
	// on every sample, beside the timed figures (--counts).
	Counts bool `json:"counts,omitempty"`
}

// MinTime is the minimum duration of a repetition (0: the profile's).
func (s Spec) MinTime() time.Duration { return time.Duration(s.MinTimeNS) }

// Timeout is the per-cell timeout (0: the profile's).
func (s Spec) Timeout() time.Duration { return time.Duration(s.TimeoutNS) }

// QuitGrace is how long a cell still running at its timeout has, after the
// harness's SIGQUIT to it (a Go process prints its goroutines' stacks), of
// the harness's running time before SIGKILL (bench/runner): a cell that
// hangs ends that long after its timeout.
const QuitGrace = 10 * time.Second

// Validate checks what can be checked without the registries: counts and
// durations in range, no empty, repeated or unprintable names, no repeated
// value in a grid. Names are checked against the registries when the spec
// is expanded into cells.
func (s Spec) Validate() error {
	var errs []error
	if err := checkList("workloads", s.Workloads, true); err != nil {
		errs = append(errs, err)
	}
	if err := checkList("sizes", s.Sizes, false); err != nil {
		errs = append(errs, err)
	}
	if err := checkList("modes", s.Modes, false); err != nil {
		errs = append(errs, err)
	}
	if err := checkList("footprint", s.Footprints, true); err != nil {
		errs = append(errs, err)
	}
	if s.Profile == "" {
		errs = append(errs, errors.New("--profile: empty (valid: a profile name, see bench run --help)"))
	} else if err := CheckKeyPart(s.Profile); err != nil {
		errs = append(errs, fmt.Errorf("--profile %q: %v", s.Profile, err))
	}
	for _, k := range sortedKeys(s.Overrides) {
		if err := checkOverride(k, s.Overrides[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Reps < 0 {
		errs = append(errs, fmt.Errorf("--reps %d: want at least 1 repetition", s.Reps))
	}
	if s.Reps > MaxReps {
		errs = append(errs, fmt.Errorf("--reps %d: want at most %d repetitions per cell (the readers refuse a larger repetition number as corrupt)", s.Reps, MaxReps))
	}
	if s.Warmup != nil && *s.Warmup < 0 {
		errs = append(errs, fmt.Errorf("--warmup %d: want 0 or more warmup repetitions", *s.Warmup))
	}
	if s.MinTimeNS < 0 {
		errs = append(errs, fmt.Errorf("--min-time %s: want a positive duration such as 20ms", s.MinTime()))
	}
	if s.TimeoutNS < 0 {
		errs = append(errs, fmt.Errorf("--timeout %s: want a positive duration such as 2m", s.Timeout()))
	}
	if len(s.GoTest) == 0 && (s.Bench != "" || s.Tags != "") {
		errs = append(errs, errors.New("--bench and --tags select and build the benchmarks of --gotest packages: give --gotest"))
	}
	for _, p := range s.GoTest {
		if p == "" || strings.HasPrefix(p, "-") || strings.ContainsAny(p, ", \t\n") {
			errs = append(errs, fmt.Errorf("--gotest %q: want a package pattern such as ./kv or ./...", p))
		}
	}
	if s.Bench != "" {
		if _, err := regexp.Compile(s.Bench); err != nil {
			errs = append(errs, fmt.Errorf("--bench %q: %v", s.Bench, err))
		}
	}
	if strings.ContainsAny(s.Tags, " \t\n") {
		errs = append(errs, fmt.Errorf("--tags %q: want comma-separated build tags", s.Tags))
	}
	if s.Rounds < 0 {
		errs = append(errs, fmt.Errorf("--rounds %d: want at least 1 process per cell", s.Rounds))
	}
	if err := s.CheckTimes(""); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// MaxReps bounds --reps: a sample's repetition number above it is read as
// corrupt (bench/result), so a run asking for more would fail hours in.
const MaxReps = 1 << 20

// CheckTimes refuses a minimum repetition time that is not below the
// per-cell timeout (when both are set): every cell would time out. from
// names where the values came from when not from the flags alone (the
// profile), for the message.
func (s Spec) CheckTimes(from string) error {
	if s.MinTimeNS > 0 && s.TimeoutNS > 0 && s.MinTimeNS >= s.TimeoutNS {
		if from != "" {
			from = " (" + from + ")"
		}
		return fmt.Errorf("--min-time %s is not below the per-cell --timeout %s%s: every cell would time out; "+
			"lower --min-time or raise --timeout", s.MinTime(), s.Timeout(), from)
	}
	return nil
}

// ValidateResolved checks a resolved spec (run.json's plan): Validate, and
// every field the profile and the host fill in is set.
func (s Spec) ValidateResolved() error {
	if err := s.Validate(); err != nil {
		return err
	}
	switch {
	case s.Reps == 0:
		return errors.New("reps: not set")
	case s.Warmup == nil:
		return errors.New("warmup: not set")
	case s.MinTimeNS == 0:
		return errors.New("min_time_ns: not set")
	case s.TimeoutNS == 0:
		return errors.New("timeout_ns: not set")
	case s.Seed == 0:
		return errors.New("seed: not set")
	}
	return nil
}

func checkList(flag string, vals []string, emptyOK bool) error {
	if len(vals) == 0 {
		if emptyOK {
			return nil
		}
		return fmt.Errorf("--%s: empty (give at least one)", flag)
	}
	seen := map[string]bool{}
	for _, v := range vals {
		if v == "" {
			return fmt.Errorf("--%s %s: an empty name", flag, strings.Join(vals, ","))
		}
		if err := CheckKeyPart(v); err != nil {
			return fmt.Errorf("--%s %q: %v", flag, v, err)
		}
		if seen[strings.ToLower(v)] {
			return fmt.Errorf("--%s: %s is listed twice", flag, v)
		}
		seen[strings.ToLower(v)] = true
	}
	return nil
}

func checkOverride(key string, vals []string) error {
	w, p, ok := strings.Cut(key, ".")
	if !ok || w == "" || p == "" || CheckKeyPart(w) != nil || CheckKeyPart(p) != nil {
		return fmt.Errorf("--param %q: want workload.parameter=v1,v2", key)
	}
	if len(vals) == 0 {
		return fmt.Errorf("--param %s: no values (want %s=v1,v2)", key, key)
	}
	seen := map[string]bool{}
	for _, v := range vals {
		if v == "" {
			return fmt.Errorf("--param %s=%s: an empty value", key, strings.Join(vals, ","))
		}
		if err := CheckKeyPart(v); err != nil {
			return fmt.Errorf("--param %s: value %q: %v", key, v, err)
		}
		if seen[v] {
			return fmt.Errorf("--param %s: %s is listed twice (each value is one cell)", key, v)
		}
		seen[v] = true
	}
	return nil
}

// CheckKeyPart refuses what cannot go into a cell key, a file or a
// command line unquoted: spaces, control characters, ',' and '='. Every
// name that becomes part of a cell key (workloads, parameters, values, a
// --gotest benchmark's) is held to it.
func CheckKeyPart(s string) error {
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || r == '=' || !unicode.IsPrint(r) {
			return fmt.Errorf("%q may not hold spaces, control characters, ',' or '='", r)
		}
	}
	return nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Args renders a request as the flags of `bench run` that ask for it
// (without "run", the output or the progress flag). Fields left to the
// profile are left out. (A resolved spec with footprints holds their
// overrides too: it is replayed from run.json, not from its flags.)
func (s Spec) Args() []string {
	var a []string
	if len(s.Modes) > 0 {
		a = append(a, "--modes", strings.Join(s.Modes, ","))
	}
	if len(s.Sizes) > 0 {
		a = append(a, "--sizes", strings.Join(s.Sizes, ","))
	}
	if s.Profile != "" {
		a = append(a, "--profile", s.Profile)
	}
	if len(s.Workloads) > 0 {
		a = append(a, "--workloads", strings.Join(s.Workloads, ","))
	}
	for _, k := range sortedKeys(s.Overrides) {
		a = append(a, "--param", k+"="+strings.Join(s.Overrides[k], ","))
	}
	if len(s.Footprints) > 0 {
		a = append(a, "--footprint", strings.Join(s.Footprints, ","))
	}
	if s.Reps > 0 {
		a = append(a, "--reps", strconv.Itoa(s.Reps))
	}
	if s.Warmup != nil {
		a = append(a, "--warmup", strconv.Itoa(*s.Warmup))
	}
	if s.MinTimeNS > 0 {
		a = append(a, "--min-time", s.MinTime().String())
	}
	if s.TimeoutNS > 0 {
		a = append(a, "--timeout", s.Timeout().String())
	}
	if s.Seed != 0 {
		a = append(a, "--seed", strconv.FormatInt(s.Seed, 10))
	}
	if s.Rounds > 0 {
		a = append(a, "--rounds", strconv.Itoa(s.Rounds))
	}
	if len(s.GoTest) > 0 {
		a = append(a, "--gotest", strings.Join(s.GoTest, ","))
	}
	if s.Bench != "" {
		a = append(a, "--bench", s.Bench)
	}
	if s.Tags != "" {
		a = append(a, "--tags", s.Tags)
	}
	if s.Counts {
		a = append(a, "--counts")
	}
	return a
}

// Marshal is the spec's canonical JSON: fields in declaration order, grid
// keys sorted, no insignificant space.
func (s Spec) Marshal() ([]byte, error) {
	return json.Marshal(s)
}

// Unmarshal decodes a spec strictly: unknown fields and trailing data are
// errors.
func Unmarshal(b []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("run spec: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Spec{}, errors.New("run spec: data after the spec")
	}
	return s, nil
}

// Digest is the SHA-256 of the canonical JSON, "sha256:<hex>": run.json
// records it beside the plan so that an edited plan is noticed.
func (s Spec) Digest() string {
	b, err := s.Marshal()
	if err != nil { // a Spec holds only strings and numbers
		panic(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
