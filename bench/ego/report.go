package ego

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Identity is what a signed enclave is known by.
type Identity struct {
	UniqueID string `json:"unique_id"` // MRENCLAVE, hex
	SignerID string `json:"signer_id"` // MRSIGNER, hex
}

// Offsets in the .oeinfo section of a binary signed by `ego sign`: the
// SIGSTRUCT starts at 144, its modulus at +128 (384 bytes) and MRENCLAVE at
// +960 (edgelesssys/ego ego/cli/signerid.go, ego/cli/elf.go).
const (
	oeinfoSection   = ".oeinfo"
	offsetSigstruct = 144
	offsetModulus   = 128
	offsetMRENCLAVE = 960
	modulusSize     = 384
)

// ReadIdentity reads the unique and signer ID that `ego sign` wrote into a
// signed binary, as `ego uniqueid` and `ego signerid` do.
func ReadIdentity(path string) (Identity, error) {
	f, err := elf.Open(path)
	if err != nil {
		return Identity{}, err
	}
	defer f.Close()
	sec := f.Section(oeinfoSection)
	if sec == nil {
		return Identity{}, errors.New("no .oeinfo section: not built with ego-go")
	}
	read := func(off, n int) ([]byte, error) {
		b := make([]byte, n)
		if _, err := sec.ReadAt(b, int64(off)); err != nil {
			return nil, fmt.Errorf(".oeinfo too short: %w", err)
		}
		return b, nil
	}
	mod, err := read(offsetSigstruct+offsetModulus, modulusSize)
	if err != nil {
		return Identity{}, err
	}
	if bytes.Equal(mod, make([]byte, modulusSize)) {
		return Identity{}, errors.New("the binary is not signed")
	}
	mr, err := read(offsetSigstruct+offsetMRENCLAVE, 32)
	if err != nil {
		return Identity{}, err
	}
	return Identity{UniqueID: hex.EncodeToString(mr), SignerID: hexSHA256(mod)}, nil
}

// ReportInfo is what a report says about the enclave that produced it. It
// is read without checking the report's signature: only the EGo
// verification library (VerifyReport) can tell whether it is genuine.
type ReportInfo struct {
	Remote    bool
	Debug     bool
	UniqueID  string // MRENCLAVE, hex
	SignerID  string // MRSIGNER, hex
	ProductID uint16
	SVN       uint16
	Data      []byte // the 64 bytes of report data
}

// Layout of an EGo report (Open Enclave): oe_report_header_t {u32 version,
// u32 report_type (1 local, 2 remote), u64 report_size} (OE
// include/openenclave/internal/report.h), then for a remote report an SGX
// quote whose report body starts at 48, or for a local one an sgx_report_t
// starting with its body. Body offsets: attributes 48 (flags, DEBUG=0x2),
// MRENCLAVE 64, MRSIGNER 128, ISVPRODID 256, ISVSVN 258, report data 320
// (64 bytes) (OE include/openenclave/bits/sgx/sgxtypes.h sgx_report_body_t,
// sgx_quote_t).
const (
	reportHeaderSize = 16
	quoteBodyOffset  = 48
	bodySize         = 384
	sgxFlagsDebug    = 0x2
)

// ParseReport reads the enclave fields of an EGo local or remote report.
func ParseReport(b []byte) (ReportInfo, error) {
	if len(b) < reportHeaderSize {
		return ReportInfo{}, fmt.Errorf("report of %d bytes is shorter than its header", len(b))
	}
	version := binary.LittleEndian.Uint32(b[0:])
	typ := binary.LittleEndian.Uint32(b[4:])
	size := binary.LittleEndian.Uint64(b[8:])
	if version != 1 {
		return ReportInfo{}, fmt.Errorf("report header version %d, want 1", version)
	}
	if size != uint64(len(b)-reportHeaderSize) {
		return ReportInfo{}, fmt.Errorf("report header says %d bytes, %d follow", size, len(b)-reportHeaderSize)
	}
	body := b[reportHeaderSize:]
	var info ReportInfo
	switch typ {
	case 1:
	case 2:
		info.Remote = true
		if len(body) < quoteBodyOffset {
			return ReportInfo{}, errors.New("quote shorter than its header")
		}
		body = body[quoteBodyOffset:]
	default:
		return ReportInfo{}, fmt.Errorf("unknown report type %d", typ)
	}
	if len(body) < bodySize {
		return ReportInfo{}, fmt.Errorf("report body of %d bytes, want %d", len(body), bodySize)
	}
	info.Debug = binary.LittleEndian.Uint64(body[48:])&sgxFlagsDebug != 0
	info.UniqueID = hex.EncodeToString(body[64:96])
	info.SignerID = hex.EncodeToString(body[128:160])
	info.ProductID = binary.LittleEndian.Uint16(body[256:])
	info.SVN = binary.LittleEndian.Uint16(body[258:])
	info.Data = append([]byte(nil), body[320:384]...)
	return info, nil
}

// VerifiedReport is a report EGo's verification library accepted.
type VerifiedReport struct {
	UniqueID, SignerID string // hex
	Data               []byte
	Debug              bool
	TCBStatus          string
	// TCBWarning is set when the signature holds but the platform's TCB is
	// not up to date (OE_TCB_LEVEL_INVALID): the report still binds the
	// data to the enclave, on a platform that needs updates.
	TCBWarning string
}

// ErrNoVerifier is returned by VerifyReport in builds without the EGo
// verification library.
var ErrNoVerifier = errors.New("built without EGo's verification library (rebuild with -tags egoverify on a machine with EGo installed)")

func hexEqual(a, b string) bool { return strings.EqualFold(a, b) }
