// Package gotest runs one of a user's Go benchmarks (func BenchmarkX(b
// *testing.B) in their module, built by `go test -c`) as the workload of a
// cell: the workload binary, started by the harness like for any workload,
// runs the user's test binary as its child and turns the benchmark's result
// lines (the Go benchmark format, read with golang.org/x/perf/benchfmt)
// into protocol samples. bench/gotest finds and builds the benchmarks.
//
// The harness's rules, not go test's, set the measurement: the iteration
// count is calibrated in a first run of the test binary with
// -test.benchtime=<min-time> (go test grows b.N the way workloads/measure
// does: from 1, predicted from the last run, at most 100x, 1.2x headroom,
// until a run lasts the minimum time), then one run of the test binary
// performs warmup + reps repetitions of exactly that count
// (-test.benchtime=Nx -test.count=warmup+reps); the first warmup results
// are dropped. GOMAXPROCS is the size's vCPUs (-test.cpu), and the CPU
// affinity the harness gave this process is inherited by the test binary.
package gotest

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// Result is one result line of a test binary.
type Result struct {
	// Name is the full benchmark name without the -GOMAXPROCS suffix
	// (BenchmarkGet/size=1KiB).
	Name   string
	Iters  int
	Values []protocol.Value // ns/op first, then the others in their order
}

// Output is what one run of a test binary printed on stdout.
type Output struct {
	Results []Result
	// Skipped and Failed map a benchmark's name to what it logged (its
	// b.Skip reason, its b.Fatal message).
	Skipped, Failed map[string]string
	// Names lists every benchmark name the run printed (results, skips,
	// failures, and with -test.v the line that starts each), in order,
	// each once.
	Names []string
}

// Better is the direction of a unit: the benchfmt unit metadata and
// defaults (ns/op, B/op, allocs/op lower; MB/s, B/s higher), and for a
// unit neither knows (a b.ReportMetric unit), higher when it is a rate
// ("/s"), else lower.
func Better(units benchfmt.UnitMetadataMap, unit string) string {
	switch units.GetBetter(unit) {
	case 1:
		return protocol.Higher
	case -1:
		return protocol.Lower
	}
	if strings.HasSuffix(unit, "/s") {
		return protocol.Higher
	}
	return protocol.Lower
}

// Parse reads a test binary's stdout (run with -test.v, so that skips are
// printed). Lines it does not know are ignored, as go test's own readers do.
func Parse(out []byte) (*Output, error) {
	o := &Output{Skipped: map[string]string{}, Failed: map[string]string{}}
	seen := map[string]bool{}
	add := func(name string) {
		name = trimProcs(name)
		if !seen[name] {
			seen[name] = true
			o.Names = append(o.Names, name)
		}
	}
	// Logs are the indented lines between a benchmark's name line (-test.v)
	// and its "--- SKIP/FAIL" line, or right after that line (without -v).
	var logs []string
	var (
		openMap  map[string]string // the last "--- SKIP/FAIL" line's, while its logs follow it
		openName string
	)
	join := func(a, b string) string {
		if a == "" {
			return b
		}
		return a + "\n" + b
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "":
			if openMap != nil {
				openMap[openName] = join(openMap[openName], strings.TrimSpace(line))
			} else {
				logs = append(logs, strings.TrimSpace(line))
			}
		case strings.HasPrefix(line, "--- SKIP: "), strings.HasPrefix(line, "--- FAIL: "):
			_, rest, _ := strings.Cut(line, ": ")
			f := strings.Fields(rest)
			if len(f) == 0 {
				continue
			}
			n := trimProcs(f[0])
			add(n)
			openMap, openName = o.Skipped, n
			if strings.HasPrefix(line, "--- FAIL: ") {
				openMap = o.Failed
			}
			openMap[n] = strings.Join(logs, "\n")
			logs = nil
		case strings.HasPrefix(line, "Benchmark"):
			add(strings.Fields(line)[0])
			logs, openMap = nil, nil
		default:
			openMap = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	r := benchfmt.NewReader(bytes.NewReader(out), "test output")
	var results []*benchfmt.Result
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.Result:
			results = append(results, rec.Clone())
		case *benchfmt.SyntaxError:
			return nil, fmt.Errorf("the test binary printed a result line benchfmt cannot read: %v", rec)
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	units := r.Units()
	for _, res := range results {
		// benchfmt drops the "Benchmark" prefix and tidies units (ns/op
		// to sec/op): the samples keep the units the benchmark printed.
		rr := Result{Name: "Benchmark" + trimProcs(res.Name.String()), Iters: res.Iters}
		for _, v := range res.Values {
			val, unit := v.Value, v.Unit
			if v.OrigUnit != "" {
				val, unit = v.OrigValue, v.OrigUnit
			}
			pv := protocol.Value{Value: val, Unit: unit, Better: Better(units, unit)}
			if unit == "ns/op" {
				rr.Values = append([]protocol.Value{pv}, rr.Values...)
			} else {
				rr.Values = append(rr.Values, pv)
			}
		}
		o.Results = append(o.Results, rr)
	}
	return o, nil
}

// trimProcs drops a -GOMAXPROCS suffix from a benchmark name.
func trimProcs(name string) string {
	base, parts := benchfmt.Name(name).Parts()
	var b strings.Builder
	b.Write(base)
	for _, p := range parts {
		if p[0] == '-' {
			break
		}
		b.Write(p)
	}
	return b.String()
}
