package result

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// validRun is the smallest run.json every reader accepts.
func validRun(id string) *Run {
	return &Run{SchemaVersion: SchemaVersion, Facts: &Facts{}, ID: id, Start: time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC), Status: "complete",
		Plan: Plan{Spec: runspec.Spec{Workloads: []string{"w"}, Sizes: []string{"DC1s_v2"}, Modes: []string{"native"}, Profile: "quick", Reps: 3, Warmup: new(int)},
			Cells: []string{"W/size=DC1s_v2/mode=native"}},
		Host: host.Fingerprint{Hostname: "h", OS: "linux", Arch: "amd64", CPUs: 1}}
}

func TestReadRunIsStrict(t *testing.T) {
	t.Parallel()
	good, _ := json.Marshal(validRun("r1"))
	tests := []struct {
		name, json, want string // want: "" accepts, else a substring of the error
	}{
		{"valid", string(good), ""},
		{"version only", `{"schema_version":1}`, "missing or empty: id, start, status, plan.workloads"},
		{"unknown field", strings.Replace(string(good), `"id"`, `"bogus":1,"id"`, 1), `unknown field "bogus"`},
		{"no version", `{"id":"x"}`, "no schema_version"},
		{"future version", `{"schema_version":99,"future_field":true}`, "schema version 99"},
		{"trailing data", string(good) + `{}`, "malformed"},
		{"bad status", strings.Replace(string(good), `"status":"complete"`, `"status":"great"`, 1), `status "great"`},
		{"id with newline", strings.Replace(string(good), `"id":"r1"`, `"id":"r1\nBenchmarkX 1 1 ns/op"`, 1), "control character"},
		{"id with space", strings.Replace(string(good), `"id":"r1"`, `"id":"r 1"`, 1), "space"},
		{"no host", strings.Replace(string(good), `"os":"linux"`, `"os":""`, 1), "host.os"},
		{"negative warmup", strings.Replace(string(good), `"warmup":0`, `"warmup":-5`, 1), "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, RunFile), []byte(tt.json), 0o644)
			_, err := ReadRun(dir)
			if _, lerr := Load(dir); (err == nil) != (lerr == nil) {
				t.Errorf("ReadRun and Load disagree: %v vs %v", err, lerr)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused a valid run.json: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("accepted %s", tt.json)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func FuzzReadRun(f *testing.F) {
	good, _ := json.Marshal(validRun("r1"))
	f.Add(good)
	f.Add([]byte(`{"schema_version":1}`))
	f.Add([]byte(`{"schema_version":1,"id":"x","bogus":true}`))
	f.Add(bytes.Replace(good, []byte(`"reps":3`), []byte(`"reps":-1`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, RunFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := ReadRun(dir)
		if err != nil {
			return
		}
		if err := CheckRun(r); err != nil {
			t.Fatalf("accepted a run that fails CheckRun: %v", err)
		}
		if r.SchemaVersion != SchemaVersion {
			t.Fatalf("accepted schema version %d", r.SchemaVersion)
		}
	})
}

// sampleLine is a valid sample line of cell W/size=DC1s_v2/mode=native
// with edit applied to its JSON text.
func sampleLine(rep int, edit func(string) string) string {
	return sampleLineIn(SchemaVersion, rep, edit)
}

// sampleLineIn is sampleLine in schema version schema.
func sampleLineIn(schema, rep int, edit func(string) string) string {
	s := sample("W/size=DC1s_v2/mode=native", 1, rep, 100)
	b, _ := EncodeSample(&s, schema)
	if edit == nil {
		return string(b)
	}
	return edit(string(b))
}

func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func TestImpossibleSamplesAreRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(string) string
		want string
	}{
		{"negative ns/op", replace(`"value":100`, `"value":-5`), "negative"},
		{"absurd ns/op", replace(`"value":100`, `"value":1e300`), "not plausible"},
		{"negative MB/s", replace(`"values":[`, `"values":[{"value":-1,"unit":"MB/s","better":"higher"},`), "negative"},
		{"absurd MB/s", replace(`"values":[`, `"values":[{"value":1e12,"unit":"MB/s","better":"higher"},`), "not plausible"},
		{"negative percentile", replace(`"values":[`, `"values":[{"value":-3,"unit":"p99-ns","better":"lower"},`), "negative"},
		{"unit twice", replace(`"values":[`, `"values":[{"value":3,"unit":"ns/op","better":"lower"},`), "twice"},
		{"negative elapsed", replace(`"elapsed_ns":100`, `"elapsed_ns":-100`), "elapsed_ns"},
		{"negative iters", replace(`"iters":10`, `"iters":-10`), "iterations"},
		{"negative rep", replace(`"rep":1`, `"rep":-1`), "repetition"},
		{"attempt 0", replace(`"attempt":1`, `"attempt":0`), "attempt"},
		{"negative event", replace(`"values":`, `"events":{"minflt":-4},"values":`), "negative"},
		{"newline in param", func(s string) string {
			s = strings.Replace(s, `"cell":"W/size`, `"cell":"W/p=a\nBenchmarkY 1 1 ns/op/size`, 1)
			return strings.Replace(s, `"workload"`, `"params":{"p":"a\nBenchmarkY 1 1 ns/op"},"workload"`, 1)
		}, "control character"},
		{"space in mode", func(s string) string {
			return strings.ReplaceAll(s, "native", "nat ive")
		}, "space"},
		{"cell not its own", replace(`"cell":"W/size=DC1s_v2/mode=native"`, `"cell":"W/size=DC8_v2/mode=native"`), "does not match"},
	}
	// Schema 2 records carry their cell's name (the frozen reader checks it
	// against the fields); schema 3 records derive it.
	for _, schema := range []int{2, SchemaVersion} {
		for _, tt := range tests {
			if schema > 2 && tt.name == "cell not its own" {
				continue
			}
			t.Run(fmt.Sprintf("%s/schema%d", tt.name, schema), func(t *testing.T) {
				t.Parallel()
				in := sampleLineIn(schema, 0, nil) + "\n" + sampleLineIn(schema, 1, tt.edit) + "\n"
				got, bad := readSamples(strings.NewReader(in), "samples.jsonl", schema)
				if len(got) != 1 || len(bad) != 1 {
					t.Fatalf("%d good, %d bad (%v); want 1 and 1", len(got), len(bad), bad)
				}
				if !strings.HasPrefix(bad[0].Error(), "samples.jsonl:2: ") || !strings.Contains(bad[0].Error(), tt.want) {
					t.Errorf("error %q does not name samples.jsonl:2 and say %q", bad[0], tt.want)
				}
			})
		}
	}
}

func TestCheckValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v  float64
		u  string
		ok bool
	}{
		{0, "ns/op", true}, {1e14, "ns/op", true}, {1e300, "ns/op", false}, {-1, "ns/op", false},
		{math.NaN(), "ns/op", false}, {math.Inf(1), "MB/s", false}, {5e4, "MB/s", true}, {2e9, "MB/s", false},
		{1e6, "ops/s", true}, {1e13, "req/s", false}, {1e9, "B/op", true}, {-1, "allocs/op", false},
		{3e5, "p99-ns", true}, {-2, "p50-ns", false}, {2e12, "p99-us", false},
		{-7, "u", true}, // a workload's own unit of unknown shape: only finite
		{1, "n s/op", false},
	}
	for _, tt := range tests {
		err := CheckValue(protocol.Value{Value: tt.v, Unit: tt.u, Better: protocol.Lower})
		if (err == nil) != tt.ok {
			t.Errorf("CheckValue(%v %s) = %v, want ok=%v", tt.v, tt.u, err, tt.ok)
		}
	}
}

// writeDir writes a result directory: run.json and the given lines.
func writeDir(t *testing.T, samples, cells []string) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteJSONFile(filepath.Join(dir, RunFile), validRun("r1")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, SamplesFile), []byte(strings.Join(samples, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, CellsFile), []byte(strings.Join(cells, "\n")+"\n"), 0o644)
	return dir
}

func cellLine(status Status, samples int) string {
	c := CellResult{Cell: "W/size=DC1s_v2/mode=native", Attempt: 1, Workload: "w", Size: "DC1s_v2", Mode: "native",
		Status: status, Samples: samples}
	b, _ := EncodeCell(&c, SchemaVersion)
	return string(b)
}

func TestDuplicateSamplesAreRefused(t *testing.T) {
	t.Parallel()
	dir := writeDir(t, []string{sampleLine(0, nil), sampleLine(1, nil), sampleLine(2, nil), sampleLine(1, nil)},
		[]string{cellLine(StatusOK, 3)})
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 2 {
		t.Errorf("%d samples used, want 2 (both copies of rep 1 left out)", len(d.Samples))
	}
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0].Error(), "samples.jsonl:4: duplicate sample") ||
		!strings.Contains(d.Problems[0].Error(), "also at line 2") {
		t.Errorf("problems = %v, want one naming lines 4 and 2", d.Problems)
	}
	if len(d.Short) != 1 || d.Short[0].Recorded != 3 || d.Short[0].Present != 2 {
		t.Errorf("short = %+v, want the cell short by one", d.Short)
	}
	// Duplicated outcomes too.
	dir = writeDir(t, []string{sampleLine(0, nil)}, []string{cellLine(StatusOK, 1), cellLine(StatusOK, 1)})
	d, _ = Load(dir)
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0].Error(), "cells.jsonl:2: duplicate outcome") {
		t.Errorf("problems = %v", d.Problems)
	}
}

func TestShortCellsAreReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		samples []string
		cells   []string
		short   []ShortCell
	}{
		{"complete", []string{sampleLine(0, nil), sampleLine(1, nil)}, []string{cellLine(StatusOK, 2)}, nil},
		{"lost one", []string{sampleLine(0, nil)}, []string{cellLine(StatusOK, 2)},
			[]ShortCell{{Cell: "W/size=DC1s_v2/mode=native", Attempt: 1, Status: StatusOK, Recorded: 2, Present: 1}}},
		{"lost all", nil, []string{cellLine(StatusOK, 2)},
			[]ShortCell{{Cell: "W/size=DC1s_v2/mode=native", Attempt: 1, Status: StatusOK, Recorded: 2, Present: 0}}},
		{"one too many", []string{sampleLine(0, nil), sampleLine(1, nil)}, []string{cellLine(StatusOK, 1)},
			[]ShortCell{{Cell: "W/size=DC1s_v2/mode=native", Attempt: 1, Status: StatusOK, Recorded: 1, Present: 2}}},
		{"not applicable", nil, []string{cellLine(StatusNA, 0)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Load(writeDir(t, tt.samples, tt.cells))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(d.Short) != fmt.Sprint(tt.short) {
				t.Errorf("short = %v, want %v", d.Short, tt.short)
			}
			for _, s := range d.Short {
				if s.Lost() != (s.Present < s.Recorded) || !strings.Contains(s.String(), s.Cell) {
					t.Errorf("%+v: Lost %v, %q", s, s.Lost(), s)
				}
			}
		})
	}
}

func TestDerivedFilesNeverLoseRowsUnasked(t *testing.T) {
	t.Parallel()
	dir := writeDir(t, []string{sampleLine(0, nil), sampleLine(1, nil), sampleLine(2, nil)}, []string{cellLine(StatusOK, 3)})
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteDerived(d); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, BenchFile))
	beforeCSV, _ := os.ReadFile(filepath.Join(dir, CSVFile))
	// Lose two samples; the derived files would shrink from 3 rows to 1.
	os.WriteFile(filepath.Join(dir, SamplesFile), []byte(sampleLine(0, nil)+"\n"), 0o644)
	d, _ = Load(dir)
	err = WriteDerived(d)
	var fe *FewerRowsError
	if !errors.As(err, &fe) || fe.Have != 3 || fe.New != 1 || !strings.Contains(err.Error(), "--rewrite-derived") {
		t.Fatalf("WriteDerived = %v, want a FewerRowsError 3 -> 1 naming the flag", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, BenchFile))
	afterCSV, _ := os.ReadFile(filepath.Join(dir, CSVFile))
	if !bytes.Equal(before, after) || !bytes.Equal(beforeCSV, afterCSV) {
		t.Error("a refused rewrite changed the derived files")
	}
	if err := RewriteDerived(d); err != nil {
		t.Fatal(err)
	}
	if n, _ := benchRows(mustRead(t, filepath.Join(dir, BenchFile))); n != 1 {
		t.Errorf("after RewriteDerived bench.txt has %d rows, want 1", n)
	}
	if n, _ := csvRows(mustRead(t, filepath.Join(dir, CSVFile))); n != 1 {
		t.Errorf("after RewriteDerived results.csv has %d rows, want 1", n)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStoreRefusesInvalidRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bad := sample("W/p=a b/size=DC1s_v2/mode=native", 1, 0, 1)
	bad.Params = map[string]string{"p": "a b"}
	if err := st.AppendSample(&bad); err == nil || !strings.Contains(err.Error(), "space") {
		t.Errorf("AppendSample with a space in a value = %v", err)
	}
	neg := sample("W/size=DC1s_v2/mode=native", 1, 0, -5)
	if err := st.AppendSample(&neg); err == nil {
		t.Error("AppendSample of -5 ns/op succeeded")
	}
	if err := st.AppendCell(&CellResult{Cell: "W/size=DC1s_v2/mode=native", Workload: "w", Size: "DC1s_v2", Mode: "native\n", Attempt: 1, Status: StatusOK}); err == nil {
		t.Error("AppendCell with a newline in the mode succeeded")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, SamplesFile)); len(b) != 0 {
		t.Errorf("refused records were written: %q", b)
	}
	if err := st.WriteRun(validRun("r 1")); err == nil {
		t.Error("WriteRun with a space in the run id succeeded")
	}
	if err := st.WriteRun(&Run{SchemaVersion: SchemaVersion}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("WriteRun of an empty run = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, RunFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused run.json was written (%v)", err)
	}
}

func TestOpenStoreCutsTornTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	full := sampleLine(0, nil) + "\n" + sampleLine(1, nil) + "\n"
	torn := sampleLine(2, nil)[:50]
	os.WriteFile(filepath.Join(dir, SamplesFile), []byte(full+torn), 0o644)
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Torn) != 1 || !strings.Contains(st.Torn[0], "samples.jsonl:3: cut off an incomplete last line (50 bytes") {
		t.Errorf("Torn = %q, want samples.jsonl:3 cut (50 bytes)", st.Torn)
	}
	s := sample("W/size=DC1s_v2/mode=native", 1, 2, 100)
	if err := st.AppendSample(&s); err != nil {
		t.Fatal(err)
	}
	st.Close()
	got, _, bad := readFile(filepath.Join(dir, SamplesFile), recordCodec{schema: SchemaVersion}.sample)
	if len(bad) != 0 || len(got) != 3 {
		t.Errorf("after append: %d samples, bad %v; want 3 and none", len(got), bad)
	}
	// A clean file is left alone and nothing is reported.
	st, err = OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if len(st.Torn) != 0 {
		t.Errorf("clean file reported torn: %q", st.Torn)
	}
}

// TestShortWriteIsUndone appends past a file-size limit (RLIMIT_FSIZE, as
// a full disk would stop it) in a child process: the failed record leaves
// nothing behind, and the records written before and after are whole.
func TestShortWriteIsUndone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestShortWriteChild$")
	cmd.Env = append(os.Environ(), "RESULT_SHORT_WRITE_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	b := mustRead(t, filepath.Join(dir, SamplesFile))
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("samples.jsonl does not end with a complete line: %q", b)
	}
	got, _, bad := readFile(filepath.Join(dir, SamplesFile), recordCodec{schema: SchemaVersion}.sample)
	if len(bad) != 0 {
		t.Errorf("bad lines after a short write: %v", bad)
	}
	want := []int{0, 2} // rep 1 hit the limit and was undone; rep 2 was written after it was raised
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	for i, s := range got {
		if s.Rep != want[i] {
			t.Errorf("sample %d is rep %d, want %d", i, s.Rep, want[i])
		}
	}
}

func TestShortWriteChild(t *testing.T) {
	dir := os.Getenv("RESULT_SHORT_WRITE_DIR")
	if dir == "" {
		t.Skip("run by TestShortWriteIsUndone")
	}
	// Without this, exceeding the limit kills the process (SIGXFSZ).
	signal.Ignore(syscall.SIGXFSZ)
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s0 := sample("W/size=DC1s_v2/mode=native", 1, 0, 100)
	if err := st.AppendSample(&s0); err != nil {
		t.Fatal(err)
	}
	size := int64(len(sampleLine(0, nil)) + 1)
	var old unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_FSIZE, &old)
	lim := unix.Rlimit{Cur: uint64(size + 40), Max: old.Max} // room for 40 bytes of the next line
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	s1 := sample("W/size=DC1s_v2/mode=native", 1, 1, 100)
	if err := st.AppendSample(&s1); err == nil {
		t.Fatal("append past the size limit succeeded")
	}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	s2 := sample("W/size=DC1s_v2/mode=native", 1, 2, 100)
	if err := st.AppendSample(&s2); err != nil {
		t.Fatal(err)
	}
	st.Close()
}

// FuzzLoad reads arbitrary samples.jsonl and cells.jsonl: whatever Load
// selects passes the checks, no (cell, attempt, rep) is used twice, every
// problem has a line, and each short cell's counts differ.
func FuzzLoad(f *testing.F) {
	ok := []string{sampleLine(0, nil), sampleLine(1, nil)}
	f.Add(strings.Join(ok, "\n")+"\n", cellLine(StatusOK, 2)+"\n")
	f.Add(strings.Join(append(ok, sampleLine(1, nil)), "\n")+"\n", cellLine(StatusOK, 3)+"\n")  // duplicate
	f.Add(ok[0]+"\n"+ok[1][:30], cellLine(StatusOK, 2)+"\n")                                    // torn
	f.Add(ok[0]+"\n", cellLine(StatusOK, 2)+"\n"+cellLine(StatusOK, 2)+"\n")                    // lost, duplicate outcome
	f.Add(sampleLine(0, replace(`"value":100`, `"value":-5`))+"\n", cellLine(StatusOK, 1)+"\n") // impossible
	f.Fuzz(func(t *testing.T, samples, cells string) {
		dir := t.TempDir()
		if err := WriteJSONFile(filepath.Join(dir, RunFile), validRun("r1")); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, SamplesFile), []byte(samples), 0o644)
		os.WriteFile(filepath.Join(dir, CellsFile), []byte(cells), 0o644)
		d, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[SampleKey]bool{}
		for _, s := range d.Samples {
			if err := CheckSample(&s); err != nil {
				t.Fatalf("selected an invalid sample: %v", err)
			}
			k := s.Key()
			if seen[k] {
				t.Fatalf("selected %v twice", k)
			}
			seen[k] = true
		}
		for _, p := range d.Problems {
			var le *LineError
			if !errors.As(p, &le) || le.Line < 1 {
				t.Fatalf("problem without a line: %v", p)
			}
		}
		for _, s := range d.Short {
			if s.Present == s.Recorded {
				t.Fatalf("short cell with matching counts: %+v", s)
			}
		}
	})
}
