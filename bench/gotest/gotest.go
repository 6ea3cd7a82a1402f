// Package gotest makes a user's own Go benchmarks (func BenchmarkX(b
// *testing.B) in their module) workloads of a run (bench run --gotest): it
// resolves the package patterns with `go list` in the user's module, builds
// one test binary per package with `go test -c` (their go.mod, Go version
// and --tags), keeps it under its SHA-256, finds the benchmarks and their
// sub-benchmarks, and returns a workload.Spec per top-level benchmark, so
// that the plan, the runner, the facts and every reader treat it like a
// built-in workload. The workload binary runs the test binary in each cell
// (workloads/gotest).
//
// Discovery: -test.list gives the top-level benchmarks; sub-benchmarks
// exist only once their parent runs, so each selected top-level benchmark
// is run once more with -test.benchtime=1x -test.v, which prints every
// benchmark's name as it starts: its leaves (names no other name extends)
// are the benchmarks. One that skips, fails, panics or hangs there is a
// leaf too, and its cells say so when they run.
//
// Names: BenchmarkGet/size=1KiB is workload "Get" with parameter size=1KiB
// (a part without "=" is parameter sub, sub2, ... by its level); a key the
// cell names use themselves (size, mode) becomes go.size, go.mode.
package gotest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
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

// Request is what --gotest asks for.
type Request struct {
	Patterns []string // package patterns, as go test takes them (./..., ./kv)
	Bench    string   // -test.bench regular expression ("" or ".": all)
	Tags     string   // build tags, comma-separated
	Dir      string   // where the patterns are resolved ("": the current directory)
	// CacheDir keeps the test binaries under their SHA-256 ("": the user
	// cache directory's enclavebench/gotest).
	CacheDir string
	// Timeout bounds each discovery run of a test binary (0: 2 minutes).
	Timeout time.Duration
	// Stderr receives progress notes (nil: none).
	Stderr io.Writer
	// Sim also builds each package's sim flavour: the whole process on the
	// software EPC (simBuild).
	Sim bool
}

// InputError is bad input: a package that does not exist or does not
// build, no benchmark matching, a name that cannot be a workload's.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputf(format string, a ...any) error { return &InputError{fmt.Errorf(format, a...)} }

// Set is the user's benchmarks of a run.
type Set struct {
	Specs  []*workload.Spec
	Builds []result.GoTestBuild
}

// HeapDirective declares the Go heap a benchmark holds, in a comment right
// above its function: //enclavebench:heap 48MiB.
const HeapDirective = "//enclavebench:heap"

// SerialDirective, in a comment right above a benchmark's function, declares
// that its operations run on one goroutine whatever GOMAXPROCS is (no
// b.RunParallel, no goroutines of its own or in the code it calls): its
// sim cells then share one base across sizes (workload.Spec.Parallelism).
// The harness cannot see that in the code; undeclared, each cell keeps its
// own base.
const SerialDirective = "//enclavebench:serial"

// directives are the //enclavebench: comments above a package's benchmarks,
// by function name.
type directives struct {
	heap   map[string]int64
	serial map[string]bool
}

// pkg is what go list says of a package.
type pkg struct {
	ImportPath   string
	Dir          string
	Name         string
	TestGoFiles  []string
	XTestGoFiles []string
	CgoFiles     []string
	Module       *struct {
		Path      string
		Dir       string
		GoVersion string
	}
	Error *struct{ Err string }
}

// Load resolves, builds and discovers the benchmarks r asks for.
func Load(ctx context.Context, r Request) (*Set, error) {
	if len(r.Patterns) == 0 {
		return nil, inputf("--gotest: no package given")
	}
	bench := r.Bench
	if bench == "" {
		bench = "."
	}
	levels := splitRegexp(bench)
	var res []*regexp.Regexp
	for _, l := range levels {
		re, err := regexp.Compile(l)
		if err != nil {
			return nil, inputf("--bench %q: %v", bench, err)
		}
		res = append(res, re)
	}
	pkgs, err := list(ctx, r)
	if err != nil {
		return nil, err
	}
	set := &Set{}
	seen := map[string]string{} // workload name, lower case -> package
	for _, p := range pkgs {
		if len(p.TestGoFiles)+len(p.XTestGoFiles) == 0 {
			continue
		}
		b, err := build(ctx, r, p)
		if err != nil {
			return nil, err
		}
		if r.Sim {
			if err := simBuild(ctx, r, p, b); err != nil {
				return nil, err
			}
		}
		dirs, err := readDirectives(p)
		if err != nil {
			return nil, err
		}
		specs, err := discover(ctx, r, p, b, res, levels, dirs)
		if err != nil {
			return nil, err
		}
		for _, s := range specs {
			if prev, ok := seen[strings.ToLower(s.Name)]; ok {
				return nil, inputf("--gotest: Benchmark%s is in %s and in %s: its cells would have one name; select one with --bench or run the packages apart", s.Name, prev, p.ImportPath)
			}
			seen[strings.ToLower(s.Name)] = p.ImportPath
			b.Benchmarks = append(b.Benchmarks, s.Name)
		}
		if len(specs) > 0 {
			set.Specs = append(set.Specs, specs...)
			set.Builds = append(set.Builds, *b)
		}
	}
	if len(set.Specs) == 0 {
		return nil, inputf("--gotest %s: no benchmark matches --bench %q (go test -list lists a package's top-level benchmarks)", strings.Join(r.Patterns, " "), bench)
	}
	return set, nil
}

// Names lists the workloads of the set.
func (s *Set) Names() []string {
	var n []string
	for _, sp := range s.Specs {
		n = append(n, sp.Name)
	}
	return n
}

// Registry returns builtin with the set's workloads added; a name that
// would give a built-in workload's cells (names are compared as the cell
// keys write them, first letter upper case) is an error.
func (s *Set) Registry(builtin workload.Registry) (workload.Registry, error) {
	out := workload.Registry{}
	for k, v := range builtin {
		out[k] = v
	}
	for _, sp := range s.Specs {
		for k := range builtin {
			if strings.EqualFold(k, sp.Name) {
				return nil, inputf("--gotest: Benchmark%s would have the cell names of the built-in workload %s: rename it, or leave it out with --bench", sp.Name, k)
			}
		}
		out[sp.Name] = sp
	}
	return out, nil
}

// Abs makes the directory patterns among patterns (./kv, ../x/...)
// absolute against dir, so that a run resumed elsewhere finds them.
func Abs(patterns []string, dir string) ([]string, error) {
	out := make([]string, len(patterns))
	for i, p := range patterns {
		out[i] = p
		if p == "." || p == ".." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
			d, dots := strings.CutSuffix(p, "/...")
			a, err := filepath.Abs(filepath.Join(dir, d))
			if err != nil {
				return nil, err
			}
			if dots {
				a += "/..."
			}
			out[i] = a
		}
	}
	return out, nil
}

func list(ctx context.Context, r Request) ([]pkg, error) {
	var pkgs []pkg
	for _, pat := range r.Patterns {
		ps, err := list1(ctx, r, pat)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, ps...)
	}
	return pkgs, nil
}

// list1 lists one pattern's packages: a directory pattern from within its
// directory (its module), an import path from r.Dir.
func list1(ctx context.Context, r Request, pattern string) ([]pkg, error) {
	args := []string{"list", "-e", "-json"}
	if r.Tags != "" {
		args = append(args, "-tags", r.Tags)
	}
	args = append(args, "--", pattern)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = r.Dir
	if filepath.IsAbs(pattern) {
		d := strings.TrimSuffix(pattern, "/...")
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, inputf("--gotest %s: no such package directory", pattern)
		}
		cmd.Dir = d
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, inputf("--gotest %s: go list: %v\n%s", pattern, err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list: %v", err)
		}
		if p.Error != nil {
			return nil, inputf("--gotest %s: %s", p.ImportPath, strings.TrimSpace(p.Error.Err))
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil, inputf("--gotest %s: no package matches: %s", pattern, strings.TrimSpace(stderr.String()))
	}
	return pkgs, nil
}

func cacheDir(r Request) (string, error) {
	if r.CacheDir != "" {
		return r.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "enclavebench", "gotest"), nil
}

// build compiles p's test binary in its own module and keeps it under its
// SHA-256 (go's build cache makes a rebuild of unchanged code cheap; the
// digest names the binary a run recorded).
func build(ctx context.Context, r Request, p pkg) (*result.GoTestBuild, error) {
	dir, err := cacheDir(r)
	if err != nil {
		return nil, err
	}
	bin, sum, err := compileTest(ctx, r, p, dir, "")
	if err != nil {
		return nil, err
	}
	b := &result.GoTestBuild{Package: p.ImportPath, Dir: p.Dir, Tags: r.Tags, Binary: bin, SHA256: sum, CgoFiles: len(p.CgoFiles)}
	if p.Module != nil {
		b.Module, b.GoVersion = p.Module.Path, p.Module.GoVersion
	}
	return b, nil
}

// compileTest runs go test -c for p with extra flags and keeps the binary
// in dir under its SHA-256 (flavour "" or "sim" names the build in errors).
func compileTest(ctx context.Context, r Request, p pkg, dir, flavour string, extra ...string) (bin, sum string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	tmp, err := os.CreateTemp(dir, "build-*.test")
	if err != nil {
		return "", "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := append([]string{"test", "-c", "-o", tmp.Name()}, extra...)
	if r.Tags != "" {
		args = append(args, "-tags", r.Tags)
	}
	args = append(args, p.ImportPath)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = p.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		what := "does not build"
		if flavour != "" {
			what = "does not build for the " + flavour + " mode"
		}
		return "", "", inputf("--gotest %s %s (go %s):\n%s", p.ImportPath, what, strings.Join(args, " "), strings.TrimSpace(out.String()))
	}
	sum, err = result.FileSHA256(tmp.Name())
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(dir, strings.TrimPrefix(sum, "sha256:")[:32]+".test")
	if _, err := os.Stat(bin); err != nil {
		if err := os.Rename(tmp.Name(), bin); err != nil {
			return "", "", err
		}
	}
	return bin, sum, nil
}

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
	s.LaunchArgs = func(params map[string]string, timeout time.Duration) []string {
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
		if timeout > 0 {
			a = append(a, wgotest.FlagTimeout, timeout.String())
		}
		return a
	}
	return s, nil
}

// CheckSame refuses builds other than those a run recorded (resume).
func CheckSame(was, now []result.GoTestBuild) error {
	if len(was) != len(now) {
		return errors.New("--gotest: the packages resolve to other test binaries than the run's")
	}
	for i := range was {
		if was[i].Package != now[i].Package || was[i].SHA256 != now[i].SHA256 || was[i].SimSHA256 != now[i].SimSHA256 {
			return fmt.Errorf("--gotest: %s's test binary is now %s (sha256 %s), the run started with sha256 %s: the code changed; resume needs the same build (start a new run)",
				now[i].Package, now[i].Binary, now[i].SHA256, was[i].SHA256)
		}
	}
	return nil
}
