// Command bench is the enclavebench harness: it runs a standardized suite of
// workloads natively, inside EGo enclaves (sgx, ego-sim) or under the sim
// model, across Azure DCsv2/DCsv3 VM sizes, and turns the results into
// reports and regression verdicts.
//
// Usage:
//
//	bench <command> [flags]
//
// Run `bench help` for the list of commands and `bench <command> --help` for
// each command's flags and examples.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	_ "github.com/enclavebench/enclavebench/bench/mode/all" // the mode registry: the command is the one importer
	"github.com/enclavebench/enclavebench/bench/session"
)

// command is one subcommand; each lives in its own file and registers itself.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// Exit codes (documented in the README).
const (
	exitOK     = 0
	exitFailed = 1 // cells failed, regression found, verification failed
	exitUsage  = 2 // bad input: unknown flag, workload, size, mode, parameter; bad files
	exitSignal = 130
)

// usageError marks bad input: it exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a specific exit code with a message ("" prints nothing).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err and maps it to the process's exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "bench:", ee.msg)
		}
		return ee.code
	}
	var (
		interrupted *session.Interrupted
		failed      *session.CellsFailed
	)
	switch {
	case errors.As(err, &interrupted):
		fmt.Fprintln(stderr, "bench:", interrupted)
		return exitSignal
	case errors.As(err, &failed):
		fmt.Fprintln(stderr, "bench:", failed)
		return exitFailed
	}
	fmt.Fprintln(stderr, "bench:", err)
	var (
		ue usageError
		ie *session.InputError
	)
	if errors.As(err, &ue) || errors.As(err, &ie) {
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		return exitSignal
	}
	return exitFailed
}

// run is the whole command, testable without a process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(ctx, []string{"--help"}, stdout, stderr)
			}
		}
		usage(stdout)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, "bench", harnessVersion())
		return nil
	}
	c, ok := commands[name]
	if !ok {
		return usagef("unknown command %q (valid: %s)", name, strings.Join(commandNames(), ", "))
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprint(w, `bench: the enclavebench harness. Measures what an Intel SGX enclave costs.

Usage:
  bench <command> [flags]

Commands:
`)
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Modes: native (plain process), sgx (EGo on SGX hardware), ego-sim (EGo's
simulation mode), sim (enclavebench's own model: real runs, counted enclave
events, priced by a cited cost profile).

Examples:
  bench list
  bench sizes --sizes dcsv2
  bench run --workloads syscall,memsweep --sizes DC1s_v2,DC2s_v2 --modes native --profile quick
  bench env

Run 'bench <command> --help' for the flags of a command.
`)
}

// newFlagSet makes a flag set whose --help prints the summary, the flags
// and the examples.
func newFlagSet(name, synopsis, examples string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: bench %s\n\nFlags:\n%s", synopsis, fs.FlagUsages())
		if examples != "" {
			fmt.Fprintf(stderr, "\nExamples:\n%s", examples)
		}
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}
