package ego

import (
	"strings"
	"testing"
)

// The inputs are messages EGo, Edgeless RT, Open Enclave, Intel's SGX
// libraries and the Go runtime print, copied from their sources or from
// published transcripts (paths in explain.go).
func TestExplain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		code int
		want string // in the explanation; "" for none
	}{
		{"sgx device (transcript)", `[erthost] loading enclave ...
[get_driver_type /home/sgx/jenkins/ubuntuServer2204-release-build-trunk-223/build_target/PROD/label/Builder-UbuntuSrv2204/label_exp/ubuntu64/linux-trunk-opensource/psw/urts/linux/edmm_utility.cpp:116] Failed to open Intel SGX device.
ERROR: enclave_create with ENCLAVE_TYPE_SGX1 type failed (err=0x1) (oe_result_t=OE_PLATFORM_ERROR) [openenclave-src/host/sgx/sgxload.c:oe_sgx_create_enclave:454]
ERROR: oe_create_enclave failed. (Set OE_SIMULATION=1 for simulation mode.) [src/tools/erthost/erthost.cpp:main:265]
ERROR: failed to open Intel SGX device`, 1, "could not open the SGX device"},
		{"not supported", "ERROR: enclave_create with ENCLAVE_TYPE_SGX1 type failed (err=0x1) (oe_result_t=OE_PLATFORM_ERROR)", 1, "ENCLAVE_NOT_SUPPORTED"},
		{"out of EPC", "ERROR: enclave_load_data failed (addr=0x7f0000001000, prot=0x3, err=0xb) (oe_result_t=OE_PLATFORM_ERROR)", 1, "out of EPC"},
		{"driver out of memory", "ERROR: enclave_create with ENCLAVE_TYPE_SGX1 type failed (err=0xa) (oe_result_t=OE_PLATFORM_ERROR)", 1, "ENCLAVE_OUT_OF_MEMORY"},
		{"invalid measurement", "ERROR: enclave_initialize failed (err=0x5) (oe_result_t=OE_PLATFORM_ERROR)", 1, "ENCLAVE_INVALID_MEASUREMENT"},
		{"no launch service", "ERROR: enclave_initialize failed (err=0x1001) (oe_result_t=OE_PLATFORM_ERROR)", 1, "libsgx-launch"},
		{"load data unexpected", "ERROR: enclave_load_data failed (addr=0x7f2a00000000, prot=0x1, err=0x1001) (oe_result_t=OE_PLATFORM_ERROR)", 1, "libsgx-enclave-common"},
		{"no base library", "ERROR: Failed to load libsgx_enclave_common.so.1. Cannot create SGX enclaves. Try simulation mode instead.\n", 1, "libsgx_enclave_common"},
		{"unsigned", "ERROR: oe_sgx_is_valid_attributes failed: attributes = 0\n (oe_result_t=OE_FAILURE)", 1, "not signed"},
		{"not ego-go", "ERROR: ELF image is not a PIE or shared object (oe_result_t=OE_INVALID_IMAGE)", 1, "not built with ego-go"},
		{"no oeinfo at sign", "ERROR: The .oeinfo section is missing in the binary.\nMaybe the binary was not built with 'ego-go build'?", 1, "not built with ego-go"},
		{"out of threads", "ERROR: OE_OUT_OF_THREADS [host/sgx/calls.c:oe_ecall:1166]", 1, "OE_OUT_OF_THREADS"},
		{"go heap exhausted", "runtime: out of memory: cannot allocate 4194304-byte block (62914560 in use)\nfatal error: out of memory\n\ngoroutine 1 [running]:", 2, "heap is exhausted"},
		// EGo v1.6.0, memsweep ws=2xEPC access=random on DC8_v2 at heapSize 400 (1x its arena + 64 MB).
		{"go heap exhausted, seen", "runtime: out of memory: cannot allocate 25165824-byte block (28901376 in use)\nfatal error: out of memory\n", 2, "heap is exhausted"},
		// EGo v1.6.0, aesgcm dataset=2xEPC on DC8_v2 at heapSize 336 (its arena alone).
		{"arena does not fit", "workload: arena: mmap 352320192 bytes: cannot allocate memory\n", 1, "heap is exhausted"},
		{"go sysMap", "fatal error: runtime: out of memory\n", 2, "heap is exhausted"},
		{"ego runtime mmap", "ego runtime: mmap failed with 12\nfatal error: ego runtime: mmap failed", 2, "heap is exhausted"},
		{"oe out of memory", "ERROR: OE_OUT_OF_MEMORY [enclave/core/sgx/calls.c]", 1, "heap is exhausted"},
		{"simulation report", "ERROR: can't get report in simulation mode (oe_result_t=OE_UNSUPPORTED)", 1, "simulation mode has no reports"},
		{"quote provider", "ERROR: sgxquoteprovider: libdcap_quoteprov.so: cannot open shared object file: No such file or directory", 1, "quote provider"},
		{"stdbuf", `ERROR: exec: "stdbuf": executable file not found in $PATH`, 1, "coreutils"},
		{"bad key", "ego-oesign ERROR: oe_sgx_sign_enclave() failed: result=OE_INVALID_SGX_SIGNING_KEY (0x2c)", 1, "exponent 3"},
		{"large heap", "ERROR: The binary is built without build tag \"ego_largeheap\", but heapSize is set to more than 16384.", 1, "ego_largeheap"},
		{"bad config", "ERROR: mount target '/tmp' was defined multiple times", 1, "rejected the generated enclave.json"},
		{"eclient", "ERROR: You cannot import the github.com/edgelesssys/ego/eclient package within the EGo enclave.", 1, "eclient"},
		{"generic create", "ERROR: oe_create_enclave failed. (Set OE_SIMULATION=1 for simulation mode.) [src/tools/erthost/erthost.cpp:main:265]", 1, "could not create the enclave"},
		{"abort status", "", 134, "SIGABRT"},
		{"segv status", "", 11, "SIGSEGV"},
		{"killed", "", 9, "SIGKILL"},
		{"nothing known", "workload: syscall: bad parameter", 1, ""},
		{"empty", "", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ExplainText(tt.text, tt.code)
			if tt.want == "" {
				if got != "" {
					t.Errorf("explanation %q, want none", got)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("explanation %q, want it to contain %q", got, tt.want)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("explanation %q is not one line", got)
			}
		})
	}
}

// A SIGSEGV of the host process is blamed on Edgeless RT's exit race only
// when the banner names an EGo older than ExitRaceFixed, and on the OCALL
// tracer only when the mode set OE_TRACE_OCALLS=1. The stderr tails are
// what the runner recorded for such crashes with EGo v1.6.0 (docs/ego.md).
func TestExplainHostCrash(t *testing.T) {
	t.Parallel()
	const (
		v160  = "EGo v1.6.0 (9ea3017b7b28fa62c0338dce24b48e2b4f2612c8)\n--- ego run stdout (launcher lines) ---\n"
		v190  = "2026/03/13 15:46:45 INFO EGo version=1.9.0 git_commit=2c788689f4cf9384d37ceb5b1176aa6c7638e234\n--- ego run stdout (launcher lines) ---\n"
		v171  = "EGo v1.7.1 (0123456789abcdef0123456789abcdef01234567)\n"
		segv  = "ERROR: signal: segmentation fault\n"
		segvC = "ERROR: signal: segmentation fault (core dumped)\n"
	)
	tests := []struct {
		name    string
		stderr  string
		code    int
		trace   bool
		want    []string
		notWant []string
	}{
		{"v1.6.0", v160 + segv, 11, false, []string{"SIGSEGV", "before v1.7.1", "25c7b9952", "--resume"}, []string{"OCALL tracer"}},
		{"v1.6.0 core dumped", v160 + segvC, 11 | 0x80, false, []string{"before v1.7.1"}, nil},
		{"v1.6.0 after a report error", v160 + "ERROR: :OE_UNSUPPORTED [openenclave-src/enclave/core/sgx/report.c:sgx_create_report:131]\n" + segv, 11, false, []string{"before v1.7.1"}, nil},
		{"v1.6.0 traced", v160 + segv, 11, true, []string{"before v1.7.1", "OCALL tracer", "v0.5.2"}, nil},
		{"v1.7.1", v171 + segv, 11, false, []string{"SIGSEGV", "OE_LOG_LEVEL=VERBOSE"}, []string{"before v1.7.1", "OCALL tracer"}},
		{"v1.9.0", v190 + segv, 11, false, []string{"SIGSEGV", "OE_LOG_LEVEL=VERBOSE"}, []string{"before v1.7.1"}},
		{"v1.9.0 traced", v190 + segv, 11, true, []string{"OE_LOG_LEVEL=VERBOSE", "OCALL tracer"}, []string{"before v1.7.1"}},
		{"no banner", segv, 11, false, []string{"OE_LOG_LEVEL=VERBOSE"}, []string{"before v1.7.1"}},
		{"v1.6.0 abort traced", v160, 134, true, []string{"SIGABRT"}, []string{"before v1.7.1", "OCALL tracer"}},
		{"v1.6.0 exit 1 traced", v160 + "workload: bad parameter\n", 1, true, nil, []string{"before v1.7.1", "OCALL tracer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := New(Options{Sim: true, TraceOCalls: tt.trace}).Explain(tt.stderr, tt.code)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("explanation %q, want it to contain %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("explanation %q, want it without %q", got, w)
				}
			}
			if len(tt.want) == 0 && got != "" {
				t.Errorf("explanation %q, want none", got)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("explanation %q is not one line", got)
			}
		})
	}
}

func TestParseLauncher(t *testing.T) {
	t.Parallel()
	stdout := []string{
		"[erthost] running in simulation mode",
		"[erthost] loading enclave ...",
		"[erthost] entering enclave ...",
		// EGo v1.6.0 on Linux 6.18 (docs/ego.md, "EGo from source").
		"ERROR: kernel doesn't provide vDSO clock [src/ert/host/vdso.cpp:oe_get_clock_vdso_pointers_ocall:132]",
		"ERROR: oe_get_clock_vdso_pointers_ocall() failed [src/ertlibc/time.cpp:_init_clock:29]",
		"[ego] starting application ...",
		"some workload log line",
		"",
		"------",
		"ocalls",
		"------",
		"120\tocall_oe_syscall_pread_ocall",
		"17\tHandleThreadWait",
		"5\t0x7f00deadbeef",
		"------",
		"dumping backtraces.txt ... done",
	}
	stderr := "2026/03/13 15:46:45 INFO EGo version=1.9.0 git_commit=2c788689f4cf9384d37ceb5b1176aa6c7638e234\n"
	o := ParseLauncher(stdout, stderr)
	if o.Version != "1.9.0" || o.Commit != "2c788689f4cf9384d37ceb5b1176aa6c7638e234" {
		t.Errorf("version %q commit %q", o.Version, o.Commit)
	}
	if !o.Simulation || !o.Loaded || !o.Started || !o.NoVDSOClock {
		t.Errorf("simulation %v loaded %v started %v no vDSO clock %v, want all true", o.Simulation, o.Loaded, o.Started, o.NoVDSOClock)
	}
	if o.OCallTotal != 142 || o.OCalls["HandleThreadWait"] != 17 || o.OCalls["0x7f00deadbeef"] != 5 {
		t.Errorf("ocalls %v total %d", o.OCalls, o.OCallTotal)
	}
	want := []string{"some workload log line", "dumping backtraces.txt ... done"}
	if strings.Join(o.Diagnostics, "|") != strings.Join(want, "|") {
		t.Errorf("diagnostics %q, want %q", o.Diagnostics, want)
	}
}

func TestParseBanner(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, version, commit string }{
		{"EGo v1.5.4 (009751335951262b22b514412c7b45e33705681b)\n", "1.5.4", "009751335951262b22b514412c7b45e33705681b"},
		// v1.6.0 built from source (docs/ego.md), on stderr before anything else.
		{"EGo v1.6.0 (9ea3017b7b28fa62c0338dce24b48e2b4f2612c8)\n[erthost] running in simulation mode\n", "1.6.0", "9ea3017b7b28fa62c0338dce24b48e2b4f2612c8"},
		{"2026/03/13 15:46:45 INFO EGo version=1.9.0 git_commit=2c788689f4cf9384d37ceb5b1176aa6c7638e234\n", "1.9.0", "2c788689f4cf9384d37ceb5b1176aa6c7638e234"},
		{`{"time":"2026-03-13T15:46:45Z","level":"INFO","msg":"EGo","version":"1.9.0","git_commit":"2c788689"}`, "1.9.0", "2c788689"},
		{"Usage: ego [command]", "", ""},
	}
	for _, tt := range tests {
		v, c, ok := ParseBanner(tt.in)
		if v != tt.version || c != tt.commit || ok != (tt.version != "") {
			t.Errorf("ParseBanner(%q) = %q, %q, %v", tt.in, v, c, ok)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1.9.0", "1.9.0", 0}, {"1.8.1", "1.9.0", -1}, {"1.10.0", "1.9.0", 1}, {"v1.9.1", "1.9.0", 1},
		{"1.9.0-rc1", "1.9.0", -1}, {"2", "1.9.0", 1}, {"1.9", "1.9.0", 0},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzParseLauncher(f *testing.F) {
	f.Add("[erthost] loading enclave ...\n------\nocalls\n------\n3\tx\n------\n", "INFO EGo version=1.9.0 git_commit=abc")
	f.Add("------\nocalls\n------\n-1\ty\n9999999999999999999999\tz\n", "EGo v1 (")
	f.Add("ERROR: enclave_load_data failed (addr=0x1, prot=0x1, err=0x1001)", "")
	f.Fuzz(func(t *testing.T, stdout, stderr string) {
		o := ParseLauncher(strings.Split(stdout, "\n"), stderr)
		var sum int64
		for name, n := range o.OCalls {
			if n < 0 || name == "" {
				t.Fatalf("bad OCALL entry %q=%d", name, n)
			}
			sum += n
		}
		if sum != o.OCallTotal {
			t.Fatalf("total %d, entries sum to %d", o.OCallTotal, sum)
		}
		if ex := ExplainText(stdout+"\n"+stderr, 1); strings.Contains(ex, "\n") {
			t.Fatalf("explanation %q is not one line", ex)
		}
	})
}
