package attest

import (
	"errors"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

func TestNoFigureOutsideEnclaveOrInSimulation(t *testing.T) {
	t.Parallel()
	if _, err := Spec.New(workload.Env{}); !workload.IsNotApplicable(err) {
		t.Fatalf("outside an enclave: want na, got %v", err)
	}
	sim := Primitives{RemoteReport: func([]byte) ([]byte, error) { return nil, errors.New("OE_UNSUPPORTED") },
		Simulated: func() bool { return true }}
	if _, err := New(sim); !workload.IsNotApplicable(err) {
		t.Fatalf("simulation: want na, got %v", err)
	}
	if _, err := Spec.New(workload.Env{InEnclave: true}); err == nil || workload.IsNotApplicable(err) {
		t.Fatalf("plain build told it is in an enclave: want workloads/enclave's refusal, got %v", err)
	}
	if _, err := New(Primitives{}); err == nil || !strings.Contains(err.Error(), "workloads/enclave") {
		t.Fatalf("no facilities: got %v", err)
	}
}

func TestRunWithFake(t *testing.T) {
	t.Parallel()
	calls := 0
	p := Primitives{RemoteReport: func(d []byte) ([]byte, error) {
		if len(d) != 64 {
			t.Errorf("report data of %d bytes", len(d))
		}
		calls++
		return make([]byte, 4096), nil
	}}
	b, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	var r workload.Report
	if err := b.Run(3, &r); err != nil || calls != 4 {
		t.Fatalf("run: %v, %d calls", err, calls)
	}
}
