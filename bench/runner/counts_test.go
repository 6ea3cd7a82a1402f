package runner

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/counts"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
)

// With a Counter, every sample carries the cell's counts per operation
// (sample rep r the pass's value r mod counts.Segments), two modes of one
// cell share one counting pass (the same figures on the same reps), and
// the cells record the operation count and the number of values.
func TestRunCounts(t *testing.T) {
	c := counts.Find()
	if c.Unavailable != "" {
		t.Skip(c.Unavailable + " (./test.sh installs it)")
	}
	if testing.Short() {
		t.Skip("runs the workload under valgrind")
	}
	mode.Register(toyDescriptor)
	t.Cleanup(func() { mode.Unregister("toy") })
	bin := buildWorkload(t)
	cells := syscallCells(t, "DC1s_v2")
	toy := cells[0]
	toy.Mode = "toy"
	cells = append(cells[:1], toy)
	modes := map[string]mode.Mode{}
	for _, n := range []string{mode.Native, "toy"} {
		d, _ := mode.Lookup(n)
		var err error
		if modes[n], err = d.New(mode.Config{WorkloadBin: bin}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	var notices []string
	cfg := &Config{Cells: cells, Modes: modes, WorkloadBin: bin, Store: st, Counter: c,
		Notice: func(s string) { notices = append(notices, s) },
		Spec:   runspec.Spec{Reps: 3, Warmup: new(0), MinTimeNS: int64(2 * time.Millisecond), TimeoutNS: int64(time.Minute)}, Attempts: map[string]int{}}
	sum, err := Run(context.Background(), cfg)
	st.Close()
	if err != nil || sum.Done != 2 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	samples, cellResults, bad := result.ReadAll(dir)
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	perOp := map[int]float64{} // instructions/op by rep
	for _, s := range samples {
		for e := range c.Info().Events {
			v, ok := s.Events[e]
			if !ok {
				t.Fatalf("%s rep %d: no %s event: %v", s.Cell, s.Rep, e, s.Events)
			}
			if e != result.EventInstructions {
				continue
			}
			x := float64(v) / float64(s.Iters)
			if x <= 0 {
				t.Errorf("%s rep %d: %v instructions/op", s.Cell, s.Rep, x)
			}
			if p, ok := perOp[s.Rep]; ok && (x < p*0.999 || x > p*1.001) {
				t.Errorf("%s rep %d: %.2f instructions/op, the other mode's rep %d %.2f: one counting pass gives both", s.Cell, s.Rep, x, s.Rep, p)
			}
			perOp[s.Rep] = x
		}
	}
	if len(perOp) != 3 {
		t.Errorf("instructions/op of reps %v, want reps 0-2", perOp)
	}
	for _, cr := range cellResults {
		if cr.Extra[result.ExtraCountsIters] == "" || cr.Extra[result.ExtraCountsError] != "" || cr.Extra[result.ExtraCountsValues] != strconv.Itoa(counts.Segments) {
			t.Errorf("%s: extra %v, want counts_iters, counts_values %d and no counts_error", cr.Cell, cr.Extra, counts.Segments)
		}
	}
	if len(notices) != 1 {
		t.Errorf("notices %q, want one (the counting pass's duration)", notices)
	}
}
