// Package fleet runs the suite across real VMs and gathers what comes back.
//
// Kubernetes is where Azure runs SGX workloads (AKS node pools of DCsv2 and
// DCsv3 sizes with the SGX device plugin of the confcom add-on), so the
// harness does not schedule anything itself:
//
//   - Jobs writes one Kubernetes Job per VM size, pinned to nodes of that
//     size, requesting the size's EPC from the device plugin, running
//     `bench run ... -o -` so that the pod log is the result stream;
//   - SSHPlan is the simpler alternative for a handful of VMs: the commands
//     that copy the harness to each host, run it and copy the results back;
//   - ParseLog and Collect turn saved pod logs (kubectl logs, with or
//     without --timestamps or --prefix, several pods concatenated or
//     interleaved, cut short) back into result directories, one per run.
//
// The walk-through from an empty AKS cluster to a cross-size report is
// docs/fleet.md.
package fleet
