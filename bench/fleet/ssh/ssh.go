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
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

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
	// AfterRun steps still run when the run step failed or was stopped
	// (waiting for the remote run, copying back what it finished).
	AfterRun bool
}

// Step names the executor treats specially.
const (
	StepRun   = "run"
	StepWait  = "wait for the run"
	StepFetch = "copy results back"
)

// HostPlan is the commands for one host, in order.
type HostPlan struct {
	Host      Host
	Steps     []Step
	RemoteOut string // the run's result directory, relative to RemoteDir
	LocalOut  string // where it is copied to
	// Stop stops the remote run (bench run exits as on Ctrl-C, its cells
	// killed and its directory left resumable) and waits until it has
	// exited; Resume is the command that finishes it on the host, and
	// Fetch the one that copies it back.
	Stop, Resume, Fetch Step
}

// defaultSSHOptions come after the user's: no password prompts in a
// parallel run, a bounded connection time, and keepalives so a long run's
// connection is not dropped as idle.
var defaultSSHOptions = []string{"BatchMode=yes", "ConnectTimeout=20", "ServerAliveInterval=30"}

// checkSpec resolves spec once for the hosts' sizes (fleet.Plan), so that
// a bad workload, parameter or mode, or a cell that cannot run on a host's
// size (the error names the size), is reported at plan time.
func checkSpec(spec runspec.Spec, hosts []Host) error {
	spec.Sizes = nil
	for _, h := range hosts {
		if !slices.Contains(spec.Sizes, h.Size.Name) {
			spec.Sizes = append(spec.Sizes, h.Size.Name)
		}
	}
	_, err := fleet.Plan(spec)
	return err
}

// LocalBinary is a binary the plan copies to each host, with the command
// that builds it for a linux/amd64 host from the module root.
type LocalBinary struct{ Name, Build string }

// Binaries lists what a plan of spec copies to each host: bench, the
// workload binary, and the binaries its modes run besides it (the sim
// mode's workload-sim).
func Binaries(spec runspec.Spec) []LocalBinary {
	out := []LocalBinary{
		{"bench", "GOOS=linux GOARCH=amd64 go build -o bin/bench ./bench"},
		{"workload", "GOOS=linux GOARCH=amd64 go build -o bin/workload ./workloads/cmd/workload"},
	}
	for _, b := range fleet.ModeBinaries(spec) {
		out = append(out, LocalBinary{b.Name, b.Build})
	}
	return out
}

// SSHPlan returns the commands that run the suite on each host and copy
// its results back: make the working directory, copy the binaries (and,
// for the enclave modes, which build the workload with ego-go on the host,
// the committed source tree) aside and move them into place (a binary a
// run still executes is replaced, never written over), start `bench run`
// on the host detached from the connection (its output to a log there,
// its pid in results/<name>.pid, followed live over ssh), wait for that
// run to exit (a dropped connection does not stop it: the wait reconnects),
// and copy its directory back with scp.
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
	if err := checkSpec(o.Spec, o.Hosts); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var plans []HostPlan
	for _, h := range o.Hosts {
		if err := ValidHost(h.Addr); err != nil {
			return nil, err
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
		upload := o.RemoteDir + "/bin/.upload-" + name // its own: two plans may share a host
		hp.Steps = append(hp.Steps, Step{Name: "prepare", Argv: ssh("mkdir", "-p", upload, o.RemoteDir+"/results")})
		if fleet.UsesEGo(o.Spec) {
			hp.Steps = append(hp.Steps, Step{Name: "upload source",
				Stdin: []string{o.Git, "-C", o.SourceDir, "archive", "--format=tar", "HEAD"},
				Argv:  ssh("tar", "-x", "-f", "-", "-C", o.RemoteDir)})
		}
		scp := append([]string{o.SCP, "-q"}, opts...)
		install := []string{"mv", "-f"}
		for _, b := range Binaries(o.Spec) {
			scp = append(scp, filepath.Join(o.LocalBin, b.Name))
			install = append(install, upload+"/"+b.Name)
		}
		scp = append(scp, h.Addr+":"+upload+"/")
		install = append(install, o.RemoteDir+"/bin/")
		hp.Steps = append(hp.Steps, Step{Name: "upload binaries", Argv: scp}, Step{Name: "install binaries", Argv: ssh(install...)})
		run := fleet.ShellJoin(append([]string{"./bin/bench"}, fleet.RunArgs(o.Spec, h.Size, remoteOut)...))
		hp.Steps = append(hp.Steps,
			Step{Name: StepRun, Argv: ssh("sh", "-c", runScript(o.RemoteDir, remoteOut, run))},
			Step{Name: StepWait, Argv: ssh("sh", "-c", waitScript(o.RemoteDir, remoteOut, false)), AfterRun: true})
		hp.Fetch = Step{Name: StepFetch, Argv: append(append([]string{o.SCP, "-q", "-r"}, opts...), h.Addr+":"+o.RemoteDir+"/"+remoteOut, o.Results+"/"), AfterRun: true}
		hp.Steps = append(hp.Steps, hp.Fetch)
		hp.Stop = Step{Name: "stop the run", Argv: ssh("sh", "-c", waitScript(o.RemoteDir, remoteOut, true))}
		hp.Resume = Step{Name: "resume", Argv: ssh("sh", "-c", "cd "+fleet.ShellQuote(o.RemoteDir)+" && ./bin/bench run --resume "+fleet.ShellQuote(remoteOut)+" --progress never")}
		plans = append(plans, hp)
	}
	return plans, nil
}

// runScript starts bench run on the host detached from the connection
// (nohup, its output to <out>.log, its pid in <out>.pid), follows its log
// until it exits, and exits with its status (kept in <out>.rc). A second
// start while a run into the same directory is going on is refused.
func runScript(dir, out, run string) string {
	q := fleet.ShellQuote
	return strings.Join([]string{
		"cd " + q(dir) + " || exit 1",
		"r=" + q(out),
		`if [ -f "$r.pid" ] && kill -0 "$(cat "$r.pid")" 2>/dev/null; then echo "enclavebench: a run into $r is still going on here (pid $(cat "$r.pid")): stop it, or wait for it" >&2; exit 2; fi`,
		`rm -f "$r.rc"`,
		`nohup ` + run + ` > "$r.log" 2>&1 < /dev/null &`,
		`pid=$!`,
		`echo "$pid" > "$r.pid"`,
		`tail -n +1 -f --pid="$pid" "$r.log" 2>/dev/null`,
		`wait "$pid"; rc=$?`,
		`echo "$rc" > "$r.rc"`,
		`exit "$rc"`,
	}, "\n")
}

// waitScript waits until the run into out has exited (stop: after asking
// it to stop with SIGTERM, which bench run takes as Ctrl-C), then prints
// its log's end when it did not follow it, and exits with the run's
// status where it is known.
func waitScript(dir, out string, stop bool) string {
	q := fleet.ShellQuote
	lines := []string{
		"cd " + q(dir) + " || exit 1",
		"r=" + q(out),
		`pid=$(cat "$r.pid" 2>/dev/null) || { echo "enclavebench: no run was started into $r" >&2; exit 1; }`,
	}
	if stop {
		lines = append(lines, `kill -TERM "$pid" 2>/dev/null && echo "enclavebench: asked bench run (pid $pid) to stop"`)
	}
	lines = append(lines,
		`n=0`,
		`while kill -0 "$pid" 2>/dev/null; do n=$((n+1)); if [ $((n % 60)) = 0 ]; then echo "enclavebench: bench run (pid $pid) still running after $((n/2)) s"; fi; sleep 0.5; done`,
		`if [ -f "$r.rc" ]; then exit "$(cat "$r.rc")"; fi`,
		`exit 0`)
	return strings.Join(lines, "\n")
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
			case s.Name == StepWait:
				// The run's status is passed on; 255 is ssh's: the host
				// cannot be reached, so there is nothing to copy back.
				fmt.Fprintf(&b, "  %s\n  [ $? = 255 ] && return 255\n", s.Line())
			case s.AfterRun:
				fmt.Fprintf(&b, "  %s || return 1\n", s.Line())
			case s.Name == StepRun:
				fmt.Fprintf(&b, "  %s; rc=$?\n", s.Line())
				ran = true
			default:
				fmt.Fprintf(&b, "  %s || return 1\n", s.Line())
			}
		}
		if ran {
			b.WriteString("  return $rc\n")
		}
		fmt.Fprintf(&b, "}\nhost%d >> %s 2>&1 &\npids=\"$pids $!\"\n", i+1, fleet.ShellQuote(filepath.Join(logDir, LogName(hp))))
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
	// Stopped is set when the run was interrupted (Ctrl-C) after it had
	// started on the host: StopErr is nil when bench run on the host was
	// stopped and has exited.
	Stopped bool
	StopErr error
	// Unreachable is set when the host could not be reached to wait for
	// a started run: it may still be going on there.
	Unreachable bool
	// Tail is the last lines of the log, for the failure message.
	Tail []string
}

// stopTimeout bounds stopping a remote run and copying back what it
// finished after an interrupt.
const stopTimeout = 3 * time.Minute

// Exec runs the plans, hosts in parallel, each host's steps in order, every
// step's output appended to the host's log in logDir. When ctx is
// cancelled (Ctrl-C) after a host's run has started, the run is stopped on
// the host and what it finished is copied back before Exec returns.
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

// sshFailed reports whether err is ssh's own failure (exit 255: no
// connection, or the connection was lost), not the remote command's.
func sshFailed(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 255
}

func execHost(ctx context.Context, hp HostPlan, logDir string) (res HostResult) {
	res = HostResult{Plan: hp, Log: filepath.Join(logDir, LogName(hp))}
	// Appended: a plan ID used again keeps the earlier attempts' logs.
	f, err := os.OpenFile(res.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		res.Failed, res.Err = "log", err
		return res
	}
	defer func() {
		f.Close()
		if res.Failed != "" || res.Stopped {
			res.Tail = tail(res.Log, 5)
		}
	}()
	fmt.Fprintf(f, "=== enclavebench: %s on %s, %s\n", hp.Host.Size.Name, hp.Host.Addr, time.Now().UTC().Format(time.RFC3339))
	fail := func(name string, err error) {
		fmt.Fprintf(f, "enclavebench: step %q failed: %v\n", name, err)
		if res.Failed == "" {
			res.Failed, res.Err = name, err
		}
	}
	started := false
	for _, s := range hp.Steps {
		if ctx.Err() != nil {
			break
		}
		if res.Failed != "" && !(s.AfterRun && started) {
			continue
		}
		if s.Name == StepFetch && res.Unreachable {
			continue // nothing to copy from a host that cannot be reached
		}
		fmt.Fprintf(f, "+ %s\n", s.Line())
		err := runStep(ctx, s, f)
		if s.Name == StepRun {
			// When ssh failed (255), whether the run started on the host
			// cannot be told from here: the wait step asks the host.
			started = true
		}
		if err == nil {
			if s.Name == StepFetch {
				res.Fetched = true
			}
			continue
		}
		if ctx.Err() != nil {
			break // interrupted: handled below
		}
		if s.Name == StepWait && sshFailed(err) {
			res.Unreachable = true
		}
		fail(s.Name, err)
	}
	if ctx.Err() == nil || !started {
		return res
	}
	// Interrupted after the run started: stop it on the host, wait for it
	// to exit, copy back what it finished.
	res.Stopped = true
	stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	fmt.Fprintf(f, "enclavebench: interrupted; stopping the run on the host\n+ %s\n", hp.Stop.Line())
	if err := runStep(stopCtx, hp.Stop, f); err != nil && !isRunStatus(err) {
		res.StopErr = err
		fmt.Fprintf(f, "enclavebench: stopping the run failed: %v\n", err)
		return res
	}
	fmt.Fprintf(f, "+ %s\n", hp.Fetch.Line())
	if err := runStep(stopCtx, hp.Fetch, f); err != nil {
		fmt.Fprintf(f, "enclavebench: copying back failed: %v\n", err)
	} else {
		res.Fetched = true
	}
	return res
}

// isRunStatus reports whether err is the remote run's exit status passed
// on by the wait (not ssh's failure).
func isRunStatus(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() != 255
}

func runStep(ctx context.Context, s Step, log io.Writer) error {
	cmd := exec.CommandContext(ctx, s.Argv[0], s.Argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a Ctrl-C at the terminal reaches bench plan,
	// which stops the remote runs, and not ssh, which would just drop them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if len(s.Stdin) == 0 {
		return cmd.Run()
	}
	src := exec.CommandContext(ctx, s.Stdin[0], s.Stdin[1:]...)
	src.Stderr = log
	src.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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
// failed, why, and the end of its log; for a stopped or unreachable run,
// the commands that finish it and copy it back.
func (r HostResult) Summary() string {
	h := fmt.Sprintf("%s on %s", r.Plan.Host.Size.Name, r.Plan.Host.Addr)
	if r.Failed == "" && !r.Stopped {
		return fmt.Sprintf("%s: ok, results in %s (log %s)", h, r.Plan.LocalOut, r.Log)
	}
	var b strings.Builder
	switch {
	case r.Stopped && r.StopErr != nil:
		fmt.Fprintf(&b, "%s: INTERRUPTED, and stopping the run on the host failed (%v): it may still be going on there; stop it there, or when it is done copy it back with: %s",
			h, r.StopErr, r.Plan.Fetch.Line())
	case r.Stopped:
		fmt.Fprintf(&b, "%s: STOPPED: bench run on the host was stopped and has exited", h)
		if r.Fetched {
			fmt.Fprintf(&b, "; what it finished was copied to %s", r.Plan.LocalOut)
		}
		fmt.Fprintf(&b, "; finish it on the host with: %s; then copy it back with: %s", r.Plan.Resume.Line(), r.Plan.Fetch.Line())
	case r.Unreachable:
		fmt.Fprintf(&b, "%s: FAILED at %q: %v; the host could not be reached to wait for the run, which may still be going on there: when it is done, copy it back with: %s",
			h, r.Failed, r.Err, r.Plan.Fetch.Line())
	default:
		fmt.Fprintf(&b, "%s: FAILED at %q: %v", h, r.Failed, r.Err)
		if r.Fetched {
			fmt.Fprintf(&b, "; what it finished was copied to %s", r.Plan.LocalOut)
		}
	}
	fmt.Fprintf(&b, " (log %s)", r.Log)
	for _, l := range r.Tail {
		b.WriteString("\n    | " + l)
	}
	return b.String()
}
