package cells

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

const benchTxt = `goos: linux
cpu: Xeon
enclavebench-run: r1
cost-profile: published/v2
cost-profile-sha256: sha256:abc
mode-settings-toy: fast=true
%KINDS%
BenchmarkSyscall/call=read/size=DC1s_v2/mode=native 10 100 ns/op 2 syscalls/op
BenchmarkSyscall/call=read/size=DC1s_v2/mode=sim 10 300 ns/op
BenchmarkSyscall/call=read/size=DC1s_v2/mode=toy-8 10 200 ns/op
BenchmarkSyscall/call=read/size=DC1s_v2/mode=native 10 110 ns/op 2 syscalls/op
enclavebench-flaw: attempt 1 did not finish
BenchmarkSyscall/call=clock/size=DC1s_v2/mode=native 10 50 ns/op
`

// TestAddBenchfmt: a Go benchmark format file becomes cells by name and
// variant; which cells a cost profile priced comes from the file's
// recorded mode kinds, or, in files from before they were recorded, from
// the frozen fact that sim was the model.
func TestAddBenchfmt(t *testing.T) {
	for _, c := range []struct {
		name, kinds string
		priced      []string // modes whose cells are priced
	}{
		{"no kinds recorded (frozen: sim)", "", []string{"sim"}},
		{"kinds recorded", "mode-kind-native: measured\nmode-kind-sim: model\nmode-kind-toy: model", []string{"sim", "toy"}},
		{"a recorded kind wins over the name", "mode-kind-sim: measured\nmode-kind-toy: model", []string{"toy"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder()
			in := strings.Replace(benchTxt, "%KINDS%", c.kinds, 1)
			firstLine := strings.Count(in[:strings.Index(in, "Benchmark")], "\n") + 1
			if err := b.AddBenchfmt(strings.NewReader(in), "x.txt"); err != nil {
				t.Fatal(err)
			}
			tab := b.Table()
			if len(tab.Cells) != 4 || tab.Samples != 5 {
				t.Fatalf("%d cells, %d samples; want 4, 5", len(tab.Cells), tab.Samples)
			}
			if tab.Runs[0] != "r1" || tab.CPUs[0] != "Xeon" {
				t.Errorf("runs %v, cpus %v", tab.Runs, tab.CPUs)
			}
			for _, tc := range tab.Cells {
				want := false
				for _, m := range c.priced {
					want = want || tc.Mode == m
				}
				if tc.Priced != want || (tc.Profile == "published/v2") != want || (tc.ProfileDigest != "") != want {
					t.Errorf("%s: priced %v, profile %q %q; want priced %v", tc.Name, tc.Priced, tc.Profile, tc.ProfileDigest, want)
				}
			}
			nat := tab.Cells[0]
			if nat.Name != "Syscall/call=read/size=DC1s_v2/mode=native" || len(nat.Values["ns/op"]) != 2 ||
				nat.Values["syscalls/op"][1] != 2 || nat.Line != firstLine {
				t.Errorf("native cell %+v", nat)
			}
			if toy := tab.Cells[2]; toy.Mode != "toy" || toy.Settings != "fast=true" {
				t.Errorf("toy cell: mode %q (the -8 of GOMAXPROCS is not the mode's), settings %q", toy.Mode, toy.Settings)
			}
			if fl := tab.Cells[3].Flaws; len(fl) != 1 || fl[0] != (Flaw{"x.txt", "Syscall/call=clock/size=DC1s_v2/mode=native", "attempt 1 did not finish"}) {
				t.Errorf("flaws %v", fl)
			}
		})
	}
}

func TestAddBenchfmtErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"BenchmarkX 10 NaN ns/op\n", "line 1: X: value NaN ns/op is not a finite number"},
		{"BenchmarkX 10 +Inf ns/op\n", "line 1: X: value +Inf ns/op is not a finite number"},
		{"BenchmarkX 10 1 ns/op\nBenchmarkY ten 1 ns/op\n", "line 2: parsing iteration count"},
	} {
		err := NewBuilder().AddBenchfmt(strings.NewReader(c.in), "x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

// FuzzAddBenchfmt: any input either fails cleanly or becomes cells whose
// values are all finite and whose samples are counted.
func FuzzAddBenchfmt(f *testing.F) {
	f.Add([]byte(strings.Replace(benchTxt, "%KINDS%", "mode-kind-toy: model", 1)))
	f.Add([]byte("BenchmarkX/mode=sim-8 1 2 ns/op 3 B/op\nUnit B/op better=lower\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBuilder()
		if err := b.AddBenchfmt(bytes.NewReader(data), "fuzz"); err != nil {
			return
		}
		n := 0
		for _, c := range b.Table().Cells {
			if c.Name == "" || c.Name != c.Key.Name || c.Line < 1 {
				t.Fatalf("cell %+v", c.Key)
			}
			for _, u := range c.Units {
				for _, v := range c.Values[u] {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%s: %v %s", c.Name, v, u)
					}
				}
			}
			n += len(c.Names)
		}
		if b.Table().Samples > 0 && n == 0 {
			t.Fatal("samples without cells")
		}
	})
}
