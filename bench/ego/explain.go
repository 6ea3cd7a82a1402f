package ego

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/enclave"
	"github.com/enclavebench/enclavebench/workloads/gotest"
)

// A rule turns a launcher message into an explanation with its fix. The
// patterns are the messages EGo, Edgeless RT, Open Enclave, Intel's SGX
// libraries and the Go runtime really print; each rule names its source.
type rule struct {
	re  *regexp.Regexp
	msg string
}

// sgxErr matches Open Enclave's enclave_create/enclave_load_data/
// enclave_initialize failures and their enclave_error_t code (OE
// host/sgx/sgxload.c: "enclave_create with ENCLAVE_TYPE_SGX1 type failed
// (err=%#x)", "enclave_load_data failed (addr=%#x, prot=%#x, err=%#x)",
// "enclave_initialize failed (err=%#x)"). Codes: intel/linux-sgx
// psw/enclave_common/sgx_enclave_common.h.
func sgxErr(op, code string) *regexp.Regexp {
	return regexp.MustCompile(`enclave_` + op + `[^\n]*\berr=` + code + `\b`)
}

var rules = []rule{
	// Launch failures (ego run).
	{sgxErr("(create|load_data|initialize)", "0xb"),
		"out of EPC (ENCLAVE_DEVICE_NO_RESOURCES): the SGX driver could not page the enclave; stop other enclaves, or use an in-kernel driver (Linux 5.11+) that pages EPC, or a larger size"},
	{sgxErr("(create|load_data|initialize)", "0xa"),
		"the SGX driver ran out of memory creating the enclave (ENCLAVE_OUT_OF_MEMORY): the enclave (heapSize plus 128 MiB of thread stacks) does not fit this host's memory; use a larger size or a smaller workload footprint"},
	{sgxErr("initialize", "0x5"), // ego/internal/launch/errors.go ErrEnclIniFailInvalidMeasurement
		"enclave initialization failed (ENCLAVE_INVALID_MEASUREMENT): the signature does not match the binary; delete the signed binaries under the EGo cache (~/.cache/enclavebench/ego/signed) to re-sign"},
	{sgxErr("initialize", "0x1001"), // errors.go ErrEnclIniFailUnexpected; ego/ego/cmd/util.go
		"enclave initialization failed (ENCLAVE_UNEXPECTED): on a CPU without flexible launch control install the launch service: sudo ego install libsgx-launch"},
	{sgxErr("load_data", "0x1001"), // errors.go ErrLoadDataFailUnexpected; util.go; docs troubleshoot.md
		"loading the enclave failed (ENCLAVE_UNEXPECTED): install Intel's base package: sudo ego install libsgx-enclave-common (or: sudo mount -o remount,exec /dev)"},
	{regexp.MustCompile(`(?i)Failed to open Intel SGX device`), // intel/linux-sgx psw/urts/linux/edmm_utility.cpp; errors.go ErrSGXOpenFail
		"EGo could not open the SGX device: install the driver (built into Linux 5.11+; ls /dev/*sgx*) and Intel's base package: sudo ego install libsgx-enclave-common (EGo docs troubleshoot.md); or use --modes ego-sim"},
	{sgxErr("create", "0x1"), // ENCLAVE_NOT_SUPPORTED
		"SGX is not supported here (ENCLAVE_NOT_SUPPORTED: no SGX, no device, or no AESM service): run on an SGX machine (Azure DCsv2/DCsv3), or use --modes ego-sim"},
	{regexp.MustCompile(`Failed to load libsgx_enclave_common\.so`), // OE host/sgx/sgx_enclave_common_wrapper.c
		"Intel's SGX base library is missing (libsgx_enclave_common.so.1): sudo ego install libsgx-enclave-common (EGo docs troubleshoot.md)"},
	{regexp.MustCompile(`oe_sgx_is_valid_attributes failed: attributes = 0`), // OE host/sgx/create.c; errors.go ErrValidAttr0
		"the binary is not signed: delete the EGo cache (~/.cache/enclavebench/ego) so the harness signs it again"},
	{regexp.MustCompile(`ELF image is not a PIE or shared object|could not find \.oeinfo section|\.oeinfo section is missing`), // errors.go ErrElfNoPie; ego/cli/sign.go ErrNoOEInfo
		"the workload binary was not built with ego-go: make sure ego-go is EGo's (which ego-go) and delete the EGo cache"},
	{regexp.MustCompile(`OE_OUT_OF_THREADS`), // OE include/openenclave/bits/result.h; ego src/enc.cpp
		"the enclave ran out of threads (OE_OUT_OF_THREADS, 32 TCS per EGo enclave): EGOMAXTHREADS must stay below 32"},
	{regexp.MustCompile(`runtime: out of memory|fatal error: out of memory|ego runtime: mmap failed|OE_OUT_OF_MEMORY|runtime: cannot allocate memory|arena: mmap \d+ bytes: cannot allocate memory`), // Go runtime/mem_linux.go, mheap.go; ertgo edgeless_nolargeheap_linux_amd64.go; OE result.h; workloads/arena New (ENOMEM from Edgeless RT's mmap, seen with EGo v1.6.0)
		// An oversubscribed cell (more vCPUs than host CPUs) can overshoot
		// without needing more: its collector's mark phase stretches while
		// the workload allocates (seal unseal on DC8_v2 on 2 CPUs: 42 MB
		// of heap against a 4 MB goal, GODEBUG=gctrace=1; docs/ego.md).
		fmt.Sprintf("the enclave heap is exhausted: heapSize (ego_heap_mb) is the mapped memory + %dx the Go heap its workload.Spec declares (Memory) + %d MB, and the workload used more: raise its Memory, or, if the cell ran oversubscribed (more vCPUs than host CPUs, where the Go collector falls behind), rerun it with bench run --resume", HeapFactor, HeapBaseMB)},
	{regexp.MustCompile(`can't get report in simulation mode`), // edgelessrt 3rdparty/openenclave/ert.patch
		"EGo's simulation mode has no reports or attestation: provenance needs the sgx mode"},
	{regexp.MustCompile(`libdcap_quoteprov\.so|OE_QUOTE_PROVIDER_LOAD_ERROR|OE_QUOTE_LIBRARY_LOAD_ERROR|libsgx_dcap_ql`), // OE host/sgx/linux/sgxquoteproviderloader.c, host/sgx/sgxquote.c
		"no DCAP quote provider for remote reports: sudo apt install libsgx-dcap-default-qpl and set pccs_url to https://global.acccache.azure.net/sgx/certification/v4/ in /etc/sgx_default_qcnl.conf (EGo docs reference/attest.md)"},
	{regexp.MustCompile(`"stdbuf": executable file not found`), // ego/internal/launch/launch.go runs ego-host under stdbuf
		"ego run needs stdbuf: sudo apt install coreutils"},

	// Signing failures (ego sign).
	{regexp.MustCompile(`OE_INVALID_SGX_SIGNING_KEY`), // OE host/sgx/sgxsign.c _get_exponent
		"the signing key is not an SGX key (RSA 3072 with exponent 3): move it away; the harness creates a new one"},
	{regexp.MustCompile(`heapSize is set to more than 16384|this heapSize requires large heap mode`), // ego/cli/elf.go, ego/ego/cmd/util.go
		"heapSize above 16384 MB needs ego-go build -tags ego_largeheap: lower the workload's footprint"},
	{regexp.MustCompile(`heapSize is set to less than 512|large heap is enabled, but heapSize is too small`),
		"the binary was built with ego_largeheap, which needs heapSize >= 512: delete the EGo cache"},
	{regexp.MustCompile(`unsupported import: github\.com/edgelesssys/ego/eclient|cannot import the github\.com/edgelesssys/ego/eclient`), // ego/cli/elf.go
		"the workload binary imports EGo's eclient, which cannot run in an enclave: remove the import (bench's verifier must not reach the workload)"},
	{regexp.MustCompile(`not set in config file|was defined multiple times|invalid mount type|missing target for mount|disallowed character for the environment variable`), // ego/config/config.go Validate
		"EGo rejected the generated enclave.json (a bug in bench/ego's generator): see the ego sign output"},

	// Generic launcher failure last (edgelessrt src/tools/erthost/erthost.cpp).
	{regexp.MustCompile(`oe_create_enclave failed`),
		"EGo could not create the enclave (see the ERROR lines before it); on a machine without SGX use --modes ego-sim"},
}

// ExplainText turns launcher output (stderr, and EGo's stdout lines) into
// a one-line explanation with the fix, or "" when it recognizes nothing.
func ExplainText(text string, exitCode int) string {
	for _, r := range rules {
		if r.re.MatchString(text) {
			return r.msg
		}
	}
	// When the host process dies of a signal, ego run exits with its raw
	// wait status (ego/internal/launch/launch.go run): the signal number,
	// plus 0x80 with a core dump.
	switch exitCode {
	case 6, 6 | 0x80:
		return "the enclave host process aborted (SIGABRT, e.g. oe_abort after an enclave fault): rerun the cell with OE_LOG_LEVEL=VERBOSE to see why"
	case 11, 11 | 0x80:
		if v, _, ok := ParseBanner(text); ok && CompareVersions(v, ExitRaceFixed) < 0 {
			return exitRaceMsg
		}
		return "the enclave host process crashed (SIGSEGV): rerun the cell with OE_LOG_LEVEL=VERBOSE, and check the EGo version"
	case 9:
		return "the enclave host process was killed (SIGKILL): the kernel's OOM killer (dmesg), or the harness's timeout"
	}
	return ""
}

// ExitRaceFixed is the first EGo release whose Edgeless RT (v0.4.10) no
// longer crashes the host process when a thread is created while the
// process exits: edgelessrt commit 25c7b9952 ("fix occasional ... on
// process exit") makes EnclaveThreadManager::create_thread refuse once the
// manager's static destructor has run. EGo v1.7.1 is the first built on
// it (edgelesssys/ego dockerfiles/Dockerfile erttag=v0.4.10; v1.7.0 has
// v0.4.9). Seen on EGo v1.6.0 from source, in core dumps of the crashed
// host (docs/ego.md).
const ExitRaceFixed = "1.7.1"

// exitRaceMsg explains a SIGSEGV of an EGo older than ExitRaceFixed. The Go
// runtime leaves through exit_group, which Edgeless RT forwards as
// ert_exit_ocall: the host's exit() runs its static destructors while the
// enclave's other threads still run and may start threads.
var exitRaceMsg = fmt.Sprintf("the enclave host process crashed (SIGSEGV); EGo before v%s (Edgeless RT before v0.4.10) does this now and then at exit, when the Go runtime starts a thread after the host's exit() has freed Edgeless RT's thread list (edgelessrt commit 25c7b9952 fixed it): rerun the cell (bench run --resume DIR), or use EGo v%s or newer", ExitRaceFixed, ExitRaceFixed)

// traceExitMsg is added to a SIGSEGV's explanation when OE_TRACE_OCALLS=1
// was set: Edgeless RT's OCALL tracer prints its table from a static
// destructor and keeps counting into the maps that destructor freed
// (edgelessrt src/ert/host/ocall_tracer.cpp, unchanged through v0.5.2), so
// an OCALL made after the table crashes the host. Seen in core dumps on
// EGo v1.6.0 (docs/ego.md).
const traceExitMsg = "; with --ego-trace-ocalls, Edgeless RT's OCALL tracer also crashes the host when an enclave thread makes an OCALL after the table was printed at exit (not fixed through Edgeless RT v0.5.2): rerun the cell, and trace only the cells whose OCALL counts you need"

// Explain implements mode.Mode. EGo prints most launcher diagnostics on
// stdout (Open Enclave's log through erthost, and ego's own "ERROR: ..."
// lines: ego/ego/cmd/util.go handleErr); AfterExit appends those lines to
// the cell's stderr tail, which the runner passes here.
func (m *Mode) Explain(stderr string, exitCode int) string {
	ex := ExplainText(stderr, exitCode)
	if m.o.TraceOCalls && (exitCode == 11 || exitCode == 11|0x80) {
		ex += traceExitMsg
	}
	return ex
}

// LauncherOutput is what `ego run` printed besides the workload's protocol.
type LauncherOutput struct {
	Version, Commit string // EGo's banner (stderr)
	Simulation      bool   // "[erthost] running in simulation mode"
	Loaded          bool   // "[erthost] entering enclave ..."
	Started         bool   // "[ego] starting application ..."
	// NoVDSOClock: Edgeless RT found no vDSO clock on this kernel
	// ("ERROR: kernel doesn't provide vDSO clock", edgelessrt
	// src/ert/host/vdso.cpp), so every clock read in the enclave is an
	// OCALL, as with ERT_DISABLE_VDSO_CLOCK=1. Seen on Linux 6.18.
	NoVDSOClock bool
	// OCalls counts OCALLs per host function over the whole process, from
	// the table OE_TRACE_OCALLS=1 prints at exit (edgelessrt
	// src/ert/host/ocall_tracer.cpp: "------", "ocalls", "------", then
	// "<count>\t<function>" lines, then "------").
	OCalls     map[string]int64
	OCallTotal int64
	// Diagnostics are the other lines: errors, warnings, EGo's hints.
	Diagnostics []string
}

// ParseLauncher reads the launcher's lines from the stdout lines that were
// not protocol lines and from stderr.
func ParseLauncher(stdout []string, stderr string) LauncherOutput {
	var o LauncherOutput
	o.Version, o.Commit, _ = ParseBanner(stderr)
	const sep, title = "------", "ocalls"
	state := 0 // 0 outside, 1 saw sep, 2 saw title, 3 in table
	for _, raw := range stdout {
		line := strings.TrimRight(raw, "\r")
		switch {
		case state == 3 && line == sep:
			state = 0
			continue
		case state == 3:
			n, name, ok := strings.Cut(line, "\t")
			c, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
			if ok && err == nil && c >= 0 && name != "" && c <= math.MaxInt64-o.OCallTotal {
				if o.OCalls == nil {
					o.OCalls = map[string]int64{}
				}
				o.OCalls[name] += c
				o.OCallTotal += c
				continue
			}
			state = 0 // not a table line after all
		case line == sep && state == 2:
			state = 3
			continue
		case line == title && state == 1:
			state = 2
			continue
		case line == sep:
			state = 1
			continue
		default:
			state = 0
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "[erthost] running in simulation mode"):
			o.Simulation = true
		case strings.HasPrefix(line, "[erthost] loading enclave"):
		case strings.HasPrefix(line, "[erthost] entering enclave"):
			o.Loaded = true
		case strings.HasPrefix(line, "[ego] starting application"):
			o.Started = true
		case strings.Contains(line, "kernel doesn't provide vDSO clock"):
			o.NoVDSOClock = true
		case strings.Contains(line, "oe_get_clock_vdso_pointers_ocall() failed"):
			// The enclave side of the same: not a failure.
		default:
			if v, c, ok := ParseBanner(line); ok && o.Version == "" {
				o.Version, o.Commit = v, c
				continue
			}
			o.Diagnostics = append(o.Diagnostics, line)
		}
	}
	return o
}

// maxDiag bounds the launcher lines AfterExit adds to a failed cell's
// stderr tail.
const maxDiag = 2 << 10

// topOCalls is how many OCALL functions AfterExit records by name: enough
// for every function a workload calls, so that per-function rates (the
// clock's ert_clock_gettime_ocall apart) can be compared with the sim.
const topOCalls = 40

// AfterExit implements mode.ExitReporter: it records in the cell's
// Extra the EGo, Edgeless RT and ego-go versions, the enclave configuration (ego_heap_mb,
// ego_enclave_mib, ego_gomaxprocs, ego_egomaxthreads, ego_debug,
// ego_clock), the identity the signed binary should report
// (expected_unique_id, expected_signer_id) and, with TraceOCalls, the
// process's OCALL counts (ocalls_total, ocall.<function> for the most
// frequent). Mismatches (an sgx cell that ran in simulation mode, an
// identity that differs from the signed binary's) go to ego_warning. When
// the process failed, EGo's diagnostic stdout lines are appended to the
// stderr tail, where Explain finds them.
func (m *Mode) AfterExit(l mode.Launch, foreign []string, stderr string, cr *result.CellResult) {
	out := ParseLauncher(foreign, stderr)
	if cr.Extra == nil {
		cr.Extra = map[string]string{}
	}
	x := cr.Extra
	set := func(k, v string) {
		if v != "" {
			x[k] = v
		}
	}
	set("ego_version", out.Version)
	set("ego_commit", out.Commit)
	set("ego_go_version", m.goVersion)
	set("ego_ert_version", m.ertVersion)
	var warnings []string
	if a, err := m.artifactFor(l); err == nil {
		c := a.config
		set(ExtraHeapMB, strconv.Itoa(c.HeapSize))
		set("ego_enclave_mib", strconv.FormatInt(EnclaveBytes(c.HeapSize)>>20, 10))
		for _, e := range c.Env {
			switch e.Name {
			case "GOMAXPROCS":
				set("ego_gomaxprocs", e.Value)
			case "EGOMAXTHREADS":
				set("ego_egomaxthreads", e.Value)
			}
		}
		set("ego_debug", strconv.FormatBool(c.Debug))
		set("expected_unique_id", a.identity.UniqueID)
		set("expected_signer_id", a.identity.SignerID)
		if got := x[enclave.KeyUniqueID]; got != "" && a.identity.UniqueID != "" && !hexEqual(got, a.identity.UniqueID) {
			warnings = append(warnings, "the enclave reported unique_id "+got+", the signed binary has "+a.identity.UniqueID)
		}
	}
	switch {
	case m.o.PreciseClock:
		x["ego_clock"] = "ocall (ERT_DISABLE_VDSO_CLOCK=1)"
	case out.NoVDSOClock:
		x["ego_clock"] = "ocall (the host kernel gives Edgeless RT no vDSO clock)"
	default:
		x["ego_clock"] = "vdso coarse (4 ms steps)"
	}
	if out.OCalls != nil {
		x["ocalls_total"] = strconv.FormatInt(out.OCallTotal, 10)
		names := make([]string, 0, len(out.OCalls))
		for n := range out.OCalls {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if out.OCalls[names[i]] != out.OCalls[names[j]] {
				return out.OCalls[names[i]] > out.OCalls[names[j]]
			}
			return names[i] < names[j]
		})
		for _, n := range names[:min(len(names), topOCalls)] {
			x["ocall."+n] = strconv.FormatInt(out.OCalls[n], 10)
		}
	}
	switch {
	case out.Simulation && !m.o.Sim:
		warnings = append(warnings, "the launcher ran in simulation mode although the mode is sgx: these are not hardware figures")
	case !out.Simulation && m.o.Sim && out.Loaded:
		warnings = append(warnings, "the launcher did not report simulation mode although the mode is ego-sim")
	}
	if len(warnings) > 0 {
		x["ego_warning"] = strings.Join(warnings, "; ")
	}
	if _, ok := gotest.FromArgs(l.Args); ok {
		userAfterExit(cr, out)
	}
	if cr.ExitCode != 0 && len(out.Diagnostics) > 0 {
		// Keep the last lines: the final ERROR names the failure.
		start, n := len(out.Diagnostics), 0
		for start > 0 && n+len(out.Diagnostics[start-1])+1 <= maxDiag {
			start--
			n += len(out.Diagnostics[start]) + 1
		}
		out.Diagnostics = out.Diagnostics[start:]
		cr.Stderr = strings.TrimRight(cr.Stderr, "\n") + "\n--- ego run stdout (launcher lines) ---\n" + strings.Join(out.Diagnostics, "\n") + "\n"
	}
}
