package k8s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/enclavebench/enclavebench/bench/sizes"
)

// Node is what a plan needs to know of one cluster node.
type Node struct {
	Name          string
	InstanceType  string // the label's value, e.g. Standard_DC2s_v2
	Ready         bool
	Unschedulable bool
	// Allocatable resources; a missing EPC resource means the SGX device
	// plugin does not run on the node.
	CPU, Memory resource.Quantity
	EPC         *resource.Quantity
}

// Nodes is the inventory read from `kubectl get nodes -o json`.
type Nodes struct {
	File  string
	Nodes []Node
}

// ReadNodes reads the output of `kubectl get nodes -o json` (or -o yaml,
// or one node). Syntax errors name the file and line.
func ReadNodes(r io.Reader, name string) (*Nodes, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	j := b
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		if j, err = yaml.YAMLToJSON(b); err != nil {
			return nil, fmt.Errorf("%s: not JSON or YAML: %v", name, err)
		}
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(j, &head); err != nil {
		return nil, jsonError(name, b, j, err)
	}
	var items []corev1.Node
	switch head.Kind {
	case "List", "NodeList":
		var list corev1.NodeList
		if err := json.Unmarshal(j, &list); err != nil {
			return nil, jsonError(name, b, j, err)
		}
		items = list.Items
	case "Node":
		var n corev1.Node
		if err := json.Unmarshal(j, &n); err != nil {
			return nil, jsonError(name, b, j, err)
		}
		items = []corev1.Node{n}
	default:
		return nil, fmt.Errorf("%s: kind %q, want the output of `kubectl get nodes -o json` (kind List)", name, head.Kind)
	}
	out := &Nodes{File: name}
	for _, n := range items {
		if n.Kind != "" && n.Kind != "Node" {
			return nil, fmt.Errorf("%s: item %q is a %s, want nodes: use `kubectl get nodes -o json`", name, n.Name, n.Kind)
		}
		it := n.Labels[InstanceTypeLabel]
		if it == "" {
			it = n.Labels[instanceTypeLabelBeta]
		}
		node := Node{Name: n.Name, InstanceType: it, Unschedulable: n.Spec.Unschedulable,
			CPU: n.Status.Allocatable[corev1.ResourceCPU], Memory: n.Status.Allocatable[corev1.ResourceMemory]}
		if q, ok := n.Status.Allocatable[EPCResource]; ok {
			node.EPC = &q
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				node.Ready = c.Status == corev1.ConditionTrue
			}
		}
		out.Nodes = append(out.Nodes, node)
	}
	return out, nil
}

// jsonError turns a decoding error into one with the line of the input
// (the JSON's line when the input was JSON).
func jsonError(name string, orig, j []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off >= 0 && bytes.Equal(orig, j) {
		line := 1 + bytes.Count(j[:min(int(off), len(j))], []byte("\n"))
		return fmt.Errorf("%s:%d: %v", name, line, err)
	}
	return fmt.Errorf("%s: %v", name, err)
}

// OfSize returns the nodes of a size.
func (ns *Nodes) OfSize(s sizes.Size) []Node {
	var out []Node
	for _, n := range ns.Nodes {
		if got, ok := sizes.Lookup(n.InstanceType); ok && got.Name == s.Name {
			out = append(out, n)
		}
	}
	return out
}

// Summary lists the instance types of the inventory with their counts.
func (ns *Nodes) Summary() string {
	count := map[string]int{}
	for _, n := range ns.Nodes {
		it := n.InstanceType
		if it == "" {
			it = "(no instance-type label)"
		}
		count[it]++
	}
	if len(count) == 0 {
		return "no nodes"
	}
	var parts []string
	for it, n := range count {
		parts = append(parts, fmt.Sprintf("%s x%d", it, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// Check looks at the nodes of a planned Job's size. It returns an error
// when the cluster has no node of the size (the Job would stay Pending);
// otherwise it adjusts requests the nodes cannot give (EPC larger than
// allocatable, when the size's EPC is requested) and returns notes.
func (ns *Nodes) Check(jp *JobPlan, epcOverridden bool) ([]string, error) {
	size := jp.Size
	nodes := ns.OfSize(size)
	if len(nodes) == 0 {
		msg := fmt.Sprintf("%s: no node of size %s (label %s=%s); the cluster has: %s. Add a node pool of that size (az aks nodepool add --node-vm-size %s ...; docs/fleet.md)",
			ns.File, size.Name, InstanceTypeLabel, size.InstanceType(), ns.Summary(), size.InstanceType())
		if size.VCPUs < 2 {
			msg += fmt.Sprintf(". AKS does not accept sizes with fewer than two vCPUs (articles/aks/quotas-skus-regions.md): run %s with bench plan --ssh", size.Name)
		}
		return nil, errors.New(msg)
	}
	var notes []string
	usable := 0
	for _, n := range nodes {
		if n.Ready && !n.Unschedulable {
			usable++
		}
	}
	if usable == 0 {
		notes = append(notes, fmt.Sprintf("%s: the %d node(s) of size %s are not Ready or are cordoned: the Job will wait", ns.File, len(nodes), size.Name))
	}
	res := &jp.Job.Spec.Template.Spec.Containers[0].Resources
	if want, ok := res.Requests[EPCResource]; ok {
		var best *resource.Quantity
		for _, n := range nodes {
			if n.EPC != nil && (best == nil || n.EPC.Cmp(*best) > 0) {
				best = n.EPC
			}
		}
		switch {
		case best == nil || best.IsZero():
			notes = append(notes, fmt.Sprintf("%s: nodes of size %s have no allocatable %s: the SGX device plugin does not run there (enable the confcom add-on: az aks enable-addons --addons confcom); the Job would stay Pending", ns.File, size.Name, EPCResource))
		case want.Cmp(*best) > 0 && !epcOverridden:
			q := *resource.NewQuantity(best.Value(), resource.BinarySI)
			res.Requests[EPCResource] = q
			res.Limits[EPCResource] = q
			notes = append(notes, fmt.Sprintf("%s: nodes of size %s offer %s of %s, less than the size's %s EPC (the SGX quote helper or another pod holds some): requesting %s", ns.File, size.Name, best.String(), EPCResource, want.String(), q.String()))
		case want.Cmp(*best) > 0:
			notes = append(notes, fmt.Sprintf("%s: --epc %s is more than the %s nodes of size %s offer: the Job would stay Pending", ns.File, want.String(), best.String(), size.Name))
		}
	}
	cpu, mem := res.Requests[corev1.ResourceCPU], res.Requests[corev1.ResourceMemory]
	cpuFits, memFits := false, false
	for _, n := range nodes {
		cpuFits = cpuFits || n.CPU.IsZero() || n.CPU.Cmp(cpu) >= 0
		memFits = memFits || n.Memory.IsZero() || n.Memory.Cmp(mem) >= 0
	}
	if !cpuFits {
		notes = append(notes, fmt.Sprintf("%s: the CPU request %s is more than any node of size %s can allocate: the Job would stay Pending; lower it with --cpu-request", ns.File, cpu.String(), size.Name))
	}
	if !memFits {
		notes = append(notes, fmt.Sprintf("%s: the memory request %s (the suite's largest cell) is more than any node of size %s can allocate: the Job would stay Pending; leave the largest cells out with --param", ns.File, mem.String(), size.Name))
	}
	return notes, nil
}
