package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/enclavebench/enclavebench/bench/fleet"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Kubernetes names the manifests rely on.
const (
	// InstanceTypeLabel is the well-known node label holding the Azure VM
	// size (kubernetes/api core/v1 well_known_labels.go LabelInstanceTypeStable);
	// AKS sets it to "Standard_<size>".
	InstanceTypeLabel = "node.kubernetes.io/instance-type"
	// instanceTypeLabelBeta is its deprecated predecessor, still read.
	instanceTypeLabelBeta = "beta.kubernetes.io/instance-type"

	// EPCResource is the extended resource through which the SGX device
	// plugin hands out EPC: Intel's plugin and the one of AKS's confcom
	// add-on. Requesting it places the pod on an SGX node and makes the
	// plugin mount the SGX device nodes (/dev/sgx_enclave, /dev/sgx_provision)
	// into the container (MicrosoftDocs/azure-docs
	// articles/confidential-computing/confidential-enclave-nodes-aks-get-started.md,
	// the sgx-test Job: "sgx.intel.com/epc: 5Mi # This limit will
	// automatically place the job into a confidential computing node and
	// mount the required driver volumes").
	EPCResource = "sgx.intel.com/epc"

	// AESMDir is the host directory of the AESM socket of AKS's SGX quote
	// helper (articles/confidential-computing/confidential-nodes-aks-addon.md,
	// "out-of-proc attestation"); AESMEnv makes Intel's quote library use it.
	AESMDir = "/var/run/aesmd"
	AESMEnv = "SGX_AESM_ADDR"

	// Paths inside the image built by deploy/Dockerfile.
	ImageBench  = "/opt/enclavebench/bin/bench"
	ImageSource = "/opt/enclavebench/src"
	// ImageUID is the non-root user (and group) deploy/Dockerfile's USER
	// runs as, and the Jobs' runAsUser/runAsGroup.
	ImageUID = 10001

	// Labels of every object of a plan.
	LabelName     = "app.kubernetes.io/name"
	LabelPart     = "app.kubernetes.io/component"
	LabelVersion  = "app.kubernetes.io/version"
	LabelPlan     = "enclavebench.io/plan"
	LabelSize     = "enclavebench.io/size"
	LabelProfile  = "enclavebench.io/profile"
	AppName       = "enclavebench"
	containerName = "bench"
)

// DeadlineMargin is added to a Job's worst case (every cell hitting its
// timeout, and killed runspec.QuitGrace after it): scheduling, pulling the image (EGo's dev image is over 1 GB),
// and the sgx mode's ego-go build and signatures before the first cell.
const DeadlineMargin = 15 * time.Minute

// JobOptions configure the Jobs of a plan.
type JobOptions struct {
	// Spec is what each size's Job runs (its sizes are replaced by the
	// Job's size).
	Spec runspec.Spec
	// Plan is Spec resolved for every size of the plan (fleet.Plan),
	// resolved once for every Job: a Job takes its size's cells from it.
	Plan  *plan.Run
	Image string
	// Namespace of the Jobs; "" leaves it to kubectl's context.
	Namespace string
	// PlanID labels every Job of the plan and ends their names, so that
	// `kubectl logs -l enclavebench.io/plan=ID` gathers one plan's pods.
	PlanID string
	// HarnessVersion is recorded as app.kubernetes.io/version.
	HarnessVersion string
	// EPC overrides the EPC request (default: the size's whole EPC).
	EPC *resource.Quantity
	// CPURequest overrides the CPU request (default: see cpuRequest).
	CPURequest *resource.Quantity
	// Deadline overrides activeDeadlineSeconds (default: see deadline).
	Deadline time.Duration
	// AESM mounts the host's AESM socket directory and sets SGX_AESM_ADDR=1
	// for out-of-proc quote generation through AKS's SGX quote helper.
	AESM bool
	// Resources are extra extended resources requested (and limited) as
	// given, e.g. sgx.intel.com/enclave=1 for Intel's plugin without its
	// admission webhook.
	Resources corev1.ResourceList
	// Tolerations let the pods onto tainted (dedicated) node pools.
	Tolerations []corev1.Toleration
	// SeccompLocalhost, when set, is the container's Localhost seccomp
	// profile (a path relative to the kubelet's seccomp directory) instead
	// of RuntimeDefault: the sim mode needs userfaultfd and pidfd_getfd,
	// which containerd's default profile refuses (docs/fleet.md).
	SeccompLocalhost string
}

// ownedResources are the resources Job sizes itself, each from a checked
// option or from the suite: an extra resource of the same name would
// override them unchecked (a negative EPC or CPU request).
var ownedResources = map[corev1.ResourceName]string{
	corev1.ResourceCPU:    "--cpu-request (its limit is the size's vCPUs)",
	corev1.ResourceMemory: "the suite's largest cell (see docs/fleet.md)",
	EPCResource:           "--epc",
}

// checkResources refuses requests that are not positive and extra
// resources that would replace one Job sizes itself.
func checkResources(o JobOptions) error {
	if o.EPC != nil && o.EPC.Sign() <= 0 {
		return fmt.Errorf("--epc %s: want a positive quantity such as 10Mi or 28Mi", o.EPC)
	}
	if o.CPURequest != nil && o.CPURequest.Sign() <= 0 {
		return fmt.Errorf("--cpu-request %s: want a positive quantity such as 1500m or 2", o.CPURequest)
	}
	for _, name := range slices.Sorted(maps.Keys(o.Resources)) {
		q := o.Resources[name]
		if by, ok := ownedResources[name]; ok {
			return fmt.Errorf("--resource %s=%s: %s is set by %s, not by --resource", name, q.String(), name, by)
		}
		if q.Sign() <= 0 {
			return fmt.Errorf("--resource %s=%s: want a positive quantity", name, q.String())
		}
	}
	return nil
}

// JobPlan is the Job of one size and how it was sized.
type JobPlan struct {
	Size     sizes.Size
	Job      *batchv1.Job
	Cells    int
	Deadline time.Duration
	// Notes explain choices a reader should know (capped requests, sizes
	// AKS does not offer).
	Notes []string
}

// ValidImage checks an image reference against the distribution
// reference grammar (github.com/distribution/reference): an optional
// registry host[:port], lower-case repository path components, an optional
// :tag and @digest. Whitespace, newlines and upper case in the repository
// are refused: the reference is written into YAML as given.
func ValidImage(image string) error {
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return fmt.Errorf("--image %q is not an image reference: %v (want [host[:port]/]path[:tag][@sha256:digest], the repository path in lower case, e.g. myacr.azurecr.io/enclavebench:v1)", image, err)
	}
	return nil
}

// securityContext is the container's: no root, no privilege escalation,
// no capabilities, the runtime's default seccomp profile. Nothing in the
// suite needs more. The sgx and ego-sim modes need only file access: to
// the SGX device nodes that the device plugin mounts for the EPC request
// (enclave creation is ioctl and mmap on /dev/sgx_enclave, which the
// kernel gates by the file's permissions, not by a capability) and, with
// --aesmd, to AESM's socket in the mounted /var/run/aesmd. Whether the
// non-root user may open the device nodes depends on the node: they keep
// their host owner and mode unless the container runtime sets
// device_ownership_from_security_context (docs/fleet.md).
func securityContext(localhost string) *corev1.SecurityContext {
	uid, no, yes := int64(ImageUID), false, true
	seccomp := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	if localhost != "" {
		seccomp = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &localhost}
	}
	return &corev1.SecurityContext{
		RunAsNonRoot:             &yes,
		RunAsUser:                &uid,
		RunAsGroup:               &uid,
		AllowPrivilegeEscalation: &no,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           seccomp,
	}
}

// ValidSeccompLocalhost checks a Localhost seccomp profile's path: the
// kubelet resolves it under its seccomp directory, so it must be relative
// and stay there.
func ValidSeccompLocalhost(path string) error {
	if path == "" || filepath.IsAbs(path) || !filepath.IsLocal(path) || filepath.Clean(path) != path {
		return fmt.Errorf("--seccomp-profile localhost/%s: want a clean path relative to the kubelet's seccomp directory (e.g. localhost/enclavebench-sim.json)", path)
	}
	return nil
}

// JobName is the name of a size's Job: enclavebench-<size>-<plan>.
func JobName(size sizes.Size, planID string) string {
	return AppName + "-" + strings.ToLower(strings.ReplaceAll(size.Name, "_", "-")) + "-" + planID
}

// sizeCells are the cells of the Job's size and the resolved spec, from
// the plan resolved once for every Job (a Job never resolves a spec).
func sizeCells(o JobOptions, size sizes.Size) ([]plan.Cell, runspec.Spec, error) {
	if o.Plan == nil {
		return nil, runspec.Spec{}, fmt.Errorf("no resolved plan: JobOptions.Plan is fleet.Plan of the spec")
	}
	if !slices.ContainsFunc(o.Plan.Sizes, func(s sizes.Size) bool { return s.Name == size.Name }) {
		return nil, runspec.Spec{}, fmt.Errorf("size %s is not in the plan (%s)", size.Name, strings.Join(o.Plan.Spec.Sizes, ","))
	}
	return o.Plan.On(size.Name), o.Plan.Spec, nil
}

// Job builds the Job that runs the suite on one size.
func Job(size sizes.Size, o JobOptions) (*JobPlan, error) {
	if err := checkOptions(o); err != nil {
		return nil, err
	}
	cells, prof, err := sizeCells(o, size)
	if err != nil {
		return nil, err
	}
	jp := &JobPlan{Size: size, Cells: len(cells)}

	labels := map[string]string{
		LabelName:    AppName,
		LabelPart:    "suite-run",
		LabelPlan:    o.PlanID,
		LabelSize:    size.Name,
		LabelProfile: prof.Profile,
	}
	if v := o.HarnessVersion; v != "" && len(validation.IsValidLabelValue(v)) == 0 {
		labels[LabelVersion] = v
	}
	res, err := resources(size, o, cells)
	if err != nil {
		return nil, err
	}
	deadline := o.Deadline
	if deadline <= 0 {
		deadline = time.Duration(len(cells))*(prof.Timeout()+runspec.QuitGrace) + DeadlineMargin
	}
	jp.Deadline = deadline
	deadlineSec := int64((deadline + time.Second - 1) / time.Second)
	container, volumes := newContainer(size, o, res)
	job := newJob(size, o, labels, container, volumes, len(cells), deadlineSec)
	for _, e := range validation.IsDNS1123Label(job.Name) {
		return nil, fmt.Errorf("job name %q: %s", job.Name, e)
	}
	jp.Job = job
	if size.VCPUs < 2 {
		jp.Notes = append(jp.Notes, fmt.Sprintf("%s has %d vCPU: AKS does not accept VM sizes with fewer than two vCPUs as nodes (MicrosoftDocs/azure-docs articles/aks/quotas-skus-regions.md, \"Restricted VM sizes\"); this Job needs a cluster you run yourself, or use bench plan --ssh for this size", size.Name, size.VCPUs))
	}
	return jp, nil
}

// checkOptions refuses options a Job cannot be made of.
func checkOptions(o JobOptions) error {
	if o.Image == "" {
		return fmt.Errorf("no image: build deploy/Dockerfile, push it, and pass --image")
	}
	if err := ValidImage(o.Image); err != nil {
		return err
	}
	if err := fleet.ValidPlanID(o.PlanID); err != nil {
		return err
	}
	if o.Namespace != "" {
		if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
			return fmt.Errorf("namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
		}
	}
	return checkResources(o)
}

// resources are the suite container's requests and limits on a node of size.
func resources(size sizes.Size, o JobOptions, cells []plan.Cell) (corev1.ResourceRequirements, error) {
	requests := corev1.ResourceList{}
	limits := corev1.ResourceList{}

	// CPU: the limit is the size's vCPUs, so the harness's GOMAXPROCS and
	// affinity (= vCPUs) are never throttled by the CFS quota. The request
	// cannot be all of them: a node's allocatable CPU is its capacity less
	// kube-reserved, and the node's DaemonSets take some more, so a pod
	// requesting every vCPU would never be scheduled. The node is the
	// pod's through the EPC request (all of it), the anti-affinity below,
	// and a dedicated node pool.
	cpuReq := cpuRequest(size)
	if o.CPURequest != nil {
		cpuReq = o.CPURequest.DeepCopy()
	}
	requests[corev1.ResourceCPU] = cpuReq
	limits[corev1.ResourceCPU] = *resource.NewQuantity(int64(size.VCPUs), resource.DecimalSI)

	// Memory: see memoryRequest.
	var biggest plan.Cell
	var memReq int64
	for _, c := range cells {
		if n := memoryRequest(c, fleet.NodeMemory(o.Spec)); n > memReq {
			biggest, memReq = c, n
		}
	}
	memLim := size.MemBytes() / 4 * 3
	if memReq > memLim {
		return corev1.ResourceRequirements{}, fmt.Errorf("size %s: the suite needs %d MiB of memory for its largest cell, %s (footprint %d MiB), more than the %d MiB a pod can have on a %d GiB node: leave that cell out, e.g. with --param %s.<param>=<smaller values>",
			size.Name, memReq>>20, biggest.Key(), biggest.Footprint>>20, memLim>>20, size.MemoryGiB, biggest.Workload)
	}
	requests[corev1.ResourceMemory] = *resource.NewQuantity(memReq, resource.BinarySI)
	limits[corev1.ResourceMemory] = *resource.NewQuantity(memLim, resource.BinarySI)

	// EPC: the size's whole EPC. The device plugin's EPC is an accounting
	// resource for the scheduler (the kernel does not cap one container's
	// EPC), so asking for all of it keeps every other enclave pod off the
	// node while the suite runs: the suite measures EPC paging, and another
	// enclave's pages would move the cliff. The suite's own need is no
	// better a figure: memsweep deliberately goes past the EPC (2x, 4x),
	// and EGo commits a heap larger than the footprint at enclave creation,
	// so a request of "what the suite uses" would exceed what the node
	// advertises and never schedule.
	if fleet.UsesSGX(o.Spec) {
		epc := *resource.NewQuantity(size.EPCBytes, resource.BinarySI)
		if o.EPC != nil {
			epc = o.EPC.DeepCopy()
		}
		requests[EPCResource] = epc
		limits[EPCResource] = epc
	}
	for name, q := range o.Resources {
		requests[name] = q.DeepCopy()
		limits[name] = q.DeepCopy()
	}
	return corev1.ResourceRequirements{Requests: requests, Limits: limits}, nil
}

// newContainer is the suite container and the volumes it mounts.
func newContainer(size sizes.Size, o JobOptions, res corev1.ResourceRequirements) (corev1.Container, []corev1.Volume) {
	container := corev1.Container{
		Name:            containerName,
		Image:           o.Image,
		Command:         []string{ImageBench},
		Args:            fleet.RunArgs(o.Spec, size, "-"),
		WorkingDir:      ImageSource,
		Resources:       res,
		SecurityContext: securityContext(o.SeccompLocalhost),
		// The log is the result stream: keep the last lines of a failed
		// container in its status too.
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	var volumes []corev1.Volume
	if o.AESM {
		dir := corev1.HostPathDirectory
		volumes = append(volumes, corev1.Volume{Name: "var-run-aesmd",
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: AESMDir, Type: &dir}}})
		container.VolumeMounts = append(container.VolumeMounts, corev1.VolumeMount{Name: "var-run-aesmd", MountPath: AESMDir})
		container.Env = append(container.Env, corev1.EnvVar{Name: AESMEnv, Value: "1"})
	}
	return container, volumes
}

// newJob is the Job that runs the container once on a node of size.
func newJob(size sizes.Size, o JobOptions, labels map[string]string, container corev1.Container, volumes []corev1.Volume, cells int, deadlineSec int64) *batchv1.Job {
	backoff := int32(0)
	noToken := false
	job := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      JobName(size, o.PlanID),
			Namespace: o.Namespace,
			Labels:    labels,
			Annotations: map[string]string{
				"enclavebench.io/command": "bench " + fleet.ShellJoin(container.Args),
				"enclavebench.io/cells":   strconv.Itoa(cells),
			},
		},
		Spec: batchv1.JobSpec{
			// A failed run is not retried: a second attempt would start a
			// new run on a node whose state the first one changed, and its
			// log would replace the first one's.
			BackoffLimit:          &backoff,
			ActiveDeadlineSeconds: &deadlineSec,
			// No ttlSecondsAfterFinished: deleting the Job deletes the
			// pod's log, which is the result. Collect first, then delete.
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					NodeSelector: map[string]string{
						InstanceTypeLabel:  size.InstanceType(),
						"kubernetes.io/os": "linux",
					},
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						// One suite pod per node, across plans.
						RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
							LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelName: AppName}},
							TopologyKey:   "kubernetes.io/hostname",
						}},
					}},
					Tolerations:                  o.Tolerations,
					AutomountServiceAccountToken: &noToken,
					Containers:                   []corev1.Container{container},
					Volumes:                      volumes,
				},
			},
		},
	}
	return job
}

// cpuRequest is the default CPU request: the size's vCPUs less one core,
// and at least half a core. AKS reserves 60-180m per node
// (articles/aks/node-resource-reservations.md) and its DaemonSets
// (kube-proxy, CNI, CSI drivers, the SGX device plugin) request a few
// hundred millicores more; one core of headroom fits both on every DCsv2
// size. Check the real figure with --nodes.
func cpuRequest(size sizes.Size) resource.Quantity {
	m := int64(size.VCPUs)*1000 - 1000
	return *resource.NewMilliQuantity(max(m, 500), resource.DecimalSI)
}

// memoryRequest is the memory a cell needs: where the run's modes say what
// a cell holds on the node (mode.Descriptor.Needs.NodeMemory: in the EGo modes
// the whole enclave, its heap sized from the cell's Memory and 32 thread
// stacks of 4 MiB, all committed when the enclave is created, and what does
// not fit in the EPC is paged to ordinary memory charged to the pod), the
// largest of those; else the footprint itself. 256 MiB more for the
// harness and the host side of the launcher. Rounded up to 64 MiB.
func memoryRequest(c plan.Cell, needs []func(workload.Memory) int64) int64 {
	const mib = 1 << 20
	n := c.Footprint
	if len(needs) > 0 {
		n = 0
		for _, need := range needs {
			n = max(n, need(c.Memory))
		}
	}
	n += 256 * mib
	return (n + 64*mib - 1) / (64 * mib) * (64 * mib)
}

// Manifest is a Job as YAML, with a comment saying what it runs.
func Manifest(jp *JobPlan) ([]byte, error) {
	b, err := json.Marshal(jp.Job)
	if err != nil {
		return nil, err
	}
	// Drop what the typed objects always carry and kubectl does not need:
	// "creationTimestamp": null and an empty "status".
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	pruneNullTimestamps(m)
	if st, ok := m["status"].(map[string]any); ok && len(st) == 0 {
		delete(m, "status")
	}
	y, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	epc := "none (no sgx mode)"
	if q, ok := jp.Job.Spec.Template.Spec.Containers[0].Resources.Requests[EPCResource]; ok {
		epc = q.String()
	}
	fmt.Fprintf(&out, "# enclavebench: the suite on %s (%s): %d cells, EPC %s, deadline %s\n",
		jp.Size.Name, jp.Size.InstanceType(), jp.Cells, epc, jp.Deadline)
	for _, n := range jp.Notes {
		fmt.Fprintf(&out, "# note: %s\n", n)
	}
	out.Write(y)
	return out.Bytes(), nil
}

func pruneNullTimestamps(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "creationTimestamp" && e == nil {
				delete(x, k)
				continue
			}
			pruneNullTimestamps(e)
		}
	case []any:
		for _, e := range x {
			pruneNullTimestamps(e)
		}
	}
}
