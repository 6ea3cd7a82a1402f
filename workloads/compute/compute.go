// Package compute is the CPU-bound control of the suite: SHA-256 over an
// in-cache block, sorting integers, JSON encoding and decoding. None of them
// leaves the enclave or misses the cache much, so inside an SGX enclave they
// should run at ~1.0x native. A comparison in which compute moves is
// measuring something else (frequency, noisy neighbours, a different CPU,
// microcode mitigations): it is the sanity check of every comparison.
//
// One operation:
//   - sha256: crypto/sha256.Sum256 of an 8 KiB block (the block size of the
//     standard library's BenchmarkHash8K);
//   - sort: copy 4096 random uint64s and sort them (slices.Sort);
//   - json: encoding/json Marshal and Unmarshal of a ~1 KiB document (it
//     allocates, so the Go allocator and GC are part of it, as in real code).
package compute

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Sizes of one operation.
const (
	SHABlock  = 8 << 10
	SortCount = 4096
)

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "compute",
	Doc:  "CPU-bound control (SHA-256, sort, JSON): expected ~1.0x in an enclave, the sanity check of a comparison",
	Params: []workload.Param{
		{Name: "task", Doc: "sha256 (8 KiB block), sort (4096 uint64s), json (encode+decode ~1 KiB)",
			Range: "sha256, sort, json", Quick: []string{"sha256", "sort", "json"}, Full: []string{"sha256", "sort", "json"},
			Check: workload.OneOf("sha256", "sort", "json")},
	},
	Metrics: []workload.Metric{
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per operation"},
		{Unit: "MB/s", Better: protocol.Higher, Doc: "bytes hashed, sorted or encoded per second"},
	},
	New:         newBench,
	Parallelism: workload.Serial,
}

// Doc is the JSON document of the json task.
type Doc struct {
	ID      int64             `json:"id"`
	Name    string            `json:"name"`
	Active  bool              `json:"active"`
	Score   float64           `json:"score"`
	Tags    []string          `json:"tags"`
	Attrs   map[string]string `json:"attrs"`
	Samples []int             `json:"samples"`
}

type bench struct {
	task  string
	block []byte
	src   []uint64
	work  []uint64
	doc   Doc
	back  Doc
	sum   [32]byte
	bytes int64
}

func newBench(env workload.Env) (workload.Bench, error) {
	return New(env.Parameters["task"])
}

// New prepares task.
func New(task string) (workload.Bench, error) {
	b := &bench{task: task}
	switch task {
	case "sha256":
		b.block = make([]byte, SHABlock)
		for i := range b.block {
			b.block[i] = byte(i * 7)
		}
		b.bytes = SHABlock
	case "sort":
		b.src, b.work = make([]uint64, SortCount), make([]uint64, SortCount)
		x := uint64(0x9e3779b97f4a7c15)
		for i := range b.src {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b.src[i] = x
		}
		b.bytes = SortCount * 8
	case "json":
		b.doc = Doc{ID: 123456789, Name: "enclavebench compute control", Active: true, Score: 0.987654321,
			Attrs: map[string]string{}}
		for i := 0; i < 16; i++ {
			b.doc.Tags = append(b.doc.Tags, "tag-"+strconv.Itoa(i))
			b.doc.Attrs["key-"+strconv.Itoa(i)] = "value-" + strconv.Itoa(i*i)
			b.doc.Samples = append(b.doc.Samples, i*1000003)
		}
		enc, err := json.Marshal(&b.doc)
		if err != nil {
			return nil, err
		}
		b.bytes = int64(len(enc))
	default:
		return nil, fmt.Errorf("compute: unknown task %q", task)
	}
	return b, nil
}

func (b *bench) Run(n int, r *workload.Report) error {
	r.BytesPerOp = b.bytes
	switch b.task {
	case "sha256":
		for i := 0; i < n; i++ {
			b.sum = sha256.Sum256(b.block)
		}
	case "sort":
		for i := 0; i < n; i++ {
			copy(b.work, b.src)
			slices.Sort(b.work)
		}
	case "json":
		for i := 0; i < n; i++ {
			enc, err := json.Marshal(&b.doc)
			if err != nil {
				return err
			}
			b.back = Doc{}
			if err := json.Unmarshal(enc, &b.back); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bench) Close() error { return nil }
