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
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
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
