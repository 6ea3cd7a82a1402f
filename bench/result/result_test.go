package result

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"
	"pgregory.net/rapid"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

func TestCellKey(t *testing.T) {
	t.Parallel()
	c := Cell{Workload: "memsweep", Params: map[string]string{"ws": "0.5xEPC", "access": "random"},
		Size: "DC2s_v2", Mode: "native", ParamOrder: []string{"ws", "access"}}
	if got, want := c.Key(), "Memsweep/ws=0.5xEPC/access=random/size=DC2s_v2/mode=native"; got != want {
		t.Fatalf("Key() = %q, want %q", got, want)
	}
	c.ParamOrder = nil // falls back to sorted names
	if got, want := c.Key(), "Memsweep/access=random/ws=0.5xEPC/size=DC2s_v2/mode=native"; got != want {
		t.Fatalf("Key() = %q, want %q", got, want)
	}
}

// readSamples reads lines of samples.jsonl of schema version schema.
func readSamples(r io.Reader, name string, schema int) ([]Sample, []error) {
	out, _, bad := readNumbered(r, name, recordCodec{schema: schema}.sample)
	return out, bad
}

func sample(cell string, attempt, rep int, v float64) Sample {
	return Sample{Cell: cell, Attempt: attempt, Workload: "w", Size: "DC1s_v2", Mode: "native", Rep: rep, Iters: 10,
		ElapsedNS: 100, Values: []protocol.Value{{Value: v, Unit: "ns/op", Better: protocol.Lower}},
		Time: time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)}
}

func TestReadLinesReportsBadLines(t *testing.T) {
	t.Parallel()
	good := `{"cell":"W/size=DC1s_v2/mode=native","attempt":1,"workload":"w","size":"DC1s_v2","mode":"native","rep":0,"iters":1,"elapsed_ns":1,"values":[{"value":1,"unit":"ns/op","better":"lower"}],"time":"2026-11-27T04:00:00Z"}`
	in := strings.Join([]string{
		good,
		`{"cell":`,                  // 2: malformed
		`{"cell":"x","bogus":true}`, // 3: unknown field
		"",                          // 4: blank: skipped silently
		strings.Replace(good, `"iters":1`, `"iters":0`, 1), // 5: fails the check
		good,
		good[:40], // 7: truncated, no newline
	}, "\n")
	got, bad := readSamples(strings.NewReader(in), "samples.jsonl", 2)
	if len(got) != 2 {
		t.Fatalf("got %d good records, want 2", len(got))
	}
	wantLines := []int{2, 3, 5, 7}
	if len(bad) != len(wantLines) {
		t.Fatalf("got %d bad lines (%v), want %d", len(bad), bad, len(wantLines))
	}
	for i, e := range bad {
		var le *LineError
		if !errors.As(e, &le) || le.Line != wantLines[i] || le.File != "samples.jsonl" {
			t.Errorf("bad[%d] = %v, want line %d", i, e, wantLines[i])
		}
	}
	if !strings.Contains(bad[3].Error(), "truncated") {
		t.Errorf("last error %q does not say truncated", bad[3])
	}
}

func FuzzReadSamples(f *testing.F) {
	var b bytes.Buffer
	s := sample("W/size=DC1s_v2/mode=native", 1, 0, 3)
	enc, _ := jsonLine(&s)
	b.Write(enc)
	f.Add(b.Bytes())
	f.Add([]byte("{}\n{\"cell\":1}\n"))
	// The impossible samples of issue 14: each must be refused.
	for _, edit := range []func(string) string{
		replace(`"value":100`, `"value":-5`), replace(`"value":100`, `"value":1e300`),
		replace(`"elapsed_ns":100`, `"elapsed_ns":-100`), replace(`"rep":0`, `"rep":-1`),
		replace(`"cell":"W/size`, `"cell":"W/p=a\nBenchmarkY 1 1 ns/op/size`),
	} {
		f.Add([]byte(sampleLine(0, nil) + "\n" + sampleLine(0, edit) + "\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, bad := readSamples(bytes.NewReader(data), "f", SchemaVersion)
		for _, s := range got {
			if err := CheckSample(&s); err != nil {
				t.Fatalf("accepted an invalid sample: %v", err)
			}
		}
		for _, e := range bad {
			var le *LineError
			if !errors.As(e, &le) || le.Line < 1 {
				t.Fatalf("error without a line number: %v", e)
			}
		}
	})
}

func TestSelect(t *testing.T) {
	t.Parallel()
	samples := []Sample{
		sample("A", 1, 0, 1), sample("A", 1, 1, 1), // attempt 1 of A: interrupted
		sample("A", 2, 0, 2), sample("A", 2, 1, 2), // attempt 2 of A: ok
		sample("B", 1, 0, 3), // B never finished
		sample("C", 1, 0, 4), // C failed after one sample, then...
		sample("C", 2, 0, 5), // ...its second attempt also has no outcome yet
	}
	cells := []CellResult{
		{Cell: "A", Attempt: 2, Status: StatusOK},
		{Cell: "C", Attempt: 1, Status: StatusFailed},
		{Cell: "D", Attempt: 1, Status: StatusNA},
	}
	latest := map[string]CellResult{}
	sel, partial := Select(samples, cells, latest)
	var got []float64
	for _, s := range sel {
		got = append(got, s.Values[0].Value)
	}
	if want := []float64{2, 2, 3, 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("selected values %v, want %v", got, want)
	}
	if want := []string{"B", "C"}; !reflect.DeepEqual(partial, want) {
		t.Errorf("partial = %v, want %v", partial, want)
	}
	if latest["C"].Status != StatusFailed || latest["D"].Status != StatusNA {
		t.Errorf("latest = %v", latest)
	}
}

func genSample(t *rapid.T) Sample {
	p := rapid.StringMatching(`[a-z0-9.]{1,6}`).Draw(t, "p")
	m := rapid.SampledFrom([]string{"native", "sim", "sgx"}).Draw(t, "mode")
	s := Sample{
		Cell:      "W/p=" + p + "/size=DC1s_v2/mode=" + m,
		Attempt:   rapid.IntRange(1, 5).Draw(t, "attempt"),
		Workload:  "w",
		Params:    map[string]string{"p": p},
		Size:      "DC1s_v2",
		Mode:      m,
		Rep:       rapid.IntRange(0, 50).Draw(t, "rep"),
		Iters:     rapid.IntRange(1, 1<<30).Draw(t, "iters"),
		ElapsedNS: rapid.Int64Range(0, 1<<40).Draw(t, "el"),
		Time:      time.Unix(rapid.Int64Range(0, 1<<32).Draw(t, "t"), rapid.Int64Range(0, 999999999).Draw(t, "ns")).UTC(),
	}
	n := rapid.IntRange(1, 3).Draw(t, "nvalues")
	units := []string{"ns/op", "MB/s", "ops/s"}
	for i := 0; i < n; i++ {
		s.Values = append(s.Values, protocol.Value{Value: rapid.Float64Range(1e-3, 1e9).Draw(t, "v"), Unit: units[i],
			Better: map[bool]string{true: protocol.Lower, false: protocol.Higher}[i == 0]})
	}
	if rapid.Bool().Draw(t, "events") {
		s.Events = map[string]int64{"syscalls": rapid.Int64Range(0, 1<<30).Draw(t, "sys"), "epc_loads": rapid.Int64Range(0, 1<<30).Draw(t, "ld")}
	}
	return s
}

func jsonLine(v any) ([]byte, error) {
	enc, err := jsonMarshal(v)
	return append(enc, '\n'), err
}

// TestStoreRoundTrip: samples appended to a store read back unchanged.
func TestStoreRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir := t.TempDir()
		st, err := OpenStore(dir)
		if err != nil {
			rt.Fatal(err)
		}
		want := rapid.SliceOfN(rapid.Custom(genSample), 1, 20).Draw(rt, "samples")
		for i := range want {
			want[i].Rep = i // one sample per (cell, attempt, rep): duplicates are refused
			if err := st.AppendSample(&want[i]); err != nil {
				rt.Fatal(err)
			}
		}
		st.Close()
		got, _, bad := ReadAll(dir)
		if len(bad) > 0 {
			rt.Fatalf("bad lines: %v", bad)
		}
		if !reflect.DeepEqual(got, want) {
			rt.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestBenchfmtRoundTrip: what WriteBenchfmt writes, benchfmt reads back
// with the same names, iterations and values.
func TestBenchfmtRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		samples := rapid.SliceOfN(rapid.Custom(genSample), 1, 20).Draw(rt, "samples")
		run := &Run{ID: "r1", HarnessVersion: "dev", Host: host.Fingerprint{OS: "linux", Arch: "amd64", CPUModel: "Intel  Xeon\tE-2288G"}, Plan: Plan{Spec: runspec.Spec{Profile: "quick"}}}
		var b bytes.Buffer
		if err := WriteBenchfmt(&b, run, samples, nil); err != nil {
			rt.Fatal(err)
		}
		r := benchfmt.NewReader(&b, "bench.txt")
		i := 0
		for r.Scan() {
			switch rec := r.Result().(type) {
			case *benchfmt.SyntaxError:
				rt.Fatalf("syntax error: %v", rec)
			case *benchfmt.Result:
				s := samples[i]
				i++
				if got := string(rec.Name); got != s.Cell {
					rt.Fatalf("name %q, want %q", got, s.Cell)
				}
				if rec.Iters != s.Iters {
					rt.Fatalf("iters %d, want %d", rec.Iters, s.Iters)
				}
				if rec.GetConfig("cpu") != "Intel Xeon E-2288G" || rec.GetConfig("enclavebench-run") != "r1" {
					rt.Fatalf("config %v", rec.Config)
				}
				for _, v := range s.Values {
					got, ok := rec.Value(tidy(v.Unit))
					if !ok || !close(got, scale(v)) {
						rt.Fatalf("%s: got %v (%v), want %v", v.Unit, got, ok, scale(v))
					}
				}
			}
		}
		if i != len(samples) {
			rt.Fatalf("read %d results, want %d", i, len(samples))
		}
	})
}

// benchfmt tidies units: ns/op -> sec/op, MB/s -> B/s.
func tidy(u string) string {
	switch u {
	case "ns/op":
		return "sec/op"
	case "MB/s":
		return "B/s"
	}
	return u
}

func scale(v protocol.Value) float64 {
	switch v.Unit {
	case "ns/op":
		return v.Value / 1e9
	case "MB/s":
		return v.Value * 1e6
	}
	return v.Value
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestCSVRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		samples := rapid.SliceOfN(rapid.Custom(genSample), 1, 10).Draw(rt, "samples")
		var b bytes.Buffer
		if err := WriteCSV(&b, "run1", samples); err != nil {
			rt.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			rt.Fatal(err)
		}
		if !reflect.DeepEqual(rows[0], CSVHeader) {
			rt.Fatalf("header %v", rows[0])
		}
		i := 1
		for _, s := range samples {
			for _, v := range s.Values {
				row := rows[i]
				i++
				got, err := strconv.ParseFloat(row[11], 64)
				if err != nil || got != v.Value || row[10] != v.Unit || row[1] != s.Cell || row[12] != v.Better {
					rt.Fatalf("row %v does not match %+v %+v", row, s, v)
				}
			}
		}
		if i != len(rows) {
			rt.Fatalf("%d rows, want %d", len(rows), i)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing directory succeeded")
	}
	empty := t.TempDir()
	if _, err := Load(empty); !errors.Is(err, ErrNoRun) {
		t.Errorf("Load of a directory without run.json = %v, want ErrNoRun", err)
	}
	future := t.TempDir()
	os.WriteFile(filepath.Join(future, RunFile), []byte(`{"schema_version": 99}`), 0o644)
	if _, err := Load(future); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("Load of a future schema = %v", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, RunFile), []byte(`{"schema_version": 1`), 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("Load of malformed run.json = %v", err)
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
