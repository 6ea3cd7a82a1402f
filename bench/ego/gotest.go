package ego

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/gotest"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// A user's Go benchmark (bench run --gotest) in an enclave mode: its
// package is built with `ego-go test -c` (their module, their --tags),
// signed per enclave configuration like the workload binary, and the cell
// runs the plain workload binary outside the enclave, which starts the
// signed test binary with `ego run` for each of its runs (workloads/gotest).
// The enclave's heap comes from the benchmark's footprint: declared
// (//enclavebench:heap), else its peak Go heap measured natively here
// before anything is signed.

// ErrUserBench marks a user benchmark an enclave mode cannot run (cgo, a
// module newer than ego-go): bad input, reported before any cell runs.
var ErrUserBench = mode.ConfigError("--gotest in an enclave mode")

// cgoLimits is what EGo supports of cgo (edgelesssys/ego
// docs/docs/knowledge/limitations.md).
const cgoLimits = "EGo's cgo support is experimental: C libraries must be statically linked (no shared objects) and compiled with -fPIC (EGo docs/docs/knowledge/limitations.md)"

// userKey names a user benchmark's build: its native test binary.
func userKey(u gotest.Launch) string { return u.Bin }

// prepareUser checks and builds the user benchmarks among cells and
// measures the heap of those that declare none. Called with m.mu held.
func (m *Mode) prepareUser(ctx context.Context, cells []mode.Launch) error {
	for _, l := range cells {
		u, ok := gotest.FromArgs(l.Args)
		if !ok {
			continue
		}
		k := userKey(u)
		if _, done := m.userSums[k]; !done {
			if err := m.checkUser(ctx, u); err != nil {
				return err
			}
			sum, err := m.buildUser(ctx, u)
			if err != nil {
				return err
			}
			m.userSums[k] = sum
		}
		if l.Memory.GoHeap > 0 {
			continue // declared
		}
		hk := k + "\x00" + u.Bench
		if _, ok := m.userHeap[hk]; ok {
			continue
		}
		peak, err := u.Options().PeakHeap(ctx)
		if err != nil {
			return fmt.Errorf("%w: %s: measuring its Go heap natively for the enclave's heapSize: %v (declare it with //enclavebench:heap above the benchmark)",
				ErrUserBench, u.Bench, err)
		}
		fmt.Fprintf(m.o.Log, "%s: %s holds %d MiB of Go heap at its peak, natively (gctrace): the enclave's heap follows it\n", m.Name(), u.Bench, peak>>20)
		m.userHeap[hk] = peak
	}
	return nil
}

// userMemory is the memory a user benchmark's enclave is sized for.
func (m *Mode) userMemory(l mode.Launch, u gotest.Launch) workload.Memory {
	if l.Memory.GoHeap > 0 {
		return l.Memory
	}
	return workload.Memory{GoHeap: m.userHeap[userKey(u)+"\x00"+u.Bench]}
}

// checkUser refuses a package EGo cannot build or run: cgo in it or its
// dependencies, and a module that needs a newer Go than ego-go's.
func (m *Mode) checkUser(ctx context.Context, u gotest.Launch) error {
	if mod := moduleDir(u.Dir); mod != "" {
		if need := goDirective(mod); need != "" && !goAtLeast(m.goVersion, need) {
			return fmt.Errorf("%w: ego-go at %s is %s, but %s needs go %s (its go.mod), so ego-go cannot build it: install EGo v%s or newer (its ego-go is Go 1.26), or put an ego-go built on Go %s first on PATH (docs/ego.md, \"EGo from source\")",
				ErrUserBench, m.egoGo, m.goVersion, filepath.Join(mod, "go.mod"), need, FirstGo126Release, need)
		}
	}
	args := []string{"list", "-deps", "-test", "-f", "{{if and (not .Standard) .CgoFiles (not .ForTest)}}{{.ImportPath}}{{end}}"}
	if u.Tags != "" {
		args = append(args, "-tags", u.Tags)
	}
	cmd := exec.CommandContext(ctx, m.egoGo, append(args, ".")...)
	cmd.Dir = u.Dir
	cmd.Env = offline(goEnv(cmd.Environ()))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%w: ego-go list in %s: %v%s\n%s", ErrUserBench, u.Dir, err, offlineHint(stderr.Bytes(), u.Dir), tail(stderr.Bytes(), 20))
	}
	var cgo []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if p := strings.TrimSpace(sc.Text()); p != "" && !slices.Contains(cgo, p) {
			cgo = append(cgo, p)
		}
	}
	if len(cgo) > 0 {
		return fmt.Errorf("%w: %s uses cgo (%s): the harness runs user benchmarks with cgo in native and sim only; %s",
			ErrUserBench, u.Dir, strings.Join(cgo, ", "), cgoLimits)
	}
	return nil
}

// offline makes the enclave build use only the module cache: the modules
// the native build (bench/gotest, go test -c) resolved and fetched, never
// others fetched meanwhile, and no network on an SGX host that has none.
func offline(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); name != "GOPROXY" {
			out = append(out, kv)
		}
	}
	return append(out, "GOPROXY=off")
}

// offlineHint explains an enclave build that needed a module it cannot
// fetch offline ("" for other failures).
func offlineHint(out []byte, dir string) string {
	if !bytes.Contains(out, []byte("GOPROXY=off")) && !bytes.Contains(out, []byte("module lookup disabled")) {
		return ""
	}
	return fmt.Sprintf(": the enclave build runs offline (GOPROXY=off: the modules the native build fetched, from the module cache) and a module it needs is not there: run `go mod download` in %s (with the same GOMODCACHE), then run again", dir)
}

// moduleDir is the directory of the go.mod that holds dir ("" if none).
func moduleDir(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// buildUser compiles u's package with `ego-go test -c` and keeps the test
// binary in the cache under its SHA-256 (ego-go's build cache makes a
// rebuild of unchanged code cheap). It returns the SHA-256.
func (m *Mode) buildUser(ctx context.Context, u gotest.Launch) (string, error) {
	dir := filepath.Join(m.o.CacheDir, "build")
	tmp, err := os.MkdirTemp(dir, ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	args := []string{"test", "-c", "-o", filepath.Join(tmp, "workload")}
	if u.Tags != "" {
		args = append(args, "-tags", u.Tags)
	}
	args = append(args, ".")
	fmt.Fprintf(m.o.Log, "%s: building the test binary of %s with ego-go (%s)\n", m.Name(), u.Dir, m.goVersion)
	cmd := exec.CommandContext(ctx, m.egoGo, args...)
	cmd.Dir = u.Dir
	cmd.Env = offline(goEnv(cmd.Environ()))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: ego-go %s in %s failed: %v%s\n%s", ErrUserBench, strings.Join(args, " "), u.Dir, err, offlineHint(out, u.Dir), tail(out, 30))
	}
	sum, err := result.FileSHA256(filepath.Join(tmp, "workload"))
	if err != nil {
		return "", err
	}
	sum = strings.TrimPrefix(sum, "sha256:")
	final := filepath.Join(dir, "gotest-"+sum[:32])
	if _, err := os.Stat(filepath.Join(final, "workload")); err != nil {
		if err := sealEntry(tmp, buildFiles, nil); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, final); err != nil {
			return "", err
		}
	}
	m.userBins[sum] = filepath.Join(final, "workload")
	return sum, nil
}

// userCommand runs a user benchmark's cell: the workload binary outside
// the enclave, which starts the signed test binary with `ego run`.
func (m *Mode) userCommand(ctx context.Context, l mode.Launch, a *artifact) *exec.Cmd {
	args := slices.Clone(l.Args)
	for i := 0; i+1 < len(args); i++ {
		if args[i] == gotest.FlagBin {
			args[i+1] = a.exe
		}
	}
	args = append(args, gotest.FlagLauncher, m.ego, gotest.FlagLauncher, "run")
	cmd := exec.CommandContext(ctx, l.Binary, args...)
	cmd.Env = m.env(cmd.Environ(), l.Env)
	cmd.Dir = l.Dir
	return cmd
}

// userAfterExit records what differs in a user benchmark's cell: its
// runs load an enclave each (the calibration, then the repetitions), so
// the time to the workload binary's first line is no load time; whether
// the launcher said it started the application in an enclave (the
// workload binary echoes the launcher's lines: workloads/gotest).
func userAfterExit(cr *result.CellResult, out LauncherOutput) {
	cr.LoadNS = 0
	cr.Extra["ego_load"] = "not measured: a user benchmark's cell loads one enclave per run of its test binary (calibration, repetitions)"
	cr.Extra["ego_entered"] = strconv.FormatBool(out.Loaded && out.Started)
}
