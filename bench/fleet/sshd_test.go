package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
)

// The ssh fleet path against real OpenSSH: the test starts one sshd per
// "host" on 127.0.0.1 (its own host keys, client key, ports and
// configuration; nothing of the system's is used or changed), and runs
// `bench plan --ssh ... --exec` through the real ssh and scp, which a
// wrapper on PATH points at the test's client configuration. The hosts'
// working directories are under the login user's home directory, named
// for the test, and removed afterwards.

// sshdHost is one sshd the test started.
type sshdHost struct {
	alias string
	port  int
	cmd   *exec.Cmd
	conf  string
}

type sshdFleet struct {
	dir   string // keys, configurations, wrappers
	env   []string
	home  string // the login user's home (the hosts' login directory)
	hosts map[string]*sshdHost
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSSHD makes the fleet's keys and client configuration and starts
// one sshd per alias; it skips the test, with the reason, where sshd is
// missing or cannot run here.
func startSSHD(t *testing.T, aliases ...string) *sshdFleet {
	t.Helper()
	if testing.Short() {
		t.Skip("starts sshd processes; skipped with -short")
	}
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Skipf("no %s (openssh-server; scripts/install-deps.sh installs it): %v", sshd, err)
	}
	for _, tool := range []string{"ssh", "scp", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s (openssh-client): %v", tool, err)
		}
	}
	u, err := user.Current()
	if err != nil {
		t.Skipf("no current user: %v", err)
	}
	if u.Uid == "0" {
		// sshd running as root needs its privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Skipf("sshd's /run/sshd: %v", err)
		}
	}
	f := &sshdFleet{dir: t.TempDir(), home: u.HomeDir, hosts: map[string]*sshdHost{}}
	keygen := func(name string) {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(f.dir, name)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
	keygen("hostkey")
	keygen("id")
	pub, _ := os.ReadFile(filepath.Join(f.dir, "id.pub"))
	os.WriteFile(filepath.Join(f.dir, "authorized_keys"), pub, 0o600)
	var client strings.Builder
	for _, a := range aliases {
		h := &sshdHost{alias: a, port: freePort(t), conf: filepath.Join(f.dir, "sshd-"+a+".conf")}
		conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile none
LogLevel ERROR
Subsystem sftp internal-sftp
`, h.port, filepath.Join(f.dir, "hostkey"), filepath.Join(f.dir, "authorized_keys"))
		os.WriteFile(h.conf, []byte(conf), 0o600)
		// No host key is known beforehand: the plan accepts new ones
		// (--ssh-option StrictHostKeyChecking=accept-new, as docs/fleet.md
		// says), which batch mode would otherwise refuse.
		fmt.Fprintf(&client, "Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n\n",
			a, h.port, u.Username, filepath.Join(f.dir, "id"), filepath.Join(f.dir, "known_hosts"))
		f.hosts[a] = h
		f.start(t, h)
	}
	cfg := filepath.Join(f.dir, "ssh_config")
	os.WriteFile(cfg, []byte(client.String()), 0o600)
	wrap := filepath.Join(f.dir, "wrap")
	os.Mkdir(wrap, 0o755)
	for _, tool := range []string{"ssh", "scp"} {
		real, _ := exec.LookPath(tool)
		os.WriteFile(filepath.Join(wrap, tool), []byte("#!/bin/sh\nexec "+real+" -F "+cfg+" \"$@\"\n"), 0o755)
	}
	f.env = []string{"PATH=" + wrap + string(os.PathListSeparator) + os.Getenv("PATH")}
	t.Cleanup(func() {
		for _, h := range f.hosts {
			f.kill(h)
		}
	})
	return f
}

// start runs h's sshd and waits until it accepts connections.
func (f *sshdFleet) start(t *testing.T, h *sshdHost) {
	t.Helper()
	var stderr bytes.Buffer
	h.cmd = exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", h.conf)
	h.cmd.Stderr = &stderr
	if err := h.cmd.Start(); err != nil {
		t.Skipf("sshd cannot start here: %v", err)
	}
	for range 100 {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", h.port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.kill(h)
	t.Skipf("sshd did not listen on 127.0.0.1:%d: %s", h.port, stderr.String())
}

// kill stops h's sshd and every sshd process it forked for a connection
// (a host dropping out), leaving the commands those sessions started.
func (f *sshdFleet) kill(h *sshdHost) {
	if h.cmd == nil || h.cmd.Process == nil {
		return
	}
	for _, pid := range descendants(h.cmd.Process.Pid) {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.HasPrefix(string(comm), "sshd") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	h.cmd.Process.Kill()
	h.cmd.Wait()
	h.cmd = nil
}

// descendants lists the processes below pid (from /proc).
func descendants(pid int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces; split after ')'.
		rest := string(b[bytes.LastIndexByte(b, ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) > 1 {
			parent[p], _ = strconv.Atoi(fields[1])
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// remote is a path on the hosts (all on this machine), relative to the
// login directory.
func (f *sshdFleet) remote(rel string) string { return filepath.Join(f.home, rel) }

// alive tells whether the pid in a remote run's pid file still runs.
func pidAlive(t *testing.T, pidFile string) (int, bool) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, pid > 0 && syscall.Kill(pid, 0) == nil
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runLine runs a command line the plan printed, through the test's ssh.
func (f *sshdFleet) runLine(t *testing.T, line string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Env = append(os.Environ(), f.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}

// lineAfter returns what follows marker on the line of out holding it, up
// to the next "; " or " (log".
func lineAfter(t *testing.T, out, marker string) string {
	t.Helper()
	i := strings.Index(out, marker)
	if i < 0 {
		t.Fatalf("no %q in:\n%s", marker, out)
	}
	s := out[i+len(marker):]
	for _, end := range []string{"; ", " (log", "\n"} {
		if j := strings.Index(s, end); j >= 0 {
			s = s[:j]
		}
	}
	return s
}

// failedCells lists the cells of d that did not end ok, with their reasons
// and the tail of their stderr: a failing run's directory is a temporary
// one, gone once the test ends.
func failedCells(d *result.Dir) string {
	var b strings.Builder
	for key, cr := range d.Cells {
		if cr.Status != result.StatusOK {
			fmt.Fprintf(&b, "\n%s: %s (%s); stderr ends:\n%s", key, cr.Status, cr.Reason, cr.Stderr)
		}
	}
	return b.String()
}

// TestSSHFleetEndToEnd: native and sim on two hosts and a third that drops
// out mid-run, then a run interrupted with Ctrl-C (SIGINT).
func TestSSHFleetEndToEnd(t *testing.T) {
	t.Parallel()
	f := startSSHD(t, "h1", "h2", "h3")
	bin := binaries(t)
	remoteDir := fmt.Sprintf("enclavebench-e2e-%d", os.Getpid())
	t.Cleanup(func() { os.RemoveAll(f.remote(remoteDir)) })
	results := t.TempDir()
	common := []string{"--exec", "--bin", bin, "--results", results, "--remote-dir", remoteDir,
		"--ssh-option", "StrictHostKeyChecking=accept-new", "--workloads", "syscall", "--param", "syscall.call=read,clock"}

	t.Run("native and sim, one host drops out", func(t *testing.T) {
		args := append([]string{"plan", "--ssh", "h1=DC1s_v2,h2=DC2s_v2,h3=DC4s_v2", "--plan-id", "e1",
			"--modes", "native,sim", "--reps", "3", "--min-time", "30ms"}, common...)
		cmd := exec.Command(filepath.Join(bin, "bench"), args...)
		cmd.Env = append(os.Environ(), f.env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// h3 drops out once its run has started: its sshd and sessions go,
		// the run goes on there.
		h3pid := f.remote(filepath.Join(remoteDir, "results", "e1-DC4s_v2.pid"))
		waitFor(t, "h3's run to start", time.Minute, func() bool {
			_, ok := pidAlive(t, h3pid)
			if !ok && cmd.ProcessState == nil {
				if b, _ := os.ReadFile(filepath.Join(results, "logs-e1", "h3-DC4s_v2.log")); strings.Contains(string(b), "exit status") {
					t.Fatalf("h3 failed before its run started:\n%s\n%s", b, stdout.String())
				}
			}
			return ok
		})
		f.kill(f.hosts["h3"])
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("bench plan: %v, want exit 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
		out := stdout.String()
		for _, size := range []string{"DC1s_v2", "DC2s_v2"} {
			if !strings.Contains(out, size+" on h") || !strings.Contains(out, "ok, results in "+filepath.Join(results, "e1-"+size)) {
				t.Errorf("%s not ok:\n%s", size, out)
			}
			d, err := result.Load(filepath.Join(results, "e1-"+size))
			if err != nil {
				t.Fatal(err)
			}
			modes := map[string]int{}
			for _, s := range d.Samples {
				modes[s.Mode]++
			}
			if d.Run.Status != "complete" || modes["native"] != 6 || modes["sim"] != 6 {
				t.Errorf("%s: status %s, samples per mode %v, want complete with 6 native and 6 sim%s", size, d.Run.Status, modes, failedCells(d))
			}
		}
		if !strings.Contains(out, "DC4s_v2 on h3: FAILED") || !strings.Contains(out, "may still be going on there") {
			t.Fatalf("h3's line does not say its run may still be going on:\n%s", out)
		}
		fetch := lineAfter(t, out, "copy it back with: ")
		// h3 comes back; once its run is done, the printed line fetches it whole.
		f.start(t, f.hosts["h3"])
		waitFor(t, "h3's run to finish", time.Minute, func() bool { _, ok := pidAlive(t, h3pid); return !ok })
		f.runLine(t, fetch)
		d, err := result.Load(filepath.Join(results, "e1-DC4s_v2"))
		if err != nil {
			t.Errorf("h3 fetched afterwards: %v", err)
		} else if d.Run.Status != "complete" || len(d.Samples) != 12 {
			// Seen once under load (./test.sh at load ~25): say which cell.
			t.Errorf("h3 fetched afterwards: status %s, %d samples, want complete with 12%s", d.Run.Status, len(d.Samples), failedCells(d))
		}
		// One report over the three: the hosts share a hostname (one
		// machine here, VMs cloned from one image there), so the runs
		// table names each run's size.
		rep := filepath.Join(t.TempDir(), "report")
		var dirs []string
		for _, size := range []string{"DC1s_v2", "DC2s_v2", "DC4s_v2"} {
			dirs = append(dirs, filepath.Join(results, "e1-"+size))
		}
		if _, stderr, code := bench(t, f.env, append(append([]string{"report"}, dirs...), "-o", rep)...); code != 0 {
			t.Fatalf("bench report: exit %d\n%s", code, stderr)
		}
		md, _ := os.ReadFile(filepath.Join(rep, "report.md"))
		for _, size := range []string{"DC1s\\_v2", "DC2s\\_v2", "DC4s\\_v2"} {
			if !strings.Contains(string(md), " | "+size+" | ") {
				t.Errorf("report.md's runs table does not name %s", size)
			}
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		args := append([]string{"plan", "--ssh", "h1=DC1s_v2", "--plan-id", "e2",
			"--modes", "native", "--reps", "6", "--min-time", "600ms"}, common...)
		cmd := exec.Command(filepath.Join(bin, "bench"), args...)
		cmd.Env = append(os.Environ(), f.env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pidFile := f.remote(filepath.Join(remoteDir, "results", "e2-DC1s_v2.pid"))
		waitFor(t, "the run to start", time.Minute, func() bool { _, ok := pidAlive(t, pidFile); return ok })
		time.Sleep(500 * time.Millisecond) // into the first cell; 12 repetitions of >= 600 ms leave seconds for the stop to arrive by ssh on a loaded host
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("bench plan: %v, want exit 130\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
		out := stdout.String()
		// Stop means stop: bench run on the host has exited.
		if pid, ok := pidAlive(t, pidFile); ok {
			t.Errorf("the remote bench run (pid %d) still runs after the interrupt", pid)
		}
		if !strings.Contains(out, "STOPPED: bench run on the host was stopped and has exited") {
			t.Fatalf("summary:\n%s", out)
		}
		d, err := result.Load(filepath.Join(results, "e2-DC1s_v2"))
		if err != nil || d.Run.Status != "interrupted" {
			t.Fatalf("copied back: %v (status %v)", err, d)
		}
		// Its advice works: resume on the host, copy back, complete.
		f.runLine(t, lineAfter(t, out, "finish it on the host with: "))
		f.runLine(t, lineAfter(t, out, "then copy it back with: "))
		d, err = result.Load(filepath.Join(results, "e2-DC1s_v2"))
		if err != nil || d.Run.Status != "complete" || len(d.Samples) != 12 {
			t.Errorf("after --resume: %v", err)
		}
	})
}
