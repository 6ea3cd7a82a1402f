// Package sim is the sim mode: what a workload would cost in an SGX enclave
// on an Azure DCsv2/DCsv3 size, predicted on any Linux x86-64 machine. It is
// a model, and every figure it stores says so (result.Sample.Model).
//
// A sim cell runs the sim build of the workload binary (scripts/build-sim.sh,
// with the runtime overlay of workloads/swepc) three times over, in one
// process tree:
//
//  1. a paging pass: the workload runs in a child whose whole Go memory
//     (heap, stacks, runtime metadata, the arena) is on the software EPC
//     (workloads/swepc), capped at the size's EPC less the enclave image,
//     so pages are really evicted and loaded, and counted; never timed: it
//     yields EPC loads and evictions per operation;
//  2. a counting pass: the workload runs in a child under seccomp user
//     notification, and its parent counts the system calls EGo would
//     forward to the host (OCALLs) and the threads it would create (ECALLs)
//     (workloads/trace). Notifications cost microseconds, so this pass is
//     never timed: it yields transitions per operation;
//  3. the timed pass: each repetition runs its operations on plain memory
//     (timed: the workload's native time in this very process) and gets
//     the two passes' rates times its operations.
//
// Finish then predicts each sample (Predict): the repetition's measured
// time plus every event counted for it, priced by the cost profile
// (OCALLs and ECALLs at the counting pass's rates times the sample's
// operations, EPC loads and evictions of the same operations, and LLC
// misses times the memory-encryption factor: the host's where it can count
// them, else the simulated ones of bench run --counts), so the prediction is never below the measured base
// (bench/sim/paired reads the pairs back for reports). Where this host
// denies userfaultfd or seccomp, the mode says so once and falls back to
// counts-free samples: measured values, no prediction, Model.CountsOnly =
// the reason.
package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

// BuildCommand builds the sim workload binary.
const BuildCommand = "scripts/build-sim.sh bin/workload-sim"

// SimBinName is the sim workload binary's default name, next to the workload binary.
const SimBinName = "workload-sim"

// SimBinEnv names the environment variable that points at the sim workload binary.
const SimBinEnv = "ENCLAVEBENCH_WORKLOAD_SIM"

// minCapBytes is the smallest software EPC (swepc.MinCapPages pages).
const minCapBytes = 8 << 12

// Options configure the sim mode.
type Options struct {
	// Profile prices the events; nil: Default() (published figures).
	Profile *Profile
	// ProfileSource says where Profile came from (a file path), for run.json.
	ProfileSource string
	// WorkloadSimBin is the sim build of the workload binary. Default:
	// $ENCLAVEBENCH_WORKLOAD_SIM, else "workload-sim" next to WorkloadBin,
	// next to $ENCLAVEBENCH_WORKLOAD, or next to the running executable.
	WorkloadSimBin string
	// WorkloadBin is the plain workload binary, to find WorkloadSimBin.
	WorkloadBin string
	// Stderr receives the one-line notices (fallbacks); default os.Stderr.
	Stderr io.Writer
}

// Mode is the sim mode (mode.Mode).
type Mode struct {
	o       Options
	prof    *Profile
	bin     string
	probe   trace.Probe
	checked bool
	// denied is why predictions are impossible here ("" when they are not).
	denied string

	mu     sync.Mutex
	passes map[string]*trace.Pass
}

// New returns the sim mode.
func New(o Options) *Mode {
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	p := o.Profile
	if p == nil {
		p = Default()
		if o.ProfileSource == "" {
			o.ProfileSource = "built-in"
		}
	}
	return &Mode{o: o, prof: p, passes: map[string]*trace.Pass{}}
}

// Name implements mode.Mode.
func (m *Mode) Name() string { return Name }

// Profile is the cost profile in use.
func (m *Mode) Profile() *Profile { return m.prof }

// Probe is what Check found about this host.
func (m *Mode) Probe() trace.Probe { return m.probe }

// ProfileRef is the run.json record of the profile, with what this host
// let the model use.
func (m *Mode) ProfileRef() *result.CostProfileRef {
	src := m.o.ProfileSource
	var notes []string
	if m.denied != "" {
		notes = append(notes, "counts-free: "+m.denied)
	}
	if m.checked && m.probe.LLC != "" {
		notes = append(notes, "no LLC-miss counter on this host: the memory-encryption factor applies to the counting pass's simulated LLC misses with a stream prefetcher (bench run --counts: ll_misses_pf), each at (mee_factor-1) x the profile's dram_latency_ns, else not at all")
		if m.probe.LLCMissNS > 0 {
			notes = append(notes, fmt.Sprintf("LLC miss latency here %.0f ns (pointer chase over 128 MiB; not a price)", m.probe.LLCMissNS))
		}
	}
	if len(notes) > 0 {
		src += "; " + strings.Join(notes, "; ")
	}
	return &result.CostProfileRef{Name: m.prof.Name, Version: m.prof.Version, Digest: m.prof.Digest(), Source: src}
}

// UsableEPCBytes is the usable EPC of each size this host's probe and the
// profile give (sizes without prices or below the baseline are left out).
func (m *Mode) UsableEPCBytes(szs []sizes.Size) map[string]int64 {
	if !m.checked || m.probe.UFFD != "" {
		return nil
	}
	out := map[string]int64{}
	for _, s := range szs {
		pr, err := m.prof.For(s.Family)
		if err != nil {
			continue
		}
		if c, err := UsableEPC(s, m.probe.ImageBytes+m.probe.RuntimeBytes, pr); err == nil {
			out[s.Name] = c
		}
	}
	return out
}

// Binary implements mode.BinaryUser: the sim workload binary Check found.
func (m *Mode) Binary() string { return m.bin }

// findBin locates the sim workload binary.
func (m *Mode) findBin() (string, error) {
	cands := []string{m.o.WorkloadSimBin, os.Getenv(SimBinEnv)}
	explicit := cands[0] != "" || cands[1] != ""
	for _, w := range []string{m.o.WorkloadBin, os.Getenv("ENCLAVEBENCH_WORKLOAD")} {
		if w != "" {
			cands = append(cands, filepath.Join(filepath.Dir(w), SimBinName))
		}
	}
	if exe, err := os.Executable(); err == nil {
		cands = append(cands, filepath.Join(filepath.Dir(exe), SimBinName))
	}
	for i, c := range cands {
		if c == "" {
			continue
		}
		st, err := os.Stat(c)
		if err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return filepath.Abs(c)
		}
		if i < 2 && explicit {
			return "", fmt.Errorf("the sim workload binary %s is not usable (%v); build it with `%s`", c, err, BuildCommand)
		}
	}
	return "", fmt.Errorf("the sim mode needs the sim build of the workload binary (%s, next to the workload binary or $%s): build it with `%s`", SimBinName, SimBinEnv, BuildCommand)
}

// Check implements mode.Mode: it finds the sim workload binary and probes
// what this host permits (userfaultfd, seccomp user notification, LLC-miss
// counters). A missing binary is an error; a denied permission is a
// one-line notice and the counts-free fallback.
func (m *Mode) Check(ctx context.Context) error {
	bin, err := m.findBin()
	if err != nil {
		return err
	}
	m.bin = bin
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(pctx, bin, "--sim-probe")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("probing %s --sim-probe: %v: %s (rebuild it with `%s`)", bin, err, strings.TrimSpace(errb.String()), BuildCommand)
	}
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m.probe); err != nil {
		return fmt.Errorf("%s --sim-probe printed no probe result (%v): is it the sim build of this harness's version? rebuild it with `%s`", bin, err, BuildCommand)
	}
	if m.probe.UFFD == "" && m.probe.Process != "" {
		return fmt.Errorf("%s cannot put the whole process on the software EPC: %s", bin, m.probe.Process)
	}
	m.checked = true
	var why []string
	if m.probe.UFFD != "" {
		why = append(why, "software EPC unavailable: "+m.probe.UFFD)
	}
	if m.probe.Seccomp != "" {
		why = append(why, "OCALL counting unavailable: "+m.probe.Seccomp)
	}
	if len(why) > 0 {
		m.denied = strings.Join(why, "; ")
		fmt.Fprintf(m.o.Stderr, "sim: no prediction on this host, samples are counts-free and labelled so (%s)\n", m.denied)
	}
	return nil
}

// Prepare implements mode.Mode: every cell's VM family must have prices.
func (m *Mode) Prepare(_ context.Context, cells []mode.Launch) error {
	for _, l := range cells {
		if _, err := m.prof.For(l.Size.Family); err != nil {
			return fmt.Errorf("%v: pass --profile-file with prices for %s, or leave out its sizes", err, l.Size.Family)
		}
	}
	return nil
}

// UsableEPC is the software EPC's cap for a size: the catalog EPC minus the
// enclave's own baseline footprint, which is the workload binary's resident
// memory before it allocates its arena (baseline, measured by the probe:
// Go runtime, heap, stacks, the executable's pages) plus the runtime
// overhead the profile names (EGo's own pages).
func UsableEPC(s sizes.Size, baseline int64, pr *Prices) (int64, error) {
	c := s.EPCBytes - baseline - pr.EnclaveOverheadBytes
	if c < minCapBytes {
		return 0, fmt.Errorf("%s's EPC (%d bytes) is smaller than the enclave's baseline (%d bytes measured + %d bytes of runtime overhead)",
			s.Name, s.EPCBytes, baseline, pr.EnclaveOverheadBytes)
	}
	return c, nil
}

// Command implements mode.Mode: the sim workload binary with the software
// EPC capped at the usable EPC and the counting pass.
func (m *Mode) Command(ctx context.Context, l mode.Launch) (*exec.Cmd, error) {
	if m.bin == "" {
		if err := m.Check(ctx); err != nil {
			return nil, err
		}
	}
	pr, err := m.prof.For(l.Size.Family)
	if err != nil {
		return nil, err
	}
	// The model prices the cell's EPC paging from what the workload
	// counts: a user's benchmark that cannot count it says so on its
	// samples (protocol.ExtraUncounted, read by Finish).
	args := append(append([]string(nil), l.Args...), "--epc-priced")
	if m.denied != "" {
		// Counts-free: the plain workload, so the stored values are
		// measurements (labelled), never an emulation's distorted time.
		cmd := exec.CommandContext(ctx, m.bin, args...)
		cmd.Env = append(cmd.Environ(), l.Env...)
		cmd.Dir = l.Dir
		return cmd, nil
	}
	if m.probe.UFFD == "" {
		// The whole process is on the software EPC (a paging pass, see
		// workloads/cmd/workload): its cap leaves out only the enclave
		// image; the runtime's own pages are paged with the rest.
		c, err := UsableEPC(l.Size, m.probe.ImageBytes, pr)
		if err != nil {
			return nil, err
		}
		args = append(args, "--swepc-cap", strconv.FormatInt(c, 10), "--swepc-process")
	}
	if m.probe.Seccomp == "" {
		args = append(args, "--sim-count")
	}
	cmd := exec.CommandContext(ctx, m.bin, args...)
	cmd.Env = append(cmd.Environ(), l.Env...)
	cmd.Dir = l.Dir
	return cmd, nil
}

// Explain implements mode.Mode.
func (m *Mode) Explain(stderr string, _ int) string {
	switch {
	case strings.Contains(stderr, "integrity check failed"):
		return "the software EPC refused a tampered page (a bug of the emulation: please report it)"
	case strings.Contains(stderr, "userfaultfd"):
		return "the software EPC needs userfaultfd: set vm.unprivileged_userfaultfd=1 or grant CAP_SYS_PTRACE"
	case strings.Contains(stderr, "built without the software EPC"):
		return "the sim mode needs the sim build: " + BuildCommand
	}
	return ""
}

// pass returns the counting pass of a cell's process (cached per scratch dir).
func (m *Mode) pass(dir string) (*trace.Pass, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.passes[dir]; ok {
		return p, nil
	}
	p, err := trace.ReadPass(dir)
	if err != nil {
		return nil, err
	}
	if len(m.passes) > 64 {
		clear(m.passes) // scratch directories are per cell: no reuse
	}
	m.passes[dir] = p
	return p, nil
}

// Finish implements mode.Mode: it replaces the sample's values by the
// predicted ones and records the measured ones, the events and the
// emulation's cost in s.Model.
func (m *Mode) Finish(l mode.Launch, s *result.Sample, extra map[string]string) error {
	if u := extra[protocol.ExtraUncounted]; u != "" {
		defer func() {
			if s.Model != nil {
				s.Model.Uncounted = u
			}
		}()
	}
	ref := m.prof.Ref()
	if m.denied != "" {
		CountsOnly(s, nil, ref, m.denied)
		return nil
	}
	pr, err := m.prof.For(l.Size.Family)
	if err != nil {
		return err
	}
	pass, err := m.pass(l.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			CountsOnly(s, nil, ref, "the sim workload wrote no counting pass ("+trace.PassFile+")")
			return nil
		}
		return err
	}
	if pass.Unavailable != "" {
		CountsOnly(s, nil, ref, "OCALLs not counted: "+pass.Unavailable)
		return nil
	}
	addEPCRate(s, pass.EPC)
	_, err = Predict(s, pass, pr, Emulation{FaultTrapNS: m.probe.FaultTrapNS}, ref)
	return err
}

// addEPCRate gives a sample the workload process could not count itself
// (a driven workload's: the harness makes its samples) the paging pass's
// EPC events per operation times its operations.
func addEPCRate(s *result.Sample, p *trace.EPCPass) {
	if p == nil || p.Ops <= 0 || s.Events[protocol.EventEPCPassOps] > 0 {
		return
	}
	if s.Events == nil {
		s.Events = map[string]int64{}
	}
	for k, v := range p.Events {
		if strings.HasPrefix(k, "epc_") && k != "epc_integrity_failures" {
			s.Events[k] = int64(math.Round(float64(v) * float64(s.Iters) / float64(p.Ops)))
		}
	}
	s.Events[protocol.EventEPCPassOps] = p.Ops
	s.Events[protocol.EventEPCPassNS] = p.ElapsedNS
}

// Keys of the counting pass in a sim cell's Extra (AfterExit).
const (
	ExtraPassOps    = "count_pass_ops"    // operations the counting pass counted
	ExtraPassNS     = "count_pass_ns"     // their duration, inflated by the notifications
	ExtraPassOCalls = "count_pass_ocalls" // OCALLs counted
	ExtraPassClock  = "count_pass_clock_ocalls"
	// ExtraPassCause prefixes one cause's OCALLs (trace.Counts.BySyscall:
	// a system call's name, futex_wait, futex_wake, thread_create; with
	// trace.ClockPrefix where they follow the clock), so the sim's count
	// can be set against EGo's per-function OCALL trace.
	ExtraPassCause = "count_pass."
)

// AfterExit implements mode.ExitReporter: it records the cell's counting
// pass in its Extra (the ExtraPass keys), causes included. Samples carry
// only the totals, scaled to each repetition.
func (m *Mode) AfterExit(l mode.Launch, _ []string, _ string, cr *result.CellResult) {
	if m.denied != "" {
		return
	}
	pass, err := m.pass(l.Dir)
	if err != nil || pass.Unavailable != "" || pass.Ops <= 0 {
		return
	}
	if cr.Extra == nil {
		cr.Extra = map[string]string{}
	}
	x := cr.Extra
	x[ExtraPassOps] = strconv.FormatInt(pass.Ops, 10)
	x[ExtraPassNS] = strconv.FormatInt(pass.ElapsedNS, 10)
	x[ExtraPassOCalls] = strconv.FormatInt(pass.Counts.OCalls, 10)
	x[ExtraPassClock] = strconv.FormatInt(pass.Counts.ClockOCalls, 10)
	for k, v := range pass.Counts.BySyscall {
		if v != 0 {
			x[ExtraPassCause+k] = strconv.FormatInt(v, 10)
		}
	}
}

var (
	_ mode.Mode         = (*Mode)(nil)
	_ mode.ExitReporter = (*Mode)(nil)
)
