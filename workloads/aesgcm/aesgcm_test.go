package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, rec := range []int{64, 1000, 64 << 10} {
		t.Run(fmt.Sprint(rec), func(t *testing.T) {
			t.Parallel()
			p, err := New(rec, int64(Stride(rec))*5+3, Key)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if p.Records() != 5 {
				t.Fatalf("records = %d, want 5", p.Records())
			}
			// Two laps plus one: every record re-encrypted twice, record 0 three times.
			if err := p.Step(11); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				pt, err := p.Open(i)
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				want := uint64(2)
				if i == 0 {
					want = 3
				}
				if v := binary.LittleEndian.Uint64(pt[16:]); v != want {
					t.Errorf("record %d version %d, want %d", i, v, want)
				}
				if cat := binary.LittleEndian.Uint64(pt); cat != uint64(i) {
					t.Errorf("record %d category %d", i, cat)
				}
				if len(pt) > 24 && pt[24] != byte(i+24) {
					t.Errorf("record %d payload changed", i)
				}
			}
			// Categories 0 and 4 match: amounts 0 and 4, counted per visit.
			if p.Matched != 5 || p.Sum != 8 {
				t.Errorf("aggregate: matched %d sum %d, want 5 and 8", p.Matched, p.Sum)
			}
		})
	}
}

func TestTamperedRecordFails(t *testing.T) {
	t.Parallel()
	p, err := New(64, 4096, Key)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.mem[nonceBytes+3] ^= 1
	if err := p.Step(1); err == nil || !strings.Contains(err.Error(), "record 0") {
		t.Fatalf("want an authentication error on record 0, got %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	env := workload.Env{Size: protocol.Size{EPCBytes: 28 << 20}, HostMem: 1 << 30}
	tests := []struct {
		record, dataset, want string
	}{
		{"64B", "0.5xEPC", ""},
		{"64KiB", "2xEPC", ""},
		{"0", "1xEPC", "aesgcm.record=0"},
		{"32B", "1xEPC", "64B .. 64KiB"},
		{"128KiB", "1xEPC", "aesgcm.record=128KiB"},
		{"1KiB", "-1MiB", "aesgcm.dataset=-1MiB"},
		{"1KiB", "64xEPC", "more than this host's memory"},
		{"1KiB", "1KiB", "64KiB .. 64GiB"},
	}
	for _, tt := range tests {
		err := Spec.Validate(map[string]string{"record": tt.record, "dataset": tt.dataset}, env)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s/%s: %v", tt.record, tt.dataset, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s/%s: got %v, want an error with %q", tt.record, tt.dataset, err, tt.want)
		}
	}
}

var sizes = []int{64, 1 << 10, 16 << 10, 64 << 10}

// BenchmarkAESGCMWorkload runs the pipeline over a 4 MiB dataset;
// BenchmarkStdlibAESGCM is crypto/cipher's Open+Seal of one record of the
// same size into preallocated buffers: the near-hardware reference (the
// workload should reach >= 90% of it natively).
func BenchmarkAESGCMWorkload(b *testing.B) {
	for _, rec := range sizes {
		b.Run(fmt.Sprintf("record=%d", rec), func(b *testing.B) {
			p, err := New(rec, 4<<20, Key)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			p.Step(p.Records()) // warm the dataset
			b.SetBytes(int64(rec))
			b.ResetTimer()
			if err := p.Step(b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkStdlibAESGCM(b *testing.B) {
	for _, rec := range sizes {
		b.Run(fmt.Sprintf("record=%d", rec), func(b *testing.B) {
			block, _ := aes.NewCipher(Key)
			gcm, _ := cipher.NewGCM(block)
			nonce := make([]byte, 12)
			pt := make([]byte, rec)
			ct := gcm.Seal(nil, nonce, pt, nil)
			b.SetBytes(int64(rec))
			for b.Loop() {
				out, err := gcm.Open(pt[:0], nonce, ct, nil)
				if err != nil {
					b.Fatal(err)
				}
				ct = gcm.Seal(ct[:0], nonce, out, nil)
			}
		})
	}
}

// With Env.MaxOps (the counting pass) only the records the operations open
// are encrypted; the operations within the bound run as with the whole
// dataset encrypted, and one more fails loudly (an unencrypted record does
// not authenticate) rather than count the wrong work. A bound of the
// dataset or more encrypts every record.
func TestMaxOpsEncryptsWhatIsOpened(t *testing.T) {
	t.Parallel()
	const records = 8
	ds := int64(Stride(64)) * records
	p, err := build(64, ds, Key, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range records {
		if _, err := p.Open(i); (err == nil) != (i < 3) {
			t.Errorf("record %d: Open error %v, want one only from record 3 on", i, err)
		}
	}
	if err := p.Step(3); err != nil {
		t.Fatalf("3 operations within the bound: %v", err)
	}
	if err := p.Step(1); err == nil {
		t.Error("a 4th operation on an unencrypted record did not fail")
	}

	whole, err := build(64, ds, Key, records)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	if err := whole.Step(2 * records); err != nil {
		t.Errorf("bound = records: %v", err)
	}

	b, err := Spec.New(workload.Env{MaxOps: 2, Parameters: map[string]string{"record": "64B", "dataset": fmt.Sprint(ds)}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.(*Pipeline).Open(2); err == nil {
		t.Error("Spec.New ignored Env.MaxOps: record 2 of a bound of 2 was encrypted")
	}
}
