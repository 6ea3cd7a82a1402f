package workload

import (
	"errors"
	"fmt"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// NotApplicable is an error of Spec.New meaning that the cell does not
// apply here (memfs outside an enclave, remote reports in EGo's simulation
// mode): the workload binary reports it as "na", never as a figure or a
// failure. Reason says why, for the report.
type NotApplicable struct{ Reason string }

// Error implements error.
func (e NotApplicable) Error() string { return e.Reason }

// NotApplicablef returns a NotApplicable error with a formatted reason.
func NotApplicablef(format string, args ...any) error {
	return NotApplicable{Reason: fmt.Sprintf(format, args...)}
}

// IsNotApplicable reports whether err, or an error it wraps, is NotApplicable.
func IsNotApplicable(err error) bool {
	var na NotApplicable
	return errors.As(err, &na)
}

// Driven is a Bench the harness drives from outside, like a server under
// a load generator: the workload binary sends Ready's message
// (protocol.TypeReady, with the address and the load it wants) instead of
// measuring itself, serves until its stdin closes, and the harness writes
// the samples. Run is not called on a Driven bench.
type Driven interface {
	Bench
	Ready() protocol.Message
}
