package compare

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/perf/benchunit"
)

// findBenchstat locates the benchstat binary, or skips the test.
func findBenchstat(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("benchstat"); err == nil {
		return p
	}
	home, _ := os.UserHomeDir()
	for _, p := range []string{os.Getenv("GOBIN"), filepath.Join(home, "go", "bin")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(p, "benchstat")); err == nil {
			return filepath.Join(p, "benchstat")
		}
	}
	t.Skip("benchstat not found: go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da")
	return ""
}

// bsRow is one row of benchstat's CSV comparison table.
type bsRow struct {
	oldCenter, newCenter float64
	oldCI, newCI         string
	delta, pn            string
}

// benchstatCSV runs benchstat -format csv on two files and returns its
// rows by tidied unit and benchmark name ("geomean" for the summary row).
func benchstatCSV(t *testing.T, bin, old, new string) map[string]map[string]bsRow {
	t.Helper()
	cmd := exec.Command(bin, "-format", "csv", "-ignore", "enclavebench-run,enclavebench-commit", old, new)
	cmd.Stderr = io.Discard // cell warnings go to stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("benchstat: %v", err)
	}
	r := csv.NewReader(strings.NewReader(string(out)))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("benchstat CSV: %v\n%s", err, out)
	}
	tables := map[string]map[string]bsRow{}
	var cur map[string]bsRow
	for _, rec := range recs {
		if len(rec) == 7 && rec[0] == "" && rec[2] == "CI" && rec[5] == "vs base" {
			cur = map[string]bsRow{}
			tables[rec[1]] = cur
			continue
		}
		if cur == nil || len(rec) < 6 || rec[0] == "" {
			continue
		}
		num := func(s string) float64 {
			if s == "" {
				return math.NaN()
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("benchstat CSV: %q: %v", s, err)
			}
			return f
		}
		row := bsRow{oldCenter: num(rec[1]), oldCI: rec[2], newCenter: num(rec[3]), newCI: rec[4], delta: rec[5]}
		if len(rec) > 6 {
			row.pn = rec[6]
		}
		cur[rec[0]] = row
	}
	return tables
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// agree compares our report with benchstat's CSV of the same files, row by
// row: medians, CI, delta ("~" where not significant), p and n, geomeans.
func agree(t *testing.T, bin, oldPath, newPath string) (rows int) {
	t.Helper()
	old, err := Load(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	new, err := Load(newPath)
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.AllowUnmatched = true
	rep, err := Compare(old, new, o)
	if err != nil {
		t.Fatal(err)
	}
	bs := benchstatCSV(t, bin, oldPath, newPath)
	for _, tab := range rep.Tables {
		scale, tu := benchunit.Tidy(1, tab.Unit)
		theirs, ok := bs[tu]
		if !ok {
			t.Errorf("benchstat has no %s table (for %s); it has %v", tu, tab.Unit, keys(bs))
			continue
		}
		for _, r := range tab.Rows {
			b, ok := theirs[r.Cell]
			if !ok {
				t.Errorf("%s %s: not in benchstat's table", r.Cell, tab.Unit)
				continue
			}
			rows++
			ctx := fmt.Sprintf("%s [%s]", r.Cell, tab.Unit)
			if !near(float64(r.Old.Median)*scale, b.oldCenter) || !near(float64(r.New.Median)*scale, b.newCenter) {
				t.Errorf("%s: medians %v %v, benchstat %v %v (in %s)", ctx, r.Old.Median, r.New.Median, b.oldCenter, b.newCenter, tu)
			}
			if r.Old.Range != b.oldCI || r.New.Range != b.newCI {
				t.Errorf("%s: CI %s %s, benchstat %s %s", ctx, r.Old.Range, r.New.Range, b.oldCI, b.newCI)
			}
			if r.Delta != b.delta {
				t.Errorf("%s: delta %q, benchstat %q", ctx, r.Delta, b.delta)
			}
			if r.PString != b.pn {
				t.Errorf("%s: %q, benchstat %q", ctx, r.PString, b.pn)
			}
			if sig := b.delta != "~"; sig != r.Significant {
				t.Errorf("%s: significant=%v, benchstat %q", ctx, r.Significant, b.delta)
			}
		}
		if g := tab.Geomean; g != nil {
			b, ok := theirs["geomean"]
			if !ok {
				t.Errorf("%s: benchstat has no geomean row", tab.Unit)
				continue
			}
			if g.Old.Finite() && !near(float64(g.Old)*scale, b.oldCenter) || g.New.Finite() && !near(float64(g.New)*scale, b.newCenter) {
				t.Errorf("%s geomean: %v %v, benchstat %v %v", tab.Unit, g.Old, g.New, b.oldCenter, b.newCenter)
			}
			if g.DeltaPct.Finite() && pct(g.DeltaPct) != b.delta {
				t.Errorf("%s geomean delta: %s, benchstat %s", tab.Unit, pct(g.DeltaPct), b.delta)
			}
		}
	}
	return rows
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestBenchstatAgreement: on the same two files, every row of our table
// agrees with benchstat's CSV (median, CI, delta or "~", p and n).
//
// ENCLAVEBENCH_AGREE_OLD and ENCLAVEBENCH_AGREE_NEW, when set, are lists
// (separated like $PATH) of bench.txt files to compare pairwise instead
// (scripts/check-compare.sh passes real runs); otherwise synthetic files cover slow and equal cells, tiny and
// unequal sample sizes, zero values and a unit of unknown direction.
func TestBenchstatAgreement(t *testing.T) {
	bin := findBenchstat(t)
	if o, n := os.Getenv("ENCLAVEBENCH_AGREE_OLD"), os.Getenv("ENCLAVEBENCH_AGREE_NEW"); o != "" || n != "" {
		olds, news := filepath.SplitList(o), filepath.SplitList(n)
		if len(olds) != len(news) {
			t.Fatalf("ENCLAVEBENCH_AGREE_OLD has %d files, ENCLAVEBENCH_AGREE_NEW %d", len(olds), len(news))
		}
		rows := 0
		for i := range olds {
			rows += agree(t, bin, olds[i], news[i])
		}
		t.Logf("%d rows of %d comparisons agree with benchstat", rows, len(olds))
		if rows == 0 {
			t.Fatal("no rows compared")
		}
		return
	}
	tmp := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 5; i++ {
		n := []int{6, 10, 3, 8, 20}[i]
		oldText := synthBench(rng, n, "", 1) + extras(rng, n, 1)
		newText := synthBench(rng, n+i%2, "Memsweep/ws=2xEPC", 1.3) + extras(rng, n+i%2, 2)
		op, np := filepath.Join(tmp, fmt.Sprintf("old%d.txt", i)), filepath.Join(tmp, fmt.Sprintf("new%d.txt", i))
		os.WriteFile(op, []byte(oldText), 0o644)
		os.WriteFile(np, []byte(newText), 0o644)
		if rows := agree(t, bin, op, np); rows < 10 {
			t.Errorf("only %d rows compared", rows)
		}
	}
}

// extras are cells benchstat handles specially: all values equal, zeros,
// a unit of unknown direction.
func extras(rng *rand.Rand, n int, f float64) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "BenchmarkEqual/size=S/mode=native 1 42 ns/op 0 minflt/op %d widgets/op\n", int(f*10)+rng.IntN(3))
	}
	return b.String()
}
