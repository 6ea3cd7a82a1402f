//go:build egoverify

package ego

import (
	"encoding/hex"
	"errors"

	"github.com/edgelesssys/ego/attestation"
	"github.com/edgelesssys/ego/eclient"
)

// VerifierAvailable reports whether VerifyReport checks signatures.
const VerifierAvailable = true

// VerifyReport verifies a remote report's signature chain with EGo's
// eclient.VerifyRemoteReport, which needs the Open Enclave host libraries
// and a DCAP quote provider configured for collateral (EGo docs
// docs/docs/reference/attest.md). It must never be linked into an enclave
// (ego/cli/elf.go refuses binaries importing eclient); bench runs outside.
func VerifyReport(b []byte) (VerifiedReport, error) {
	r, err := eclient.VerifyRemoteReport(b)
	var warn string
	if errors.Is(err, attestation.ErrTCBLevelInvalid) {
		warn = "TCB level not up to date: " + r.TCBStatus.String()
		err = nil
	}
	if err != nil {
		return VerifiedReport{}, err
	}
	return VerifiedReport{
		UniqueID:   hex.EncodeToString(r.UniqueID),
		SignerID:   hex.EncodeToString(r.SignerID),
		Data:       r.Data,
		Debug:      r.Debug,
		TCBStatus:  r.TCBStatus.String(),
		TCBWarning: warn,
	}, nil
}
