// Package ego runs cells inside EGo enclaves: the sgx mode (`ego run` on SGX
// hardware) and the ego-sim mode (`OE_SIMULATION=1 ego run`, EGo's
// simulation mode). Both build the workload binary once with ego-go, sign
// one copy per enclave configuration (heap, threads, mounts) and cache
// both, keyed by content hashes.
//
// The flow follows EGo's (edgelesssys/ego docs/docs/workflows/build.md):
// `ego-go build` -> `ego sign enclave.json` -> `ego run exe args...`. The
// workload's protocol lines reach the harness through `ego run`'s stdout,
// among EGo's own lines ("[erthost] ...", "[ego] ..."), which the protocol
// parser skips.
package ego

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/gotest"
)

// Options configure a Mode.
type Options struct {
	// Sim selects EGo's simulation mode (mode ego-sim) instead of SGX.
	Sim bool
	// SourceDir is the module root containing Package.
	SourceDir string
	// Package is the workload's main package, relative to SourceDir
	// (default DefaultPackage).
	Package string
	// CacheDir holds built and signed binaries (default
	// ~/.cache/enclavebench/ego).
	CacheDir string
	// KeyPath is the enclave signing key, created when missing (default
	// ~/.config/enclavebench/enclave-key.pem).
	KeyPath string
	// Debug signs debug enclaves (enclave.json "debug": true): a debugger
	// can read them, so their reports prove less; performance is the same.
	Debug bool
	// ScratchRoot is the directory under which the runner creates cell
	// scratch directories (default os.TempDir(), as the runner's); it is
	// mounted at the same path inside the enclave.
	ScratchRoot string
	// TraceOCalls sets OE_TRACE_OCALLS=1: Edgeless RT counts OCALLs per
	// function and prints the table on stdout when the process exits
	// (edgelessrt src/ert/host/ocall_tracer.cpp). Counting takes a global
	// mutex on every OCALL, so it perturbs multi-threaded OCALL-heavy
	// cells; off by default.
	TraceOCalls bool
	// PreciseClock sets ERT_DISABLE_VDSO_CLOCK=1 on the host process (the
	// host's OCALL handler reads it: edgelessrt src/ert/host/vdso.cpp).
	// Time inside the enclave then comes from an OCALL per clock_gettime
	// (under a global spinlock for CLOCK_MONOTONIC: src/ertlibc/time.cpp)
	// instead of the vDSO's coarse clock (4 ms steps, ego issue #236).
	// The Go runtime reads the clock on every scheduling decision, so this
	// changes what is measured; off by default, which is EGo's default.
	PreciseClock bool
	// Log receives progress notes of Prepare (builds, signatures); nil
	// discards them.
	Log io.Writer

	// LookPath finds ego and ego-go (tests; default exec.LookPath).
	LookPath func(string) (string, error)
	// HostSGX overrides SGX detection (tests; default: the host
	// fingerprint's SGX.Usable: CPU support and an enclave device node).
	HostSGX func() bool
}

// DefaultPackage is the workload binary's package.
const DefaultPackage = "./workloads/cmd/workload"

// Mode is the sgx or ego-sim mode. It implements mode.Mode and the
// runner's AfterExit hook.
type Mode struct {
	o Options

	mu         sync.Mutex
	checked    bool
	ego        string // path of ego
	egoGo      string // path of ego-go
	version    string // EGo's version
	commit     string
	goVersion  string // ego-go's Go version
	ertVersion string // Edgeless RT's, from ego-host; "" when unknown
	key        *rsa.PrivateKey
	keyRel     string               // key path relative to a signing directory
	binSum     string               // SHA-256 of the unsigned workload binary
	srcSum     string               // sourceHash of the sources binSum was built from
	builtBin   string               // the unsigned workload binary in the cache
	artifacts  map[string]*artifact // by artifactKey
	// User benchmarks (gotest.go): the SHA-256 of the ego-go test binary
	// per native test binary, its path per SHA-256, and the measured heap
	// per native test binary and benchmark.
	userSums map[string]string
	userBins map[string]string
	userHeap map[string]int64
}

var _ mode.Mode = (*Mode)(nil)

// New returns the mode configured by o, with defaults filled in.
func New(o Options) *Mode {
	home, _ := os.UserHomeDir()
	if o.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = filepath.Join(home, ".cache")
		}
		o.CacheDir = filepath.Join(base, "enclavebench", "ego")
	}
	if o.KeyPath == "" {
		o.KeyPath = filepath.Join(home, ".config", "enclavebench", "enclave-key.pem")
	}
	if o.Package == "" {
		o.Package = DefaultPackage
	}
	if o.ScratchRoot == "" {
		o.ScratchRoot = os.TempDir()
	}
	if o.LookPath == nil {
		o.LookPath = exec.LookPath
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	for _, p := range []*string{&o.SourceDir, &o.CacheDir, &o.KeyPath, &o.ScratchRoot} {
		if *p != "" {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
	return &Mode{o: o, artifacts: map[string]*artifact{}, userSums: map[string]string{}, userBins: map[string]string{}, userHeap: map[string]int64{}}
}

// Name implements mode.Mode.
func (m *Mode) Name() string {
	if m.o.Sim {
		return EGoSim
	}
	return SGX
}

// Install hints, one line each (EGo docs/docs/getting-started/install.md
// and troubleshoot.md).
const (
	hintInstallEGo = "install EGo: sudo snap install ego-dev --classic (plus sudo apt install build-essential libssl-dev), or the v1.9.0 .deb from https://github.com/edgelesssys/ego/releases (EGo docs/docs/getting-started/install.md)"
	hintNoSGXCPU   = "this CPU has no SGX (no sgx flag in /proc/cpuinfo, CPUID leaf 0x12 empty): run on an Azure DCsv2/DCsv3 VM, or use --modes ego-sim for EGo's simulation mode"
	hintNoSGXDev   = "no SGX device (/dev/sgx_enclave or /dev/sgx/enclave): Linux 5.11+ has the driver built in (uname -r; ls /dev/*sgx*), older kernels need Intel's DCAP driver (EGo docs/docs/getting-started/troubleshoot.md, Driver); then sudo ego install libsgx-enclave-common"
	hintNoSGX      = "SGX is not usable here (needs a CPU with SGX and /dev/sgx_enclave or /dev/sgx/enclave): run on an Azure DCsv2/DCsv3 VM, or use --modes ego-sim"
)

// Check implements mode.Mode: sgx needs SGX and EGo, ego-sim only EGo.
// Each missing piece is one line of the error, with how to get it.
func (m *Mode) Check(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checkLocked(ctx)
}

func (m *Mode) checkLocked(ctx context.Context) error {
	var errs []error
	if !m.o.Sim {
		if err := m.checkSGX(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	ego, err1 := m.o.LookPath("ego")
	egoGo, err2 := m.o.LookPath("ego-go")
	switch {
	case err1 != nil && err2 != nil:
		errs = append(errs, errors.New("EGo is not installed (no ego or ego-go on PATH): "+hintInstallEGo))
	case err1 != nil:
		errs = append(errs, fmt.Errorf("EGo's ego is not on PATH (ego-go is, at %s): %s", egoGo, hintInstallEGo))
	case err2 != nil:
		errs = append(errs, fmt.Errorf("EGo's ego-go is not on PATH (ego is, at %s): %s", ego, hintInstallEGo))
	default:
		if err := m.checkVersions(ctx, ego, egoGo); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	m.ego, m.egoGo, m.checked = ego, egoGo, true
	return nil
}

func (m *Mode) checkSGX(ctx context.Context) error {
	if m.o.HostSGX != nil {
		if !m.o.HostSGX() {
			return errors.New(hintNoSGX)
		}
		return nil
	}
	s := host.Collect(ctx, host.Options{IMDS: "off"}).SGX
	switch {
	case s.Usable:
		return nil
	case !s.SGX1 && !s.SGX2 && len(s.CPUFlags) == 0:
		return errors.New(hintNoSGXCPU)
	default:
		return errors.New(hintNoSGXDev)
	}
}

// checkVersions reads EGo's version from its banner and ego-go's Go
// version, and checks them against Requirements and go.mod's go directive.
func (m *Mode) checkVersions(ctx context.Context, ego, egoGo string) error {
	// `ego` has no --version; it prints its banner with every command.
	out, _ := exec.CommandContext(ctx, ego, "help").CombinedOutput()
	v, c, ok := ParseBanner(string(out))
	if !ok {
		return fmt.Errorf("%s printed no EGo version banner for `ego help` (is it EGo's ego?): %s", ego, hintInstallEGo)
	}
	gv, err := exec.CommandContext(ctx, egoGo, "env", "GOVERSION").Output()
	if err != nil {
		return fmt.Errorf("%s env GOVERSION failed (%v): reinstall EGo: %s", egoGo, err, hintInstallEGo)
	}
	goVersion := strings.TrimSpace(string(gv))
	if err := versionError(ego, v, egoGo, goVersion, goDirective(m.o.SourceDir)); err != nil {
		return err
	}
	if p := Pairing(v, goVersion); p != "" {
		fmt.Fprintf(m.o.Log, "%s: %s\n", m.Name(), p)
	}
	m.version, m.commit, m.goVersion = v, c, goVersion
	// Informational: a stand-in or a repackaged EGo may lack ego-host,
	// and the run.json fingerprint already says why it is unknown.
	m.ertVersion, _ = host.ERTVersionNextTo(ego)
	return nil
}

// Command implements mode.Mode: `ego run <signed exe> <args...>`, in the
// cell's scratch directory.
func (m *Mode) Command(ctx context.Context, l mode.Launch) (*exec.Cmd, error) {
	a, err := m.artifactFor(l)
	if err != nil {
		return nil, err
	}
	if l.Dir != "" && !within(l.Dir, m.o.ScratchRoot) {
		return nil, fmt.Errorf("%s: scratch directory %s is outside %s, the directory mounted into the enclave (ego.Options.ScratchRoot)", m.Name(), l.Dir, m.o.ScratchRoot)
	}
	if _, ok := gotest.FromArgs(l.Args); ok {
		return m.userCommand(ctx, l, a), nil
	}
	cmd := exec.CommandContext(ctx, m.ego, append([]string{"run", a.exe}, l.Args...)...)
	cmd.Env = m.env(cmd.Environ(), l.Env)
	// The host process's working directory: Edgeless RT passes it on as
	// EDG_CWD (edgelessrt src/tools/erthost/erthost.cpp) and writes
	// OE_TRACE_OCALLS backtraces there.
	cmd.Dir = l.Dir
	return cmd, nil
}

// hostOnly are variables the launcher reads that must come from the mode,
// never from the user's shell: a stray OE_SIMULATION=1 would turn sgx
// figures into simulation figures; EDG_CWD is only set by erthost when
// absent; EDG_LOG_FORMAT=json rewrites EGo's lines; EDG_EGO_PREMAIN=1
// starts MarbleRun's premain (ego/premain/core/core.go).
var hostOnly = []string{"OE_SIMULATION", "OE_TRACE_OCALLS", "ERT_DISABLE_VDSO_CLOCK", "EDG_CWD", "EDG_LOG_FORMAT", "EDG_EGO_PREMAIN"}

func (m *Mode) env(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra)+3)
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(hostOnly, name) {
			out = append(out, kv)
		}
	}
	out = append(out, extra...)
	if m.o.Sim {
		out = append(out, "OE_SIMULATION=1")
	}
	if m.o.TraceOCalls {
		out = append(out, "OE_TRACE_OCALLS=1")
	}
	if m.o.PreciseClock {
		out = append(out, vdsoClockEnv+"=1")
	}
	return out
}

// Finish implements mode.Mode. EGo gives no per-repetition event counts:
// the OCALL table of OE_TRACE_OCALLS covers the whole process (enclave
// creation, calibration, warm-up), so AfterExit puts it in the cell's
// Extra instead of into samples.
func (m *Mode) Finish(mode.Launch, *result.Sample, map[string]string) error { return nil }

// within reports whether path is root or below it.
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}
