package counts

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func parseDumpFile(path string) (*Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ParseDump(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return d, nil
}

func countSyscallsFile(path string) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return CountSyscalls(f)
}

// Dump is one Callgrind output file: what triggered it and its counts.
type Dump struct {
	// Trigger is its "desc: Trigger:" ("Client Request: NAME" for a dump
	// the process asked for, "Program termination" at exit).
	Trigger string
	// Counts are its summary, by event name (Ir, D1mr, ...).
	Counts map[string]int64
	// StreamLLMisses are the data LLC misses (DLmr + DLmw) of the
	// instructions that stream (StreamingInstr): the misses at which
	// Callgrind's prefetcher restarts a stream, part of the summary's.
	StreamLLMisses int64
}

// StreamDivisor classifies an instruction by its own cache counts in a
// dump (--dump-instr=yes): it streams when at most 1 of every
// StreamDivisor of its L1d misses reaches memory (DLm * StreamDivisor <=
// D1m). Why 8: Callgrind's prefetcher (valgrind callgrind/sim.c,
// prefetch_LL_doref: a stream per 4 KiB page, detected on the 3rd
// consecutive line, each further L1 miss fetching the line 5 ahead; the
// lines it prefetches are LLC hits) leaves 2 demand misses per 64-line
// page of a sequential stream (measured: 0.0313-0.0317 per line), 1 in
// 32; an instruction that reads at random over a working set W larger
// than the 16 MiB LLC misses it on about 1 - 16 MiB/W of its L1 misses,
// more than 1 in 8 once W > 18.3 MiB. Random access over 16-18.3 MiB
// counts as streaming by this rule, which prices its few LLC misses as
// overlapping (docs/sim.md "Memory encryption").
const StreamDivisor = 8

// StreamingInstr reports whether an instruction with d1 L1d misses and ll
// data LLC misses streams (StreamDivisor).
func StreamingInstr(d1, ll int64) bool { return ll > 0 && ll*StreamDivisor <= d1 }

// ParseDump reads a Callgrind output file's trigger and the totals of its
// "summary:" line, named by its "events:" line (Callgrind leaves trailing
// zero counts out), and splits its data LLC misses by instruction
// (StreamLLMisses) from its cost lines: the self cost of each position
// (a line after "calls=" is the call's inclusive cost, left out), the
// first position field the instruction's address (--dump-instr=yes,
// "positions: instr line"), absolute ("0x...") or relative to the last
// cost line's ("+N", "-N", "*"). Their sum must be the summary's: a dump
// whose cost lines do not add up is refused, not split wrongly.
func ParseDump(f *os.File) (*Dump, error) {
	var names, vals, totals []string
	d := &Dump{}
	type cost struct{ d1, ll int64 }
	perInstr := map[int64]*cost{}
	var idx struct{ d1mr, d1mw, dlmr, dlmw, ilmr int }
	var last int64
	nPos, instrPos, skip, costLines := 1, false, false, 0
	var sumLL int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "events:"); ok {
			names = strings.Fields(v)
			idx.d1mr, idx.d1mw = slices.Index(names, "D1mr"), slices.Index(names, "D1mw")
			idx.dlmr, idx.dlmw, idx.ilmr = slices.Index(names, "DLmr"), slices.Index(names, "DLmw"), slices.Index(names, "ILmr")
		} else if v, ok := strings.CutPrefix(line, "positions:"); ok {
			p := strings.Fields(v)
			nPos, instrPos = max(len(p), 1), len(p) > 0 && p[0] == "instr"
		} else if v, ok := strings.CutPrefix(line, "summary:"); ok {
			vals = strings.Fields(v)
		} else if v, ok := strings.CutPrefix(line, "totals:"); ok {
			totals = strings.Fields(v)
		} else if v, ok := strings.CutPrefix(line, "desc: Trigger:"); ok {
			d.Trigger = strings.TrimSpace(v)
		} else if strings.HasPrefix(line, "calls=") || strings.HasPrefix(line, "jump=") || strings.HasPrefix(line, "jcnd=") {
			skip = true // the next line is the call's inclusive cost (or a jump's position)
		} else if line != "" && strings.IndexByte("0123456789+-*", line[0]) >= 0 {
			if skip {
				skip = false
				continue
			}
			if names == nil {
				return nil, errors.New("a cost line before the events line")
			}
			fields := strings.Fields(line)
			if len(fields) < nPos || len(fields)-nPos > len(names) {
				return nil, fmt.Errorf("cost line %q: want %d positions and at most %d counts", line, nPos, len(names))
			}
			pos, err := position(fields[0], last)
			if err != nil {
				return nil, fmt.Errorf("cost line %q: %v", line, err)
			}
			last = pos
			at := func(i int) (int64, error) {
				if i < 0 || nPos+i >= len(fields) {
					return 0, nil
				}
				return strconv.ParseInt(fields[nPos+i], 10, 64)
			}
			var c [5]int64
			for j, i := range []int{idx.d1mr, idx.d1mw, idx.dlmr, idx.dlmw, idx.ilmr} {
				if c[j], err = at(i); err != nil || c[j] < 0 {
					return nil, fmt.Errorf("cost line %q: not a count", line)
				}
			}
			e := perInstr[pos]
			if e == nil {
				e = &cost{}
				perInstr[pos] = e
			}
			e.d1 += c[0] + c[1]
			e.ll += c[2] + c[3]
			sumLL += c[2] + c[3] + c[4]
			costLines++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 || vals == nil || len(vals) > len(names) {
		return nil, fmt.Errorf("no events line and summary line of at most its length (events %q, summary %q)", names, vals)
	}
	d.Counts = map[string]int64{}
	for i, n := range names {
		if i >= len(vals) {
			d.Counts[n] = 0
			continue
		}
		v, err := strconv.ParseInt(vals[i], 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("summary: %s = %q is not a count", n, vals[i])
		}
		d.Counts[n] = v
	}
	for _, n := range []string{"Ir", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"} {
		if _, ok := d.Counts[n]; !ok {
			return nil, fmt.Errorf("no %s count (was the cache simulation on?)", n)
		}
	}
	// The cost lines add up to the "totals:" line (what Callgrind wrote
	// of them); the summary may hold a few more (at exit: blocks still
	// running, seen 3 instructions more).
	total, of := d.Counts["ILmr"]+d.Counts["DLmr"]+d.Counts["DLmw"], "summary"
	if totals != nil {
		var err error
		if total, err = llTotal(names, totals); err != nil {
			return nil, fmt.Errorf("totals: %v", err)
		}
		of = "totals line"
	}
	switch {
	case total > 0 && !instrPos:
		return nil, errors.New("LLC misses without per-instruction cost lines (positions: instr; was --dump-instr=yes given?): they cannot be split into streamed and dependent ones")
	case total > 0 && sumLL != total:
		return nil, fmt.Errorf("the cost lines' LLC misses add up to %d, the %s says %d (%d cost lines): the dump was not read as written", sumLL, of, total, costLines)
	}
	for _, c := range perInstr {
		if StreamingInstr(c.d1, c.ll) {
			d.StreamLLMisses += c.ll
		}
	}
	return d, nil
}

// llTotal is ILmr + DLmr + DLmw of a line of counts named by names.
func llTotal(names, vals []string) (int64, error) {
	if len(vals) > len(names) {
		return 0, fmt.Errorf("%d counts for %d events", len(vals), len(names))
	}
	var t int64
	for i, v := range vals {
		if n := names[i]; n == "ILmr" || n == "DLmr" || n == "DLmw" {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil || x < 0 {
				return 0, fmt.Errorf("%s = %q is not a count", n, v)
			}
			t += x
		}
	}
	return t, nil
}

// position reads a cost line's instruction position: absolute (hex with
// 0x, or decimal) or relative to the last one (+N, -N decimal; * same).
func position(s string, last int64) (int64, error) {
	switch {
	case s == "*":
		return last, nil
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		d, err := strconv.ParseInt(s, 10, 64)
		return last + d, err
	case strings.HasPrefix(s, "0x"):
		return strconv.ParseInt(s[2:], 16, 64)
	}
	return strconv.ParseInt(s, 10, 64)
}

var errUnmarked = errors.New("no marked repetition in valgrind's trace (a workload binary from before --count-pass?)")

// syscallLine is the first line of a traced system call (a call that
// blocks is continued by a "... [async] -->" line, not counted again).
var syscallLine = regexp.MustCompile(`^SYSCALL\[\d+,\d+\]\(\s*\d+\) sys_([a-z0-9_]+)`)

// CountSyscalls counts the system calls Valgrind's trace shows between
// each pair of the workload's begin and end marks, leaving out those in
// uncounted: one count per marked repetition, in order.
func CountSyscalls(f *os.File) ([]int64, error) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []int64
	var n int64
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasSuffix(line, beginMark):
			if in {
				return nil, errors.New("a begin mark inside a marked repetition")
			}
			in, n = true, 0
		case strings.HasSuffix(line, endMark):
			if !in {
				return nil, errors.New("an end mark without a begin mark")
			}
			in = false
			out = append(out, n)
		case in:
			if m := syscallLine.FindStringSubmatch(line); m != nil && !slices.Contains(uncounted, m[1]) {
				n++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if in {
		return nil, errors.New("a begin mark without an end mark")
	}
	if out == nil {
		return nil, errUnmarked
	}
	return out, nil
}
