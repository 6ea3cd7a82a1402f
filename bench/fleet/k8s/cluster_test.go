package k8s

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/enclavebench/enclavebench/bench/sizes"
)

// The server-side check of the manifests: a real control plane (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, built by
// scripts/k8s/build.sh and started by scripts/k8s/up.sh on 127.0.0.1)
// admits the Jobs `bench plan --k8s` writes, the job controller makes their
// pods and the scheduler places them. The nodes are Node objects shaped as
// AKS's DCsv2 pools are (instance-type label, the dedicated taint, the
// SGX device plugin's sgx.intel.com/epc, the sizes' vCPUs and memory), with
// no kubelet: pods are scheduled, not run (scripts/k8s/e2e.sh runs them).

const k8sBuild = "scripts/k8s/build.sh (about 10 minutes on 2 cores; binaries in ~/.cache/enclavebench/k8s-v1.37.2/bin, or set ENCLAVEBENCH_K8S_BIN)"

// k8sBin is the directory of the cluster's binaries, or a skip.
func k8sBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Kubernetes control plane; skipped with -short")
	}
	dir := os.Getenv("ENCLAVEBENCH_K8S_BIN")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skipf("no home directory to find the Kubernetes binaries in (%v): build them with %s", err, k8sBuild)
		}
		dir = filepath.Join(home, ".cache", "enclavebench", "k8s-v1.37.2", "bin")
	}
	var missing []string
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		t.Skipf("no local Kubernetes: %s missing in %s; build them with %s", strings.Join(missing, ", "), dir, k8sBuild)
	}
	return dir
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

// cluster is a control plane started for one test.
type cluster struct {
	t          *testing.T
	bin, state string
}

// clusterEnv must be set for a test to start a control plane. ./test.sh
// sets it in a step of its own, after `go test ./...`: the control plane
// keeps a core busy for half a minute, and beside the other packages'
// counting tests on a 2-core runner it made them miss (seen: bench/counts'
// +1 system call per operation counted 1.14).
const clusterEnv = "ENCLAVEBENCH_K8S_TEST"

func startCluster(t *testing.T) *cluster {
	if os.Getenv(clusterEnv) == "" {
		t.Skipf("starts a Kubernetes control plane: ./test.sh runs it alone after the other tests; set %s=1 to run it here", clusterEnv)
	}
	bin := k8sBin(t)
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed (scripts/k8s/certs.sh makes the certificates with it)")
	}
	// Not t.TempDir: etcd and the API server write there until down.sh
	// has stopped them, after TempDir's cleanup would run.
	state, err := os.MkdirTemp("", "enclavebench-k8s-*")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: bin, state: state}
	t.Cleanup(func() {
		out, err := exec.Command("sh", "../../../scripts/k8s/down.sh", state, "--purge").CombinedOutput()
		if err != nil {
			t.Errorf("down.sh: %v\n%s", err, out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "../../../scripts/k8s/up.sh", state)
	cmd.Env = append(os.Environ(), "K8S_BIN="+bin,
		"K8S_API_PORT="+strconv.Itoa(freePort(t)),
		"K8S_ETCD_PORT="+strconv.Itoa(freePort(t)),
		"K8S_ETCD_PEER_PORT="+strconv.Itoa(freePort(t)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("up.sh: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	return c
}

// kubectl runs kubectl against the cluster; it fails the test on an error.
func (c *cluster) kubectl(stdin []byte, args ...string) []byte {
	c.t.Helper()
	out, err := c.try(stdin, args...)
	if err != nil {
		c.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *cluster) try(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, "kubectl"), append([]string{"--kubeconfig", filepath.Join(c.state, "kubeconfig")}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}

// standInNode registers a Node shaped as one node of an AKS pool of size:
// the labels AKS sets, the dedicated pool's taint (docs/fleet.md), the
// size's vCPUs and memory, and with epc the device plugin's EPC resource.
// The status is written through the status subresource as a kubelet and
// the device plugin would.
func (c *cluster) standInNode(size sizes.Size, epc bool) string {
	c.t.Helper()
	name := "standin-" + strings.ToLower(strings.ReplaceAll(size.Name, "_", "-"))
	node := corev1.Node{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			InstanceTypeLabel:        size.InstanceType(),
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     "amd64",
			"kubernetes.io/hostname": name,
		}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "enclavebench", Value: "dedicated", Effect: corev1.TaintEffectNoSchedule}}},
	}
	b, err := json.Marshal(node)
	if err != nil {
		c.t.Fatal(err)
	}
	c.kubectl(b, "apply", "-f", "-")
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(size.VCPUs), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(size.MemBytes(), resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
	}
	if epc {
		capacity[EPCResource] = *resource.NewQuantity(size.EPCBytes, resource.BinarySI)
	}
	now := metav1.Now()
	status, err := json.Marshal(map[string]corev1.NodeStatus{"status": {
		Capacity:    capacity,
		Allocatable: capacity,
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "StandIn", Message: "a Node object without a kubelet", LastHeartbeatTime: now, LastTransitionTime: now}},
	}})
	if err != nil {
		c.t.Fatal(err)
	}
	c.kubectl(nil, "patch", "node", name, "--subresource=status", "--type=merge", "-p", string(status))
	// The API server taints every new Node not-ready (TaintNodesByCondition);
	// the node lifecycle controller, which up.sh leaves out, would lift it
	// once the node is Ready.
	c.kubectl(nil, "taint", "node", name, "node.kubernetes.io/not-ready:NoSchedule-")
	return name
}

// pods lists the pods of a plan.
func (c *cluster) pods(planID string) []corev1.Pod {
	c.t.Helper()
	var list corev1.PodList
	if err := json.Unmarshal(c.kubectl(nil, "get", "pods", "-l", LabelPlan+"="+planID, "-o", "json"), &list); err != nil {
		c.t.Fatal(err)
	}
	return list.Items
}

// settled waits until the plan has want pods, each bound to a node or
// refused by the scheduler (PodScheduled false).
func (c *cluster) settled(planID string, want int) []corev1.Pod {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pods := c.pods(planID)
		done := len(pods) == want
		for _, p := range pods {
			if p.Spec.NodeName == "" && !slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
				return c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse
			}) {
				done = false
			}
		}
		if done {
			return pods
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("plan %s: %d pods (want %d) not all scheduled or refused after 2 minutes:\n%s", planID, len(pods), want,
				c.kubectl(nil, "get", "pods,jobs", "-o", "wide"))
		}
		time.Sleep(time.Second)
	}
}

// TestClusterAdmitsAndSchedules applies the Jobs of `bench plan --k8s` to a
// real API server and checks where the scheduler puts their pods.
func TestClusterAdmitsAndSchedules(t *testing.T) {
	c := startCluster(t)
	bench := benchBinary(t)

	dc1, _ := sizes.Lookup("DC1s_v2")
	dc2, _ := sizes.Lookup("DC2s_v2")
	dc4, _ := sizes.Lookup("DC4s_v2")
	dc8, _ := sizes.Lookup("DC8_v2")
	nodes := map[string]string{ // size -> node
		dc2.Name: c.standInNode(dc2, true),
		dc4.Name: c.standInNode(dc4, true),
		// DC8_v2's node has no EPC: the device plugin does not run there.
		dc8.Name: c.standInNode(dc8, false),
		// DC1s_v2 has no node at all.
	}

	plan := func(id string, args ...string) string {
		dir := filepath.Join(t.TempDir(), id)
		cmd := exec.Command(bench, append([]string{"plan", "--k8s", "--image", "enclavebench.local/enclavebench:ci",
			"--plan-id", id, "--toleration", "enclavebench=dedicated:NoSchedule", "-o", dir}, args...)...)
		cmd.Env = append(os.Environ(), "ENCLAVEBENCH_IMDS=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("bench plan %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return dir
	}
	sgx := plan("ci-sgx", "--sizes", "DC1s_v2,DC2s_v2,DC4s_v2,DC8_v2", "--modes", "native,sgx")
	// The EPC-less node is fine for Jobs without an sgx mode.
	native := plan("ci-native", "--sizes", "DC8_v2", "--modes", "native,sim")

	// Admission: a real API server, not kubectl's client-side dry run.
	for _, dir := range []string{sgx, native} {
		out := c.kubectl(nil, "apply", "-f", dir)
		if n := strings.Count(string(out), " created"); n == 0 {
			t.Fatalf("kubectl apply -f %s created nothing:\n%s", dir, out)
		}
	}

	wantNode := map[string]string{dc2.Name: nodes[dc2.Name], dc4.Name: nodes[dc4.Name]}
	wantReason := map[string]string{
		dc8.Name: "Insufficient " + EPCResource,
		dc1.Name: "didn't match Pod's node affinity/selector",
	}
	check := func(pods []corev1.Pod, wantNode, wantReason map[string]string) {
		t.Helper()
		for _, p := range pods {
			size := p.Labels[LabelSize]
			if want, ok := wantNode[size]; ok {
				if p.Spec.NodeName != want {
					t.Errorf("pod %s (%s) on node %q, want %s", p.Name, size, p.Spec.NodeName, want)
				}
				continue
			}
			if p.Spec.NodeName != "" {
				t.Errorf("pod %s (%s) was scheduled onto %s, want it pending", p.Name, size, p.Spec.NodeName)
			}
		}
	}
	check(c.settled("ci-sgx", 4), wantNode, wantReason)
	check(c.settled("ci-native", 1), map[string]string{dc8.Name: nodes[dc8.Name]}, nil)

	// The command docs/fleet.md gives for pods that wait for a node, with
	// the scheduler's reason.
	cmd := exec.Command("sh", "../../../scripts/k8s/unscheduled.sh", "ci-sgx")
	cmd.Env = append(os.Environ(), "KUBECTL="+filepath.Join(c.bin, "kubectl"), "KUBECONFIG="+filepath.Join(c.state, "kubeconfig"))
	out, err := cmd.CombinedOutput()
	t.Logf("unscheduled.sh ci-sgx:\n%s", out)
	if code := exitCode(err); code != 1 {
		t.Errorf("unscheduled.sh ci-sgx: exit %d (%v), want 1 (pods wait)", code, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for size, reason := range wantReason {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, size) && strings.Contains(l, reason) }) {
			t.Errorf("unscheduled.sh does not report %s with %q", size, reason)
		}
	}
	for size := range wantNode {
		if slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, " "+size+" ") }) {
			t.Errorf("unscheduled.sh reports %s, which was scheduled", size)
		}
	}
	cmd = exec.Command("sh", "../../../scripts/k8s/unscheduled.sh", "ci-native")
	cmd.Env = append(os.Environ(), "KUBECTL="+filepath.Join(c.bin, "kubectl"), "KUBECONFIG="+filepath.Join(c.state, "kubeconfig"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("unscheduled.sh ci-native: %v, want exit 0 (every pod placed)\n%s", err, out)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// benchBinary builds bench for the test.
func benchBinary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bench")
	if b, err := exec.Command("go", "build", "-o", out, "../../../bench").CombinedOutput(); err != nil {
		t.Fatalf("go build bench: %v\n%s", err, b)
	}
	return out
}
