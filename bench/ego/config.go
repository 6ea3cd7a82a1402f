package ego

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/enclave"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Config is enclave.json as `ego sign` reads it (edgelesssys/ego
// ego/config/config.go; docs/docs/reference/config.md).
type Config struct {
	Exe             string  `json:"exe"`
	Key             string  `json:"key"`
	Debug           bool    `json:"debug"`
	HeapSize        int     `json:"heapSize"` // MB
	ExecutableHeap  bool    `json:"executableHeap"`
	ProductID       int     `json:"productID"`
	SecurityVersion int     `json:"securityVersion"`
	Mounts          []Mount `json:"mounts,omitempty"`
	Env             []Env   `json:"env,omitempty"`
}

// Mount is one file system mount of the enclave.
type Mount struct {
	Source   string `json:"source,omitempty"`
	Target   string `json:"target"`
	Type     string `json:"type"` // hostfs or memfs
	ReadOnly bool   `json:"readOnly"`
}

// Env is one environment variable of the enclave: a fixed value, or taken
// from the host when FromHost is set (EGo drops every other host variable
// except those starting with EDG_: ego/premain/core/core.go addEnvVars).
type Env struct {
	Name     string `json:"name"`
	Value    string `json:"value,omitempty"`
	FromHost bool   `json:"fromHost,omitempty"`
}

// JSON returns the file's bytes, the input of the signing cache key.
func (c Config) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Facts of `ego sign` (edgelesssys/ego ego/cli/sign.go signWithJSON): it
// writes NumStackPages=1024 and NumTCS=32 for every enclave, and an
// SGX1 enclave commits all of its pages when it is created.
const (
	numTCS         = 32
	stackBytes     = 1024 * 4096
	stacksBytes    = numTCS * stackBytes
	maxHeapMBSmall = 16384 // above needs ego-go build -tags ego_largeheap (ego/cli/elf.go checkHeapMode)
)

// Thread limits. Edgeless RT sets EGOMAXTHREADS to NumTCS-2 when unset and
// lowers GOMAXPROCS to NumTCS-4 when the machine has more cores than that
// (edgelesssys/ego src/enc.cpp _set_concurrency_limits); the Go fork reads
// EGOMAXTHREADS in schedinit and refuses to start an M beyond it
// (edgelesssys/ertgo src/runtime/proc.go, "EDG: limit max threads").
const (
	egoMaxThreads = numTCS - 2
	maxGOMAXPROCS = numTCS - 4
)

// Heap sizing. heapSize = Mapped + HeapFactor*GoHeap + HeapBaseMB, from the
// cell's workload.Memory, rounded up to heapStepMB. Edgeless RT serves both
// the Go runtime's heap and the workload's own mmap (workloads/arena) from
// heapSize, but they grow differently:
//   - Mapped counts once: a mapping takes its bytes and nothing more
//     (EGo v1.6.0 in simulation mode ran aesgcm's 336 MiB arena in
//     heapSize 352, and refused the mmap at 336: docs/ego.md, "Heap sizes").
//   - HeapFactor 2 on GoHeap: with GOGC=100 the Go collector lets the heap
//     grow to twice the live heap before it collects (runtime/mgcpacer.go,
//     heap goal = live*(1+GOGC/100)), and it keeps what it got (Edgeless
//     RT's madvise releases nothing).
//   - HeapBaseMB 64: the Go runtime's own metadata and goroutine stacks,
//     EGo's premain, memfs bookkeeping and protocol buffers. EGo's
//     integration test runs a small Go program in heapSize 16
//     (ego/cmd/integration-test/enclave.json); 64 leaves 4x that for our
//     larger binary.
//   - heapStepMB 16: a multiple of EGo's 4 MiB heap arenas
//     (edgelesssys/ertgo src/runtime/edgeless_nolargeheap_linux_amd64.go,
//     logHeapArenaBytes=22) that keeps the number of distinct enclave
//     configurations, hence signatures, small.
//
// EGo's docs suggest at least 512 MB (docs/docs/reference/config.md); that
// would be 18 times the EPC of DC1s_v2 and would page at every enclave
// creation, so the heap follows the workload instead.
const (
	HeapFactor = 2
	HeapBaseMB = 64
	heapStepMB = 16
)

// Params are the inputs of the enclave.json of one cell.
type Params struct {
	Exe   string // relative to the directory of enclave.json
	Key   string // relative to the directory of enclave.json
	Debug bool
	// Memory is where the workload's memory lives.
	Memory workload.Memory
	Size   sizes.Size
	// ScratchRoot is the host directory holding the cells' scratch
	// directories. It is mounted (hostfs) at the same path inside the
	// enclave, so every host path the harness passes in arguments is valid
	// inside as well and one configuration serves every cell; "" mounts
	// none.
	ScratchRoot string
	// HostDirs are host directories mounted read-only (hostfs) at the same
	// paths: a user benchmark's package directory, where go test runs it.
	HostDirs []string
	// FromHost names host environment variables the enclave receives.
	FromHost []string
	// PreciseClock lists ERT_DISABLE_VDSO_CLOCK=1 in the enclave's
	// environment. It takes effect on the host process, where Edgeless RT
	// reads it (Options.PreciseClock); inside it only tells the workload
	// that clock_gettime is an OCALL.
	PreciseClock bool
}

// vdsoClockEnv makes Edgeless RT serve clock_gettime by OCALL instead of
// the vDSO's coarse clock (edgelessrt src/ert/host/vdso.cpp).
const vdsoClockEnv = "ERT_DISABLE_VDSO_CLOCK"

// ErrEnclaveConfig marks a cell whose enclave cannot be configured (its
// heap would not fit the size's memory): bad input, reported before any run.
// It matches mode.ErrConfig.
var ErrEnclaveConfig = mode.ConfigError("enclave configuration")

// HeapMB returns the heapSize for a cell's memory.
func HeapMB(m workload.Memory) int {
	need := max(m.Mapped, 0) + HeapFactor*max(m.GoHeap, 0)
	mb := (need+(1<<20-1))>>20 + HeapBaseMB
	return int((mb + heapStepMB - 1) / heapStepMB * heapStepMB)
}

// describeMemory says what a heap size was computed from, for errors.
func describeMemory(m workload.Memory) string {
	return fmt.Sprintf("%d MiB mapped + %dx %d MiB of Go heap + %d MB for the Go runtime",
		m.Mapped>>20, HeapFactor, m.GoHeap>>20, HeapBaseMB)
}

// EnclaveBytes estimates the memory an enclave with heapSize heapMB commits
// at creation: its heap and the 32 thread stacks `ego sign` configures
// (the code and data of the binary come on top).
func EnclaveBytes(heapMB int) int64 { return int64(heapMB)<<20 + stacksBytes }

// Threads returns GOMAXPROCS and EGOMAXTHREADS for a size's vCPUs.
//
// GOMAXPROCS is the size's vCPUs, capped where EGo caps it, so a workload
// schedules as it would on the VM. EGOMAXTHREADS stays at EGo's default
// (NumTCS-2): it limits every OS thread of the Go runtime, including
// threads blocked in OCALLs and sysmon, so setting it to the vCPUs (1 on
// DC1s_v2) would stall all goroutines behind one blocking host call, which
// no VM of that size does.
func Threads(vcpus int) (gomaxprocs, egomaxthreads int) {
	return min(max(vcpus, 1), maxGOMAXPROCS), egoMaxThreads
}

// EnclaveConfig returns the enclave.json of a cell. It fails (wrapping
// ErrEnclaveConfig) when the enclave would not fit the size's memory.
func EnclaveConfig(p Params) (Config, error) {
	if p.Exe == "" || p.Key == "" {
		return Config{}, errors.New("enclave.json needs exe and key")
	}
	heap := HeapMB(p.Memory)
	if mem := p.Size.MemBytes(); mem > 0 && EnclaveBytes(heap) > mem {
		return Config{}, fmt.Errorf("%w: %s needs heapSize %d MB plus %d MiB of thread stacks, more than %s's %d GiB of memory",
			ErrEnclaveConfig, describeMemory(p.Memory), heap, stacksBytes>>20, p.Size.Name, p.Size.MemoryGiB)
	}
	if heap > maxHeapMBSmall {
		return Config{}, fmt.Errorf("%w: %s needs heapSize %d MB, above the %d MB EGo allows without building with -tags ego_largeheap",
			ErrEnclaveConfig, describeMemory(p.Memory), heap, maxHeapMBSmall)
	}
	procs, threads := Threads(p.Size.VCPUs)
	c := Config{
		Exe:             p.Exe,
		Key:             p.Key,
		Debug:           p.Debug,
		HeapSize:        heap,
		ProductID:       1,
		SecurityVersion: 1,
		Env: []Env{
			{Name: "GOMAXPROCS", Value: strconv.Itoa(procs)},
			{Name: "EGOMAXTHREADS", Value: strconv.Itoa(threads)},
		},
	}
	if p.PreciseClock {
		c.Env = append(c.Env, Env{Name: vdsoClockEnv, Value: "1"})
	}
	if p.ScratchRoot != "" {
		c.Mounts = append(c.Mounts, Mount{Source: p.ScratchRoot, Target: p.ScratchRoot, Type: "hostfs"})
	}
	for _, d := range p.HostDirs {
		c.Mounts = append(c.Mounts, Mount{Source: d, Target: d, Type: "hostfs", ReadOnly: true})
	}
	c.Mounts = append(c.Mounts, Mount{Target: enclave.MemfsDir, Type: "memfs"})
	names := slices.Clone(p.FromHost)
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		if n == "" || fixedEnv(n) {
			continue
		}
		c.Env = append(c.Env, Env{Name: n, FromHost: true})
	}
	return c, nil
}

// fixedEnv reports variables the configuration sets itself or that EGo
// passes on its own (EDG_*); listing them again would make `ego sign` fail
// on a duplicate, or let the host override the size's thread limits.
func fixedEnv(name string) bool {
	switch name {
	case "GOMAXPROCS", "EGOMAXTHREADS", vdsoClockEnv:
		return true
	}
	return len(name) >= 4 && name[:4] == "EDG_"
}
