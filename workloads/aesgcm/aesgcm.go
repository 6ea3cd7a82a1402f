// Package aesgcm measures the confidential-data pipeline enclaves exist
// for: decrypt a record with AES-GCM, process it (filter and aggregate),
// re-encrypt it, over an encrypted dataset held in enclave memory and sized
// as a fraction of the size's EPC. The cryptography is Go's crypto/cipher
// (AES-NI and carry-less multiply), the same code inside and outside the
// enclave, so the difference between modes is the enclave's memory: the
// memory encryption engine on every cache miss and, once the dataset is
// larger than the EPC, paging (a 2xEPC dataset pages on every lap).
//
// One operation is one record: Open into a preallocated buffer, a cheap
// process step (read a category and an amount, add the amount to a running
// sum when the category matches, bump the record's version), Seal back in
// place with a fresh nonce. Nothing is allocated per record. The key is
// handed in (a fixed AES-128 key, the key size of SGX sealing): no key
// derivation or exchange is measured.
//
// The loop adds nothing measurable to the cipher: a CPU profile of 16 KiB
// records over a 14 MiB dataset (0.5xEPC of DC1s_v2) puts 99% of Step's
// samples in crypto/cipher's Open and Seal (gcmAesDec 47%, gcmAesEnc 47%
// of the run). Prefetching the next record (PREFETCHT1 per line) was tried
// and cost 6-7% itself with no gain, on a host whose 32 MiB L3 holds the
// dataset.
//
// Record layout in the arena, one slot per record: nonce (12 bytes),
// ciphertext (record bytes), tag (16 bytes), padded to 8 bytes.
package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/arena"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

const (
	nonceBytes = 12
	tagBytes   = 16
	minRecord  = 64
	maxRecord  = 64 << 10
)

// Key is the AES-128 key handed to the workload.
var Key = []byte("enclavebench-k16")

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "aesgcm",
	Doc:  "decrypt, process (filter+aggregate) and re-encrypt records with AES-GCM over a dataset sized against the EPC",
	Params: []workload.Param{
		{Name: "record", Doc: "plaintext bytes per record",
			Range: "64B .. 64KiB", Quick: []string{"64B", "16KiB"},
			Full: []string{"64B", "256B", "1KiB", "4KiB", "16KiB", "64KiB"}, Check: checkRecord},
		{Name: "dataset", Doc: "encrypted dataset in enclave memory: bytes or a multiple of the size's EPC",
			Range: "64KiB .. 64GiB, e.g. 0.25xEPC .. 2xEPC, no more than the host's memory",
			Quick: []string{"0.5xEPC", "2xEPC"}, Full: []string{"0.25xEPC", "0.5xEPC", "1xEPC", "2xEPC"},
			Check: workload.BytesInRange(64<<10, 64<<30)},
	},
	Metrics: []workload.Metric{
		{Unit: "MB/s", Better: protocol.Higher, Doc: "plaintext bytes decrypted, processed and re-encrypted per second"},
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per record"},
	},
	New:            newBench,
	CountWarm:      countWarm,
	Footprint:      footprint,
	FootprintParam: "dataset",
	Parallelism:    workload.Serial,
	Memory:         memory,
}

// countWarm is Spec.CountWarm: New's last pass wrote the arena record
// after record, in address order (in the counting pass only the records
// the operations open, but the timed process's New writes them all);
// touch reads its end covering env.WarmBytes (workload.Env.WarmBytes).
func countWarm(_ workload.Bench, env workload.Env) func() {
	return func() { arena.Sweep(env.WarmBytes) }
}

func checkRecord(v string, env workload.Env) error {
	n, err := workload.ParseBytes(v, env)
	if err != nil {
		return err
	}
	if n < minRecord || n > maxRecord {
		return fmt.Errorf("%d bytes is out of range", n)
	}
	return nil
}

func footprint(env workload.Env) int64 {
	n, err := workload.ParseBytes(env.Parameters["dataset"], env)
	if err != nil {
		return 0
	}
	return n
}

// memory: the dataset is one arena (at most footprint: whole records); the
// Go heap holds one plaintext buffer with room for the tag.
func memory(env workload.Env) workload.Memory {
	m := workload.Memory{Mapped: footprint(env)}
	if rec, err := workload.ParseBytes(env.Parameters["record"], env); err == nil {
		m.GoHeap = rec + tagBytes
	}
	return m
}

// Pipeline is the decrypt-process-encrypt loop over an encrypted dataset.
type Pipeline struct {
	a       *arena.Arena
	mem     []byte
	gcm     cipher.AEAD
	record  int
	stride  int
	records int
	next    int
	plain   []byte
	counter uint64 // nonce counter: never repeats under the key

	Sum, Matched uint64 // the aggregate
}

// Stride is the arena bytes one record of size record takes.
func Stride(record int) int { return (nonceBytes + record + tagBytes + 7) &^ 7 }

func newBench(env workload.Env) (workload.Bench, error) {
	rec, err := workload.ParseBytes(env.Parameters["record"], env)
	if err != nil {
		return nil, err
	}
	ds, err := workload.ParseBytes(env.Parameters["dataset"], env)
	if err != nil {
		return nil, err
	}
	return build(int(rec), ds, Key, env.MaxOps)
}

// New encrypts a dataset of datasetBytes (at least one record) of records
// of recordBytes plaintext each under key.
func New(recordBytes int, datasetBytes int64, key []byte) (*Pipeline, error) {
	return build(recordBytes, datasetBytes, key, 0)
}

// build is New; when maxOps > 0 only the first maxOps records are
// encrypted (Env.MaxOps: the operations open records in order from the
// first, so no more are read), the rest of the arena is left zero. Under
// Valgrind the encryption is emulated instruction by instruction: a 2xEPC
// dataset on DC8_v2 took 25 CPU-seconds to encrypt there, 0.5 natively.
func build(recordBytes int, datasetBytes int64, key []byte, maxOps int64) (*Pipeline, error) {
	if recordBytes < minRecord || recordBytes > maxRecord {
		return nil, fmt.Errorf("aesgcm: record of %d bytes is out of range %d..%d", recordBytes, minRecord, maxRecord)
	}
	stride := Stride(recordBytes)
	if datasetBytes < int64(stride) {
		return nil, fmt.Errorf("aesgcm: dataset of %d bytes holds no record of %d bytes", datasetBytes, recordBytes)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aesgcm: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("aesgcm: %w", err)
	}
	records := datasetBytes / int64(stride)
	a, err := arena.New(records * int64(stride))
	if err != nil {
		return nil, err
	}
	if a.Kind() == "plain" {
		// Back the arena at once (MADV_POPULATE_WRITE, Linux 5.14+) instead
		// of one fault per page while filling; errors (older kernels, EGo)
		// are ignored. The sim build's software EPC is left alone.
		_ = unix.Madvise(a.Bytes(), unix.MADV_POPULATE_WRITE)
	}
	p := &Pipeline{a: a, mem: a.Bytes(), gcm: gcm, record: recordBytes, stride: stride,
		records: int(records), plain: make([]byte, recordBytes, recordBytes+tagBytes)}
	fill := p.records
	if maxOps > 0 && maxOps < int64(fill) {
		fill = int(maxOps)
	}
	for i := 0; i < fill; i++ {
		pt := p.plain
		for j := range pt {
			pt[j] = byte(i + j)
		}
		binary.LittleEndian.PutUint64(pt[0:], uint64(i))      // category
		binary.LittleEndian.PutUint64(pt[8:], uint64(i%1000)) // amount
		binary.LittleEndian.PutUint64(pt[16:], 0)             // version
		p.seal(p.slot(i), pt)
	}
	return p, nil
}

func (p *Pipeline) slot(i int) []byte { return p.mem[i*p.stride : (i+1)*p.stride : (i+1)*p.stride] }

// seal encrypts pt into slot with the next nonce.
func (p *Pipeline) seal(slot, pt []byte) {
	p.counter++
	binary.LittleEndian.PutUint32(slot[0:], 0x65626e63) // fixed prefix
	binary.LittleEndian.PutUint64(slot[4:], p.counter)
	p.gcm.Seal(slot[nonceBytes:nonceBytes], slot[:nonceBytes], pt, nil)
}

// Records is the number of records in the dataset.
func (p *Pipeline) Records() int { return p.records }

// Open decrypts record i into the pipeline's buffer (for tests).
func (p *Pipeline) Open(i int) ([]byte, error) {
	s := p.slot(i)
	return p.gcm.Open(p.plain[:0], s[:nonceBytes], s[nonceBytes:nonceBytes+p.record+tagBytes], nil)
}

// Step runs the pipeline on the next n records, in order, wrapping around.
func (p *Pipeline) Step(n int) error {
	for ; n > 0; n-- {
		s := p.slot(p.next)
		pt, err := p.gcm.Open(p.plain[:0], s[:nonceBytes], s[nonceBytes:nonceBytes+p.record+tagBytes], nil)
		if err != nil {
			return fmt.Errorf("aesgcm: record %d: %w", p.next, err)
		}
		if cat := binary.LittleEndian.Uint64(pt); cat%4 == 0 {
			p.Sum += binary.LittleEndian.Uint64(pt[8:])
			p.Matched++
		}
		binary.LittleEndian.PutUint64(pt[16:], binary.LittleEndian.Uint64(pt[16:])+1)
		p.seal(s, pt)
		if p.next++; p.next == p.records {
			p.next = 0
		}
	}
	return nil
}

// Run implements workload.Bench.
func (p *Pipeline) Run(n int, r *workload.Report) error {
	r.BytesPerOp = int64(p.record)
	return p.Step(n)
}

// Close implements workload.Bench.
func (p *Pipeline) Close() error { return p.a.Close() }
