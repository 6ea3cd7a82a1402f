package collect

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/fleet/podlog"
	"github.com/enclavebench/enclavebench/bench/result"
)

// FuzzCollect feeds arbitrary logs to the parser and the collector: they
// never panic, every problem names the file and a line that exists, every
// record lies on a line that exists, and the stream lines of a real run
// survive any junk put in front of and after them.
func FuzzCollect(f *testing.F) {
	// Seeds are a few lines of a real log: small inputs keep the fuzzer's
	// minimization quick (run with -fuzzminimizetime 5s or so).
	for _, size := range fixtureSizes[:2] {
		b, err := os.ReadFile(filepath.Join(fixtures, "logs", size+".log"))
		if err != nil {
			f.Fatal(err)
		}
		head := []byte(strings.Join(lines(b)[:4], ""))
		f.Add(head, []byte("[pod/x/y] 2026-11-27T04:11:21.1Z "))
		f.Add(head[:len(head)-300], []byte("2026-11-27T04:11:21Z stdout P "))
	}
	f.Add([]byte(result.StreamPrefix+`{"run":{"schema_version":1,"id":"x"}}`+"\n"+result.StreamPrefix+`{"sample":{"cell":"A"}}`), []byte{})
	f.Add([]byte("@enclavebench-result/9 {}\n@enclavebench-result/1 {\"cell\":{\n@enclavebench-result/ \n"), []byte("\r"))
	real, err := os.ReadFile(filepath.Join(fixtures, "logs", "DC2s_v2.log"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, log, junk []byte) {
		nLines := bytes.Count(log, []byte("\n")) + 1
		recs, problems := podlog.ParseLog(bytes.NewReader(log), "f.log")
		for _, r := range recs {
			if r.File != "f.log" || r.Line < 1 || r.Line > nLines {
				t.Fatalf("record at %v, log has %d lines", r.Pos, nLines)
			}
			if r.Err == nil && r.Kind != podlog.KindRun && (r.Sample == nil) == (r.Cell == nil) {
				t.Fatalf("record %v: kind %s without exactly one value", r.Pos, r.Kind)
			}
		}
		for _, p := range problems {
			var le *result.LineError
			if !errors.As(p, &le) || le.File != "f.log" || le.Line < 1 || le.Line > nLines {
				t.Fatalf("problem without a valid position: %v", p)
			}
		}
		c := Collect([]Log{{"f.log", bytes.NewReader(log)}})
		for _, r := range c.Runs {
			if r.Name == "" || strings.ContainsAny(r.Name, "/\\") || r.Name[0] == '.' {
				t.Fatalf("unsafe run directory name %q", r.Name)
			}
		}

		// Junk on its own lines around a real log changes nothing.
		prefixStem := result.StreamPrefix[:strings.LastIndex(result.StreamPrefix, "/")+1]
		if bytes.Contains(junk, []byte(prefixStem)) || bytes.ContainsAny(junk, "\n\r") {
			return
		}
		var b bytes.Buffer
		for _, l := range lines(real) {
			b.Write(junk)
			b.WriteString("\n")
			b.WriteString(l)
		}
		c = Collect([]Log{{"real.log", &b}})
		if len(c.Problems) != 0 || len(c.Runs) != 1 || len(c.Runs[0].Samples) != 21 || len(c.Runs[0].Cells) != 7 {
			t.Fatalf("junk %q broke a real log: %d runs, problems %v", junk, len(c.Runs), c.Problems)
		}
	})
}
