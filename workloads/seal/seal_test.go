package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

// fake seals with AES-GCM under a test key, standing in for the enclave.
func fake(t *testing.T) Primitives {
	block, _ := aes.NewCipher(make([]byte, 16))
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	return Primitives{
		Seal:   func(p []byte) ([]byte, error) { return gcm.Seal(nil, nonce, p, nil), nil },
		Unseal: func(c []byte) ([]byte, error) { return gcm.Open(nil, nonce, c, nil) },
	}
}

func TestNoFigureOutsideEnclave(t *testing.T) {
	t.Parallel()
	env := workload.Env{Parameters: map[string]string{"bytes": "4KiB", "op": "seal"}}
	if !Spec.EnclaveOnly {
		t.Fatal("seal must be EnclaveOnly")
	}
	_, err := Spec.New(env)
	if !workload.IsNotApplicable(err) {
		t.Fatalf("want not applicable outside an enclave, got %v", err)
	}
	// A plain build told it is in an enclave still gives no figure:
	// workloads/enclave refuses.
	env.InEnclave = true
	if _, err := Spec.New(env); err == nil || !strings.Contains(err.Error(), "not in an enclave") {
		t.Fatalf("want workloads/enclave's refusal, got %v", err)
	}
	if _, err := New(Primitives{}, 10, false); err == nil || !strings.Contains(err.Error(), "workloads/enclave") {
		t.Fatalf("want an error naming the missing facilities, got %v", err)
	}
}

func TestRunWithFake(t *testing.T) {
	t.Parallel()
	for _, unseal := range []bool{false, true} {
		b, err := New(fake(t), 1000, unseal)
		if err != nil {
			t.Fatal(err)
		}
		var r workload.Report
		if err := b.Run(5, &r); err != nil || r.BytesPerOp != 1000 {
			t.Fatalf("run: %v, bytes/op %d", err, r.BytesPerOp)
		}
	}
	broken := fake(t)
	broken.Unseal = func(c []byte) ([]byte, error) { return make([]byte, len(c)-16), nil }
	if _, err := New(broken, 100, false); err == nil {
		t.Fatal("a seal that does not round-trip was accepted")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	err := Spec.Validate(map[string]string{"bytes": "0", "op": "seal"}, workload.Env{})
	if err == nil || !strings.Contains(err.Error(), "seal.bytes=0") || !strings.Contains(err.Error(), "1B .. 64MiB") {
		t.Fatalf("got %v", err)
	}
}
