//go:build ego

package enclave

import (
	"encoding/hex"
	"errors"
	"sync"
	"syscall"

	"github.com/edgelesssys/ego/ecrypto"
	egoenclave "github.com/edgelesssys/ego/enclave"
)

const notInEnclave = "not in an enclave"

// sysResultStr is EGo's syscall 1006 (oe_result_str), one of the EGo API
// syscalls that Edgeless RT serves inside the enclave
// (edgelesssys/edgelessrt src/ertlibc/syscall.cpp; ego enclave/ert.go).
// Outside an enclave the kernel answers ENOSYS.
const sysResultStr = 1006

// InEnclave reports whether the process runs inside an EGo enclave, on SGX
// hardware or in EGo's simulation mode.
//
// enclave.GetSelfReport cannot tell: it fails with OE_UNSUPPORTED both
// outside an enclave (the EGo syscall gets ENOSYS) and inside a simulated
// one (Open Enclave refuses EREPORT in simulation mode:
// openenclave enclave/core/sgx/report.c). A harmless EGo syscall can.
func InEnclave() bool { return inEnclave() }

var inEnclave = sync.OnceValue(func() bool {
	r, _, errno := syscall.Syscall(sysResultStr, 0, 0, 0)
	return errno == 0 && r != 0
})

type self struct {
	uniqueID, signerID string
	err                error
}

var selfReport = sync.OnceValue(func() self {
	if !InEnclave() {
		return self{err: ErrNotInEnclave}
	}
	r, err := egoenclave.GetSelfReport()
	if err != nil {
		if err.Error() == "OE_UNSUPPORTED" {
			err = errors.New("the enclave identity is not available in EGo's simulation mode (OE_UNSUPPORTED)")
		}
		return self{err: err}
	}
	return self{uniqueID: hex.EncodeToString(r.UniqueID), signerID: hex.EncodeToString(r.SignerID)}
})

// Simulated reports whether the enclave is EGo's simulation mode
// (OE_SIMULATION=1 ego run): inside an enclave, yet without a report.
func Simulated() bool {
	return InEnclave() && selfReport().err != nil
}

// Identity returns the enclave's unique ID (MRENCLAVE) and signer ID
// (MRSIGNER), hex encoded.
func Identity() (uniqueID, signerID string, err error) {
	s := selfReport()
	return s.uniqueID, s.signerID, s.err
}

func remoteReport(data []byte) ([]byte, error) { return egoenclave.GetRemoteReport(data) }

func seal(plaintext []byte) ([]byte, error) { return ecrypto.SealWithUniqueKey(plaintext, nil) }

func unseal(ciphertext []byte) ([]byte, error) { return ecrypto.Unseal(ciphertext, nil) }
