//go:build !ego

package enclave

const notInEnclave = "not in an enclave (built without -tags ego)"

// InEnclave reports whether the process runs inside an EGo enclave. This
// build has no EGo support, so it never does.
func InEnclave() bool { return false }

// Simulated reports whether the enclave is EGo's simulation mode.
func Simulated() bool { return false }

// Identity returns the enclave's unique ID (MRENCLAVE) and signer ID
// (MRSIGNER), hex encoded.
func Identity() (uniqueID, signerID string, err error) { return "", "", ErrNotInEnclave }

func remoteReport([]byte) ([]byte, error) { return nil, ErrNotInEnclave }
func seal([]byte) ([]byte, error)         { return nil, ErrNotInEnclave }
func unseal([]byte) ([]byte, error)       { return nil, ErrNotInEnclave }
