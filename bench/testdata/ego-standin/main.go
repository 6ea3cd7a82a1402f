// Command ego-standin stands in for EGo's `ego` and `ego-go` in the tests of
// bench/ego, on machines without EGo or SGX. Installed under both names, it
// checks what the harness passes the way EGo would and then does the
// closest native thing:
//
//   - ego-go build: checks -tags ego, -o, GOTOOLCHAIN=local and
//     CGO_ENABLED=1, then runs the real go ($EGO_STANDIN_GO) with the same
//     arguments but -trimpath; other ego-go commands pass through, except
//     `env GOVERSION` when $EGO_STANDIN_GOVERSION is set.
//   - installed as ego-host too, it holds Edgeless RT's version banner
//     (v0.5.2) as the real ego-host does, and runs nothing.
//   - ego prints EGo's version banner ($EGO_STANDIN_VERSION, default
//     1.9.0) in the form that release printed.
//   - ego sign enclave.json: validates the file as EGo does
//     (ego/config/config.go), resolves exe and key against its directory as
//     EGo does (ego/cli/sign.go), checks the key (mode 0600 in a 0700
//     directory, RSA 3072, exponent 3) and the thread variables, records
//     the file in $EGO_STANDIN_SIGNED and appends it to the binary as EGo
//     appends its payload.
//   - ego run exe args: prints EGo's lines, checks the binary is signed and
//     every absolute path argument is visible through a hostfs mount, gives
//     the child only the environment EGo would (EDG_* and enclave.json's
//     env), runs it natively and prints the OCALL table when
//     OE_TRACE_OCALLS=1. EGO_STANDIN_FAIL=sgxdevice makes it fail like
//     EGo on a machine whose SGX device cannot be opened.
//
// Every invocation is appended to $EGO_STANDIN_LOG. Test use only.
package main

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

const payloadMarker = "\n#ego-standin-payload#"

// erthostBanner is Edgeless RT's OE_TRACE_INFO("erthost v" OE_VERSION)
// as it stands in ego-host.
const erthostBanner = "erthost v0.5.2 [%s:%s:%d]"

type config struct {
	Exe      string `json:"exe"`
	Key      string `json:"key"`
	Debug    bool   `json:"debug"`
	HeapSize int    `json:"heapSize"`
	Mounts   []struct {
		Source   string `json:"source"`
		Target   string `json:"target"`
		Type     string `json:"type"`
		ReadOnly bool   `json:"readOnly"`
	} `json:"mounts"`
	Env []struct {
		Name     string `json:"name"`
		Value    string `json:"value"`
		FromHost bool   `json:"fromHost"`
	} `json:"env"`
}

func main() {
	name := filepath.Base(os.Args[0])
	logInvocation(name, os.Args[1:])
	var code int
	switch name {
	case "ego-go":
		code = egoGo(os.Args[1:])
	case "ego-host":
		// EGo installs Edgeless RT's erthost as ego-host; the harness
		// reads Edgeless RT's version from its log format string, kept
		// here as a literal as in the real binary (v0.5.2: EGo v1.9.0's,
		// dockerfiles/Dockerfile erttag).
		fmt.Fprintf(os.Stderr, erthostBanner+"\n", "erthost.cpp", "main", 231)
		fmt.Fprintln(os.Stderr, "ego-host: the stand-in runs enclaves through `ego run` only")
		code = 1
	default:
		// ego prints its banner on stderr first, whatever the command:
		// up to v1.6.0 "EGo v<version> (<commit>)", since v1.6.1 slog's
		// default text format (ego/ego/main.go).
		v := os.Getenv("EGO_STANDIN_VERSION")
		if v == "" {
			v = "1.9.0"
		}
		if oldBanner(v) {
			fmt.Fprintf(os.Stderr, "EGo v%s (9ea3017b7b28fa62c0338dce24b48e2b4f2612c8)\n", v)
		} else {
			log.SetOutput(os.Stderr)
			log.Printf("INFO EGo version=%s git_commit=2c788689f4cf9384d37ceb5b1176aa6c7638e234", v)
		}
		code = ego(os.Args[1:])
	}
	os.Exit(code)
}

// oldBanner reports whether EGo version v (major.minor.patch) predates
// v1.6.1, the first with the slog banner.
func oldBanner(v string) bool {
	var a, b, c int
	fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c)
	return a < 1 || (a == 1 && (b < 6 || (b == 6 && c == 0)))
}

func logInvocation(name string, args []string) {
	p := os.Getenv("EGO_STANDIN_LOG")
	if p == "" {
		return
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, name, strings.Join(args, " "))
}

func fail(format string, args ...any) int {
	// EGo prints its errors on stdout (ego/ego/cmd/util.go handleErr).
	fmt.Printf("ERROR: "+format+"\n", args...)
	return 1
}

func realGo() string {
	if g := os.Getenv("EGO_STANDIN_GO"); g != "" {
		return g
	}
	return "go"
}

func egoGo(args []string) int {
	if len(args) > 0 && args[0] == "build" {
		var tags, out string
		for i := 0; i < len(args)-1; i++ {
			switch args[i] {
			case "-tags":
				tags = args[i+1]
			case "-o":
				out = args[i+1]
			}
		}
		if !slices.Contains(strings.Split(tags, ","), "ego") {
			return fail("ego-go build without -tags ego (got %q)", tags)
		}
		if out == "" {
			return fail("ego-go build without -o")
		}
		if os.Getenv("GOTOOLCHAIN") != "local" || os.Getenv("CGO_ENABLED") != "1" {
			return fail("ego-go build needs GOTOOLCHAIN=local and CGO_ENABLED=1, got %q and %q", os.Getenv("GOTOOLCHAIN"), os.Getenv("CGO_ENABLED"))
		}
		// -trimpath would rebuild the standard library outside the test
		// build cache; what it does is Go's business, not the harness's.
		args = slicesDelete(args, "-trimpath")
	}
	if gv := os.Getenv("EGO_STANDIN_GOVERSION"); gv != "" && strings.Join(args, " ") == "env GOVERSION" {
		// An ego-go of another Go release than the real go.
		fmt.Println(gv)
		return 0
	}
	return run(exec.Command(realGo(), args...))
}

func ego(args []string) int {
	if len(args) == 0 {
		return fail("no command")
	}
	switch args[0] {
	case "help":
		fmt.Println("Usage:\n  ego [command]")
		return 0
	case "sign":
		if len(args) != 2 {
			return fail("standin: want ego sign <enclave.json>")
		}
		return sign(args[1])
	case "run":
		if len(args) < 2 {
			return fail("standin: want ego run <exe> [args...]")
		}
		return runEnclave(args[1], args[2:])
	}
	return fail("standin: unknown command %q", args[0])
}

func readConfig(path string) (*config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	// ego/config/config.go Validate.
	switch {
	case c.HeapSize == 0:
		return nil, errors.New("heapSize not set in config file")
	case c.Exe == "":
		return nil, errors.New("exe not set in config file")
	case c.Key == "":
		return nil, errors.New("key not set in config file")
	}
	targets := map[string]bool{}
	for _, m := range c.Mounts {
		switch {
		case m.Target == "":
			return nil, errors.New("missing target for mount declaration")
		case targets[m.Target]:
			return nil, fmt.Errorf("mount target '%s' was defined multiple times", m.Target)
		case m.Type != "hostfs" && m.Type != "memfs":
			return nil, fmt.Errorf("an invalid mount type was specified: %s", m.Type)
		case m.Type == "hostfs" && m.Source == "":
			return nil, fmt.Errorf("no source given for mount target '%s", m.Target)
		}
		targets[m.Target] = true
	}
	names := map[string]bool{}
	for _, e := range c.Env {
		switch {
		case e.Name == "" || strings.Contains(e.Name, "="):
			return nil, fmt.Errorf("bad environment variable name %q", e.Name)
		case names[e.Name]:
			return nil, fmt.Errorf("envrionment variable '%s' was defined multiple times", e.Name)
		}
		names[e.Name] = true
	}
	return &c, nil
}

func sign(path string) int {
	c, err := readConfig(path)
	if err != nil {
		return fail("%v", err)
	}
	dir := filepath.Dir(path)
	// ego/cli/sign.go readConfigJSONtoStruct joins both onto the config's
	// directory, absolute or not.
	exe, key := filepath.Join(dir, c.Exe), filepath.Join(dir, c.Key)
	if err := checkKey(key); err != nil {
		return fail("%v", err)
	}
	for _, want := range []string{"GOMAXPROCS", "EGOMAXTHREADS"} {
		found := false
		for _, e := range c.Env {
			found = found || (e.Name == want && e.Value != "")
		}
		if !found {
			return fail("standin: enclave.json sets no %s", want)
		}
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		return fail("%v", err)
	}
	if bytes.Contains(b, []byte(payloadMarker)) {
		return fail("standin: %s is already signed; the harness must sign a fresh copy", exe)
	}
	raw, _ := os.ReadFile(path)
	compact := new(bytes.Buffer)
	if err := json.Compact(compact, raw); err != nil {
		return fail("%v", err)
	}
	if p := os.Getenv("EGO_STANDIN_SIGNED"); p != "" {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, compact.String())
			f.Close()
		}
	}
	f, err := os.OpenFile(exe, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fail("%v", err)
	}
	defer f.Close()
	if _, err := f.WriteString(payloadMarker + compact.String()); err != nil {
		return fail("%v", err)
	}
	return 0
}

func checkKey(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("standin: key %s: %v (ego sign would generate a new key there)", path, err)
	}
	if st.Mode().Perm() != 0o600 {
		return fmt.Errorf("standin: key %s has mode %#o, want 0600", path, st.Mode().Perm())
	}
	dst, err := os.Stat(filepath.Dir(path))
	if err != nil || dst.Mode().Perm() != 0o700 {
		return fmt.Errorf("standin: key directory %s is not mode 0700", filepath.Dir(path))
	}
	b, _ := os.ReadFile(path)
	block, _ := pem.Decode(b)
	if block == nil {
		return errors.New("standin: key is not PEM")
	}
	var k *rsa.PrivateKey
	if block.Type == "RSA PRIVATE KEY" {
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	} else {
		var any any
		any, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		k, _ = any.(*rsa.PrivateKey)
	}
	if err != nil || k == nil {
		return fmt.Errorf("standin: key does not parse: %v", err)
	}
	if k.N.BitLen() != 3072 || k.E != 3 {
		return fmt.Errorf("oe_sgx_sign_enclave() failed: result=OE_INVALID_SGX_SIGNING_KEY (%d bits, e=%d)", k.N.BitLen(), k.E)
	}
	return nil
}

func runEnclave(exe string, args []string) int {
	if os.Getenv("EGO_STANDIN_FAIL") == "sgxdevice" {
		// What EGo prints when the SGX device cannot be opened.
		fmt.Println("[erthost] loading enclave ...")
		fmt.Println("[get_driver_type /home/sgx/linux-trunk-opensource/psw/urts/linux/edmm_utility.cpp:116] Failed to open Intel SGX device.")
		fmt.Println("ERROR: enclave_create with ENCLAVE_TYPE_SGX1 type failed (err=0x1) (oe_result_t=OE_PLATFORM_ERROR) [openenclave-src/host/sgx/sgxload.c:oe_sgx_create_enclave:454]")
		fmt.Println("ERROR: oe_create_enclave failed. (Set OE_SIMULATION=1 for simulation mode.) [src/tools/erthost/erthost.cpp:main:265]")
		fmt.Println("ERROR: failed to open Intel SGX device")
		fmt.Println("Install the SGX driver with: sudo ego install sgx-driver")
		return 1
	}
	if v, ok := os.LookupEnv("EDG_CWD"); ok {
		return fail("standin: EDG_CWD=%s came from the caller; erthost would keep it instead of its working directory", v)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		return fail("%v", err)
	}
	i := bytes.LastIndex(b, []byte(payloadMarker))
	if i < 0 {
		fmt.Println("ERROR: failed to load the binary")
		fmt.Println("Please sign the binary with 'ego sign'")
		return 1
	}
	var c config
	if err := json.Unmarshal(b[i+len(payloadMarker):], &c); err != nil {
		return fail("standin: payload: %v", err)
	}
	for _, a := range args {
		if !filepath.IsAbs(a) {
			continue
		}
		visible := false
		for _, m := range c.Mounts {
			if m.Type == "hostfs" && m.Source == m.Target && (a == m.Target || strings.HasPrefix(a, strings.TrimSuffix(m.Target, "/")+"/")) {
				visible = true
			}
		}
		if !visible {
			return fail("standin: argument %s is not visible in the enclave through a hostfs mount at the same path", a)
		}
	}
	if os.Getenv("OE_SIMULATION") == "1" {
		fmt.Println("[erthost] running in simulation mode")
	}
	fmt.Println("[erthost] loading enclave ...")
	fmt.Println("[erthost] entering enclave ...")
	if os.Getenv("EGO_STANDIN_VDSO") != "1" {
		// What EGo v1.6.0 printed on a kernel (Linux 6.18) that gives
		// Edgeless RT no vDSO clock; EGO_STANDIN_VDSO=1 leaves it out.
		fmt.Println("ERROR: kernel doesn't provide vDSO clock [src/ert/host/vdso.cpp:oe_get_clock_vdso_pointers_ocall:132]")
		fmt.Println("ERROR: oe_get_clock_vdso_pointers_ocall() failed [src/ertlibc/time.cpp:_init_clock:29]")
	}
	fmt.Println("[ego] starting application ...")
	// The enclave sees EDG_* and what enclave.json lists
	// (ego/premain/core/core.go addEnvVars).
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "EDG_") {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		if e.Value != "" {
			env[e.Name] = e.Value
		}
		if v, ok := os.LookupEnv(e.Name); ok && e.FromHost {
			env[e.Name] = v
		}
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = []string{}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	code := run(cmd)
	if os.Getenv("OE_TRACE_OCALLS") == "1" {
		// edgelessrt src/ert/host/ocall_tracer.cpp at exit, with the
		// function names EGo v1.6.0 printed.
		fmt.Print("\n------\nocalls\n------\n")
		fmt.Print("120\tocall_oe_syscall_pread_ocall\n17\tHandleThreadWait\n5\tocall_oe_syscall_write_ocall\n")
		fmt.Print("------\n")
	}
	return code
}

func run(cmd *exec.Cmd) int {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "standin:", err)
		return 1
	}
	return 0
}

func slicesDelete(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
