// Package mode defines how a cell's workload process is launched: natively,
// inside an EGo enclave (sgx, ego-sim), or under the sim emulation. Every
// mode produces the same line protocol; only the launch differs.
//
// A mode is a Mode (how to launch a cell) plus a Descriptor (the facts about
// it: rank, kind, enclave or not, load time, host requirements, labels),
// registered with Register from the mode's own package. The optional
// interfaces a mode may implement (ExitReporter, RunDescriber, BinaryUser) are declared
// here too.
package mode

import (
	"context"
	"os/exec"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Native is the name of the mode this package registers; the other modes
// name themselves in their own packages (sgx and ego-sim in bench/ego, sim
// in bench/sim).
const Native = "native"

func init() {
	Register(Descriptor{
		Name: Native, Rank: 0, Kind: Measured, Label: Native,
		Summary: "a plain process on the host: the baseline",
		New:     func(Config) (Mode, error) { return NativeMode{}, nil },
	})
}

// Launch is everything a mode needs to start one cell.
type Launch struct {
	Cell   result.Cell
	Size   sizes.Size
	Binary string          // the workload binary built by plain go
	Args   []string        // the workload binary's arguments
	Memory workload.Memory // where the workload's memory lives: sizes an enclave's heap
	Env    []string        // extra environment (KEY=VALUE)
	Dir    string          // scratch directory of the cell
}

// Mode launches workload processes.
type Mode interface {
	Name() string
	// Check says whether the mode can run on this host; its error says
	// what is missing and how to get it.
	Check(ctx context.Context) error
	// Prepare runs once before any cell (build, sign, cache).
	Prepare(ctx context.Context, cells []Launch) error
	// Command returns the process of one cell; the runner sets its
	// stdout, stderr, CPU affinity and timeout.
	Command(ctx context.Context, l Launch) (*exec.Cmd, error)
	// Explain turns a failed cell's stderr and exit code into a one-line
	// explanation with the fix, or "" when it has none.
	Explain(stderr string, exitCode int) string
	// Finish post-processes a sample before it is stored (the sim mode
	// attaches its prediction); it may be a no-op.
	Finish(l Launch, s *result.Sample, extra map[string]string) error
}

// NativeMode runs the workload binary as a plain process.
type NativeMode struct{}

// Name implements Mode.
func (NativeMode) Name() string { return Native }

// Check implements Mode.
func (NativeMode) Check(context.Context) error { return nil }

// Prepare implements Mode.
func (NativeMode) Prepare(context.Context, []Launch) error { return nil }

// Command implements Mode.
func (NativeMode) Command(ctx context.Context, l Launch) (*exec.Cmd, error) {
	cmd := exec.CommandContext(ctx, l.Binary, l.Args...)
	cmd.Env = append(cmd.Environ(), l.Env...)
	cmd.Dir = l.Dir
	return cmd, nil
}

// Explain implements Mode.
func (NativeMode) Explain(string, int) string { return "" }

// Finish implements Mode.
func (NativeMode) Finish(Launch, *result.Sample, map[string]string) error { return nil }
