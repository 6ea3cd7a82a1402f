package trace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Counts are the transitions counted so far.
type Counts struct {
	OCalls int64 `json:"ocalls"`
	ECalls int64 `json:"ecalls"`
	// Notifications is every system call the supervisor saw, counted or not
	// (futex calls that stay inside the enclave included).
	Notifications int64 `json:"notifications"`
	// ClockOCalls are the OCALLs that follow the clock rather than the
	// workload's operations: those of threads that sleep on the clock (the
	// Go runtime's sysmon: nanosleep of 20 us or more, its netpoll checks,
	// wakes and preemption) and the waits their wakes end. Included in OCalls.
	ClockOCalls int64 `json:"clock_ocalls"`
	// BySyscall splits OCalls by cause: the system call's name, or
	// futex_wait, futex_wake, thread_create, CauseHostMalloc,
	// CauseHostFree; ClockPrefix marks the ones counted in ClockOCalls.
	BySyscall map[string]int64 `json:"by_syscall,omitempty"`
	// Stacks splits the same OCALLs, and the ECALLs (StackECall), by cause
	// and call stack when the supervisor takes stacks (Supervisor.Sites
	// decodes the keys); every counted transition is in it once.
	Stacks map[string]int64 `json:"-"`
}

// ClockPrefix marks a cause whose OCALLs follow the clock.
const ClockPrefix = "clock:"

// Causes of the OCALLs Open Enclave makes for a forwarded call whose
// arguments exceed its OCALL buffer (HostAllocs): EGo's HandleMalloc and
// HandleFree.
const (
	CauseHostMalloc = "oe_host_malloc"
	CauseHostFree   = "oe_host_free"
)

// Sub returns c - o.
func (c Counts) Sub(o Counts) Counts {
	d := Counts{OCalls: c.OCalls - o.OCalls, ECalls: c.ECalls - o.ECalls, Notifications: c.Notifications - o.Notifications, ClockOCalls: c.ClockOCalls - o.ClockOCalls}
	for k, v := range c.BySyscall {
		if x := v - o.BySyscall[k]; x != 0 {
			if d.BySyscall == nil {
				d.BySyscall = map[string]int64{}
			}
			d.BySyscall[k] = x
		}
	}
	for k, v := range c.Stacks {
		if x := v - o.Stacks[k]; x != 0 {
			if d.Stacks == nil {
				d.Stacks = map[string]int64{}
			}
			d.Stacks[k] = x
		}
	}
	for k, v := range o.Stacks {
		if _, ok := c.Stacks[k]; !ok && v != 0 {
			if d.Stacks == nil {
				d.Stacks = map[string]int64{}
			}
			d.Stacks[k] = -v
		}
	}
	return d
}

// Add returns c + o.
func (c Counts) Add(o Counts) Counts {
	d := Counts{OCalls: c.OCalls + o.OCalls, ECalls: c.ECalls + o.ECalls, Notifications: c.Notifications + o.Notifications, ClockOCalls: c.ClockOCalls + o.ClockOCalls}
	for _, m := range []map[string]int64{c.BySyscall, o.BySyscall} {
		for k, v := range m {
			if d.BySyscall == nil {
				d.BySyscall = map[string]int64{}
			}
			d.BySyscall[k] += v
		}
	}
	for _, m := range []map[string]int64{c.Stacks, o.Stacks} {
		for k, v := range m {
			if d.Stacks == nil {
				d.Stacks = map[string]int64{}
			}
			d.Stacks[k] += v
		}
	}
	return d
}

// Top lists the n largest causes as "name=count", largest first.
func (c Counts) Top(n int) []string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range c.BySyscall {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, fmt.Sprintf("%s=%d", all[i].k, all[i].v))
	}
	return out
}

// ProfileFile is the name of the file, in the cell's scratch directory,
// where the sim workload binary writes its counting pass's transitions by
// call stack (pprof format, gzipped). The sim mode prices it and keeps it
// with the results.
const ProfileFile = "sim-sites.pb.gz"

// Sample types of the counting pass's profile (values per sample, in
// this order) and its labels.
const (
	SampleOCalls = "ocalls"
	SampleECalls = "ecalls"
	LabelCause   = "cause" // the OCALL's cause (Counts.BySyscall's names, without ClockPrefix)
	LabelClock   = "clock" // "yes": the OCALL follows the clock, not the operations
	LabelNoStack = "no_stack"
)

// StackECall is the cause under which Counts.Stacks counts ECALLs (a new
// thread entering the enclave), beside the OCALL causes of BySyscall.
const StackECall = "ecall"

// PassVersion is the version of the Pass record.
const PassVersion = 1

// PassFile is the name of the file, in the cell's scratch directory
// (--tmpdir), where the sim workload binary writes its counting pass.
const PassFile = "sim-pass.json"

// Pass is the result of a counting pass: the transitions counted while the
// workload performed Ops operations. The sim mode turns them into
// per-operation rates and multiplies them by each timed repetition's
// operations.
type Pass struct {
	Version int    `json:"version"`
	Method  string `json:"method"`
	// Ops is how many operations the counted repetitions performed
	// (requests, for a driven workload).
	Ops int64 `json:"ops"`
	// ElapsedNS is their duration, inflated by the notifications.
	ElapsedNS int64  `json:"elapsed_ns"`
	Counts    Counts `json:"counts"`
	// Unavailable says why nothing was counted (seccomp denied...); the
	// other fields are then zero.
	Unavailable string `json:"unavailable,omitempty"`
	// Stacks says how the transitions' call stacks were taken (and into
	// which file of the cell's scratch directory), or why not; "" when
	// they were not asked for.
	Stacks string `json:"stacks,omitempty"`
	// LLC says how LLC misses were counted in the timed pass, or why they
	// were not ("unavailable: ...").
	LLC string `json:"llc,omitempty"`
	// HostLLCMissNS is the measured latency of one LLC miss on this host
	// (set only when LLC misses are counted).
	HostLLCMissNS float64 `json:"host_llc_miss_ns,omitempty"`
	// EPC is the paging pass of the same cell (the whole process on the
	// software EPC), for workloads whose samples the harness makes
	// (driven): the events of EPC.Ops operations.
	EPC *EPCPass `json:"epc,omitempty"`
}

// Prefixes of the paging pass's events that split its EPC loads and
// evictions by the region of memory the page belongs to (RegionLoads +
// "go_heap", ...); only EPCPass.Events holds them.
const (
	RegionLoads     = "region_loads."
	RegionEvictions = "region_evictions."
)

// EPCPass is what a paging pass counted: Events (epc_loads, epc_evictions,
// ...) over Ops operations lasting ElapsedNS.
type EPCPass struct {
	Ops       int64            `json:"ops"`
	ElapsedNS int64            `json:"elapsed_ns"`
	Events    map[string]int64 `json:"events"`
}

// Rate is the counted transitions per operation.
func (p *Pass) Rate() (ocalls, ecalls float64) {
	if p == nil || p.Ops <= 0 {
		return 0, 0
	}
	return float64(p.Counts.OCalls) / float64(p.Ops), float64(p.Counts.ECalls) / float64(p.Ops)
}

// WritePass writes p to dir/PassFile atomically.
func WritePass(dir string, p *Pass) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, PassFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, PassFile))
}

// ReadPass reads dir/PassFile.
func ReadPass(dir string) (*Pass, error) {
	b, err := os.ReadFile(filepath.Join(dir, PassFile))
	if err != nil {
		return nil, err
	}
	var p Pass
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, PassFile), err)
	}
	if p.Version != PassVersion {
		return nil, fmt.Errorf("%s: version %d, this harness reads %d", filepath.Join(dir, PassFile), p.Version, PassVersion)
	}
	return &p, nil
}

// Probe is what the sim workload binary's --sim-probe reports about this
// host: "" means available, otherwise the one-line reason naming what is
// missing.
type Probe struct {
	Seccomp string `json:"seccomp"`
	UFFD    string `json:"uffd"`
	LLC     string `json:"llc"`
	// RSSBytes is the binary's own resident memory after start-up: its
	// executable's pages, heap, stacks and anonymous memory; shared
	// libraries (libc, libcrypto of the software EPC) are left out.
	RSSBytes int64 `json:"rss_bytes"`
	// NotifyNS is what one notified system call costs on this host.
	NotifyNS float64 `json:"notify_ns,omitempty"`
	// FaultTrapNS is the software EPC's cost per fault beyond its handler's
	// own time (the kernel's userfault round trip), per fault.
	FaultTrapNS float64 `json:"fault_trap_ns,omitempty"`
	// LLCMissNS is this host's latency of one access that misses the LLC
	// (a pointer chase over 128 MiB), measured whether or not the host
	// can count LLC misses: it prices the counting pass's simulated ones.
	LLCMissNS float64 `json:"llc_miss_ns,omitempty"`
	// Process is why the whole process cannot be put on the software EPC
	// ("" when it can): a binary built without the process-EPC overlay.
	Process string `json:"process"`
	// ImageBytes is the resident memory of a process-EPC start-up outside
	// the process EPC and shared libraries: the executable's pages, its
	// bss, the C heap and the threads' system stacks. It is the enclave
	// image's baseline.
	ImageBytes int64 `json:"image_bytes,omitempty"`
	// RuntimeBytes is the process EPC's resident memory at the same point:
	// the Go heap, stacks and runtime metadata after start-up.
	RuntimeBytes int64 `json:"runtime_bytes,omitempty"`
}
