package memsweep

import (
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

// TestKernelsAgree: the vector kernels compute what the portable ones do,
// for any whole number of lines.
func TestKernelsAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lines := rapid.IntRange(1, 40).Draw(t, "lines")
		seg := make([]uint64, lines*wordsPerLine)
		for i := range seg {
			seg[i] = rapid.Uint64().Draw(t, "w")
		}
		if got, want := sumLines(seg), sumLinesGeneric(seg); got != want {
			t.Fatalf("sumLines = %d, generic = %d", got, want)
		}
		v := rapid.Uint64().Draw(t, "v")
		fillLines(seg, v)
		for i, w := range seg {
			if w != v {
				t.Fatalf("word %d = %d after fill with %d", i, w, v)
			}
		}
	})
}

// TestChainIsOneCycle: the random chase visits every line once per lap.
func TestChainIsOneCycle(t *testing.T) {
	for _, lines := range []int{2, 3, 17, 1000} {
		b := &bench{words: make([]uint64, lines*wordsPerLine), lines: lines, rng: 0x9e3779b97f4a7c15}
		b.chain()
		seen := make([]bool, lines)
		p := b.pos
		for i := 0; i < lines; i++ {
			if seen[p] {
				t.Fatalf("%d lines: line %d visited twice after %d steps", lines, p, i)
			}
			seen[p] = true
			p = int(b.words[p*wordsPerLine])
		}
		if p != b.pos {
			t.Fatalf("%d lines: the chase does not return to its start", lines)
		}
	}
}

// countWarm's touch of a random-read working set repeats link with the
// permutation made again: it must find the one New made (the same seed),
// so that it writes what the lines hold and leaves the start where it was;
// otherwise it would change the chase it is to warm the caches for. With
// Env.WarmBytes it relinks only the lines of the working set's last
// WarmBytes (its first line, changed here, stays as it is then).
func TestCountWarmRepeatsLink(t *testing.T) {
	for _, tt := range []struct {
		access    string
		warmBytes int64
		relinked  bool // touch rewrites the first line
	}{{"random", 0, true}, {"random", 2 << 20, true}, {"random", 1 << 20, true}, {"random", 1<<20 - 64, false}, {"random", 64 << 10, false}, {"seq", 0, false}, {"seq", 64 << 10, false}} {
		env := workload.Env{Parameters: map[string]string{"ws": "1MiB", "access": tt.access, "op": "read"}, WarmBytes: tt.warmBytes}
		wb, err := Spec.New(env)
		if err != nil {
			t.Fatal(err)
		}
		b := wb.(*bench)
		pos := b.pos
		b.words[0]++                              // moved by touch's rewrite if it redoes the link, kept by a sweep
		b.words[(b.lines-1)*wordsPerLine] += 1000 // the last line: rewritten by a relink of any tail
		want := slices.Clone(b.words)
		if tt.relinked {
			want[0]--
		}
		if tt.access == "random" {
			want[(b.lines-1)*wordsPerLine] -= 1000
		}
		Spec.CountWarm(wb, env)()
		if !slices.Equal(b.words, want) || b.pos != pos {
			t.Errorf("%s, WarmBytes %d: touch changed the working set or the start (start %d -> %d)", tt.access, tt.warmBytes, pos, b.pos)
		}
		b.Close()
	}
}
