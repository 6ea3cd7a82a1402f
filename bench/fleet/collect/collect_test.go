package collect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"

	"github.com/enclavebench/enclavebench/bench/fleet/podlog"
)

// The fixtures are real runs (see testdata/mkfixtures.go): the stream of
// `bench run -o -` on each DCsv2 size, and the result directory that same
// run wrote.
var fixtureSizes = []string{"DC1s_v2", "DC2s_v2", "DC4s_v2", "DC8_v2"}

// fixtures is the native set; fixtureSets adds the native+sim set, whose
// samples carry the sim model's predictions.
const fixtures = "testdata/fourSizes"

var fixtureSets = []string{fixtures, "testdata/fourSizesSim"}

func readFixtureLog(t *testing.T, size string) []byte { return readSetLog(t, fixtures, size) }

func readSetLog(t *testing.T, set, size string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(set, "logs", size+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lines(b []byte) []string {
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

// derive writes bench.txt and results.csv of a copy of the directory the
// run itself wrote, the same way collect derives them.
func derive(t *testing.T, set, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), size)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{result.RunFile, result.SamplesFile, result.CellsFile} {
		b, err := os.ReadFile(filepath.Join(set, "want", size, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := result.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := result.WriteDerived(d); err != nil {
		t.Fatal(err)
	}
	return dir
}

// collectInto collects logs into a fresh directory and fails on any
// problem unless allowProblems.
func collectInto(t *testing.T, logs []Log, allowProblems bool) (*Collection, string) {
	t.Helper()
	c := Collect(logs)
	if !allowProblems {
		for _, p := range c.Problems {
			t.Errorf("problem: %v", p)
		}
	}
	out := t.TempDir()
	for _, r := range c.Runs {
		if _, probs, err := r.Write(out); err != nil {
			t.Fatalf("write %s: %v", r.Name, err)
		} else {
			for _, p := range probs {
				t.Errorf("load problem: %v", p)
			}
		}
	}
	return c, out
}

// checkSameAsRuns checks that out holds one directory per fixture run,
// byte-identical to what the runs wrote, with identical derived files.
func checkSameAsRuns(t *testing.T, set string, c *Collection, out string) {
	t.Helper()
	if len(c.Runs) != len(fixtureSizes) {
		t.Fatalf("collected %d runs, want %d", len(c.Runs), len(fixtureSizes))
	}
	bySize := map[string]*CollectedRun{}
	for _, r := range c.Runs {
		if len(r.Sizes()) != 1 {
			t.Fatalf("run %s has sizes %v", r.Name, r.Sizes())
		}
		bySize[r.Sizes()[0]] = r
	}
	for _, size := range fixtureSizes {
		r := bySize[size]
		if r == nil {
			t.Fatalf("no run of size %s", size)
		}
		if !r.Finished {
			t.Errorf("%s: run not finished", size)
		}
		derived := derive(t, set, size)
		for _, f := range []string{result.RunFile, result.SamplesFile, result.CellsFile, result.BenchFile, result.CSVFile} {
			got, err := os.ReadFile(filepath.Join(out, r.Name, f))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(derived, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s differs from what the run wrote:\n got: %.300s\nwant: %.300s", size, f, got, want)
			}
		}
	}
}

func fixtureLogs(t *testing.T) []Log { return setLogs(t, fixtures) }

func setLogs(t *testing.T, set string) []Log {
	var logs []Log
	for _, size := range fixtureSizes {
		logs = append(logs, Log{Name: size + ".log", R: bytes.NewReader(readSetLog(t, set, size))})
	}
	return logs
}

func TestCollectReproducesRuns(t *testing.T) {
	t.Parallel()
	stamp := func(i int) string {
		return time.Date(2026, 11, 27, 4, 0, 0, i*1000, time.UTC).Format(time.RFC3339Nano) + " "
	}
	variants := map[string]func(t *testing.T, set string) []Log{
		"one log per size": setLogs,
		"concatenated": func(t *testing.T, set string) []Log {
			var b bytes.Buffer
			for _, size := range fixtureSizes {
				b.Write(readSetLog(t, set, size))
			}
			return []Log{{"all.log", &b}}
		},
		"kubectl --timestamps, with other output": func(t *testing.T, set string) []Log {
			var b bytes.Buffer
			n := 0
			for _, size := range fixtureSizes {
				b.WriteString(stamp(n) + "[erthost] loading enclave ...\n")
				for _, l := range lines(readSetLog(t, set, size)) {
					n++
					b.WriteString(stamp(n) + l)
				}
				b.WriteString(stamp(n) + "cell    median    95% CI  n  note\n")
			}
			return []Log{{"stamped.log", &b}}
		},
		"kubectl -f --prefix, interleaved": func(t *testing.T, set string) []Log {
			var b bytes.Buffer
			all := make([][]string, len(fixtureSizes))
			for i, size := range fixtureSizes {
				all[i] = lines(readSetLog(t, set, size))
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for {
				var open []int
				for i := range all {
					if len(all[i]) > 0 {
						open = append(open, i)
					}
				}
				if len(open) == 0 {
					break
				}
				i := open[rng.IntN(len(open))]
				fmt.Fprintf(&b, "[pod/enclavebench-%s-x7k2p/bench] %s", strings.ToLower(strings.ReplaceAll(fixtureSizes[i], "_", "-")), all[i][0])
				all[i] = all[i][1:]
			}
			return []Log{{"interleaved.log", &b}}
		},
		"interleaved without prefixes": func(t *testing.T, set string) []Log {
			// Pods of different sizes run different cells, so their
			// records are told apart by the plans.
			var b bytes.Buffer
			all := make([][]string, len(fixtureSizes))
			for i, size := range fixtureSizes {
				all[i] = lines(readSetLog(t, set, size))
			}
			// Run records first (every pod starts with one), then round-robin.
			for i := range all {
				b.WriteString(all[i][0])
				all[i] = all[i][1:]
			}
			for more := true; more; {
				more = false
				for i := range all {
					if len(all[i]) > 0 {
						b.WriteString(all[i][0])
						all[i] = all[i][1:]
						more = true
					}
				}
			}
			return []Log{{"roundrobin.log", &b}}
		},
		"CRI log files with partial lines": func(t *testing.T, set string) []Log {
			var logs []Log
			rng := rand.New(rand.NewPCG(3, 4))
			for _, size := range fixtureSizes {
				var b bytes.Buffer
				n := 0
				for _, l := range lines(readSetLog(t, set, size)) {
					l = strings.TrimSuffix(l, "\n")
					for len(l) > 0 {
						cut := min(len(l), 1+rng.IntN(700))
						tag := "P"
						if cut == len(l) {
							tag = "F"
						}
						n++
						fmt.Fprintf(&b, "%sstdout %s %s\n", stamp(n), tag, l[:cut])
						if rng.IntN(5) == 0 {
							fmt.Fprintf(&b, "%sstderr F warning: something on stderr\n", stamp(n))
						}
						l = l[cut:]
					}
				}
				logs = append(logs, Log{size + "-0.log", &b})
			}
			return logs
		},
		"the same logs twice": func(t *testing.T, set string) []Log {
			return append(setLogs(t, set), setLogs(t, set)...)
		},
		"CRLF line ends": func(t *testing.T, set string) []Log {
			var logs []Log
			for _, size := range fixtureSizes {
				logs = append(logs, Log{size, strings.NewReader(strings.ReplaceAll(string(readSetLog(t, set, size)), "\n", "\r\n"))})
			}
			return logs
		},
	}
	for _, set := range fixtureSets {
		for name, logs := range variants {
			t.Run(filepath.Base(set)+"/"+name, func(t *testing.T) {
				t.Parallel()
				c, out := collectInto(t, logs(t, set), false)
				checkSameAsRuns(t, set, c, out)
			})
		}
	}
}

func TestCollectDuplicatesCounted(t *testing.T) {
	t.Parallel()
	c := Collect(append(fixtureLogs(t), fixtureLogs(t)...))
	if c.Duplicates != 4*(21+7) {
		t.Errorf("duplicates = %d, want %d", c.Duplicates, 4*(21+7))
	}
}

// problemsText joins the problems, one per line.
func problemsText(c *Collection) string {
	var b strings.Builder
	for _, p := range c.Problems {
		b.WriteString(p.Error() + "\n")
	}
	return b.String()
}

func wantProblem(t *testing.T, c *Collection, substrs ...string) {
	t.Helper()
	text := problemsText(c)
	for _, s := range substrs {
		if !strings.Contains(text, s) {
			t.Errorf("problems lack %q; got:\n%s", s, text)
		}
	}
}

func TestCollectBadInput(t *testing.T) {
	t.Parallel()
	dc2 := string(readFixtureLog(t, "DC2s_v2"))
	dc4 := string(readFixtureLog(t, "DC4s_v2"))
	dc2Lines := lines([]byte(dc2))

	t.Run("log cut mid-line", func(t *testing.T) {
		t.Parallel()
		cut := strings.Join(dc2Lines[:10], "") + dc2Lines[10][:100]
		c, out := collectInto(t, []Log{{"pod.log", strings.NewReader(cut)}}, true)
		wantProblem(t, c, "pod.log:11: stream record cut off: the log ends in the middle of it",
			"pod.log:1: run "+runID(t, dc2)+" has no final run record")
		if len(c.Runs) != 1 || c.Runs[0].Finished || c.Runs[0].Run.Status != "interrupted" {
			t.Fatalf("runs: %+v", c.Runs)
		}
		d, err := result.Load(filepath.Join(out, c.Runs[0].Name))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(d.Samples); got == 0 {
			t.Errorf("no samples kept")
		}
	})

	t.Run("next pod's log continues the cut line", func(t *testing.T) {
		t.Parallel()
		cut := strings.Join(dc2Lines[:10], "") + dc2Lines[10][:100] + dc4
		c, out := collectInto(t, []Log{{"both.log", strings.NewReader(cut)}}, true)
		wantProblem(t, c, "both.log:11: stream record cut off: another record starts in the middle of it")
		if len(c.Runs) != 2 {
			t.Fatalf("got %d runs, want 2", len(c.Runs))
		}
		for _, r := range c.Runs {
			if r.Sizes()[0] == "DC4s_v2" {
				if !r.Finished {
					t.Errorf("DC4s_v2 run not finished")
				}
				got, _ := os.ReadFile(filepath.Join(out, r.Name, result.SamplesFile))
				want, _ := os.ReadFile(filepath.Join(fixtures, "want", "DC4s_v2", result.SamplesFile))
				if !bytes.Equal(got, want) {
					t.Errorf("DC4s_v2 samples differ from the run's")
				}
			}
		}
	})

	t.Run("another stream version", func(t *testing.T) {
		t.Parallel()
		other := strings.ReplaceAll(dc2, result.StreamPrefix, "@enclavebench-result/2 ")
		c, _ := collectInto(t, []Log{{"new.log", strings.NewReader("hello\n" + other)}, {"ok.log", strings.NewReader(dc4)}}, true)
		wantProblem(t, c, "new.log:2: 30 stream line(s) of version 2 (@enclavebench-result/2 ), written by a newer harness")
		if len(c.Runs) != 1 || c.Runs[0].Sizes()[0] != "DC4s_v2" {
			t.Fatalf("want only the DC4s_v2 run, got %d runs", len(c.Runs))
		}
	})

	t.Run("another schema version", func(t *testing.T) {
		t.Parallel()
		other := strings.ReplaceAll(dc2, `"schema_version":1`, `"schema_version":99`)
		c, _ := collectInto(t, []Log{{"v99.log", strings.NewReader(other)}}, true)
		wantProblem(t, c, "v99.log:1: run "+runID(t, dc2)+" was written with result schema version 99", "v99.log:1: 28 record(s) of run")
		if len(c.Runs) != 0 {
			t.Fatalf("collected %d runs of another schema", len(c.Runs))
		}
	})

	t.Run("unknown field", func(t *testing.T) {
		t.Parallel()
		bad := append([]string(nil), dc2Lines...)
		bad[3] = strings.Replace(bad[3], `"rep":`, `"flavour":"x","rep":`, 1)
		c, out := collectInto(t, []Log{{"f.log", strings.NewReader(strings.Join(bad, ""))}}, true)
		wantProblem(t, c, `f.log:4: sample: json: unknown field "flavour"`)
		if len(c.Runs) != 1 {
			t.Fatal("run lost")
		}
		d, _ := result.Load(filepath.Join(out, c.Runs[0].Name))
		if len(d.Samples) != 20 {
			t.Errorf("kept %d samples, want 20", len(d.Samples))
		}
	})

	t.Run("log starting mid-run", func(t *testing.T) {
		t.Parallel()
		c, _ := collectInto(t, []Log{{"tail.log", strings.NewReader(strings.Join(dc2Lines[5:], ""))}}, true)
		wantProblem(t, c, "tail.log:1: sample of cell", "belongs to no run started earlier in this log")
	})

	t.Run("run ID escaping the directory", func(t *testing.T) {
		t.Parallel()
		id := runID(t, dc2)
		evil := strings.ReplaceAll(dc2, `"id":"`+id+`"`, `"id":"../../evil"`)
		c, out := collectInto(t, []Log{{"evil.log", strings.NewReader(evil)}}, true)
		wantProblem(t, c, `run ID "../../evil" is not a safe directory name: collected as run.._.._evil`)
		if _, err := os.Stat(filepath.Join(out, "run.._.._evil", result.RunFile)); err != nil {
			t.Error(err)
		}
	})

	t.Run("conflicting duplicate", func(t *testing.T) {
		t.Parallel()
		changed := strings.Replace(dc2Lines[3], `"rep":`, `"rep":`, 1)
		changed = strings.Replace(changed, `"iters":`, `"iters":1`, 1)
		log := strings.Join(dc2Lines[:4], "") + changed + strings.Join(dc2Lines[4:], "")
		c, _ := collectInto(t, []Log{{"dup.log", strings.NewReader(log)}}, true)
		wantProblem(t, c, "dup.log:5: sample of cell", "differs from the one at dup.log:4")
	})

	t.Run("forged second attempt", func(t *testing.T) {
		t.Parallel()
		// Another log repeats the run's record and its cells as attempt 2,
		// ns/op divided by 10: each cell then finished twice.
		forged := forgeAttempt2(t, dc2Lines)
		c := Collect([]Log{{"pod.log", strings.NewReader(dc2)}, {"forged.log", strings.NewReader(forged)}})
		if len(c.Runs) != 1 {
			t.Fatalf("got %d runs", len(c.Runs))
		}
		r := c.Runs[0]
		if len(r.Conflicts) != 7 {
			t.Errorf("%d conflicts, want one per cell (7): %v", len(r.Conflicts), r.Conflicts)
		}
		if len(r.Conflicts) > 0 {
			msg := r.Conflicts[0].Error()
			for _, want := range []string{"forged.log:", "finished again as attempt 2", "although it finished at pod.log:", "is not written"} {
				if !strings.Contains(msg, want) {
					t.Errorf("conflict %q lacks %q", msg, want)
				}
			}
		}
		out := t.TempDir()
		if _, _, err := r.Write(out); !errors.Is(err, ErrConflict) {
			t.Errorf("Write: %v, want ErrConflict", err)
		}
		if ents, _ := os.ReadDir(out); len(ents) != 0 {
			t.Errorf("wrote %d entries", len(ents))
		}
		// The run alone has none.
		if c := Collect([]Log{{"pod.log", strings.NewReader(dc2)}}); len(c.Runs[0].Conflicts) != 0 {
			t.Errorf("conflicts in the run's own log: %v", c.Runs[0].Conflicts)
		}
	})

	t.Run("directory already holds the run", func(t *testing.T) {
		t.Parallel()
		c := Collect([]Log{{"a.log", strings.NewReader(dc2)}})
		out := t.TempDir()
		if _, _, err := c.Runs[0].Write(out); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Runs[0].Write(out); !errors.Is(err, ErrSame) {
			t.Errorf("second write of the same run: %v, want ErrSame", err)
		}
		short := Collect([]Log{{"short.log", strings.NewReader(strings.Join(dc2Lines[:8], ""))}})
		if _, _, err := short.Runs[0].Write(out); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "not overwritten") {
			t.Errorf("write of other records of the run: %v, want ErrExists", err)
		}
	})
}

// forgeAttempt2 returns the log's run record followed by its samples and
// cell outcomes as attempt 2, every ns/op divided by 10.
func forgeAttempt2(t *testing.T, logLines []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(logLines[0])
	for _, l := range logLines[1:] {
		var rec result.StreamRecord
		if err := json.Unmarshal([]byte(strings.TrimPrefix(l, result.StreamPrefix)), &rec); err != nil {
			t.Fatal(err)
		}
		switch {
		case rec.Sample != nil:
			rec.Sample.Attempt = 2
			for i := range rec.Sample.Values {
				if rec.Sample.Values[i].Unit == "ns/op" {
					rec.Sample.Values[i].Value /= 10
				}
			}
		case rec.Cell != nil:
			rec.Cell.Attempt = 2
		default:
			continue
		}
		enc, err := json.Marshal(&rec)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(result.StreamPrefix + string(enc) + "\n")
	}
	return b.String()
}

func runID(t *testing.T, log string) string {
	t.Helper()
	recs, _ := podlog.ParseLog(strings.NewReader(log), "x")
	for _, r := range recs {
		if r.Kind == podlog.KindRun {
			return r.RunID
		}
	}
	t.Fatal("no run record")
	return ""
}
