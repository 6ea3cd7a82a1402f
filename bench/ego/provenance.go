package ego

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/enclave"
)

// ProvenanceDir is the directory of a result directory that holds the raw
// sample lines of enclave cells.
const ProvenanceDir = "provenance"

// ProvenancePath is where the runner stores the raw protocol sample lines
// of a cell's successful attempt, in order, one per line, and where `bench
// verify` reads them: DIR/provenance/<cell key made file-safe>-<hash>.lines.
// The hash of the full key keeps two keys that sanitize alike apart.
func ProvenancePath(dir, cellKey string) string {
	return filepath.Join(dir, ProvenanceDir, result.FileSafe(cellKey)+".lines")
}

// Verdict statuses.
const (
	VerdictOK         = "ok"         // digest matches and the report verified
	VerdictUnverified = "unverified" // digest matches; no verifier in this build
	VerdictFailed     = "FAILED"     // a mismatch or a failed verification
	VerdictNoReport   = "no-report"  // the cell carries no report
)

// Verdict is the outcome of checking one cell's provenance.
type Verdict struct {
	Cell   string
	Status string
	Detail string
}

// VerifyCell checks one cell's provenance: the digest of its stored sample
// lines against the report_data the enclave claimed, the report's own data
// and identity against both, and, when verify is not nil, the report's
// signature (verify is VerifyReport; nil or ErrNoVerifier leaves the cell
// unverified).
func VerifyCell(dir string, cr result.CellResult, verify func([]byte) (VerifiedReport, error)) Verdict {
	v := Verdict{Cell: cr.Cell}
	fail := func(format string, args ...any) Verdict {
		v.Status, v.Detail = VerdictFailed, fmt.Sprintf(format, args...)
		return v
	}
	x := cr.Extra
	if x[enclave.KeyReport] == "" {
		v.Status = VerdictNoReport
		switch {
		case x[enclave.KeyReportError] != "":
			v.Detail = x[enclave.KeyReportError]
		case x[enclave.KeySimulation] == "true":
			v.Detail = "simulation mode has no reports"
		default:
			v.Detail = "the workload sent no report"
		}
		return v
	}
	path := ProvenancePath(dir, cr.Cell)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fail("the cell has a report but its sample lines are missing (%s)", path)
	}
	if err != nil {
		return fail("reading %s: %v", path, err)
	}
	lines := enclave.SplitLines(raw)
	sum := enclave.SamplesDigest(lines)
	digest := hex.EncodeToString(sum[:])
	if claimed := x[enclave.KeyReportData]; !hexEqual(claimed, digest) {
		return fail("digest mismatch: the %s stored hash to %s, the enclave reported %s", plural(len(lines), "sample line"), digest, claimed)
	}
	report, err := base64.StdEncoding.DecodeString(x[enclave.KeyReport])
	if err != nil {
		return fail("report is not base64: %v", err)
	}
	info, err := ParseReport(report)
	if err != nil {
		return fail("report unreadable: %v", err)
	}
	if !info.Remote {
		return fail("the report is a local report, which no third party can verify")
	}
	if !bytes.Equal(info.Data[:32], sum[:]) {
		return fail("the report's data %s is not the samples' digest %s", hex.EncodeToString(info.Data[:32]), digest)
	}
	if id := x[enclave.KeyUniqueID]; !hexEqual(info.UniqueID, id) {
		return fail("the report's unique ID %s differs from the claimed %s", info.UniqueID, id)
	}
	if id := x[enclave.KeySignerID]; !hexEqual(info.SignerID, id) {
		return fail("the report's signer ID %s differs from the claimed %s", info.SignerID, id)
	}
	detail := fmt.Sprintf("digest matches (%s), unique ID %s", plural(len(lines), "sample line"), shortID(info.UniqueID))
	if info.Debug {
		detail += ", debug enclave (a debugger could have changed it)"
	}
	var vr VerifiedReport
	if verify != nil {
		vr, err = verify(report)
	} else {
		err = ErrNoVerifier
	}
	if errors.Is(err, ErrNoVerifier) {
		v.Status, v.Detail = VerdictUnverified, detail+"; unverified: "+ErrNoVerifier.Error()
		return v
	}
	if err != nil {
		return fail("report verification failed: %v", err)
	}
	if !bytes.Equal(vr.Data[:min(32, len(vr.Data))], sum[:]) || !hexEqual(vr.UniqueID, info.UniqueID) || !hexEqual(vr.SignerID, info.SignerID) {
		return fail("the verified report does not match its claims (data %x, unique ID %s)", vr.Data, vr.UniqueID)
	}
	v.Status = VerdictOK
	v.Detail = detail + "; report verified, TCB " + vr.TCBStatus
	if vr.TCBWarning != "" {
		v.Detail += " (" + vr.TCBWarning + ")"
	}
	return v
}

func shortID(id string) string {
	if len(id) > 16 {
		return id[:16] + "…"
	}
	return id
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
