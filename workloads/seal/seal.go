// Package seal measures EGo's sealing throughput: encrypting data with a
// key derived inside the enclave from its measurement (EGo
// ecrypto.SealWithUniqueKey) and decrypting it again, the way an enclave
// persists state on the untrusted host. The key derivation (EGETKEY) runs on
// every call, so small blobs show the per-call cost and large ones the
// AES-GCM bandwidth.
//
// It means something only inside an enclave (EnclaveOnly): outside one EGo's
// sealing "succeeds" with an all-zero key, so this workload refuses to
// produce a figure there (na), twice over: the workload binary reports na
// before New, and New refuses when not in an enclave.
//
// The enclave facilities come from package workloads/enclave.
package seal

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/enclavebench/enclavebench/workloads/enclave"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Primitives are the enclave facilities this workload uses.
type Primitives struct {
	Seal   func(plaintext []byte) ([]byte, error)
	Unseal func(sealed []byte) ([]byte, error)
}

// Enclave is what the workload calls: workloads/enclave, which refuses
// outside an enclave and in builds without -tags ego (tests replace it).
var Enclave = Primitives{Seal: enclave.Seal, Unseal: enclave.Unseal}

// Spec declares the workload.
var Spec = &workload.Spec{
	Name:        "seal",
	Doc:         "EGo sealing throughput (seal/unseal with the enclave's unique key); enclave only",
	EnclaveOnly: true,
	Params: []workload.Param{
		{Name: "bytes", Doc: "plaintext bytes per call", Range: "1B .. 64MiB",
			Quick: []string{"4KiB"}, Full: []string{"64B", "4KiB", "64KiB", "1MiB"}, Check: workload.BytesInRange(1, 64<<20)},
		{Name: "op", Doc: "seal or unseal", Range: "seal, unseal",
			Quick: []string{"seal", "unseal"}, Full: []string{"seal", "unseal"}, Check: workload.OneOf("seal", "unseal")},
	},
	Metrics: []workload.Metric{
		{Unit: "MB/s", Better: protocol.Higher, Doc: "plaintext bytes sealed or unsealed per second"},
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per call"},
	},
	New:         newBench,
	Parallelism: workload.Serial,
}

// ErrNoEnclave is returned outside an enclave.
var ErrNoEnclave = workload.NotApplicable{Reason: "seal measures EGo sealing and means nothing outside an enclave (EGo would seal with an all-zero key)"}

type bench struct {
	p      Primitives
	plain  []byte
	sealed []byte
	unseal bool
}

func newBench(env workload.Env) (workload.Bench, error) {
	if !env.InEnclave {
		return nil, ErrNoEnclave
	}
	n, err := workload.ParseBytes(env.Parameters["bytes"], env)
	if err != nil {
		return nil, err
	}
	return New(Enclave, int(n), env.Parameters["op"] == "unseal")
}

// New prepares calls of p on blobs of n bytes. The caller has checked that
// it runs inside an enclave.
func New(p Primitives, n int, unseal bool) (workload.Bench, error) {
	if p.Seal == nil || p.Unseal == nil {
		return nil, errors.New("seal: this workload binary was built without the enclave facilities (package workloads/enclave)")
	}
	b := &bench{p: p, plain: make([]byte, n), unseal: unseal}
	for i := range b.plain {
		b.plain[i] = byte(i)
	}
	var err error
	if b.sealed, err = p.Seal(b.plain); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	back, err := p.Unseal(b.sealed)
	if err != nil {
		return nil, fmt.Errorf("unseal: %w", err)
	}
	if !bytes.Equal(back, b.plain) {
		return nil, errors.New("seal: unseal did not give back the plaintext")
	}
	return b, nil
}

func (b *bench) Run(n int, r *workload.Report) error {
	r.BytesPerOp = int64(len(b.plain))
	for i := 0; i < n; i++ {
		var err error
		if b.unseal {
			_, err = b.p.Unseal(b.sealed)
		} else {
			_, err = b.p.Seal(b.plain)
		}
		if err != nil {
			return fmt.Errorf("seal: %w", err)
		}
	}
	return nil
}

func (b *bench) Close() error { return nil }
