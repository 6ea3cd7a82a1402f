// Package attest measures the latency of generating an EGo remote report
// (an SGX quote over 64 bytes of report data, enclave.GetRemoteReport):
// EREPORT inside the enclave, then the quoting enclave on the host through
// the DCAP quote provider. It is what a service pays per attested
// connection (e.g. EGo's attested TLS) and it depends on the host's quote
// provider and its caches, so it varies between hosts of the same size.
//
// It means something only inside an enclave on SGX hardware
// (EnclaveOnly): outside an enclave the workload binary reports na, and so
// does New in EGo's simulation mode, which has no reports.
//
// The enclave facilities come from package workloads/enclave.
package attest

import (
	"errors"
	"fmt"

	"github.com/enclavebench/enclavebench/workloads/enclave"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Primitives are the enclave facilities this workload uses.
type Primitives struct {
	RemoteReport func(data []byte) ([]byte, error)
	Simulated    func() bool // EGo's simulation mode: no reports
}

// Enclave is what the workload calls: workloads/enclave, which refuses
// outside an enclave and in builds without -tags ego (tests replace it).
var Enclave = Primitives{RemoteReport: enclave.RemoteReport, Simulated: enclave.Simulated}

// Spec declares the workload.
var Spec = &workload.Spec{
	Name:        "attest",
	Doc:         "EGo remote report (SGX quote) generation latency; enclave on SGX hardware only",
	EnclaveOnly: true,
	Metrics: []workload.Metric{
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time to generate one remote report"},
	},
	New:         newBench,
	Parallelism: workload.Serial,
}

type bench struct {
	p    Primitives
	data [64]byte
	size int
}

func newBench(env workload.Env) (workload.Bench, error) {
	if !env.InEnclave {
		return nil, workload.NotApplicable{Reason: "attest measures SGX remote reports and means nothing outside an enclave"}
	}
	return New(Enclave)
}

// New prepares report generation with p. The caller has checked that it
// runs inside an enclave.
func New(p Primitives) (workload.Bench, error) {
	if p.RemoteReport == nil {
		return nil, errors.New("attest: this workload binary was built without the enclave facilities (package workloads/enclave)")
	}
	if p.Simulated != nil && p.Simulated() {
		return nil, workload.NotApplicable{Reason: "attest: EGo's simulation mode has no remote reports"}
	}
	b := &bench{p: p}
	for i := range b.data {
		b.data[i] = byte(i + 1)
	}
	rep, err := p.RemoteReport(b.data[:])
	if err != nil {
		return nil, fmt.Errorf("attest: remote report: %w (is a DCAP quote provider installed on the host?)", err)
	}
	b.size = len(rep)
	return b, nil
}

func (b *bench) Run(n int, r *workload.Report) error {
	for i := 0; i < n; i++ {
		b.data[0] = byte(i)
		if _, err := b.p.RemoteReport(b.data[:]); err != nil {
			return fmt.Errorf("attest: remote report: %w", err)
		}
	}
	return nil
}

func (b *bench) Close() error { return nil }
