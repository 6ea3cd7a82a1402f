package cells

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/enclavebench/enclavebench/bench/result"
)

// AddBenchfmt adds the results of a file in the Go benchmark format
// (bench.txt, `go test -bench` output, concatenations of those) named
// name. It has names only: a cell is a benchmark name (Key.Name) and its
// variant (the mode settings and the cost profile the file's configuration
// records for it). Lines that are not benchmark, unit or configuration
// lines are ignored, as benchstat does; a malformed benchmark line or a
// value that is not finite is an error, with its line.
func (b *Builder) AddBenchfmt(r io.Reader, name string) error {
	rd := benchfmt.NewReader(r, name)
	in := b.input(name)
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			return fmt.Errorf("line %d: %s", rec.Line, rec.Msg)
		case *benchfmt.Result:
			if err := b.addResult(in, rec, name); err != nil {
				_, line := rec.Pos()
				return fmt.Errorf("line %d: %w", line, err)
			}
		}
	}
	if err := rd.Err(); err != nil {
		return err
	}
	for k, md := range rd.Units() {
		b.t.Units[k], in.UnitMeta[k] = md, md
	}
	return nil
}

// addResult adds one benchmark line of the file name.
func (b *Builder) addResult(in *Input, rec *benchfmt.Result, name string) error {
	full := string(rec.Name)
	if full == "" {
		return fmt.Errorf("benchmark without a name")
	}
	t := b.t
	if cpu := rec.GetConfig("cpu"); cpu != "" && !slices.Contains(t.CPUs, cpu) {
		t.CPUs = append(t.CPUs, cpu)
	}
	run := rec.GetConfig("enclavebench-run")
	if run != "" && !slices.Contains(t.Runs, run) {
		t.Runs = append(t.Runs, run)
	}
	if run != "" && !slices.Contains(in.Runs, run) {
		in.Runs = append(in.Runs, run)
	}
	if side := rec.GetConfig(result.SideConfig); side != "" && !slices.Contains(t.Sides, side) {
		t.Sides = append(t.Sides, side)
	}
	mode := nameComponent(full, "mode")
	k := Key{Name: full, Mode: mode}
	settings := rec.GetConfig(result.ModeSettingsConfig + mode)
	priced := result.PricedMode(mode, rec.GetConfig)
	profile, digest := "", ""
	if priced {
		profile, digest = rec.GetConfig("cost-profile"), rec.GetConfig("cost-profile-sha256")
	}
	k.Profile, k.Variant = profile, variantText(settings, digest)
	c := t.index[k]
	if c == nil {
		_, line := rec.Pos()
		c = &Cell{Key: k, Name: full, Dir: name, Line: line, Names: []string{full}, Values: map[string][]float64{},
			Settings: settings, ProfileDigest: digest, Priced: priced,
			names: map[string]bool{full: true}, runs: map[string]bool{}}
		t.index[k] = c
		t.Cells = append(t.Cells, c)
	}
	if run != "" && !c.runs[run] {
		c.runs[run] = true
		c.Runs = append(c.Runs, run)
	}
	values := 1
	if kv := rec.GetConfig(result.CountValuesConfig); kv != "" {
		var err error
		if values, err = strconv.Atoi(kv); err != nil || values < 1 {
			return fmt.Errorf("%s: %q is not a number of values >= 1", result.CountValuesConfig, kv)
		}
	}
	c.addRunSample(run, values)
	if f := (Flaw{Input: name, Cell: full, Why: rec.GetConfig(result.FlawConfig)}); f.Why != "" && !slices.Contains(c.Flaws, f) {
		c.Flaws = append(c.Flaws, f)
	}
	for _, v := range rec.Values {
		unit, val := v.Unit, v.Value
		if v.OrigUnit != "" {
			unit, val = v.OrigUnit, v.OrigValue
		}
		if math.IsNaN(val) || math.IsInf(val, 0) {
			return fmt.Errorf("%s: value %v %s is not a finite number", full, val, unit)
		}
		c.addValue(unit, val)
		in.see(unit)
	}
	t.Samples++
	return nil
}

// nameComponent is the value of the "/comp=value" part of a benchmark
// name ("" when it has none), without a GOMAXPROCS suffix ("-8").
func nameComponent(name, comp string) string {
	_, parts := benchfmt.Name(name).Parts()
	for _, p := range parts {
		if v, ok := strings.CutPrefix(string(p), "/"+comp+"="); ok {
			return v
		}
	}
	return ""
}
