// Package suite is the registry of the standardized workloads: the harness
// reads their specs, the workload binary runs them.
package suite

import (
	"github.com/enclavebench/enclavebench/workloads/aesgcm"
	"github.com/enclavebench/enclavebench/workloads/attest"
	"github.com/enclavebench/enclavebench/workloads/compute"
	"github.com/enclavebench/enclavebench/workloads/fileio"
	"github.com/enclavebench/enclavebench/workloads/gokv"
	"github.com/enclavebench/enclavebench/workloads/httpserver"
	"github.com/enclavebench/enclavebench/workloads/kvstore"
	"github.com/enclavebench/enclavebench/workloads/memsweep"
	"github.com/enclavebench/enclavebench/workloads/seal"
	wsyscall "github.com/enclavebench/enclavebench/workloads/syscall"
	"github.com/enclavebench/enclavebench/workloads/threads"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Workloads is every workload in the suite.
var Workloads = workload.Registry{}

func init() {
	for _, s := range []*workload.Spec{
		wsyscall.Spec, memsweep.Spec, aesgcm.Spec, kvstore.Spec, gokv.Spec, httpserver.Spec,
		compute.Spec, threads.Spec, fileio.Spec, seal.Spec, attest.Spec,
	} {
		Workloads[s.Name] = s
	}
}
