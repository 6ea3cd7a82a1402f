// Package host takes the fingerprint of the machine a run executes on: CPU,
// microcode, kernel, Go, SGX capabilities (CPUID leaf 0x12), SGX device
// nodes, the Azure VM size and the EGo installation.
package host

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/unix"
)

// Fingerprint describes a host.
type Fingerprint struct {
	Hostname   string `json:"hostname"`
	CPUModel   string `json:"cpu_model"`
	CPUVendor  string `json:"cpu_vendor"`
	Microcode  string `json:"microcode,omitempty"`
	Hypervisor string `json:"hypervisor,omitempty"`
	CPUs       int    `json:"cpus"` // CPUs this process may run on
	MemBytes   int64  `json:"mem_bytes"`
	Kernel     string `json:"kernel"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	GoVersion  string `json:"go_version"`
	SGX        SGX    `json:"sgx"`
	AzureSize  string `json:"azure_vm_size,omitempty"`
	AzureNote  string `json:"azure_note,omitempty"` // why the size is unknown
	EGo        EGo    `json:"ego"`
}

// SGX is what the CPU, the kernel and the devices say about SGX.
type SGX struct {
	SGX1          bool     `json:"sgx1"`
	SGX2          bool     `json:"sgx2"`
	LaunchControl bool     `json:"launch_control"`
	EPCBytes      int64    `json:"epc_bytes"`                 // summed over CPUID 0x12 sub-leaves 2+
	SysfsEPCBytes int64    `json:"sysfs_epc_bytes,omitempty"` // /sys/devices/system/node/node*/x86/sgx_total_bytes
	CPUFlags      []string `json:"cpuinfo_flags,omitempty"`   // sgx, sgx_lc in /proc/cpuinfo
	Devices       []string `json:"devices,omitempty"`         // device nodes present
	// Usable is true when the CPU has SGX and an enclave device node exists.
	Usable bool `json:"usable"`
}

// EGo describes the EGo installation found on PATH.
type EGo struct {
	Installed bool   `json:"installed"`
	Path      string `json:"path,omitempty"`
	GoPath    string `json:"ego_go_path,omitempty"`
	Version   string `json:"version,omitempty"`
	Commit    string `json:"commit,omitempty"`
	// GoVersion is ego-go's Go version (`ego-go env GOVERSION`): it can be
	// newer than the runtime's own release (an ego-go built from source).
	GoVersion string `json:"go_version,omitempty"`
	// ERTVersion is the Edgeless RT release EGo's host program was built
	// from, read from ego-host next to ego (EGo installs Edgeless RT's
	// erthost under that name and links the runtime in statically, so no
	// other file of an install names it); ERTNote says why it is empty.
	ERTVersion string `json:"edgeless_rt_version,omitempty"`
	ERTNote    string `json:"edgeless_rt_note,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Describe names the installation in one line, as a report's runs table
// shows it: "EGo 1.6.0 9ea3017b, Edgeless RT v0.4.7, ego-go go1.26.8".
func (e EGo) Describe() string {
	switch {
	case e.Installed:
		d := strings.TrimSpace("EGo " + e.Version + " " + e.Commit)
		if e.ERTVersion != "" {
			d += ", Edgeless RT v" + e.ERTVersion
		}
		if e.GoVersion != "" {
			d += ", ego-go " + e.GoVersion
		}
		return d
	case e.Error != "":
		return "unusable: " + e.Error
	}
	return "not installed"
}

// Options tune Collect.
type Options struct {
	// IMDS says whether and where to ask the Azure Instance Metadata
	// Service for the VM size: "" or "auto" asks DefaultIMDS only where
	// SMBIOS says this is an Azure VM (OnAzure), "off" never asks, "on"
	// asks DefaultIMDS anyway, and an http:// address asks there.
	IMDS string
	// IMDSTimeout bounds the query (the service answers in milliseconds on
	// Azure; elsewhere the address is unreachable).
	IMDSTimeout time.Duration
	// Root prefixes /proc, /sys and /dev paths, for tests.
	Root string
}

// DefaultIMDS is the Azure Instance Metadata Service address
// (MicrosoftDocs/azure-docs articles/virtual-machines/instance-metadata-service.md).
const DefaultIMDS = "http://169.254.169.254"

// IMDSEnv sets Options.IMDS: auto (the default), on, off or an address.
const IMDSEnv = "ENCLAVEBENCH_IMDS"

// DefaultOptions reads the IMDS setting from the environment.
func DefaultOptions() Options {
	return Options{IMDS: os.Getenv(IMDSEnv), IMDSTimeout: time.Second}
}

// Check refuses an IMDS setting that is none of auto, on, off or an
// http(s) address: a typo must not turn into a query of another address
// or into no query at all.
func (o Options) Check() error {
	switch v := o.IMDS; {
	case v == "" || v == "auto" || v == "on" || v == "off":
		return nil
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		return nil
	}
	return fmt.Errorf("%s / --imds %q: want auto (ask the Azure instance metadata service only on an Azure VM), on, off, or an http:// address", IMDSEnv, o.IMDS)
}

// defaultIMDS is DefaultIMDS, replaced by tests.
var defaultIMDS = DefaultIMDS

// SMBIOS identification of an Azure VM: the system vendor and the
// chassis asset tag Azure sets on every VM. cloud-init identifies Azure by
// this tag (canonical/cloud-init cloudinit/sources/azure/identity.py,
// ChassisAssetTag.AZURE_CLOUD), and Microsoft's own troubleshooting
// guide tells an Azure VM by it (MicrosoftDocs/azure-docs, "Dmidecode
// check": "If the asset tag is different than
// 7783-7084-3265-9085-8269-3286-77" the VM is not registered as Azure).
// A Hyper-V guest elsewhere has the vendor but not the tag.
const (
	azureSysVendor = "Microsoft Corporation"
	azureAssetTag  = "7783-7084-3265-9085-8269-3286-77"
)

// OnAzure reports whether SMBIOS (/sys/class/dmi/id under root) says this
// machine is an Azure VM, and if not, why not.
func OnAzure(root string) (bool, string) {
	dmi := filepath.Join(root, "/sys/class/dmi/id")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dmi, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	vendor, tag := read("sys_vendor"), read("chassis_asset_tag")
	if vendor == azureSysVendor && tag == azureAssetTag {
		return true, ""
	}
	if vendor == "" {
		return false, "not an Azure VM (no SMBIOS system vendor in " + dmi + "); the instance metadata service was not asked"
	}
	return false, fmt.Sprintf("not an Azure VM (SMBIOS system vendor %q, chassis asset tag %q); the instance metadata service was not asked", vendor, tag)
}

// imdsAddress resolves Options.IMDS: the address to ask, or "" and why
// none is asked.
func imdsAddress(o Options) (addr, note string) {
	switch o.IMDS {
	case "off":
		return "", "instance metadata query disabled (" + IMDSEnv + "=off or --imds off)"
	case "on":
		return defaultIMDS, ""
	case "", "auto":
		if ok, why := OnAzure(o.Root); !ok {
			return "", why
		}
		return defaultIMDS, ""
	}
	return o.IMDS, ""
}

// Collect takes the fingerprint of this host.
func Collect(ctx context.Context, o Options) Fingerprint {
	f := Fingerprint{
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		GoVersion: runtime.Version(),
		CPUModel:  cpuid.CPU.BrandName,
		CPUVendor: cpuid.CPU.VendorString,
		CPUs:      runtime.NumCPU(),
	}
	if cpuid.CPU.HypervisorVendorString != "" {
		f.Hypervisor = cpuid.CPU.HypervisorVendorString
	}
	f.Hostname, _ = os.Hostname()
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.Kernel = unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:])
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		f.MemBytes = int64(si.Totalram) * int64(si.Unit)
	}
	info := readCPUInfo(filepath.Join(o.Root, "/proc/cpuinfo"))
	if f.CPUModel == "" {
		f.CPUModel = info["model name"]
	}
	f.Microcode = info["microcode"]
	f.SGX = detectSGX(o.Root, info["flags"])
	if addr, note := imdsAddress(o); addr != "" {
		size, err := AzureVMSize(ctx, addr, o.IMDSTimeout)
		if err != nil {
			f.AzureNote = err.Error()
		}
		f.AzureSize = size
	} else {
		f.AzureNote = note
	}
	f.EGo = DetectEGo(ctx)
	return f
}

func readCPUInfo(path string) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // first processor only
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

func detectSGX(root, flags string) SGX {
	c := cpuid.CPU.SGX
	s := SGX{
		SGX1:          c.Available && c.SGX1Supported,
		SGX2:          c.Available && c.SGX2Supported,
		LaunchControl: c.LaunchControl,
	}
	for _, sec := range c.EPCSections {
		s.EPCBytes += int64(sec.EPCSize)
	}
	for _, fl := range strings.Fields(flags) {
		if fl == "sgx" || fl == "sgx_lc" {
			s.CPUFlags = append(s.CPUFlags, fl)
		}
	}
	// In-kernel driver (Linux 5.11+) and the older out-of-tree DCAP driver
	// still used on AKS nodes (torvalds/linux Documentation/arch/x86/sgx.rst).
	for _, d := range []string{"/dev/sgx_enclave", "/dev/sgx_provision", "/dev/sgx/enclave", "/dev/sgx/provision"} {
		if _, err := os.Stat(filepath.Join(root, d)); err == nil {
			s.Devices = append(s.Devices, d)
		}
	}
	nodes, _ := filepath.Glob(filepath.Join(root, "/sys/devices/system/node/node*/x86/sgx_total_bytes"))
	for _, n := range nodes {
		b, err := os.ReadFile(n)
		if err == nil {
			v, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			s.SysfsEPCBytes += v
		}
	}
	hasDev := false
	for _, d := range s.Devices {
		if strings.HasSuffix(d, "enclave") {
			hasDev = true
		}
	}
	s.Usable = (s.SGX1 || s.SGX2 || len(s.CPUFlags) > 0) && hasDev
	return s
}

// AzureVMSize asks the instance metadata service at base for compute.vmSize.
func AzureVMSize(ctx context.Context, base string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := strings.TrimRight(base, "/") + "/metadata/instance?api-version=2021-02-01"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Metadata", "true")
	client := &http.Client{Transport: &http.Transport{Proxy: nil}} // IMDS must never go through a proxy
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("not on Azure, or the instance metadata service did not answer within %v", timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("instance metadata service answered %s", resp.Status)
	}
	var doc struct {
		Compute struct {
			VMSize string `json:"vmSize"`
		} `json:"compute"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("instance metadata: %v", err)
	}
	if doc.Compute.VMSize == "" {
		return "", fmt.Errorf("instance metadata has no compute.vmSize")
	}
	return doc.Compute.VMSize, nil
}

// The banner `ego` prints on stderr at every invocation. Up to v1.6.0:
// fmt.Fprintf(os.Stderr, "EGo v%v (%v)\n", ...); since v1.6.1:
// slog.Info("EGo", "version", ..., "git_commit", ...), as text
// ("... INFO EGo version=1.9.0 git_commit=...") or, with
// EDG_LOG_FORMAT=json, as JSON (edgelesssys/ego ego/ego/main.go).
var egoBannerREs = []*regexp.Regexp{
	regexp.MustCompile(`\bEGo version=v?([0-9][0-9A-Za-z.+\-]*) git_commit=([0-9a-fA-F]+)`),
	regexp.MustCompile(`"msg":"EGo","version":"v?([0-9][0-9A-Za-z.+\-]*)","git_commit":"([0-9a-fA-F]+)"`),
	regexp.MustCompile(`\bEGo v([0-9][0-9A-Za-z.+\-]*) \(([0-9a-fA-F]+)\)`),
}

// ParseEGoVersion reads the version banner `ego` prints on every
// invocation, in any of the forms EGo has used.
func ParseEGoVersion(out string) (version, commit string, ok bool) {
	for _, re := range egoBannerREs {
		if m := re.FindStringSubmatch(out); m != nil {
			return m[1], m[2], true
		}
	}
	return "", "", false
}

// DetectEGo looks for `ego` and `ego-go` on PATH and reads EGo's version.
func DetectEGo(ctx context.Context) EGo {
	var e EGo
	p, err := exec.LookPath("ego")
	if err != nil {
		return e
	}
	e.Path = p
	e.GoPath, _ = exec.LookPath("ego-go")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// `ego` has no --version flag; it prints its banner with any command.
	out, _ := exec.CommandContext(ctx, p, "help").CombinedOutput()
	v, c, ok := ParseEGoVersion(string(out))
	if !ok {
		e.Error = fmt.Sprintf("%s printed no EGo version banner", p)
		return e
	}
	e.Installed = true
	e.Version, e.Commit = v, c
	if e.GoPath != "" {
		if gv, err := exec.CommandContext(ctx, e.GoPath, "env", "GOVERSION").Output(); err == nil {
			e.GoVersion = strings.TrimSpace(string(gv))
		}
	}
	if v, err := ERTVersionNextTo(p); err != nil {
		e.ERTNote = err.Error()
	} else {
		e.ERTVersion = v
	}
	return e
}

// erthostBanner is the format string Edgeless RT's host program logs at
// start, `OE_TRACE_INFO("erthost v" OE_VERSION)` (edgelesssys/edgelessrt
// src/tools/erthost/erthost.cpp, present since before v0.3.6), which
// leaves the version as a literal in the binary.
var erthostBanner = regexp.MustCompile(`erthost v([0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+\-]*)`)

// ERTVersionNextTo reads the Edgeless RT version from the ego-host
// program installed beside the ego launcher at egoPath (symbolic links
// followed, as EGo finds ego-host relative to its own executable).
func ERTVersionNextTo(egoPath string) (string, error) {
	real, err := filepath.EvalSymlinks(egoPath)
	if err != nil {
		return "", fmt.Errorf("Edgeless RT version unknown: %v", err)
	}
	hostBin := filepath.Join(filepath.Dir(real), "ego-host")
	b, err := os.ReadFile(hostBin)
	if err != nil {
		return "", fmt.Errorf("Edgeless RT version unknown: %v", err)
	}
	return ParseERTVersion(hostBin, b)
}

// ParseERTVersion finds the one Edgeless RT version named in the contents
// b of an ego-host binary; none, or two different ones, is an error.
func ParseERTVersion(name string, b []byte) (string, error) {
	var found string
	for _, m := range erthostBanner.FindAllSubmatch(b, -1) {
		v := string(m[1])
		if found != "" && found != v {
			return "", fmt.Errorf("Edgeless RT version unknown: %s names both v%s and v%s", name, found, v)
		}
		found = v
	}
	if found == "" {
		return "", fmt.Errorf("Edgeless RT version unknown: %s does not contain erthost's version banner", name)
	}
	return found, nil
}
