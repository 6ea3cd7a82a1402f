package podlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
)

// Record kinds.
const (
	KindRun    = "run"
	KindSample = "sample"
	KindCell   = "cell"
	// KindProfile is a cell's profile file (result.StreamFile), sent
	// before its cell outcome.
	KindProfile = "profile"
)

// Pos is where a record starts in a log: file name and 1-based line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Record is one stream line found in a log (see result.EncodeStream).
type Record struct {
	Pos
	// Source is the kubectl --prefix tag of the line ("[pod/NAME/CONTAINER]"),
	// or "" when the log has none.
	Source string
	Kind   string // KindRun, KindSample, KindCell or KindProfile

	// Routing fields, read leniently so that a record can be attributed
	// to its run even when it fails the strict checks.
	RunID   string    // run records
	Start   time.Time // run records
	Schema  int       // run records: result schema version
	CellKey string    // sample, cell and profile records; run records: unused
	Plan    []string  // run records: the cell keys of the plan

	// Exactly one is set when Err is nil; Run is nil for a run of another
	// schema version (!result.Readable(Schema)).
	Run    *result.Run
	Sample *result.Sample
	Cell   *result.CellResult
	// Profile is checked: its path is under result.ProfileDir and its
	// data has its recorded SHA-256.
	Profile *result.StreamFile
	// Err says why the record cannot be used (strict decoding or checks).
	Err error
}

// prefixStem is StreamPrefix without its version and the space, so lines
// of other harness versions are recognised and reported, not ignored.
const prefixStem = "@enclavebench-result/"

// streamVersion is this harness's stream line version, read from
// result.StreamPrefix ("@enclavebench-result/1 ").
var streamVersion = func() int {
	v, err := strconv.Atoi(result.StreamPrefix[len(prefixStem) : len(result.StreamPrefix)-1])
	if err != nil || result.StreamPrefix[:len(prefixStem)] != prefixStem {
		panic("podlog: result.StreamPrefix does not have the form " + prefixStem + "N ")
	}
	return v
}()

// maxLogLine bounds one physical log line; a longer one is reported and
// skipped. Stream records are a few KiB; run records grow with the plan.
const maxLogLine = 16 << 20

// ParseLog reads one log: the output of `bench run -o -`, or pod logs as
// `kubectl logs` prints them. It finds every stream line wherever it starts
// (other output around it is ignored) and handles:
//
//   - kubectl --timestamps prefixes ("2026-11-27T04:11:21.123456789Z ");
//   - kubectl --prefix tags ("[pod/NAME/CONTAINER] "), kept in Record.Source;
//   - container runtime (CRI) log files ("TIMESTAMP stdout F ..."), whose
//     partial lines ("P") are joined;
//   - lines cut mid-way, also when the next record continues on the same
//     line (logs of several pods concatenated after a pod died mid-write);
//   - lines of another harness version (another stream version), reported
//     once per file and version.
//
// Records are returned in log order. Problems are *result.LineError values
// with the file and line; records that fail strict decoding are returned
// with Err set (and also reported by Collect), so what is valid is kept.
func ParseLog(r io.Reader, name string) ([]Record, []error) {
	p := &logParser{name: name, partial: map[string]*partialLine{}, foreign: map[int]*foreignCount{}}
	br := bufio.NewReaderSize(r, 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, complete, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			p.problem(lineNo, fmt.Errorf("line longer than %d bytes: skipped", maxLogLine))
			if complete {
				continue
			}
			break
		}
		if err != nil && err != io.EOF {
			p.problem(lineNo, err)
			break
		}
		if len(line) > 0 || complete {
			p.line(lineNo, line, !complete)
		}
		if !complete {
			break
		}
	}
	p.flushPartials()
	p.reportForeign()
	sort.SliceStable(p.records, func(i, j int) bool { return p.records[i].Line < p.records[j].Line })
	return p.records, p.problems
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline; complete is false
// when the input ended without a newline (or failed).
func readLine(br *bufio.Reader) (line []byte, complete bool, err error) {
	chunk, err := br.ReadSlice('\n')
	if err == nil {
		return trimEOL(chunk), true, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		if err == io.EOF {
			return trimEOL(chunk), false, io.EOF
		}
		return nil, false, err
	}
	buf := append([]byte(nil), chunk...)
	for errors.Is(err, bufio.ErrBufferFull) {
		chunk, err = br.ReadSlice('\n')
		if len(buf) <= maxLogLine {
			buf = append(buf, chunk...)
		}
	}
	complete = err == nil
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	if len(buf) > maxLogLine {
		return nil, complete, errLineTooLong
	}
	return trimEOL(buf), complete, err
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

type partialLine struct {
	line   int
	source string
	buf    []byte
}

type foreignCount struct {
	first, n int
}

type logParser struct {
	name     string
	records  []Record
	problems []error
	// partial holds CRI partial ("P") lines per source and stream.
	partial map[string]*partialLine
	foreign map[int]*foreignCount
}

func (p *logParser) problem(line int, err error) {
	p.problems = append(p.problems, &result.LineError{File: p.name, Line: line, Err: err})
}

// line handles one physical line; cut is set when the log ends inside it.
func (p *logParser) line(lineNo int, line []byte, cut bool) {
	source, rest := splitPodPrefix(line)
	rest, stamped := stripTimestamp(rest)
	if stamped {
		// A CRI log file line: "<stream> <P|F> <content>".
		if stream, tag, content, ok := splitCRI(rest); ok {
			key := source + " " + stream
			if tag == 'P' {
				pl := p.partial[key]
				if pl == nil {
					pl = &partialLine{line: lineNo, source: source}
					p.partial[key] = pl
				}
				if len(pl.buf)+len(content) <= maxLogLine {
					pl.buf = append(pl.buf, content...)
				}
				return
			}
			if pl := p.partial[key]; pl != nil {
				delete(p.partial, key)
				p.content(pl.line, source, append(pl.buf, content...), cut)
				return
			}
			rest = content
		}
	}
	p.content(lineNo, source, rest, cut)
}

// flushPartials handles partial lines the log ended in, in line order.
func (p *logParser) flushPartials() {
	pending := make([]*partialLine, 0, len(p.partial))
	for _, pl := range p.partial {
		pending = append(pending, pl)
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].line < pending[j].line })
	for _, pl := range pending {
		p.content(pl.line, pl.source, pl.buf, true)
	}
	p.partial = nil
}

// content finds the stream lines in one logical line.
func (p *logParser) content(lineNo int, source string, b []byte, cut bool) {
	i := bytes.Index(b, []byte(prefixStem))
	for i >= 0 {
		after := b[i+len(prefixStem):]
		next := bytes.Index(after, []byte(prefixStem))
		nextAbs := -1
		if next >= 0 {
			nextAbs = i + len(prefixStem) + next
		}
		v, n := leadingInt(after)
		if n == 0 || n >= len(after) || after[n] != ' ' {
			// "@enclavebench-result/" without a version: not ours (or cut).
			i = nextAbs
			continue
		}
		if v != streamVersion {
			fc := p.foreign[v]
			if fc == nil {
				fc = &foreignCount{first: lineNo}
				p.foreign[v] = fc
			}
			fc.n++
			i = nextAbs
			continue
		}
		payload := after[n+1:]
		dec := json.NewDecoder(bytes.NewReader(payload))
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == nil {
			p.record(lineNo, source, raw)
			// Continue after the record: another record may follow on the
			// same line when a log was cut and the next one starts there.
			consumed := i + len(prefixStem) + n + 1 + int(dec.InputOffset())
			j := bytes.Index(b[consumed:], []byte(prefixStem))
			if j < 0 {
				return
			}
			i = consumed + j
			continue
		}
		switch {
		case nextAbs >= 0:
			p.problem(lineNo, fmt.Errorf("stream record cut off: another record starts in the middle of it (logs interleaved or concatenated after a pod stopped mid-line): %v", err))
		case cut:
			p.problem(lineNo, fmt.Errorf("stream record cut off: the log ends in the middle of it (the pod stopped, or the log was truncated): %v", err))
		default:
			p.problem(lineNo, fmt.Errorf("malformed stream record: %v", err))
		}
		i = nextAbs
	}
}

// leadingInt parses the decimal digits at the start of b (at most 9).
func leadingInt(b []byte) (v, n int) {
	for n < len(b) && n < 9 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int(b[n]-'0')
		n++
	}
	return v, n
}

func (p *logParser) reportForeign() {
	for v, fc := range p.foreign {
		what := "an older"
		if v > streamVersion {
			what = "a newer"
		}
		p.problem(fc.first, fmt.Errorf("%d stream line(s) of version %d (%s%d ), written by %s harness; this harness reads %q: collect them with a matching harness (first one on this line)",
			fc.n, v, prefixStem, v, what, result.StreamPrefix))
	}
	// Keep problems in line order for a readable report.
	result.SortByLine(p.problems)
}

// record decodes one stream record.
func (p *logParser) record(lineNo int, source string, raw []byte) {
	rec := Record{Pos: Pos{p.name, lineNo}, Source: source}
	var env struct {
		Run     json.RawMessage `json:"run"`
		Sample  json.RawMessage `json:"sample"`
		Cell    json.RawMessage `json:"cell"`
		Profile json.RawMessage `json:"profile"`
	}
	if err := result.DecodeStrict(raw, &env); err != nil {
		p.problem(lineNo, fmt.Errorf("stream record: %v", err))
		return
	}
	set := 0
	for _, r := range []json.RawMessage{env.Run, env.Sample, env.Cell, env.Profile} {
		if len(r) > 0 && string(r) != "null" {
			set++
		}
	}
	if set != 1 {
		p.problem(lineNo, fmt.Errorf("stream record with %d of run, sample, cell, profile set (want exactly one)", set))
		return
	}
	switch {
	case len(env.Run) > 0 && string(env.Run) != "null":
		rec.Kind = KindRun
		var head struct {
			SchemaVersion int       `json:"schema_version"`
			ID            string    `json:"id"`
			Start         time.Time `json:"start"`
			Plan          struct {
				Cells []string `json:"cells"`
			} `json:"plan"`
		}
		if err := json.Unmarshal(env.Run, &head); err != nil {
			p.problem(lineNo, fmt.Errorf("run record: %v", err))
			return
		}
		rec.RunID, rec.Start, rec.Schema, rec.Plan = head.ID, head.Start, head.SchemaVersion, head.Plan.Cells
		if rec.RunID == "" {
			p.problem(lineNo, errors.New("run record without an id"))
			return
		}
		if !result.Readable(rec.Schema) {
			break // reported by Collect, with its records
		}
		var run result.Run
		if err := result.DecodeStrict(env.Run, &run); err != nil {
			rec.Err = fmt.Errorf("run %s: %v", rec.RunID, err)
		} else {
			rec.Run = &run
		}
	case len(env.Sample) > 0 && string(env.Sample) != "null":
		rec.Kind = KindSample
		rec.CellKey = leadingCell(env.Sample)
		var s result.Sample
		if err := result.DecodeNamedSample(env.Sample, &s); err != nil {
			rec.Err = fmt.Errorf("sample: %v", err)
		} else {
			rec.Sample = &s
		}
	case len(env.Profile) > 0 && string(env.Profile) != "null":
		rec.Kind = KindProfile
		rec.CellKey = leadingCell(env.Profile)
		var f result.StreamFile
		err := result.DecodeStrict(env.Profile, &f)
		if err == nil {
			err = result.CheckStreamFile(&f)
		}
		if err != nil {
			rec.Err = fmt.Errorf("profile of cell %s: %v", rec.CellKey, err)
		} else {
			rec.Profile = &f
		}
	default:
		rec.Kind = KindCell
		rec.CellKey = leadingCell(env.Cell)
		var c result.CellResult
		if err := result.DecodeNamedCell(env.Cell, &c); err != nil {
			rec.Err = fmt.Errorf("cell outcome: %v", err)
		} else {
			rec.Cell = &c
		}
	}
	p.records = append(p.records, rec)
}

// leadingCell reads the "cell" field of a record leniently.
func leadingCell(raw []byte) string {
	var v struct {
		Cell string `json:"cell"`
	}
	json.Unmarshal(raw, &v)
	return v.Cell
}

// splitPodPrefix strips a kubectl --prefix tag: "[pod/NAME/CONTAINER] ".
func splitPodPrefix(line []byte) (source string, rest []byte) {
	if len(line) < 4 || line[0] != '[' {
		return "", line
	}
	end := bytes.Index(line[:min(len(line), 512)], []byte("] "))
	if end < 0 || bytes.ContainsAny(line[1:end], " \t[") {
		return "", line
	}
	return string(line[:end+1]), line[end+2:]
}

// stripTimestamp strips a leading RFC 3339 timestamp and one space
// (kubectl logs --timestamps, container runtime log files).
func stripTimestamp(b []byte) ([]byte, bool) {
	if len(b) < 21 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') {
		return b, false
	}
	sp := bytes.IndexByte(b[:min(len(b), 40)], ' ')
	if sp < 20 {
		return b, false
	}
	if _, err := time.Parse(time.RFC3339Nano, string(b[:sp])); err != nil {
		return b, false
	}
	return b[sp+1:], true
}

// splitCRI splits the rest of a CRI log line: "stdout F content".
func splitCRI(b []byte) (stream string, tag byte, content []byte, ok bool) {
	for _, s := range []string{"stdout ", "stderr "} {
		if bytes.HasPrefix(b, []byte(s)) && len(b) >= len(s)+2 && (b[len(s)] == 'P' || b[len(s)] == 'F') {
			rest := b[len(s)+1:]
			if len(rest) == 0 {
				return s[:6], b[len(s)], nil, true
			}
			if rest[0] != ' ' {
				return "", 0, nil, false
			}
			return s[:6], b[len(s)], rest[1:], true
		}
	}
	return "", 0, nil, false
}
