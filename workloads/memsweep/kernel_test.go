package memsweep

import (
	"testing"

	"pgregory.net/rapid"
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
