//go:build !egoverify

package ego

// VerifierAvailable reports whether VerifyReport checks signatures. This
// build has no EGo verification library: rebuild with -tags egoverify where
// EGo is installed (CGO_CFLAGS=-I/opt/ego/include CGO_LDFLAGS=-L/opt/ego/lib,
// see edgelesssys/ego eclient/doc.go).
const VerifierAvailable = false

// VerifyReport verifies a remote report's signature chain with EGo's
// eclient.VerifyRemoteReport. This build returns ErrNoVerifier.
func VerifyReport([]byte) (VerifiedReport, error) { return VerifiedReport{}, ErrNoVerifier }
