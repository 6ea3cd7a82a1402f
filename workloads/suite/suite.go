// Package suite is the registry of the standardized workloads: the harness
// reads their specs, the workload binary runs them.
package suite

import (
	"github.com/enclavebench/enclavebench/workloads/httpserver"
	"github.com/enclavebench/enclavebench/workloads/memsweep"
	wsyscall "github.com/enclavebench/enclavebench/workloads/syscall"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Workloads is every workload in the suite.
var Workloads = workload.Registry{
	wsyscall.Spec.Name:   wsyscall.Spec,
	memsweep.Spec.Name:   memsweep.Spec,
	httpserver.Spec.Name: httpserver.Spec,
}
