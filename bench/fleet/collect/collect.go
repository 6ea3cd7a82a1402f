package collect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/fleet"
	"github.com/enclavebench/enclavebench/bench/fleet/podlog"
	"github.com/enclavebench/enclavebench/bench/result"
)

// Log is one saved log to collect.
type Log struct {
	Name string // for messages: the file name, or "stdin"
	R    io.Reader
}

// CollectedRun is one run put back together from stream records.
type CollectedRun struct {
	Run     result.Run
	Samples []result.Sample     // in stream order, duplicates removed
	Cells   []result.CellResult // in stream order, duplicates removed
	// Profiles are the cells' profile files by path relative to the
	// result directory (result.ProfileDir/...), each checked against its
	// SHA-256.
	Profiles map[string][]byte
	// Name is the result directory name: the run ID, made safe for a
	// path, with a suffix when two different runs share an ID.
	Name string
	// Files lists the logs the run's records came from.
	Files []string
	// First and Last are the positions of the run's first and last run record.
	First, Last podlog.Pos
	// Finished is false when the log has no final run record (the pod
	// stopped before the run ended); Run.Status is then "interrupted".
	Finished bool
	// Conflicts name the cells that finished ("ok") in more than one
	// attempt, with both records' positions. A streamed run runs each
	// cell once (--resume does not stream), so a second finished attempt
	// is not a rerun but a record from elsewhere, and which figures are the
	// run's cannot be told: Write refuses such a run (ErrConflict).
	Conflicts []error
}

// Sizes lists the sizes of the run's plan.
func (c *CollectedRun) Sizes() []string { return c.Run.Plan.Sizes }

// Collection is what Collect found.
type Collection struct {
	Runs []*CollectedRun
	// Problems are records and lines that could not be used, each with
	// its file and line (*result.LineError) where it has one.
	Problems []error
	// Duplicates counts records seen more than once with identical content
	// (the same log given twice, or a combined log next to per-pod logs).
	Duplicates int
}

// Collect parses logs and puts their records back together into runs.
//
// A sample or cell outcome carries no run ID, so it is attributed to a run
// whose plan has its cell, among the runs that started earlier in the same
// log: the run of the same kubectl --prefix tag if the log has tags, else
// the one that started last. Logs of several pods concatenated, or
// interleaved by `kubectl logs -f`, are therefore taken apart correctly
// when the pods ran different cells (one size per pod, as `bench plan
// --k8s` plans them). Records of one run found in several logs are merged.
func Collect(logs []Log) *Collection {
	c := &collector{runs: map[runKey]*runState{}}
	for _, l := range logs {
		recs, problems := podlog.ParseLog(l.R, l.Name)
		c.problems = append(c.problems, problems...)
		c.file(l.Name, recs)
	}
	return c.finish()
}

type runKey struct {
	id    string
	start int64
}

type runState struct {
	CollectedRun
	schema  int
	plan    map[string]bool
	samples map[result.SampleKey]recordRef
	cells   map[result.CellKey]recordRef
	profile map[string]recordRef // by path; enc is the SHA-256
	okCell  map[string]recordRef // the first finished attempt of each cell
	files   map[string]bool
	dropped int // records of a run of another schema version
}

// recordRef remembers a kept record's encoding and position, to tell
// duplicates from conflicts.
type recordRef struct {
	enc []byte
	pos podlog.Pos
}

type collector struct {
	runs       map[runKey]*runState
	ordered    []*runState
	problems   []error
	duplicates int
}

func (c *collector) problem(p podlog.Pos, err error) {
	c.problems = append(c.problems, &result.LineError{File: p.File, Line: p.Line, Err: err})
}

// file routes the records of one log.
func (c *collector) file(name string, recs []podlog.Record) {
	// started lists the runs seen in this log, in order of their first
	// record here; bySource is the last run started under each tag.
	var started []*runState
	bySource := map[string]*runState{}
	ambiguous := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if r.Kind == podlog.KindRun {
			st := c.run(r)
			if st == nil {
				continue
			}
			seen := false
			for _, s := range started {
				seen = seen || s == st
			}
			if !seen {
				started = append(started, st)
			}
			if r.Source != "" {
				bySource[r.Source] = st
			}
			continue
		}
		st := c.route(r, started, bySource, ambiguous)
		if st == nil {
			continue
		}
		c.add(st, r)
	}
}

// run registers a run record and returns its run.
func (c *collector) run(r *podlog.Record) *runState {
	key := runKey{r.RunID, r.Start.UnixNano()}
	st := c.runs[key]
	if st == nil {
		st = &runState{schema: r.Schema, plan: map[string]bool{}, samples: map[result.SampleKey]recordRef{},
			cells: map[result.CellKey]recordRef{}, profile: map[string]recordRef{}, okCell: map[string]recordRef{}, files: map[string]bool{}}
		st.First = r.Pos
		for _, k := range r.Plan {
			st.plan[k] = true
		}
		c.runs[key] = st
		c.ordered = append(c.ordered, st)
	}
	st.files[r.File] = true
	if r.Err != nil {
		c.problem(r.Pos, r.Err)
		return st
	}
	if !result.Readable(r.Schema) {
		if st.Last == (podlog.Pos{}) {
			c.problem(r.Pos, fmt.Errorf("run %s was written with result schema version %d; this harness reads versions %d to %d: collect it with a matching harness (its records are skipped)", r.RunID, r.Schema, result.MinSchemaVersion, result.SchemaVersion))
		}
		st.Last = r.Pos
		return st
	}
	// Keep the most final run record: a finished one over "running", and
	// among those the later one in the logs.
	keptFinal := st.Run.ID != "" && st.Run.Status != result.RunRunning
	if !(keptFinal && r.Run.Status == result.RunRunning) {
		st.Run = *r.Run
	}
	st.Last = r.Pos
	return st
}

// route finds the run a sample or cell outcome belongs to.
func (c *collector) route(r *podlog.Record, started []*runState, bySource map[string]*runState, ambiguous map[string]bool) *runState {
	if st := bySource[r.Source]; r.Source != "" && st != nil && st.plan[r.CellKey] {
		return st
	}
	var found []*runState
	for i := len(started) - 1; i >= 0; i-- {
		if started[i].plan[r.CellKey] {
			found = append(found, started[i])
		}
	}
	if len(found) == 0 {
		what := map[string]string{podlog.KindSample: "sample", podlog.KindCell: "cell outcome", podlog.KindProfile: "profile"}[r.Kind]
		if r.CellKey == "" {
			c.problem(r.Pos, fmt.Errorf("%s without a cell: %v", what, r.Err))
			return nil
		}
		c.problem(r.Pos, fmt.Errorf("%s of cell %s belongs to no run started earlier in this log (the log starts after the run's first line, or the run record was cut): skipped", what, r.CellKey))
		return nil
	}
	if len(found) > 1 && r.Source == "" && !ambiguous[r.CellKey] {
		ambiguous[r.CellKey] = true
		ids := make([]string, len(found))
		for i, st := range found {
			ids[i] = st.runID()
		}
		c.problem(r.Pos, fmt.Errorf("cell %s is in the plans of runs %s, all started earlier in this log: records of this cell are attributed to the latest, %s (interleaved logs of pods running the same cells cannot be taken apart; use kubectl logs --prefix or one log per pod)", r.CellKey, strings.Join(ids, ", "), found[0].runID()))
	}
	return found[0]
}

func (st *runState) runID() string {
	if st.Run.ID != "" {
		return st.Run.ID
	}
	return "(unreadable run)"
}

// add keeps a sample or cell outcome of st.
func (c *collector) add(st *runState, r *podlog.Record) {
	st.files[r.File] = true
	if !result.Readable(st.schema) {
		st.dropped++
		return
	}
	if r.Err != nil {
		c.problem(r.Pos, r.Err)
		return
	}
	var enc []byte
	var dupOf recordRef
	var dup bool
	switch r.Kind {
	case podlog.KindProfile:
		enc = []byte(r.Profile.SHA256)
		if dupOf, dup = st.profile[r.Profile.Path]; !dup {
			st.profile[r.Profile.Path] = recordRef{enc, r.Pos}
			if st.Profiles == nil {
				st.Profiles = map[string][]byte{}
			}
			st.Profiles[r.Profile.Path] = r.Profile.Data
			return
		}
	case podlog.KindSample:
		enc, _ = json.Marshal(r.Sample)
		k := r.Sample.Key()
		if dupOf, dup = st.samples[k]; !dup {
			st.samples[k] = recordRef{enc, r.Pos}
			st.Samples = append(st.Samples, *r.Sample)
			return
		}
	case podlog.KindCell:
		enc, _ = json.Marshal(r.Cell)
		k := r.Cell.Key()
		if dupOf, dup = st.cells[k]; !dup {
			st.cells[k] = recordRef{enc, r.Pos}
			st.Cells = append(st.Cells, *r.Cell)
			if r.Cell.Status == result.StatusOK {
				if first, ok := st.okCell[r.Cell.Cell]; ok {
					st.Conflicts = append(st.Conflicts, &result.LineError{File: r.Pos.File, Line: r.Pos.Line,
						Err: fmt.Errorf("cell %s finished again as attempt %d although it finished at %s: a streamed run runs a cell once, so one of the two is not this run's (a log of another pod or run, or edited); run %s is not written", r.CellKey, r.Cell.Attempt, first.pos, st.runID())})
				} else {
					st.okCell[r.Cell.Cell] = recordRef{enc, r.Pos}
				}
			}
			return
		}
	}
	if string(enc) == string(dupOf.enc) {
		c.duplicates++
		return
	}
	if r.Profile != nil {
		c.problem(r.Pos, fmt.Errorf("profile %s of cell %s differs from the one at %s for the same run %s: kept the first", r.Profile.Path, r.CellKey, dupOf.pos, st.runID()))
		return
	}
	c.problem(r.Pos, fmt.Errorf("%s of cell %s (attempt %d) differs from the one at %s for the same run %s: kept the first", r.Kind, r.CellKey, attemptOf(r), dupOf.pos, st.runID()))
}

func attemptOf(r *podlog.Record) int {
	if r.Sample != nil {
		return r.Sample.Attempt
	}
	if r.Cell != nil {
		return r.Cell.Attempt
	}
	return 0
}

// finish names the runs and reports what is incomplete.
func (c *collector) finish() *Collection {
	out := &Collection{Problems: c.problems, Duplicates: c.duplicates}
	used := map[string]bool{}
	for _, st := range c.ordered {
		if !result.Readable(st.schema) {
			if st.dropped > 0 {
				c.problemTo(out, st.First, fmt.Errorf("%d record(s) of run %s (schema version %d) skipped", st.dropped, st.Run.ID, st.schema))
			}
			continue
		}
		if st.Run.ID == "" {
			// Every run record of it failed strict decoding (reported there).
			if n := len(st.Samples) + len(st.Cells); n > 0 {
				c.problemTo(out, st.First, fmt.Errorf("%d record(s) of the run starting here skipped: its run record cannot be read", n))
			}
			continue
		}
		st.Finished = st.Run.Status != result.RunRunning
		if !st.Finished {
			st.Run.Status = result.RunInterrupted
			if st.Run.End.IsZero() && len(st.Cells) > 0 {
				st.Run.End = latestEnd(st.Cells)
			}
			c.problemTo(out, st.Last, fmt.Errorf("run %s has no final run record: the log ends before the run finished (pod stopped by its deadline, evicted, OOM-killed, or the log was cut); its %d sample(s) and %d cell outcome(s) are kept and the run is marked interrupted", st.Run.ID, len(st.Samples), len(st.Cells)))
		}
		for _, cr := range st.Cells {
			if p := cr.Extra[result.ExtraProfile]; p != "" && st.Profiles[p] == nil {
				c.problemTo(out, st.Last, fmt.Errorf("cell %s attempt %d names its profile %s, which is not in the log (refused above, cut off, or over %d MiB and kept only where the run ran): its samples are kept; report and explain will say the profile is unreadable", cr.Cell, cr.Attempt, p, result.MaxStreamFile>>20))
			}
		}
		for f := range st.files {
			st.Files = append(st.Files, f)
		}
		sort.Strings(st.Files)
		name := fleet.SafeName(st.Run.ID)
		if name != st.Run.ID {
			c.problemTo(out, st.First, fmt.Errorf("run ID %q is not a safe directory name: collected as %s", st.Run.ID, name))
		}
		base := name
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%s.%d", base, n)
		}
		if name != base {
			c.problemTo(out, st.First, fmt.Errorf("two different runs have the ID %s (same ID, different start times): the one starting here is collected as %s", st.Run.ID, name))
		}
		used[name] = true
		st.Name = name
		cr := st.CollectedRun
		out.Runs = append(out.Runs, &cr)
	}
	return out
}

func (c *collector) problemTo(out *Collection, p podlog.Pos, err error) {
	out.Problems = append(out.Problems, &result.LineError{File: p.File, Line: p.Line, Err: err})
}

func latestEnd(cells []result.CellResult) time.Time {
	var t time.Time
	for _, c := range cells {
		if e := c.Start.Add(time.Duration(c.WallNS)); e.After(t) {
			t = e
		}
	}
	return t.UTC()
}

// ErrExists is returned by Write when the directory already holds the run
// with other records; ErrSame when it holds exactly these (collected before).
// ErrConflict when the run's records contradict each other (Conflicts).
var (
	ErrExists   = errors.New("already holds the run")
	ErrSame     = errors.New("already collected, identical")
	ErrConflict = errors.New("conflicting records")
)

// Write writes the run as a result directory dir/<Name>, exactly as `bench
// run -o DIR` would have: run.json, samples.jsonl and cells.jsonl with the
// records in stream order, then the derived bench.txt and results.csv from
// result.Load (the same selection as every other reader). The directory
// appears whole or not at all (written aside, then renamed). It returns
// the directory's path and what result.Load reported.
func (c *CollectedRun) Write(dir string) (string, []error, error) {
	path := filepath.Join(dir, c.Name)
	if len(c.Conflicts) > 0 {
		return path, nil, fmt.Errorf("run %s: %w: %d cell(s) finished in more than one attempt (see above): not written", c.Run.ID, ErrConflict, len(c.Conflicts))
	}
	files, err := c.files()
	if err != nil {
		return path, nil, err
	}
	if _, err := os.Stat(filepath.Join(path, result.RunFile)); err == nil {
		same := true
		for name, b := range files {
			old, err := os.ReadFile(filepath.Join(path, filepath.FromSlash(name)))
			same = same && err == nil && bytes.Equal(old, b)
		}
		if same {
			return path, nil, ErrSame
		}
		return path, nil, fmt.Errorf("%s %w with other records (collected earlier from a shorter log?): not overwritten (remove it, or collect into another -o)", path, ErrExists)
	} else if _, err := os.Stat(path); err == nil {
		return path, nil, fmt.Errorf("%s exists and is not a run directory: not overwritten", path)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return path, nil, err
	}
	tmp, err := os.MkdirTemp(dir, "."+c.Name+".collect-*")
	if err != nil {
		return path, nil, err
	}
	defer os.RemoveAll(tmp)
	if len(c.Profiles) > 0 {
		if err := os.Mkdir(filepath.Join(tmp, result.ProfileDir), 0o755); err != nil {
			return path, nil, err
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, filepath.FromSlash(name)), b, 0o644); err != nil {
			return path, nil, err
		}
	}
	d, err := result.Load(tmp)
	if err != nil {
		return path, nil, err
	}
	d.Path = tmp
	if err := result.WriteDerived(d); err != nil {
		return path, d.Problems, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return path, d.Problems, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return path, d.Problems, err
	}
	return path, d.Problems, nil
}

// files encodes the run's record files as the harness writes them:
// run.json as result.WriteJSONFile does, the records one JSON line each as
// result.Store appends them; and the profiles, by their paths.
func (c *CollectedRun) files() (map[string][]byte, error) {
	run, err := json.MarshalIndent(&c.Run, "", "  ")
	if err != nil {
		return nil, err
	}
	schema := c.Run.SchemaVersion
	samples, err := jsonLines(c.Samples, func(x *result.Sample) ([]byte, error) { return result.EncodeSample(x, schema) })
	if err != nil {
		return nil, err
	}
	cells, err := jsonLines(c.Cells, func(x *result.CellResult) ([]byte, error) { return result.EncodeCell(x, schema) })
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{result.RunFile: append(run, '\n'), result.SamplesFile: samples, result.CellsFile: cells}
	for p, b := range c.Profiles {
		files[p] = b
	}
	return files, nil
}

func jsonLines[T any](recs []T, encode func(*T) ([]byte, error)) ([]byte, error) {
	var b []byte
	for i := range recs {
		enc, err := encode(&recs[i])
		if err != nil {
			return nil, err
		}
		b = append(append(b, enc...), '\n')
	}
	return b, nil
}
