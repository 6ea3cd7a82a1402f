package compare

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/cells"
	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// poolText pools Go benchmark format texts into one set, as a directory of
// rounds is pooled: one table of all of them.
func poolText(t *testing.T, label string, texts ...string) (*Set, error) {
	t.Helper()
	b := cells.NewBuilder()
	for i, text := range texts {
		if err := b.AddBenchfmt(strings.NewReader(text), fmt.Sprintf("in%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return fromTable(b.Table(), label)
}

func keyPart(key, name string) string { return newMatcher(name).component(key, name) }

// paramsOf returns the parameters named in a cell key.
func paramsOf(key string) map[string]string {
	var p map[string]string
	for _, part := range strings.Split(key, "/")[1:] {
		if k, v, ok := strings.Cut(part, "="); ok && k != "size" && k != "mode" {
			if p == nil {
				p = map[string]string{}
			}
			p[k] = v
		}
	}
	return p
}

// TestPoolRefusesOneRunTwice: a directory of rounds holding two copies of
// one run would double n and narrow the interval; it is refused.
func TestPoolRefusesOneRunTwice(t *testing.T) {
	tmp := t.TempDir()
	r1 := filepath.Join(tmp, "rounds", "r1")
	writeResultDir(t, r1, result.SchemaVersion, map[string][]float64{"A/size=S/mode=native": {1, 2, 3, 4, 5, 6}}, nil)
	cp := filepath.Join(tmp, "rounds", "r1-copy")
	os.MkdirAll(cp, 0o755)
	for _, f := range []string{result.RunFile, result.SamplesFile, result.CellsFile} {
		b, _ := os.ReadFile(filepath.Join(r1, f))
		os.WriteFile(filepath.Join(cp, f), b, 0o644)
	}
	_, err := Load(filepath.Join(tmp, "rounds"))
	if err == nil || !strings.Contains(err.Error(), "run r1 is in both") {
		t.Fatalf("Load of two copies of one run = %v, want a refusal naming the run", err)
	}
}

// TestSimModels: a sim cell read from a result directory carries its own
// account, the predicted slowdown over its measured base pair by pair, in
// every format; it is never presented as faster.
func TestSimModels(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	run := &result.Run{SchemaVersion: result.SchemaVersion, Facts: &result.Facts{}, ID: "sim-run", Status: "complete", Start: time.Unix(0, 0).UTC(),
		Plan:    result.Plan{Spec: runspec.Spec{Workloads: []string{"a"}, Sizes: []string{"S"}, Modes: []string{"sim"}, Profile: "quick", Reps: 6}},
		Profile: &result.CostProfileRef{Name: "published", Version: 1, Source: "built-in"},
		Host:    host.Fingerprint{OS: "linux", Arch: "amd64"}}
	if err := st.WriteRun(run); err != nil {
		t.Fatal(err)
	}
	key := "A/p=1/size=S/mode=sim"
	for i := 0; i < 6; i++ {
		base := int64(10000 + 10*i) // 10 ops at ~1000 ns, + 100 ns of OCALLs each
		s := &result.Sample{Cell: key, Attempt: 1, Workload: "a", Params: map[string]string{"p": "1"}, Size: "S", Mode: "sim",
			Rep: i, Iters: 10, ElapsedNS: base, Time: time.Unix(0, 0).UTC(),
			Values: []protocol.Value{{Value: float64(base+1000) / 10, Unit: "ns/op", Better: protocol.Lower}},
			Events: map[string]int64{"model_ocall_ns": 1000},
			Model:  &result.Model{Profile: "published/v1", Native: []protocol.Value{{Value: float64(base) / 10, Unit: "ns/op", Better: protocol.Lower}}, BaseNS: base, PredictedNS: base + 1000}}
		if err := st.AppendSample(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AppendCell(&result.CellResult{Cell: key, Attempt: 1, Workload: "a", Params: map[string]string{"p": "1"}, Size: "S", Mode: "sim",
		Status: result.StatusOK, Samples: 6}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := Compare(set, set, gate())
	if len(rep.Models) != 2 || rep.Models[0].Pairs != 6 || float64(rep.Models[0].Slowdown) < 1.09 || float64(rep.Models[0].Slowdown) > 1.11 ||
		len(rep.Models[0].Parts) != 1 || rep.Models[0].Parts[0].Label != "OCALLs" {
		t.Fatalf("models %+v", rep.Models)
	}
	for _, f := range Formats {
		var b strings.Builder
		if err := Write(&b, rep, f); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "1.1× slower") || strings.Contains(b.String(), "faster") {
			t.Errorf("%s: no paired account of the sim cell, or a 'faster':\n%s", f, b.String())
		}
	}
}

// TestRoundsPoolOneTable: a directory of rounds is read as one cell table
// of all of them, so a sim cell keeps its paired account, with the pairs
// of every round, as a single directory's does.
func TestRoundsPoolOneTable(t *testing.T) {
	rounds := filepath.Join(t.TempDir(), "rounds")
	src := filepath.Join("..", "..", "report", "testdata", "fixtures", "dc-a")
	for _, name := range []string{"dc-a", "dc-a2"} { // two rounds: a second run ID
		os.MkdirAll(filepath.Join(rounds, name), 0o755)
		for _, f := range []string{result.RunFile, result.SamplesFile, result.CellsFile} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			if f == result.RunFile && name == "dc-a2" {
				b = bytes.Replace(b, []byte(`Z-dc-a"`), []byte(`Z-dc-a2"`), 1)
			}
			os.WriteFile(filepath.Join(rounds, name, f), b, 0o644)
		}
	}
	pooled, err := Load(rounds)
	if err != nil {
		t.Fatal(err)
	}
	one, err := Load(filepath.Join(rounds, "dc-a"))
	if err != nil {
		t.Fatal(err)
	}
	key := "Syscall/call=read/size=DC1s_v2/mode=sim"
	p, o := pooled.Cell(key), one.Cell(key)
	if p == nil || o == nil || o.Paired().N == 0 || p.Paired().N != 2*o.Paired().N || len(p.Runs) != 2 {
		t.Fatalf("pooled sim cell %+v, one round's %+v: want the paired account over both rounds", p, o)
	}
}
