package result

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// BenchmarkReadSamples100k reads 100,000 stored samples, the size the
// report's 10-second budget is set for.
func BenchmarkReadSamples100k(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 100000; i++ {
		s := Sample{Cell: fmt.Sprintf("Memsweep/ws=%dxEPC/access=seq/op=read/size=DC2s_v2/mode=native", i%10), Attempt: 1,
			Workload: "memsweep", Params: map[string]string{"ws": "1xEPC", "access": "seq", "op": "read"}, Size: "DC2s_v2",
			Mode: "native", Rep: i % 10, Iters: 1000 + i, ElapsedNS: 20000000,
			Values: []protocol.Value{{Value: 1.5, Unit: "ns/op", Better: protocol.Lower}, {Value: 40000, Unit: "MB/s", Better: protocol.Higher}},
			Events: map[string]int64{"minflt": 3, "majflt": 0, "nvcsw": 4, "nivcsw": 1}, Time: time.Now().UTC()}
		line, _ := EncodeSample(&s, SchemaVersion)
		buf.Write(append(line, '\n'))
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, bad := readSamples(bytes.NewReader(data), "samples.jsonl", SchemaVersion)
		if len(got) != 100000 || len(bad) != 0 {
			b.Fatalf("%d samples, %d bad", len(got), len(bad))
		}
	}
}
