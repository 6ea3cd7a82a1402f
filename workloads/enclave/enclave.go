// Package enclave holds the workload-side enclave facilities: whether the
// process runs inside an EGo enclave, its identity, remote reports, sealing,
// and the provenance digest that binds a cell's samples to a report.
//
// Built without the build tag ego (plain go build), every facility reports
// that it is not in an enclave. Built with -tags ego (ego-go build) it uses
// EGo's enclave and ecrypto packages; that build also runs outside an
// enclave, where it refuses the same way instead of returning EGo's
// placeholder results (a seal key of zeros, see ecrypto).
//
// Provenance: the workload digests every sample line it emits (Digester,
// fed from measure.Options.OnLine) and puts Provenance(d) into its done
// message's Extra. The harness stores the same lines and recomputes the
// digest with SamplesDigest; `bench verify` compares both and checks the
// report.
package enclave

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"sync"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// MemfsDir is where the enclave.json written by the harness (bench/ego)
// mounts an in-enclave memfs, for workloads that want enclave-private files.
const MemfsDir = "/enclavebench/memfs"

// Keys of the provenance entries in the done message's Extra.
const (
	KeyUniqueID    = "unique_id"    // MRENCLAVE, hex
	KeySignerID    = "signer_id"    // MRSIGNER, hex
	KeyReport      = "report"       // EGo remote report, base64 (std encoding)
	KeyReportData  = "report_data"  // hex SHA-256 of the sample lines (the report's first 32 data bytes)
	KeyReportLines = "report_lines" // number of sample lines digested
	KeyReportError = "report_error" // why there is no report
	KeySimulation  = "enclave_simulation"
)

// ErrNotInEnclave is returned by every facility outside an enclave.
var ErrNotInEnclave = errors.New(notInEnclave)

// Memfs returns MemfsDir inside an enclave and "" elsewhere.
func Memfs() string {
	if InEnclave() {
		return MemfsDir
	}
	return ""
}

// RemoteReport returns an EGo remote report (OE report header and SGX
// quote) whose report data is data, padded with zeros to 64 bytes. It needs
// SGX hardware and a DCAP quote provider on the host.
func RemoteReport(data []byte) ([]byte, error) {
	// EGo's GetRemoteReport indexes data[0] and panics on empty data.
	if len(data) == 0 || len(data) > 64 {
		return nil, errors.New("report data must be 1 to 64 bytes")
	}
	if !InEnclave() {
		return nil, ErrNotInEnclave
	}
	return remoteReport(data)
}

// Seal encrypts plaintext with a key derived from the enclave's measurement
// (EGo ecrypto.SealWithUniqueKey). In EGo's simulation mode the key is the
// runtime's fixed test key, so only the cost, not the secrecy, is real.
func Seal(plaintext []byte) ([]byte, error) {
	if !InEnclave() {
		return nil, ErrNotInEnclave
	}
	return seal(plaintext)
}

// Unseal decrypts what Seal produced in the same enclave.
func Unseal(ciphertext []byte) ([]byte, error) {
	if !InEnclave() {
		return nil, ErrNotInEnclave
	}
	return unseal(ciphertext)
}

// Provenance returns the done message's provenance entries for the sample
// lines d has seen: the enclave identity and a remote report over d's
// digest, or the reason there is none. Outside an enclave it returns nil.
func Provenance(d *Digester) map[string]string {
	if !InEnclave() {
		return nil
	}
	if d == nil {
		d = NewDigester()
	}
	out := map[string]string{}
	if Simulated() {
		out[KeySimulation] = "true"
	}
	u, s, err := Identity()
	if err != nil {
		out[KeyReportError] = "identity: " + err.Error()
		return out
	}
	out[KeyUniqueID], out[KeySignerID] = u, s
	sum := d.Sum()
	report, err := RemoteReport(sum[:])
	if err != nil {
		out[KeyReportError] = "remote report: " + err.Error()
		return out
	}
	out[KeyReport] = base64.StdEncoding.EncodeToString(report)
	out[KeyReportData] = hex.EncodeToString(sum[:])
	out[KeyReportLines] = strconv.Itoa(d.Count())
	return out
}

// Digester computes the provenance digest of sample lines: SHA-256 over the
// lines in order, each taken from the protocol prefix to its end without
// the line terminator and followed by one '\n'. A line as protocol.Encode
// writes it therefore contributes exactly its bytes; the harness, which
// reads lines without their newline (and possibly after foreign text a
// runtime wrote first), gets the same digest. Safe for concurrent use.
type Digester struct {
	mu sync.Mutex
	h  hash.Hash
	n  int
}

// NewDigester returns an empty Digester.
func NewDigester() *Digester { return &Digester{h: sha256.New()} }

// Add digests one sample line.
func (d *Digester) Add(line []byte) {
	if i := bytes.Index(line, []byte(protocol.Prefix)); i > 0 {
		line = line[i:]
	}
	line = bytes.TrimRight(line, "\r\n")
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h == nil {
		d.h = sha256.New()
	}
	d.h.Write(line)
	d.h.Write([]byte{'\n'})
	d.n++
}

// Sum returns the digest of the lines added so far.
func (d *Digester) Sum() [32]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out [32]byte
	if d.h == nil {
		d.h = sha256.New()
	}
	copy(out[:], d.h.Sum(nil))
	return out
}

// Count returns how many lines were added.
func (d *Digester) Count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// SamplesDigest is the digest of lines, as a Digester computes it.
func SamplesDigest(lines [][]byte) [32]byte {
	d := NewDigester()
	for _, l := range lines {
		d.Add(l)
	}
	return d.Sum()
}

// SplitLines splits the contents of a provenance file (lines separated by
// '\n') into lines for SamplesDigest, dropping a final empty line.
func SplitLines(b []byte) [][]byte {
	lines := bytes.SplitAfter(b, []byte{'\n'})
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	return lines
}
