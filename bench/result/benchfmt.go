package result

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/textfmt"

	"golang.org/x/perf/benchfmt"
)

// EventUnits are the event counts written to bench.txt as per-op units, so
// benchstat compares them alongside times.
// The counting pass's events (CountEvents) follow them.
var EventUnits = append([]string{"syscalls", "ocalls", "ecalls", "epc_loads", "epc_evictions", "minflt", "majflt"}, CountEvents...)

// ModeSettingsConfig prefixes the configuration key of a mode's settings
// in the Go benchmark format ("mode-settings-ego-sim:
// ego-debug=false,ego-precise-clock=false,ego-trace-ocalls=true"), so that
// bench.txt carries what run.json's mode_settings say.
const ModeSettingsConfig = "mode-settings-"

// Configuration keys of bench.txt beyond the run's identity.
const (
	// SideConfig is the --baseline side the run was recorded as ("base",
	// "new"): bench compare refuses sides swapped.
	SideConfig = "enclavebench-side"
	// FlawConfig precedes the lines of a cell whose samples are suspect
	// (a failed or unfinished attempt, a sample count that does not match
	// the record) and says why; benchstat then tables them apart, and
	// bench compare and export refuse them.
	FlawConfig = "enclavebench-flaw"
	// CountValuesConfig is how many independent per-op values of each
	// counting pass event a counted cell of the run has (run.json
	// counts.values), written when more than one: bench compare judges a
	// count's spread over that many values per run.
	CountValuesConfig = "enclavebench-count-values"
)

// SettingsText is the canonical text of a mode's recorded settings
// ("k=v,k=v", sorted), "" when there are none.
func SettingsText(m map[string]string) string {
	kv := make([]string, 0, len(m))
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// WriteBenchfmt writes samples in the Go benchmark format that benchstat
// reads: file configuration from the run, then one result line per sample
// named Benchmark<cell key>, with events per operation as extra units.
// flaws holds, per cell key, why its samples are suspect (written as an
// enclavebench-flaw configuration line before its results).
func WriteBenchfmt(w io.Writer, run *Run, samples []Sample, flaws map[string]string) error {
	bw := benchfmt.NewWriter(w)
	cfg := []benchfmt.Config{
		{Key: "goos", Value: []byte(run.Host.OS), File: true},
		{Key: "goarch", Value: []byte(run.Host.Arch), File: true},
		{Key: "cpu", Value: []byte(textfmt.OneLine(run.Host.CPUModel)), File: true},
		{Key: "pkg", Value: []byte("github.com/enclavebench/enclavebench/workloads"), File: true},
		{Key: "enclavebench-run", Value: []byte(run.ID), File: true},
		{Key: "enclavebench-version", Value: []byte(run.HarnessVersion), File: true},
	}
	if run.HarnessCommit != "" {
		cfg = append(cfg, benchfmt.Config{Key: "enclavebench-commit", Value: []byte(run.HarnessCommit), File: true})
	}
	if run.Plan.Profile != "" {
		cfg = append(cfg, benchfmt.Config{Key: "profile", Value: []byte(run.Plan.Profile), File: true})
	}
	if run.Profile != nil {
		cfg = append(cfg, benchfmt.Config{Key: "cost-profile", Value: []byte(fmt.Sprintf("%s/v%d", run.Profile.Name, run.Profile.Version)), File: true})
		if run.Profile.Digest != "" {
			cfg = append(cfg, benchfmt.Config{Key: "cost-profile-sha256", Value: []byte(run.Profile.Digest), File: true})
		}
	}
	for _, m := range slices.Sorted(maps.Keys(run.ModeSettings)) {
		cfg = append(cfg, benchfmt.Config{Key: ModeSettingsConfig + m, Value: []byte(SettingsText(run.ModeSettings[m])), File: true})
	}
	if f := run.Facts; f != nil {
		for _, m := range slices.Sorted(maps.Keys(f.Modes)) {
			cfg = append(cfg, benchfmt.Config{Key: ModeKindConfig + m, Value: []byte(f.Modes[m].Kind), File: true})
		}
	}
	if run.Build != nil && run.Build.Side != "" {
		cfg = append(cfg, benchfmt.Config{Key: SideConfig, Value: []byte(run.Build.Side), File: true})
	}
	if k := run.Counts.PerCellValues(); k > 1 {
		cfg = append(cfg, benchfmt.Config{Key: CountValuesConfig, Value: []byte(strconv.Itoa(k)), File: true})
	}

	better := map[string]string{}
	for _, s := range samples {
		for _, v := range s.Figures() {
			better[v.Unit] = v.Better
		}
	}
	units := make([]string, 0, len(better))
	for u := range better {
		units = append(units, u)
	}
	sort.Strings(units)
	for _, u := range units {
		if u == "ns/op" {
			continue // benchfmt knows it
		}
		if err := bw.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u, Key: "better"}, OrigUnit: u, Value: better[u]}); err != nil {
			return err
		}
	}
	clean := &benchfmt.Result{Config: cfg}
	for _, s := range samples {
		res := clean
		if f := flaws[s.Cell]; f != "" {
			// A fresh result: a Result indexes its configuration once.
			res = &benchfmt.Result{Config: append(slices.Clip(cfg), benchfmt.Config{Key: FlawConfig, Value: []byte(textfmt.OneLine(f)), File: true})}
		}
		res.Name = benchfmt.Name(s.Cell) // the writer adds "Benchmark"
		res.Iters = s.Iters
		res.Values = res.Values[:0]
		for _, v := range s.Figures() {
			res.Values = append(res.Values, benchfmt.Value{Value: v.Value, Unit: v.Unit})
		}
		for _, e := range EventUnits {
			if n, ok := s.Events[e]; ok {
				res.Values = append(res.Values, benchfmt.Value{Value: float64(n) / float64(s.Iters), Unit: e + "/op"})
			}
		}
		if len(res.Values) == 0 {
			continue // nothing to publish (Sample.Figures): the Go benchmark format has no empty result
		}
		if err := bw.Write(res); err != nil {
			return err
		}
	}
	return nil
}

// ModeKindConfig prefixes the configuration key of a mode's kind in the Go
// benchmark format ("mode-kind-sim: model"; run.json facts.modes), so that
// a reader of bench.txt knows which cells a cost profile priced without
// knowing the modes.
const ModeKindConfig = "mode-kind-"

// frozenModelMode is the one mode whose figures a cost profile priced in
// files written before they recorded their modes' kinds (ModeKindConfig):
// a frozen fact, like those of schema 1 (factsv1.go), never to follow the
// modes of today.
const frozenModelMode = "sim"

// PricedMode says whether a cost profile priced the figures of mode in a
// Go benchmark format file whose configuration config returns: its
// recorded kind (ModeKindConfig) is a model, or, where the file records
// none, mode is the model mode of files of that time.
func PricedMode(mode string, config func(key string) string) bool {
	if k := config(ModeKindConfig + mode); k != "" {
		return ModeKind(k) == KindModel
	}
	return mode == frozenModelMode
}
