package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/enclavebench/enclavebench/bench/fleet"
	"github.com/enclavebench/enclavebench/bench/fleet/k8s"
	"github.com/enclavebench/enclavebench/bench/fleet/ssh"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
)

func init() {
	register(command{name: "plan", summary: "plan runs across real VMs: Kubernetes Jobs (--k8s) or ssh commands (--ssh)", run: planCmd})
}

const planExamples = `  # One Job per DCsv2 size, to stdout
  bench plan --k8s --sizes dcsv2 --image myacr.azurecr.io/enclavebench:v1

  # One file per size, checked against the cluster's nodes first
  kubectl get nodes -o json > nodes.json
  bench plan --k8s --sizes dcsv2 --image myacr.azurecr.io/enclavebench:v1 --nodes nodes.json -o manifests/
  kubectl apply -f manifests/

  # A few VMs over ssh: print the commands, or run them (per-host logs, summary)
  bench plan --ssh azureuser@dc2=DC2s_v2,azureuser@dc4=DC4s_v2
  bench plan --ssh dc2,dc4 --sizes DC2s_v2,DC4s_v2 --exec

  # Then: pod logs or copied directories -> one cross-size report
  kubectl logs -l enclavebench.io/plan=PLAN --prefix --tail=-1 > pods.log
  bench collect pods.log -o results/
  bench report -o report-dcsv2 results/<run-id> results/<run-id> ...

The walk-through from an empty AKS cluster to the report: docs/fleet.md.
`

type planOptions struct {
	k8s      bool
	sshHosts string
	spec     *runspec.Flags
	planID   string

	image, namespace, out, nodes string
	epc, cpuRequest              string
	deadline                     time.Duration
	aesm                         bool
	resources, tolerations       []string
	seccompProfile               string

	exec                   bool
	remoteDir, bin, logDir string
	results                string
	sshOptions             []string
}

func planCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plan", "plan (--k8s --image IMAGE | --ssh HOSTS) [flags]", planExamples, stderr)
	var o planOptions
	fs.BoolVar(&o.k8s, "k8s", false, "write Kubernetes Jobs, one per size")
	fs.StringVar(&o.sshHosts, "ssh", "", "hosts to run on over ssh: HOST[=SIZE],... (user@host or an ssh alias)")
	// The run each host does: the flags of bench run (--sizes: with --ssh,
	// paired in order with hosts that have no =SIZE).
	o.spec = runspec.AddFlags(fs, runspec.Defaults{Sizes: []string{"dcsv2"}, Modes: fleet.DefaultModes(), Profile: "quick",
		ModesUsage: strings.Join(mode.Names(), ", ") + " (what each host runs)", ProfileUsage: strings.Join(plan.ProfileNames(), ", ")})
	fs.StringVar(&o.planID, "plan-id", "", "ID labelling the plan's Jobs and naming result directories (default: the time, 20261127-041121)")

	fs.StringVar(&o.image, "image", "", "--k8s: the container image (deploy/Dockerfile)")
	fs.StringVar(&o.namespace, "namespace", "", "--k8s: namespace of the Jobs (default: kubectl's)")
	fs.StringVarP(&o.out, "out", "o", "", "--k8s: write one manifest per size into this directory (default: all to stdout)")
	fs.StringVar(&o.nodes, "nodes", "", "--k8s: `FILE` holding the output of kubectl get nodes -o json: sizes without a node are reported and left out")
	fs.StringVar(&o.epc, "epc", "", "--k8s: EPC to request, e.g. 10Mi (default: the size's whole EPC)")
	fs.StringVar(&o.cpuRequest, "cpu-request", "", "--k8s: CPU request (default: the size's vCPUs less one, at least 500m; the limit is the vCPUs)")
	fs.DurationVar(&o.deadline, "deadline", 0, "--k8s: activeDeadlineSeconds (default: every cell at its timeout and the 10 s a hung cell has after it, plus 15m)")
	fs.BoolVar(&o.aesm, "aesmd", false, "--k8s: mount /var/run/aesmd and set SGX_AESM_ADDR=1 (out-of-proc quotes through AKS's quote helper)")
	fs.StringArrayVar(&o.resources, "resource", nil, "--k8s: extra resource NAME=QUANTITY to request and limit (repeatable), e.g. sgx.intel.com/enclave=1")
	fs.StringArrayVar(&o.tolerations, "toleration", nil, "--k8s: KEY[=VALUE]:EFFECT to tolerate a dedicated pool's taint (repeatable)")
	fs.StringVar(&o.seccompProfile, "seccomp-profile", "runtime-default", "--k8s: the containers' seccomp profile: runtime-default, or localhost/PATH under the kubelet's seccomp directory (sim's predictions need one allowing userfaultfd and pidfd_getfd: scripts/k8s/sim-seccomp.sh, docs/fleet.md)")

	fs.BoolVar(&o.exec, "exec", false, "--ssh: run the commands (hosts in parallel) instead of printing them")
	fs.StringVar(&o.remoteDir, "remote-dir", "enclavebench", "--ssh: working directory on each host, relative to the login directory")
	fs.StringVar(&o.bin, "bin", "bin", "--ssh: local directory with the bench and workload binaries (linux/amd64) to copy")
	fs.StringVar(&o.results, "results", "results", "--ssh: local directory the result directories are copied into")
	fs.StringVar(&o.logDir, "logs", "", "--ssh: directory of the per-host logs (default: <results>/logs-<plan-id>)")
	fs.StringArrayVar(&o.sshOptions, "ssh-option", nil, "--ssh: option passed to ssh and scp as -o (repeatable), e.g. IdentityFile=~/.ssh/dc")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("plan takes no arguments, got %q", fs.Args())
	}
	if fs.Changed("deadline") && o.deadline <= 0 {
		return usagef("--deadline %s: want a positive duration such as 90m (leave it out for every cell at its timeout and the 10 s a hung cell has after it, plus %s)", o.deadline, k8s.DeadlineMargin)
	}
	if o.k8s == (o.sshHosts != "") {
		return usagef("give exactly one of --k8s (Kubernetes Jobs) or --ssh HOSTS")
	}
	spec, err := o.spec.Spec()
	if err != nil {
		return usageError{err}
	}
	if o.planID == "" {
		o.planID = fleet.NewPlanID(time.Now())
	}
	if err := fleet.ValidPlanID(o.planID); err != nil {
		return usageError{err}
	}
	if o.k8s {
		for _, f := range []string{"exec", "remote-dir", "bin", "results", "logs", "ssh-option"} {
			if fs.Changed(f) {
				return usagef("--%s goes with --ssh, not --k8s", f)
			}
		}
		return planK8s(o, spec, stdout, stderr)
	}
	for _, f := range []string{"image", "namespace", "out", "nodes", "epc", "cpu-request", "deadline", "aesmd", "resource", "toleration", "seccomp-profile"} {
		if fs.Changed(f) {
			return usagef("--%s goes with --k8s, not --ssh", f)
		}
	}
	return planSSH(ctx, o, spec, fs, stdout, stderr)
}

func planK8s(o planOptions, spec runspec.Spec, stdout, stderr io.Writer) error {
	if o.image == "" {
		return usagef("--k8s needs --image: build deploy/Dockerfile, push it to a registry the cluster pulls from (docs/fleet.md)")
	}
	run, err := fleet.Plan(spec)
	if err != nil {
		return usageError{err}
	}
	sz := run.Sizes
	jo := k8s.JobOptions{Spec: spec, Plan: run, Image: o.image, Namespace: o.namespace, PlanID: o.planID,
		HarnessVersion: harnessVersion(), Deadline: o.deadline, AESM: o.aesm}
	if o.epc != "" {
		q, err := resource.ParseQuantity(o.epc)
		if err != nil || q.Sign() <= 0 {
			return usagef("--epc %q: want a positive quantity such as 10Mi or 28Mi", o.epc)
		}
		jo.EPC = &q
	}
	if o.cpuRequest != "" {
		q, err := resource.ParseQuantity(o.cpuRequest)
		if err != nil || q.Sign() <= 0 {
			return usagef("--cpu-request %q: want a positive quantity such as 1500m or 2", o.cpuRequest)
		}
		jo.CPURequest = &q
	}
	if jo.Resources, err = parseResources(o.resources); err != nil {
		return usageError{err}
	}
	if jo.Tolerations, err = parseTolerations(o.tolerations); err != nil {
		return usageError{err}
	}
	switch p, ok := strings.CutPrefix(o.seccompProfile, "localhost/"); {
	case o.seccompProfile == "runtime-default":
	case ok:
		if err := k8s.ValidSeccompLocalhost(p); err != nil {
			return usageError{err}
		}
		jo.SeccompLocalhost = p
	default:
		return usagef("--seccomp-profile %q: want runtime-default or localhost/PATH", o.seccompProfile)
	}
	var nodes *k8s.Nodes
	if o.nodes != "" {
		f, err := os.Open(o.nodes)
		if err != nil {
			return usageError{err}
		}
		nodes, err = k8s.ReadNodes(f, o.nodes)
		f.Close()
		if err != nil {
			return usageError{err}
		}
	}
	var plans []*k8s.JobPlan
	var missing []string
	for _, s := range sz {
		jp, err := k8s.Job(s, jo)
		if err != nil {
			return usageError{err}
		}
		if nodes != nil {
			notes, err := nodes.Check(jp, jo.EPC != nil)
			if err != nil {
				fmt.Fprintln(stderr, "bench plan: not planned:", err)
				missing = append(missing, s.Name)
				continue
			}
			jp.Notes = append(jp.Notes, notes...)
		}
		for _, n := range jp.Notes {
			fmt.Fprintf(stderr, "bench plan: %s: %s\n", s.Name, n)
		}
		plans = append(plans, jp)
	}
	if len(plans) == 0 {
		return usagef("no size can be planned: the cluster in %s has no node of %s", o.nodes, strings.Join(missing, ", "))
	}
	var docs [][]byte
	for _, jp := range plans {
		b, err := k8s.Manifest(jp)
		if err != nil {
			return err
		}
		docs = append(docs, b)
	}
	if o.out == "" {
		_, err := stdout.Write(bytes.Join(docs, []byte("---\n")))
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	for i, jp := range plans {
		path := filepath.Join(o.out, jp.Job.Name+".yaml")
		if err := result.WriteFileAtomic(path, docs[i]); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: %s, %d cells, deadline %s\n", path, jp.Size.InstanceType(), jp.Cells, jp.Deadline)
	}
	fmt.Fprintf(stderr, "\nnext: kubectl apply -f %s; when the Jobs are done:\n  kubectl logs -l %s=%s --prefix --tail=-1 > pods-%s.log && bench collect pods-%s.log -o results/\n",
		o.out, k8s.LabelPlan, o.planID, o.planID, o.planID)
	return nil
}

// parseResources reads --resource NAME=QUANTITY values.
func parseResources(vals []string) (corev1.ResourceList, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	for _, v := range vals {
		name, qty, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--resource %q: want NAME=QUANTITY, e.g. sgx.intel.com/enclave=1", v)
		}
		q, err := resource.ParseQuantity(qty)
		if err != nil {
			return nil, fmt.Errorf("--resource %q: %v", v, err)
		}
		if _, dup := out[corev1.ResourceName(name)]; dup {
			return nil, fmt.Errorf("--resource %q: %s is given twice", v, name)
		}
		out[corev1.ResourceName(name)] = q
	}
	return out, nil
}

// parseTolerations reads --toleration KEY[=VALUE]:EFFECT values.
func parseTolerations(vals []string) ([]corev1.Toleration, error) {
	var out []corev1.Toleration
	for _, v := range vals {
		kv, effect, ok := strings.Cut(v, ":")
		e := corev1.TaintEffect(effect)
		if !ok || kv == "" || (e != corev1.TaintEffectNoSchedule && e != corev1.TaintEffectPreferNoSchedule && e != corev1.TaintEffectNoExecute) {
			return nil, fmt.Errorf("--toleration %q: want KEY[=VALUE]:EFFECT with EFFECT NoSchedule, PreferNoSchedule or NoExecute", v)
		}
		t := corev1.Toleration{Effect: e}
		if key, val, hasVal := strings.Cut(kv, "="); hasVal {
			t.Key, t.Operator, t.Value = key, corev1.TolerationOpEqual, val
		} else {
			t.Key, t.Operator = kv, corev1.TolerationOpExists
		}
		out = append(out, t)
	}
	return out, nil
}

func planSSH(ctx context.Context, o planOptions, spec runspec.Spec, fs *pflag.FlagSet, stdout, stderr io.Writer) error {
	hosts, err := parseHosts(o.sshHosts, spec.Sizes, fs.Changed("sizes"))
	if err != nil {
		return usageError{err}
	}
	plans, err := ssh.SSHPlan(ssh.SSHOptions{Spec: spec, Hosts: hosts, PlanID: o.planID,
		RemoteDir: o.remoteDir, LocalBin: o.bin, Results: o.results, Options: o.sshOptions})
	if err != nil {
		return usageError{err}
	}
	logDir := o.logDir
	if logDir == "" {
		logDir = filepath.Join(o.results, "logs-"+o.planID)
	}
	if !o.exec {
		return ssh.Script(stdout, plans, logDir)
	}
	for _, b := range ssh.Binaries(spec) {
		if st, err := os.Stat(filepath.Join(o.bin, b.Name)); err != nil || !st.Mode().IsRegular() {
			if err == nil {
				err = errors.New("not a file")
			}
			return usagef("--exec copies %s to each host: %v (build it from the repository's root: %s)", b.Name, err, b.Build)
		}
	}
	fmt.Fprintf(stderr, "running on %d host(s); logs in %s\n", len(plans), logDir)
	results := ssh.Exec(ctx, plans, logDir)
	failed, stopped, running := 0, 0, 0
	for _, r := range results {
		fmt.Fprintln(stdout, r.Summary())
		switch {
		case r.Stopped && r.StopErr != nil, r.Unreachable:
			running++
		case r.Stopped:
			stopped++
		}
		if r.Failed != "" {
			failed++
		}
	}
	if ctx.Err() != nil {
		msg := fmt.Sprintf("interrupted: %d run(s) stopped on their hosts (bench run exited there; each line above says how to finish it)", stopped)
		if running > 0 {
			msg += fmt.Sprintf("; %d may still be running (see above)", running)
		}
		return exitError{exitSignal, msg}
	}
	if failed > 0 {
		return exitError{exitFailed, fmt.Sprintf("%d of %d host(s) failed (see above)", failed, len(results))}
	}
	fmt.Fprintf(stdout, "\nnext: bench report %s\n", strings.Join(localDirs(results), " "))
	return nil
}

func localDirs(rs []ssh.HostResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Plan.LocalOut)
	}
	return out
}

// parseHosts reads --ssh HOST[=SIZE],...; hosts without a size take the
// --sizes names in order.
func parseHosts(spec string, sizeFlags []string, sizesGiven bool) ([]ssh.Host, error) {
	var named []string
	if sizesGiven {
		named = sizeFlags
	}
	var hosts []ssh.Host
	next := 0
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		addr, sz, hasSize := strings.Cut(part, "=")
		var s sizes.Size
		if hasSize {
			var ok bool
			if s, ok = sizes.Lookup(sz); !ok {
				return nil, fmt.Errorf("--ssh %s: unknown size %q (see bench sizes)", part, sz)
			}
		} else {
			if next >= len(named) {
				return nil, fmt.Errorf("--ssh %s: which size is it? write %s=DC2s_v2, or list the hosts' sizes in order with --sizes", part, part)
			}
			var ok bool
			if s, ok = sizes.Lookup(named[next]); !ok {
				return nil, fmt.Errorf("--sizes %s: with --ssh, give size names (one per host), not families", named[next])
			}
			next++
		}
		hosts = append(hosts, ssh.Host{Addr: addr, Size: s})
	}
	if len(hosts) == 0 {
		return nil, errors.New("--ssh: no hosts")
	}
	if next > 0 && next != len(named) {
		return nil, fmt.Errorf("--sizes lists %d sizes for %d host(s) without =SIZE", len(named), next)
	}
	return hosts, nil
}
