// Package fleet holds what the fleet packages share: the `bench run`
// arguments a host runs for one size, the plan of those cells, the modes'
// needs, safe names and shell quoting. The fleet runs the suite across
// real VMs and gathers what comes back, one job per package:
//
//   - bench/fleet/k8s writes one Kubernetes Job per VM size (Kubernetes is
//     where Azure runs SGX workloads: AKS node pools of DCsv2 and DCsv3
//     sizes with the SGX device plugin of the confcom add-on), pinned to
//     nodes of that size, requesting the size's EPC, running
//     `bench run ... -o -` so that the pod log is the result stream;
//   - bench/fleet/ssh is the simpler alternative for a handful of VMs: the
//     commands that copy the harness to each host, run it and copy the
//     results back;
//   - bench/fleet/podlog parses saved pod logs (kubectl logs, with or
//     without --timestamps or --prefix, several pods concatenated or
//     interleaved, cut short) into records;
//   - bench/fleet/collect rebuilds result directories, one per run, from
//     those records.
//
// The walk-through from an empty AKS cluster to a cross-size report is
// docs/fleet.md.
package fleet

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// RunArgs returns the arguments of `bench run` that run spec on one size,
// writing its results to out ("-" streams them to stdout, as pod logs
// need).
func RunArgs(spec runspec.Spec, size sizes.Size, out string) []string {
	spec.Sizes = []string{size.Name}
	return append(append([]string{"run"}, spec.Args()...), "--progress", "never", "-o", out)
}

// Plan resolves spec once for a fleet plan (plan.Resolve): every size it
// selects, each cell on a VM of its size, so that a bad workload,
// parameter or mode is reported at plan time and each size's cells can be
// counted and sized (plan.Run.On).
func Plan(spec runspec.Spec) (*plan.Run, error) {
	if spec.Seed == 0 {
		spec.Seed = 1 // the count and the sizes do not depend on the order
	}
	return plan.Resolve(plan.Request{Registry: suite.Workloads, Spec: spec, OnSize: true})
}

// DefaultModes are what a fleet plan's hosts run unless told otherwise:
// the lowest-ranked enclave mode measured on SGX hardware (a descriptor
// that is Enclave, Measured and Needs.SGX), since the fleet is where the
// hardware is.
func DefaultModes() []string {
	for _, d := range mode.Descriptors() {
		if d.Enclave && d.Kind == mode.Measured && d.Needs.SGX {
			return []string{d.Name}
		}
	}
	return nil
}

// UsesSGX tells whether a run needs SGX hardware (a mode that needs SGX).
func UsesSGX(s runspec.Spec) bool {
	return slices.ContainsFunc(s.Modes, func(m string) bool { d, ok := mode.Lookup(m); return ok && d.Needs.SGX })
}

// UsesEGo tells whether a mode of spec runs the workload through EGo,
// which builds it from source on the host.
func UsesEGo(s runspec.Spec) bool {
	return slices.ContainsFunc(s.Modes, func(m string) bool { d, ok := mode.Lookup(m); return ok && d.Needs.EGo })
}

// NodeMemory lists what the modes of s say a cell holds on a node
// (mode.Descriptor.Needs.NodeMemory), for the modes that say it.
func NodeMemory(s runspec.Spec) []func(workload.Memory) int64 {
	var out []func(workload.Memory) int64
	for _, m := range s.Modes {
		if d, ok := mode.Lookup(m); ok && d.Needs.NodeMemory != nil {
			out = append(out, d.Needs.NodeMemory)
		}
	}
	return out
}

// ModeBinaries lists the binaries the modes of s run besides the workload
// binary (the sim mode's workload-sim), each once. A fleet plan names its
// modes (plan.Resolve refuses "auto" there: it is resolved on a host).
func ModeBinaries(s runspec.Spec) []mode.Binary {
	var out []mode.Binary
	for _, m := range s.Modes {
		d, _ := mode.Lookup(m)
		for _, b := range d.Needs.Binaries {
			if !slices.Contains(out, b) {
				out = append(out, b)
			}
		}
	}
	return out
}

// SafeName turns a run ID read from a log into a directory name: letters,
// digits, '.', '_' and '-' only, not starting with '.' (a log is input, and
// its IDs must not escape the output directory).
func SafeName(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || s[0] == '.' {
		s = "run" + s
	}
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

// ShellQuote quotes s for a POSIX shell; plain words stay as they are.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	plain := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellJoin quotes each word; "&&" stays an operator.
func ShellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if w == "&&" {
			q[i] = w
		} else {
			q[i] = ShellQuote(w)
		}
	}
	return strings.Join(q, " ")
}

// ValidPlanID checks a plan ID: a DNS-1123 label of at most 20 characters
// (it ends Job names and is a label value).
func ValidPlanID(id string) error {
	if len(id) == 0 || len(id) > 20 || len(validation.IsDNS1123Label(id)) > 0 {
		return fmt.Errorf("plan ID %q: want 1-20 lower-case letters, digits and '-', starting and ending with a letter or digit", id)
	}
	return nil
}

// NewPlanID makes a plan ID from a time: "20261127-041121".
func NewPlanID(t time.Time) string { return t.UTC().Format("20060102-150405") }
