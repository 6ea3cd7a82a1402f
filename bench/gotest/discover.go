package gotest

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	wgotest "github.com/enclavebench/enclavebench/workloads/gotest"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// readDirectives reads the //enclavebench: lines above p's benchmark
// functions (HeapDirective, SerialDirective).
func readDirectives(p pkg) (directives, error) {
	out := directives{heap: map[string]int64{}, serial: map[string]bool{}}
	fset := token.NewFileSet()
	for _, f := range append(append([]string(nil), p.TestGoFiles...), p.XTestGoFiles...) {
		path := filepath.Join(p.Dir, f)
		af, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return out, inputf("--gotest %s: %v", p.ImportPath, err)
		}
		for _, d := range af.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Doc == nil || !strings.HasPrefix(fn.Name.Name, "Benchmark") {
				continue
			}
			for _, c := range fn.Doc.List {
				if v, ok := strings.CutPrefix(c.Text, SerialDirective); ok {
					if strings.TrimSpace(v) != "" {
						return out, inputf("%s: %s takes nothing after it, not %q", fset.Position(c.Pos()), SerialDirective, strings.TrimSpace(v))
					}
					out.serial[fn.Name.Name] = true
					continue
				}
				v, ok := strings.CutPrefix(c.Text, HeapDirective)
				if !ok {
					continue
				}
				n, err := workload.ParseBytes(strings.TrimSpace(v), workload.Env{})
				if err != nil || n <= 0 {
					return out, inputf("%s: %s%s: want a size such as 64MiB", fset.Position(c.Pos()), HeapDirective, v)
				}
				out.heap[fn.Name.Name] = n
			}
		}
	}
	return out, nil
}

// splitRegexp splits a -test.bench expression into its levels at the
// slashes outside brackets and parentheses, as the testing package does.
func splitRegexp(s string) []string {
	var out []string
	cs, cp := 0, 0
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			cs++
		case ']':
			if cs--; cs < 0 {
				cs = 0
			}
		case '(':
			if cs == 0 {
				cp++
			}
		case ')':
			if cs == 0 {
				cp--
			}
		case '\\':
			i++
		case '/':
			if cs == 0 && cp == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// leaf is one benchmark found: its full name and the results of its
// discovery run (units).
type leaf struct {
	name   string
	values []protocol.Value
}

func discover(ctx context.Context, r Request, p pkg, b *result.GoTestBuild, res []*regexp.Regexp, levels []string, dirs directives) ([]*workload.Spec, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(lctx, b.Binary, "-test.list", "^Benchmark")
	cmd.Dir = p.Dir
	out, err := cmd.Output()
	if err != nil {
		return nil, inputf("--gotest %s: %s -test.list: %v", p.ImportPath, b.Binary, err)
	}
	var specs []*workload.Spec
	for _, top := range strings.Fields(string(out)) {
		if !res[0].MatchString(top) {
			continue
		}
		leaves, err := discoverOne(ctx, timeout, p, b, top, levels)
		if err != nil {
			return nil, err
		}
		if len(leaves) == 0 {
			continue // no sub-benchmark matches the deeper levels
		}
		s, err := specOf(p, b, top, leaves, dirs.heap[top])
		if err != nil {
			return nil, err
		}
		if dirs.serial[top] {
			s.Parallelism = workload.Serial
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// discoverOne runs the top-level benchmark once (b.N = 1) and returns its
// leaves.
func discoverOne(ctx context.Context, timeout time.Duration, p pkg, b *result.GoTestBuild, top string, levels []string) ([]leaf, error) {
	pat := "^" + regexp.QuoteMeta(top) + "$"
	if len(levels) > 1 {
		pat += "/" + strings.Join(levels[1:], "/")
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(dctx, b.Binary, "-test.run=^$", "-test.bench="+pat, "-test.benchtime=1x", "-test.count=1", "-test.v", "-test.cpu=1", "-test.benchmem")
	cmd.Dir = p.Dir
	out, _ := cmd.Output() // a failing benchmark is a cell that fails later, with its output
	o, err := wgotest.Parse(out)
	if err != nil {
		return nil, inputf("--gotest %s: %s: %v", p.ImportPath, top, err)
	}
	var names []string
	for _, n := range o.Names {
		if n == top || strings.HasPrefix(n, top+"/") {
			names = append(names, n)
		}
	}
	if len(names) == 0 && len(levels) == 1 {
		names = []string{top} // it printed nothing: its cells will say why
	}
	var leaves []leaf
	for _, n := range names {
		if slices.ContainsFunc(names, func(m string) bool { return strings.HasPrefix(m, n+"/") }) {
			continue
		}
		l := leaf{name: n}
		for _, r := range o.Results {
			if r.Name == n {
				l.values = r.Values
			}
		}
		leaves = append(leaves, l)
	}
	return leaves, nil
}

// Keys of the cell names that a sub-benchmark key may not take.
var reservedKeys = []string{"size", "mode"}

// params splits a leaf's name below its top-level benchmark into keys and
// values.
func params(top, name string) (keys, vals []string) {
	rest := strings.TrimPrefix(name, top)
	if rest == "" {
		return nil, nil
	}
	for i, part := range strings.Split(rest[1:], "/") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			k, v = "sub", part
			if i > 0 {
				k = "sub" + strconv.Itoa(i+1)
			}
		}
		if slices.Contains(reservedKeys, k) {
			k = "go." + k
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals
}

func specOf(p pkg, b *result.GoTestBuild, top string, leaves []leaf, heap int64) (*workload.Spec, error) {
	name := strings.TrimPrefix(top, "Benchmark")
	if name == "" {
		name = top
	}
	if err := runspec.CheckKeyPart(name); err != nil {
		return nil, inputf("--gotest %s: %s: %v", p.ImportPath, top, err)
	}
	keys, _ := params(top, leaves[0].name)
	values := make([][]string, len(keys))
	full := map[string]string{} // joined values -> full name
	var combos [][]string
	units := map[string]string{}
	var unitOrder []string
	for _, l := range leaves {
		k, v := params(top, l.name)
		if !slices.Equal(k, keys) {
			return nil, inputf("--gotest %s: %s and %s name their sub-benchmarks differently (%s, %s): select one shape with --bench",
				p.ImportPath, leaves[0].name, l.name, strings.Join(keys, "/"), strings.Join(k, "/"))
		}
		for i, x := range v {
			if err := runspec.CheckKeyPart(x); err != nil {
				return nil, inputf("--gotest %s: %s: %v", p.ImportPath, l.name, err)
			}
			if !slices.Contains(values[i], x) {
				values[i] = append(values[i], x)
			}
		}
		full[strings.Join(v, "\x00")] = l.name
		combos = append(combos, v)
		for _, val := range l.values {
			if _, ok := units[val.Unit]; !ok {
				units[val.Unit] = val.Better
				unitOrder = append(unitOrder, val.Unit)
			}
		}
	}
	s := &workload.Spec{
		Name:   name,
		Doc:    fmt.Sprintf("%s of %s (a Go benchmark: bench run --gotest)", top, p.ImportPath),
		Combos: combos,
	}
	for i, k := range keys {
		vals := values[i]
		s.Params = append(s.Params, workload.Param{Name: k, Doc: "sub-benchmark " + k, Range: strings.Join(vals, ", "),
			Quick: vals, Full: vals, Check: workload.OneOf(vals...)})
	}
	if len(unitOrder) == 0 {
		unitOrder, units["ns/op"] = []string{"ns/op"}, protocol.Lower
	}
	for _, u := range unitOrder {
		s.Metrics = append(s.Metrics, workload.Metric{Unit: u, Better: units[u]})
	}
	// Footprint: declared (//enclavebench:heap) or unknown (0: facts
	// record -1), never guessed.
	s.Footprint = func(workload.Env) int64 { return heap }
	bin, simBin, dir := b.Binary, b.SimBinary, p.Dir
	s.LaunchArgs = func(params map[string]string) []string {
		v := make([]string, len(keys))
		for i, k := range keys {
			v[i] = params[k]
		}
		a := []string{wgotest.FlagBin, bin, wgotest.FlagDir, dir, wgotest.FlagBench, full[strings.Join(v, "\x00")]}
		if b.Tags != "" {
			a = append(a, wgotest.FlagTags, b.Tags)
		}
		if simBin != "" {
			a = append(a, wgotest.FlagSimBin, simBin)
		}
		return a
	}
	return s, nil
}
