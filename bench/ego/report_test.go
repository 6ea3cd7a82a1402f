package ego

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/enclave"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// fakeReport builds an EGo remote report (OE header + SGX quote) with the
// given identity and report data, laid out as report.go documents.
func fakeReport(mrenclave, mrsigner, data []byte, debug bool) []byte {
	quote := make([]byte, quoteBodyOffset+bodySize+4+16)
	binary.LittleEndian.PutUint16(quote[0:], 3) // quote version
	body := quote[quoteBodyOffset:]
	var flags uint64 = 0x4 // MODE64BIT
	if debug {
		flags |= sgxFlagsDebug
	}
	binary.LittleEndian.PutUint64(body[48:], flags)
	copy(body[64:], mrenclave)
	copy(body[128:], mrsigner)
	binary.LittleEndian.PutUint16(body[256:], 1)
	binary.LittleEndian.PutUint16(body[258:], 1)
	copy(body[320:], data)
	binary.LittleEndian.PutUint32(quote[quoteBodyOffset+bodySize:], 16)
	hdr := make([]byte, reportHeaderSize)
	binary.LittleEndian.PutUint32(hdr[0:], 1)
	binary.LittleEndian.PutUint32(hdr[4:], 2)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(len(quote)))
	return append(hdr, quote...)
}

func TestParseReport(t *testing.T) {
	t.Parallel()
	mre, mrs := bytes.Repeat([]byte{0xaa}, 32), bytes.Repeat([]byte{0xbb}, 32)
	data := bytes.Repeat([]byte{0xcc}, 32)
	info, err := ParseReport(fakeReport(mre, mrs, data, true))
	if err != nil {
		t.Fatal(err)
	}
	if !info.Remote || !info.Debug || info.UniqueID != hex.EncodeToString(mre) || info.SignerID != hex.EncodeToString(mrs) ||
		!bytes.Equal(info.Data[:32], data) || !bytes.Equal(info.Data[32:], make([]byte, 32)) || info.ProductID != 1 || info.SVN != 1 {
		t.Errorf("ParseReport = %+v", info)
	}
	good := fakeReport(mre, mrs, data, false)
	bad := map[string][]byte{
		"empty":     nil,
		"truncated": good[:100],
		"size lie":  append(append([]byte(nil), good...), 0),
		"version":   append([]byte{2, 0, 0, 0}, good[4:]...),
		"type":      append(append([]byte(nil), good[:4]...), append([]byte{9, 0, 0, 0}, good[8:]...)...),
	}
	for name, b := range bad {
		if _, err := ParseReport(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add(fakeReport(make([]byte, 32), make([]byte, 32), []byte{1}, false))
	f.Add([]byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseReport(b)
		if err == nil && (len(info.Data) != 64 || len(info.UniqueID) != 64 || len(info.SignerID) != 64) {
			t.Fatalf("accepted a report with fields %+v", info)
		}
	})
}

// ReadIdentity reads what `ego sign` writes into .oeinfo; the section is
// added here with objcopy, as ego-go's linker would have placed it.
func TestReadIdentity(t *testing.T) {
	t.Parallel()
	objcopy, err := exec.LookPath("objcopy")
	if err != nil {
		t.Skip("no objcopy")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	section := make([]byte, 4096)
	mod := bytes.Repeat([]byte{7}, modulusSize)
	copy(section[offsetSigstruct+offsetModulus:], mod)
	mre := bytes.Repeat([]byte{0x5a}, 32)
	copy(section[offsetSigstruct+offsetMRENCLAVE:], mre)
	sec := filepath.Join(dir, "oeinfo.bin")
	if err := os.WriteFile(sec, section, 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(dir, "signed")
	if out, err := exec.Command(objcopy, "--add-section", ".oeinfo="+sec, "--set-section-flags", ".oeinfo=readonly,data", self, signed).CombinedOutput(); err != nil {
		t.Skipf("objcopy: %v\n%s", err, out)
	}
	id, err := ReadIdentity(signed)
	if err != nil {
		t.Fatal(err)
	}
	if id.UniqueID != hex.EncodeToString(mre) || id.SignerID != hexSHA256(mod) {
		t.Errorf("ReadIdentity = %+v", id)
	}
	if _, err := ReadIdentity(self); err == nil || !strings.Contains(err.Error(), "not built with ego-go") {
		t.Errorf("plain binary: err = %v", err)
	}
}

func TestProvenancePath(t *testing.T) {
	t.Parallel()
	a := ProvenancePath("/r", "Syscall/call=read/size=DC2s_v2/mode=sgx")
	if !strings.HasPrefix(a, "/r/provenance/Syscall_call=read_size=DC2s_v2_mode=sgx-") || !strings.HasSuffix(a, ".lines") {
		t.Errorf("ProvenancePath = %s", a)
	}
	if b := ProvenancePath("/r", "Syscall/call=read_size=DC2s_v2/mode=sgx"); b == a {
		t.Errorf("two keys that sanitize alike share %s", a)
	}
	long := ProvenancePath("/r", strings.Repeat("x/", 300))
	if len(filepath.Base(long)) > 200 {
		t.Errorf("file name of %d bytes", len(filepath.Base(long)))
	}
	if got := ProvenancePath("/r", "Kv/../../etc=1"); filepath.Dir(got) != "/r/provenance" {
		t.Errorf("ProvenancePath escapes its directory: %s", got)
	}
}

// sampleLines encodes n protocol sample lines as a workload writes them.
func sampleLines(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		err := protocol.Encode(&b, protocol.Message{Type: protocol.TypeSample, Sample: &protocol.Sample{
			Rep: i, Iters: 100, ElapsedNS: int64(1000 + i),
			Values: []protocol.Value{{Value: float64(10 + i), Unit: "ns/op", Better: protocol.Lower}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestVerifyCell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lines := sampleLines(t, 3)
	sum := enclave.SamplesDigest(enclave.SplitLines(lines))
	mre, mrs := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	report := fakeReport(mre, mrs, sum[:], false)
	cell := func(key string, mutate func(map[string]string)) result.CellResult {
		x := map[string]string{
			enclave.KeyUniqueID:   hex.EncodeToString(mre),
			enclave.KeySignerID:   hex.EncodeToString(mrs),
			enclave.KeyReport:     base64.StdEncoding.EncodeToString(report),
			enclave.KeyReportData: hex.EncodeToString(sum[:]),
		}
		if mutate != nil {
			mutate(x)
		}
		return result.CellResult{Cell: key, Mode: "sgx", Status: result.StatusOK, Extra: x}
	}
	store := func(key string, b []byte) {
		p := ProvenancePath(dir, key)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	verified := func([]byte) (VerifiedReport, error) {
		return VerifiedReport{UniqueID: hex.EncodeToString(mre), SignerID: hex.EncodeToString(mrs), Data: append(sum[:], make([]byte, 32)...), TCBStatus: "UpToDate"}, nil
	}
	rejected := func([]byte) (VerifiedReport, error) {
		return VerifiedReport{}, errors.New("OE_QUOTE_VERIFICATION_ERROR")
	}
	otherReport := base64.StdEncoding.EncodeToString(fakeReport(bytes.Repeat([]byte{9}, 32), mrs, sum[:], false))

	tests := []struct {
		name   string
		key    string
		lines  []byte // nil: not stored
		mutate func(map[string]string)
		verify func([]byte) (VerifiedReport, error)
		status string
		detail string
	}{
		{"unverified", "A/mode=sgx", lines, nil, nil, VerdictUnverified, "unverified: built without EGo's verification library"},
		{"no verifier in this build", "A2/mode=sgx", lines, nil, VerifyReport, map[bool]string{true: VerdictFailed, false: VerdictUnverified}[VerifierAvailable], ""},
		{"verified", "B/mode=sgx", lines, nil, verified, VerdictOK, "report verified, TCB UpToDate"},
		{"verification fails", "C/mode=sgx", lines, nil, rejected, VerdictFailed, "OE_QUOTE_VERIFICATION_ERROR"},
		{"lines changed", "D/mode=sgx", bytes.Replace(lines, []byte(`"elapsed_ns":1001`), []byte(`"elapsed_ns":1002`), 1), nil, verified, VerdictFailed, "digest mismatch"},
		{"line dropped", "E/mode=sgx", lines[:bytes.IndexByte(lines, '\n')+1], nil, verified, VerdictFailed, "digest mismatch"},
		{"lines missing", "F/mode=sgx", nil, nil, verified, VerdictFailed, "sample lines are missing"},
		{"claims another enclave", "G/mode=sgx", lines, func(x map[string]string) { x[enclave.KeyReport] = otherReport }, verified, VerdictFailed, "unique ID"},
		{"no report", "H/mode=ego-sim", nil, func(x map[string]string) {
			clear(x)
			x[enclave.KeySimulation] = "true"
			x[enclave.KeyReportError] = "identity: the enclave identity is not available in EGo's simulation mode (OE_UNSUPPORTED)"
		}, verified, VerdictNoReport, "simulation mode"},
	}
	for _, tt := range tests {
		if tt.lines != nil {
			store(tt.key, tt.lines)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := VerifyCell(dir, cell(tt.key, tt.mutate), tt.verify)
			if v.Status != tt.status || !strings.Contains(v.Detail, tt.detail) {
				t.Errorf("VerifyCell = %s: %s; want %s containing %q", v.Status, v.Detail, tt.status, tt.detail)
			}
		})
	}
}
