package ssh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/enclavebench/enclavebench/bench/fleet"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
)

// Host is one VM of an SSH plan and its size.
type Host struct {
	Addr string // as ssh takes it: host, user@host, or a ~/.ssh/config alias
	Size sizes.Size
}

// SSHOptions configure an SSH plan.
type SSHOptions struct {
	Spec   runspec.Spec
	Hosts  []Host
	PlanID string
	// RemoteDir is the working directory on each host, relative to the
	// login directory (default "enclavebench").
	RemoteDir string
	// LocalBin holds the bench and workload binaries to copy (linux/amd64
	// builds; default "bin").
	LocalBin string
	// Results is the local directory the result directories are copied
	// into (default "results").
	Results string
	// Options are passed to ssh and scp as "-o OPTION", before the plan's
	// own (ssh keeps the first value of an option).
	Options []string
	// SSH and SCP are the commands (default "ssh" and "scp"; tests).
	SSH, SCP string
	// Git is the git command used to pack the source for the enclave
	// modes (default "git"); SourceDir is the module root (default ".").
	Git, SourceDir string
}

// Step is one command of a host's plan.
type Step struct {
	Name string
	Argv []string
	// Stdin, when set, is a local command whose output is piped into Argv
	// (the source tree as a tar stream).
	Stdin []string
	// AfterRun steps still run when the run step failed (copying back
	// what the run finished).
	AfterRun bool
}

// HostPlan is the commands for one host, in order.
type HostPlan struct {
	Host      Host
	Steps     []Step
	RemoteOut string // the run's result directory, relative to RemoteDir
	LocalOut  string // where it is copied to
}

// defaultSSHOptions come after the user's: no password prompts in a
// parallel run, a bounded connection time, and keepalives so a long run's
// connection is not dropped as idle.
var defaultSSHOptions = []string{"BatchMode=yes", "ConnectTimeout=20", "ServerAliveInterval=30"}

// SSHPlan returns the commands that run the suite on each host and copy
// its results back: make the working directory, copy the binaries (and,
// for the enclave modes, which build the workload with ego-go on the host,
// the committed source tree), run `bench run` into a result directory,
// copy the directory back with scp.
func SSHPlan(o SSHOptions) ([]HostPlan, error) {
	if len(o.Hosts) == 0 {
		return nil, errors.New("no hosts")
	}
	if err := fleet.ValidPlanID(o.PlanID); err != nil {
		return nil, err
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.RemoteDir, "enclavebench")
	def(&o.LocalBin, "bin")
	def(&o.Results, "results")
	def(&o.SSH, "ssh")
	def(&o.SCP, "scp")
	def(&o.Git, "git")
	def(&o.SourceDir, ".")
	if err := safeRemotePath(o.RemoteDir); err != nil {
		return nil, fmt.Errorf("--remote-dir: %v", err)
	}
	for _, p := range []string{o.LocalBin, o.Results, o.SourceDir} {
		if strings.HasPrefix(p, "-") {
			return nil, fmt.Errorf("local path %q starts with '-': write ./%s", p, p)
		}
	}
	var opts []string
	for _, opt := range append(append([]string(nil), o.Options...), defaultSSHOptions...) {
		opts = append(opts, "-o", opt)
	}
	seen := map[string]bool{}
	var plans []HostPlan
	for _, h := range o.Hosts {
		if err := ValidHost(h.Addr); err != nil {
			return nil, err
		}
		if _, _, err := fleet.Expand(o.Spec, h.Size); err != nil {
			return nil, fmt.Errorf("%s (%s): %v", h.Addr, h.Size.Name, err)
		}
		name := o.PlanID + "-" + h.Size.Name
		if seen[name] {
			name += "-" + fleet.SafeName(h.Addr)
		}
		seen[name] = true
		remoteOut := "results/" + name
		hp := HostPlan{Host: h, RemoteOut: remoteOut, LocalOut: filepath.Join(o.Results, name)}
		ssh := func(remote ...string) []string {
			return append(append(append([]string{o.SSH}, opts...), h.Addr), fleet.ShellJoin(remote))
		}
		hp.Steps = append(hp.Steps, Step{Name: "prepare", Argv: ssh("mkdir", "-p", o.RemoteDir+"/bin", o.RemoteDir+"/results")})
		if fleet.UsesEGo(o.Spec) {
			hp.Steps = append(hp.Steps, Step{Name: "upload source",
				Stdin: []string{o.Git, "-C", o.SourceDir, "archive", "--format=tar", "HEAD"},
				Argv:  ssh("tar", "-x", "-f", "-", "-C", o.RemoteDir)})
		}
		scp := append(append([]string{o.SCP, "-q"}, opts...),
			filepath.Join(o.LocalBin, "bench"), filepath.Join(o.LocalBin, "workload"), h.Addr+":"+o.RemoteDir+"/bin/")
		hp.Steps = append(hp.Steps, Step{Name: "upload binaries", Argv: scp})
		run := append([]string{"./bin/bench"}, fleet.RunArgs(o.Spec, h.Size, remoteOut)...)
		hp.Steps = append(hp.Steps, Step{Name: "run", Argv: ssh(append([]string{"cd", o.RemoteDir, "&&"}, run...)...)})
		fetch := append(append([]string{o.SCP, "-q", "-r"}, opts...), h.Addr+":"+o.RemoteDir+"/"+remoteOut, o.Results+"/")
		hp.Steps = append(hp.Steps, Step{Name: "copy results back", Argv: fetch, AfterRun: true})
		plans = append(plans, hp)
	}
	return plans, nil
}

// ValidHost checks an ssh destination: host, user@host or an alias; no
// option-like or shell-special characters (hosts go into printed shell
// lines and scp's host:path).
func ValidHost(h string) error {
	if h == "" {
		return errors.New("empty host")
	}
	if h[0] == '-' {
		return fmt.Errorf("host %q starts with '-' (ssh would read an option)", h)
	}
	for _, r := range h {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@%", r)
		if !ok {
			return fmt.Errorf("host %q: %q is not allowed (letters, digits, '.', '_', '-', '@'; put ports and the like in ~/.ssh/config or --ssh-option)", h, r)
		}
	}
	return nil
}

// safeRemotePath allows relative paths of plain names, so that the remote
// shell and scp's remote path see them unchanged.
func safeRemotePath(p string) error {
	if p == "" || strings.HasPrefix(p, "-") || strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q: want a relative path", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("%q: empty, '.' or '..' component", p)
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
				return fmt.Errorf("%q: %q is not allowed (letters, digits, '.', '_', '-', '/')", p, r)
			}
		}
	}
	return nil
}

// Line is the step as one line of a POSIX shell script.
func (s Step) Line() string {
	line := fleet.ShellJoin(s.Argv)
	if len(s.Stdin) > 0 {
		line = fleet.ShellJoin(s.Stdin) + " | " + line
	}
	return line
}

// Script writes the plans as a shell script: one function per host, run
// in parallel, each host's output to its own log.
func Script(w io.Writer, plans []HostPlan, logDir string) error {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# enclavebench: the suite on each host over ssh, results copied back.\n")
	fmt.Fprintf(&b, "# Run it, or run `bench plan --ssh ... --exec`, which does the same with a summary.\nset -u\npids=\nmkdir -p %s\n", fleet.ShellQuote(logDir))
	for i, hp := range plans {
		fmt.Fprintf(&b, "\n# %s on %s -> %s\nhost%d() {\n", hp.Host.Size.Name, hp.Host.Addr, hp.LocalOut, i+1)
		ran := false
		for _, s := range hp.Steps {
			switch {
			case s.AfterRun:
				fmt.Fprintf(&b, "  %s || return 1\n", s.Line())
			case s.Name == "run":
				fmt.Fprintf(&b, "  %s; rc=$?\n", s.Line())
				ran = true
			default:
				fmt.Fprintf(&b, "  %s || return 1\n", s.Line())
			}
		}
		if ran {
			b.WriteString("  return $rc\n")
		}
		fmt.Fprintf(&b, "}\nhost%d > %s 2>&1 &\npids=\"$pids $!\"\n", i+1, fleet.ShellQuote(filepath.Join(logDir, LogName(hp))))
	}
	b.WriteString("\nfail=0\nfor pid in $pids; do wait \"$pid\" || fail=1; done\nexit $fail\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// LogName is the file name of a host's log.
func LogName(hp HostPlan) string {
	return fleet.SafeName(hp.Host.Addr) + "-" + hp.Host.Size.Name + ".log"
}

// HostResult is the outcome of one host's plan.
type HostResult struct {
	Plan HostPlan
	Log  string // path of the host's log
	// Failed names the first step that failed ("" when all succeeded);
	// Err is its error.
	Failed string
	Err    error
	// Fetched is set when the results were copied back.
	Fetched bool
	// Tail is the last lines of the log, for the failure message.
	Tail []string
}

// Exec runs the plans, hosts in parallel, each host's steps in order, every
// step's output to the host's log in logDir.
func Exec(ctx context.Context, plans []HostPlan, logDir string) []HostResult {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		out := make([]HostResult, len(plans))
		for i := range plans {
			out[i] = HostResult{Plan: plans[i], Failed: "logs", Err: err}
		}
		return out
	}
	out := make([]HostResult, len(plans))
	var wg sync.WaitGroup
	for i := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = execHost(ctx, plans[i], logDir)
		}()
	}
	wg.Wait()
	return out
}

func execHost(ctx context.Context, hp HostPlan, logDir string) (res HostResult) {
	res = HostResult{Plan: hp, Log: filepath.Join(logDir, LogName(hp))}
	f, err := os.Create(res.Log)
	if err != nil {
		res.Failed, res.Err = "log", err
		return res
	}
	defer func() {
		f.Close()
		if res.Failed != "" {
			res.Tail = tail(res.Log, 5)
		}
	}()
	ran := false
	for _, s := range hp.Steps {
		if res.Failed != "" && !(s.AfterRun && ran) {
			continue
		}
		if s.Name == "run" {
			ran = true
		}
		fmt.Fprintf(f, "+ %s\n", s.Line())
		err := runStep(ctx, s, f)
		if err == nil {
			if s.AfterRun {
				res.Fetched = true
			}
			continue
		}
		fmt.Fprintf(f, "enclavebench: step %q failed: %v\n", s.Name, err)
		if res.Failed == "" {
			res.Failed, res.Err = s.Name, err
		}
	}
	return res
}

func runStep(ctx context.Context, s Step, log io.Writer) error {
	cmd := exec.CommandContext(ctx, s.Argv[0], s.Argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	if len(s.Stdin) == 0 {
		return cmd.Run()
	}
	src := exec.CommandContext(ctx, s.Stdin[0], s.Stdin[1:]...)
	src.Stderr = log
	pipe, err := src.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stdin = pipe
	if err := src.Start(); err != nil {
		return fmt.Errorf("%s: %w", s.Stdin[0], err)
	}
	runErr := cmd.Run()
	srcErr := src.Wait()
	if srcErr != nil {
		return fmt.Errorf("%s: %w", strings.Join(s.Stdin, " "), srcErr)
	}
	return runErr
}

func tail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines
}

// Summary is one line per host: where its results are, or which step
// failed, why, and the end of its log.
func (r HostResult) Summary() string {
	h := fmt.Sprintf("%s on %s", r.Plan.Host.Size.Name, r.Plan.Host.Addr)
	if r.Failed == "" {
		return fmt.Sprintf("%s: ok, results in %s (log %s)", h, r.Plan.LocalOut, r.Log)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: FAILED at %q: %v", h, r.Failed, r.Err)
	if r.Fetched {
		fmt.Fprintf(&b, "; what it finished was copied to %s", r.Plan.LocalOut)
	}
	fmt.Fprintf(&b, " (log %s)", r.Log)
	for _, l := range r.Tail {
		b.WriteString("\n    | " + l)
	}
	return b.String()
}
