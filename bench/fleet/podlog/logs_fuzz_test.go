package podlog

import (
	"bytes"
	"errors"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// FuzzParseLog feeds arbitrary logs to the parser: it never panics, every
// problem names the file and a line that exists, every record lies on a
// line that exists and carries exactly one value, and parsing is
// deterministic. (bench/fleet/collect fuzzes the parser and the collector
// together, from real logs.)
func FuzzParseLog(f *testing.F) {
	p := result.StreamPrefix
	f.Add([]byte(p + `{"run":{"schema_version":1,"id":"x"}}` + "\n" + p + `{"sample":{"cell":"A"}}`))
	f.Add([]byte("@enclavebench-result/9 {}\n@enclavebench-result/1 {\"cell\":{\n@enclavebench-result/ \n"))
	f.Add([]byte("[pod/x/y] 2026-11-27T04:11:21.1Z " + p + `{"run":{"schema_version":1,"id":"x"}}` + "\n"))
	f.Add([]byte("2026-11-27T04:11:21Z stdout P " + p + `{"cell":` + "\n2026-11-27T04:11:21Z stdout F {}}\n"))
	f.Add([]byte("foreign line\r\n\r\n"))
	f.Fuzz(func(t *testing.T, log []byte) {
		nLines := bytes.Count(log, []byte("\n")) + 1
		recs, problems := ParseLog(bytes.NewReader(log), "f.log")
		for _, r := range recs {
			if r.File != "f.log" || r.Line < 1 || r.Line > nLines {
				t.Fatalf("record at %v, log has %d lines", r.Pos, nLines)
			}
			if r.Err == nil && r.Kind != KindRun && (r.Sample == nil) == (r.Cell == nil) {
				t.Fatalf("record %v: kind %s without exactly one value", r.Pos, r.Kind)
			}
		}
		for _, p := range problems {
			var le *result.LineError
			if !errors.As(p, &le) || le.File != "f.log" || le.Line < 1 || le.Line > nLines {
				t.Fatalf("problem without a valid position: %v", p)
			}
		}
		recs2, problems2 := ParseLog(bytes.NewReader(log), "f.log")
		if len(recs2) != len(recs) || len(problems2) != len(problems) {
			t.Fatalf("parsing twice: %d records and %d problems, then %d and %d", len(recs), len(problems), len(recs2), len(problems2))
		}
	})
}
