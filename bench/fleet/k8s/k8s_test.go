package k8s

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/enclavebench/enclavebench/bench/fleet"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

var update = flag.Bool("update", false, "rewrite golden files")

func mustSizes(t *testing.T, sel string) []sizes.Size {
	t.Helper()
	sz, err := sizes.Select(sel)
	if err != nil {
		t.Fatal(err)
	}
	return sz
}

// testWorkloads pins the suite of the tests: the golden file and the
// sizing checks must not change when a workload is added to the registry.
var testWorkloads = []string{"syscall", "memsweep"}

func baseOptions() JobOptions {
	return JobOptions{Image: "example.azurecr.io/enclavebench:v1", PlanID: "20261127-041121", HarnessVersion: "dev",
		Spec: runspec.Spec{Workloads: testWorkloads, Modes: []string{"sgx"}, Profile: "quick"}}
}

// planJob resolves o's spec for one size (fleet.Plan, as bench plan does
// for all its sizes at once) and builds the size's Job from that plan.
func planJob(size sizes.Size, o JobOptions) (*JobPlan, error) {
	spec := o.Spec
	spec.Sizes = []string{size.Name}
	run, err := fleet.Plan(spec)
	if err != nil {
		return nil, err
	}
	o.Plan = run
	return Job(size, o)
}

type variant struct {
	o     JobOptions
	sizes string
}

// optionVariants are the option sets every manifest test runs through,
// with the sizes they plan.
func optionVariants() map[string]variant {
	two := 2
	full := baseOptions()
	full.Namespace = "bench"
	full.AESM = true
	full.Spec = runspec.Spec{Workloads: []string{"memsweep", "syscall"}, Modes: []string{"sgx", "native"}, Profile: "full",
		Overrides: map[string][]string{"memsweep.ws": {"0.5xEPC", "2xEPC"}}, Reps: 8, Warmup: &two,
		MinTimeNS: (50 * time.Millisecond).Nanoseconds(), TimeoutNS: (3 * time.Minute).Nanoseconds()}
	full.Resources = corev1.ResourceList{"sgx.intel.com/enclave": resource.MustParse("1"), "sgx.intel.com/provision": resource.MustParse("1")}
	full.Tolerations = []corev1.Toleration{{Key: "enclavebench", Operator: corev1.TolerationOpEqual, Value: "dedicated", Effect: corev1.TaintEffectNoSchedule}}
	full.SeccompLocalhost = "enclavebench-sim.json"
	epc := resource.MustParse("10Mi")
	small := baseOptions()
	small.EPC = &epc
	small.Deadline = 90 * time.Minute
	native := baseOptions()
	native.Spec.Modes = []string{"native"}
	native.Spec.Overrides = map[string][]string{"memsweep.ws": {"64MiB", "256MiB"}}
	// The quick grid's memsweep at 2xEPC does not fit a DCsv3 VM's memory
	// in an enclave (EPC is half the memory there): plan DCsv3 with
	// smaller working sets.
	v3 := baseOptions()
	v3.Spec.Overrides = map[string][]string{"memsweep.ws": {"256MiB", "1GiB"}}
	return map[string]variant{"defaults": {baseOptions(), "dcsv2"}, "everything": {full, "dcsv2"}, "small epc": {small, "dcsv2"},
		"native only": {native, "all"}, "dcsv3": {v3, "dcsv3,dcdsv3"}}
}

// decodeStrict decodes one manifest into a Job, refusing unknown fields,
// both through sigs.k8s.io/yaml and through encoding/json.
func decodeStrict(t *testing.T, doc []byte) *batchv1.Job {
	t.Helper()
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(doc, &job); err != nil {
		t.Fatalf("yaml.UnmarshalStrict: %v\n%s", err, doc)
	}
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var job2 batchv1.Job
	if err := dec.Decode(&job2); err != nil {
		t.Fatalf("json DisallowUnknownFields: %v", err)
	}
	if !equality.Semantic.DeepEqual(job, job2) {
		t.Fatal("the two decodings differ")
	}
	return &job
}

func TestManifestsDecodeStrictly(t *testing.T) {
	t.Parallel()
	for name, v := range optionVariants() {
		o := v.o
		for _, size := range mustSizes(t, v.sizes) {
			jp, err := planJob(size, o)
			if err != nil {
				t.Fatalf("%s %s: %v", name, size.Name, err)
			}
			doc, err := Manifest(jp)
			if err != nil {
				t.Fatal(err)
			}
			job := decodeStrict(t, doc)
			if !equality.Semantic.DeepEqual(job, jp.Job) {
				t.Errorf("%s %s: the manifest does not decode to the Job it was made from", name, size.Name)
			}
			checkJob(t, name, size, o, job)
		}
	}
}

// checkJob checks what every Job must say.
func checkJob(t *testing.T, variant string, size sizes.Size, o JobOptions, job *batchv1.Job) {
	t.Helper()
	where := variant + " " + size.Name
	spec := job.Spec.Template.Spec
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Errorf("%s: %s %s", where, job.APIVersion, job.Kind)
	}
	if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 {
		t.Errorf("%s: backoffLimit %v", where, job.Spec.BackoffLimit)
	}
	if d := job.Spec.ActiveDeadlineSeconds; d == nil || *d < int64(DeadlineMargin/time.Second) {
		t.Errorf("%s: activeDeadlineSeconds %v", where, d)
	}
	if spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %s", where, spec.RestartPolicy)
	}
	if got := spec.NodeSelector[InstanceTypeLabel]; got != "Standard_"+size.Name {
		t.Errorf("%s: nodeSelector %s=%q", where, InstanceTypeLabel, got)
	}
	if job.Namespace != o.Namespace {
		t.Errorf("%s: namespace %q", where, job.Namespace)
	}
	for _, l := range []string{LabelName, LabelPlan, LabelSize, LabelProfile} {
		if job.Labels[l] == "" || job.Spec.Template.Labels[l] != job.Labels[l] {
			t.Errorf("%s: label %s: job %q, pod %q", where, l, job.Labels[l], job.Spec.Template.Labels[l])
		}
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers", where, len(spec.Containers))
	}
	c := spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if !strings.HasPrefix(args, "run ") || !strings.Contains(args, " --sizes "+size.Name+" ") || !strings.HasSuffix(args, " -o -") {
		t.Errorf("%s: args %q", where, args)
	}
	if c.Image != o.Image || !slices.Equal(c.Command, []string{ImageBench}) {
		t.Errorf("%s: image %q command %q", where, c.Image, c.Command)
	}
	cpu := c.Resources.Limits[corev1.ResourceCPU]
	if cpu.Value() != int64(size.VCPUs) {
		t.Errorf("%s: cpu limit %s, want %d", where, cpu.String(), size.VCPUs)
	}
	if req := c.Resources.Requests[corev1.ResourceCPU]; req.Cmp(cpu) > 0 || req.MilliValue() < 500 {
		t.Errorf("%s: cpu request %s", where, req.String())
	}
	memReq, memLim := c.Resources.Requests[corev1.ResourceMemory], c.Resources.Limits[corev1.ResourceMemory]
	if memReq.Cmp(memLim) > 0 || memLim.Value() > size.MemBytes() {
		t.Errorf("%s: memory request %s limit %s", where, memReq.String(), memLim.String())
	}
	epc, hasEPC := c.Resources.Requests[EPCResource]
	wantsSGX := fleet.UsesSGX(o.Spec)
	switch {
	case hasEPC != wantsSGX:
		t.Errorf("%s: EPC requested %v, sgx mode %v", where, hasEPC, wantsSGX)
	case hasEPC && o.EPC == nil && epc.Value() != size.EPCBytes:
		t.Errorf("%s: EPC %s, want the size's %d bytes", where, epc.String(), size.EPCBytes)
	case hasEPC && o.EPC != nil && epc.Cmp(*o.EPC) != 0:
		t.Errorf("%s: EPC %s, want %s", where, epc.String(), o.EPC.String())
	}
	if hasEPC && !equality.Semantic.DeepEqual(c.Resources.Limits[EPCResource], epc) {
		t.Errorf("%s: EPC limit differs from the request", where)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Errorf("%s: no securityContext", where)
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 || sc.RunAsGroup == nil || *sc.RunAsGroup == 0:
		t.Errorf("%s: securityContext runs as root or may: %+v", where, sc)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: privilege escalation allowed", where)
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s: capabilities %+v, want all dropped, none added", where, sc.Capabilities)
	case o.SeccompLocalhost == "" && (sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault):
		t.Errorf("%s: seccomp %+v, want RuntimeDefault", where, sc.SeccompProfile)
	case o.SeccompLocalhost != "" && (sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeLocalhost ||
		sc.SeccompProfile.LocalhostProfile == nil || *sc.SeccompProfile.LocalhostProfile != o.SeccompLocalhost):
		t.Errorf("%s: seccomp %+v, want Localhost %s", where, sc.SeccompProfile, o.SeccompLocalhost)
	case sc.Privileged != nil && *sc.Privileged:
		t.Errorf("%s: privileged", where)
	}
	if ps := spec.SecurityContext; ps != nil && (ps.RunAsUser != nil && *ps.RunAsUser == 0) {
		t.Errorf("%s: pod securityContext runs as root", where)
	}
	hasAESM := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == AESMDir })
	if hasAESM != o.AESM {
		t.Errorf("%s: AESM mount %v", where, hasAESM)
	}
}

func TestManifestGolden(t *testing.T) {
	t.Parallel()
	var all [][]byte
	for _, size := range mustSizes(t, "dcsv2") {
		jp, err := planJob(size, baseOptions())
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Manifest(jp)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, doc)
	}
	got := bytes.Join(all, []byte("---\n"))
	golden := filepath.Join("testdata", "jobs-dcsv2.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("manifests differ from %s (go test ./bench/fleet -run Golden -update, then review the diff):\n%s", golden, got)
	}
}

func TestJobErrors(t *testing.T) {
	t.Parallel()
	dc2, _ := sizes.Lookup("DC2s_v2")
	for name, mut := range map[string]func(*JobOptions){
		"no image":         func(o *JobOptions) { o.Image = "" },
		"bad plan id":      func(o *JobOptions) { o.PlanID = "Plan_1" },
		"bad namespace":    func(o *JobOptions) { o.Namespace = "Bench NS" },
		"unknown workload": func(o *JobOptions) { o.Spec.Workloads = []string{"nosuch"} },
		"bad param":        func(o *JobOptions) { o.Spec.Overrides = map[string][]string{"memsweep.ws": {"lots"}} },
		"bad image":        func(o *JobOptions) { o.Image = "example/eb:1\n  securityContext: {}" },
		// The plan --resource sgx.intel.com/epc=-1 --resource cpu=-3:
		// owned resources are set by their checked flags only.
		"--resource epc": func(o *JobOptions) { o.Resources = corev1.ResourceList{EPCResource: resource.MustParse("-1")} },
		"--resource cpu": func(o *JobOptions) { o.Resources = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")} },
		"--resource memory": func(o *JobOptions) {
			o.Resources = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
		},
		"zero resource": func(o *JobOptions) {
			o.Resources = corev1.ResourceList{"sgx.intel.com/enclave": resource.MustParse("0")}
		},
		"negative EPC": func(o *JobOptions) { q := resource.MustParse("-1Mi"); o.EPC = &q },
		"zero CPU":     func(o *JobOptions) { q := resource.MustParse("0"); o.CPURequest = &q },
	} {
		o := baseOptions()
		mut(&o)
		if _, err := planJob(dc2, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestJobNeedsThePlan: a Job takes its cells from the plan resolved once
// for every Job (fleet.Plan), and refuses to be built without it or for a
// size the plan does not have.
func TestJobNeedsThePlan(t *testing.T) {
	t.Parallel()
	dc2, _ := sizes.Lookup("DC2s_v2")
	dc4, _ := sizes.Lookup("DC4s_v2")
	o := baseOptions()
	if _, err := Job(dc2, o); err == nil || !strings.Contains(err.Error(), "no resolved plan") {
		t.Errorf("no plan: %v", err)
	}
	spec := o.Spec
	spec.Sizes = []string{"DC2s_v2"}
	run, err := fleet.Plan(spec)
	if err != nil {
		t.Fatal(err)
	}
	o.Plan = run
	if _, err := Job(dc4, o); err == nil || !strings.Contains(err.Error(), "DC4s_v2 is not in the plan (DC2s_v2)") {
		t.Errorf("size outside the plan: %v", err)
	}
	jp, err := Job(dc2, o)
	if err != nil || jp.Cells != len(run.On("DC2s_v2")) || jp.Cells == 0 {
		t.Errorf("DC2s_v2: %v cells, %v; the plan has %d", jp, err, len(run.On("DC2s_v2")))
	}
}

// TestValidImage holds image references to the distribution reference
// grammar: a reference that is not one would be written into the YAML.
func TestValidImage(t *testing.T) {
	t.Parallel()
	digest := "@sha256:" + strings.Repeat("0123456789abcdef", 4)
	for _, tt := range []struct {
		image string
		ok    bool
	}{
		{"example.azurecr.io/enclavebench:v1", true},
		{"myacr.azurecr.io/team/enclavebench:v1.2-rc_1", true},
		{"localhost:5000/enclavebench", true},
		{"registry.example:443/eb" + digest, true},
		{"eb:1" + digest, true},
		{"x", true},
		{"MyACR.azurecr.io/eb:1", true}, // host names are case-insensitive
		{"", false},
		{"example/eb:1\n  securityContext:\n    privileged: true", false},
		{"ex ample/eb:1", false},
		{"eb:1 ", false},
		{"Example/EB:1", false},
		{"example/EB:1", false},
		{"eb:", false},
		{"eb:-1", false},
		{"eb@sha256:abc", false},
		{"example//eb", false},
		{"/eb", false},
		{"eb:1\t", false},
	} {
		err := ValidImage(tt.image)
		if (err == nil) != tt.ok {
			t.Errorf("ValidImage(%q) = %v, want ok %v", tt.image, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "lower case") {
			t.Errorf("ValidImage(%q): %v does not say what a reference looks like", tt.image, err)
		}
	}
}

func TestJobTooBigForTheSize(t *testing.T) {
	t.Parallel()
	dc1v3, _ := sizes.Lookup("DC1s_v3")
	_, err := planJob(dc1v3, baseOptions())
	if err == nil || !strings.Contains(err.Error(), "largest cell, Memsweep/ws=2xEPC/access=") || !strings.Contains(err.Error(), "--param memsweep.") {
		t.Errorf("DC1s_v3 with the quick grid in sgx mode: %v", err)
	}
}

func TestNodesCheck(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "nodes.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nodes, err := ReadNodes(f, "nodes.json")
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string) (*JobPlan, []string, error) {
		s, _ := sizes.Lookup(name)
		jp, err := planJob(s, baseOptions())
		if err != nil {
			t.Fatal(err)
		}
		notes, err := nodes.Check(jp, false)
		return jp, notes, err
	}
	// DC1s_v2: no node (AKS cannot have one).
	if _, _, err := check("DC1s_v2"); err == nil || !strings.Contains(err.Error(), "nodes.json: no node of size DC1s_v2") ||
		!strings.Contains(err.Error(), "the cluster has: Standard_D4s_v5 x1, Standard_DC2s_v2 x1, Standard_DC4s_v2 x1, Standard_DC8_v2 x1") ||
		!strings.Contains(err.Error(), "bench plan --ssh") {
		t.Errorf("DC1s_v2: %v", err)
	}
	// DC2s_v2: fine.
	if _, notes, err := check("DC2s_v2"); err != nil || len(notes) != 0 {
		t.Errorf("DC2s_v2: %v %v", notes, err)
	}
	// DC4s_v2: the node offers less EPC than the size has: capped.
	jp, notes, err := check("DC4s_v2")
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0], "requesting 100Mi") {
		t.Errorf("DC4s_v2: %v %v", notes, err)
	}
	if q := jp.Job.Spec.Template.Spec.Containers[0].Resources.Limits[EPCResource]; q.String() != "100Mi" {
		t.Errorf("DC4s_v2 EPC limit %s", q.String())
	}
	// DC8_v2: no device plugin, and cordoned.
	_, notes, err = check("DC8_v2")
	if err != nil || len(notes) != 2 || !strings.Contains(strings.Join(notes, "\n"), "no allocatable sgx.intel.com/epc") ||
		!strings.Contains(strings.Join(notes, "\n"), "cordoned") {
		t.Errorf("DC8_v2: %q %v", notes, err)
	}
}

func TestReadNodesErrors(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"{\"kind\": \"List\",\n \"items\": [\n {\"metadata\": {\"name\": 3}}]}": "n.json:3: ",
		"{\"kind\": \"List\",\n\n \"items\": [,]}":                              "n.json:3: ",
		`{"kind": "PodList", "items": []}`:                                      `kind "PodList"`,
		"kind: List\nitems:\n- kind: Pod\n  metadata: {name: p}\n":              `item "p" is a Pod`,
	} {
		_, err := ReadNodes(strings.NewReader(in), "n.json")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// TestKubectlDryRun runs scripts/check-manifests.sh, kubectl's client-side
// dry run made to work without a cluster, on the manifests of every size
// and option variant.
func TestKubectlDryRun(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	dir := t.TempDir()
	var names []string
	for variant, v := range optionVariants() {
		o := v.o
		o.PlanID = strings.ReplaceAll(variant, " ", "-")
		for _, size := range mustSizes(t, v.sizes) {
			jp, err := planJob(size, o)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Manifest(jp)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, jp.Job.Name+".yaml"), doc, 0o644); err != nil {
				t.Fatal(err)
			}
			names = append(names, "job.batch/"+jp.Job.Name)
		}
	}
	cmd := exec.Command("sh", filepath.Join("..", "..", "..", "scripts", "check-manifests.sh"), dir)
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // must not matter
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("check-manifests.sh: %v\n%s", err, out)
	}
	for _, n := range names {
		if !strings.Contains(string(out), n) {
			t.Errorf("kubectl did not accept %s:\n%s", n, out)
		}
	}

	// And it fails on a broken manifest.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: batch/v1\nkind: Jobb\nmetadata: {name: x}\n"), 0o644)
	if out, err := exec.Command("sh", filepath.Join("..", "..", "..", "scripts", "check-manifests.sh"), bad).CombinedOutput(); err == nil {
		t.Errorf("check-manifests.sh accepted kind Jobb:\n%s", out)
	}
}

// TestKubectlApplyDryRun runs `kubectl apply --dry-run=client` itself. It
// needs more than discovery: apply GETs the live object to compute its
// patch, so kubectl talks to a stand-in API server on the loopback that
// serves discovery for core/v1 and batch/v1 and answers 404 (no such
// object) to every GET of an object; nothing is created anywhere.
func TestKubectlApplyDryRun(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	var mu sync.Mutex
	var mutations []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet {
			mu.Lock()
			mutations = append(mutations, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		switch r.URL.Path {
		case "/api":
			io.WriteString(w, `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}`)
		case "/apis":
			io.WriteString(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"batch","versions":[{"groupVersion":"batch/v1","version":"v1"}],"preferredVersion":{"groupVersion":"batch/v1","version":"v1"}}]}`)
		case "/api/v1":
			io.WriteString(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["get","list"]}]}`)
		case "/apis/batch/v1":
			io.WriteString(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"batch/v1","resources":[{"name":"jobs","singularName":"job","namespaced":true,"kind":"Job","verbs":["create","delete","get","list","patch","update","watch"]}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"not found"}`)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: "+srv.URL+
		"\ncontexts:\n- name: fake\n  context: {cluster: fake, user: fake, namespace: default}\ncurrent-context: fake\nusers:\n- name: fake\n  user: {token: fake}\n"), 0o600)
	manifests := filepath.Join(dir, "manifests")
	os.Mkdir(manifests, 0o755)
	var want []string
	for _, size := range mustSizes(t, "dcsv2") {
		jp, err := planJob(size, baseOptions())
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := Manifest(jp)
		os.WriteFile(filepath.Join(manifests, size.Name+".yaml"), doc, 0o644)
		want = append(want, "job.batch/"+jp.Job.Name+" created (dry run)")
	}
	cmd := exec.Command("kubectl", "--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(dir, "cache"),
		"apply", "--dry-run=client", "--validate=false", "-f", manifests)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl apply --dry-run=client: %v\n%s", err, out)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("kubectl output lacks %q:\n%s", w, out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(mutations) > 0 {
		t.Errorf("kubectl sent %v to the stand-in server", mutations)
	}
}

func TestMemoryRequest(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	// memsweep ws=2xEPC access=random on DC8_v2: a 336 MiB arena and
	// 42 MiB of permutation on the Go heap.
	sweep := plan.Cell{Footprint: 336 * mib, Memory: workload.Memory{Mapped: 336 * mib, GoHeap: 42 * mib}}
	tests := []struct {
		name string
		c    plan.Cell
		ego  bool
		want int64
	}{
		{"native: footprint + 256, in 64 MiB steps", sweep, false, 640 * mib},
		{"ego: heapSize 496 + 128 of stacks + 256", sweep, true, 896 * mib},
		{"ego, all on the Go heap: 736 + 128 + 256", plan.Cell{Footprint: 336 * mib, Memory: workload.Memory{GoHeap: 336 * mib}}, true, 1152 * mib},
		{"ego, no memory: heapSize 64 + 128 + 256", plan.Cell{}, true, 448 * mib},
	}
	for _, tt := range tests {
		var modes []string
		if tt.ego {
			modes = []string{"ego-sim", mode.Native}
		}
		if got := memoryRequest(tt.c, fleet.NodeMemory(runspec.Spec{Modes: modes})); got != tt.want {
			t.Errorf("%s: memoryRequest = %d MiB, want %d MiB", tt.name, got/mib, tt.want/mib)
		}
	}
}

// TestSeccompLocalhostPath: the kubelet resolves a Localhost profile under
// its seccomp directory, so a path that is absolute, unclean or leaves it
// is refused (the "everything" manifest variant carries a valid one).
func TestSeccompLocalhostPath(t *testing.T) {
	t.Parallel()
	for _, p := range []struct {
		path string
		ok   bool
	}{{"enclavebench-sim.json", true}, {"profiles/sim.json", true}, {"", false}, {"/etc/sim.json", false}, {"../sim.json", false}, {"a/../../b", false}, {"a//b", false}} {
		if err := ValidSeccompLocalhost(p.path); (err == nil) != p.ok {
			t.Errorf("ValidSeccompLocalhost(%q) = %v, want ok %v", p.path, err, p.ok)
		}
	}
}
