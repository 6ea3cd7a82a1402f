package arena

import (
	"slices"
	"testing"
)

// Sweep reads the live arenas: every arena made and not closed, in the
// order they were made (a closed one would fault).
func TestSweepLiveArenas(t *testing.T) {
	before := len(every)
	a, err := New(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(3<<12 + 8)
	if err != nil {
		t.Fatal(err)
	}
	if got := every[before:]; !slices.Equal(got, []*Arena{a, b}) {
		t.Fatalf("live arenas %p, want %p %p", got, a, b)
	}
	a.Bytes()[0], b.Bytes()[64], b.Bytes()[len(b.Bytes())-8] = 1, 2, 3
	Sweep()
	if got := sweepSink.Load(); got != 6 {
		t.Errorf("Sweep read %d, want 6 (one byte of each line: 1 + 2 + 3)", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := every[before:]; !slices.Equal(got, []*Arena{b}) {
		t.Fatalf("live arenas after closing the first %p, want %p", got, b)
	}
	Sweep()
	if got := sweepSink.Load(); got != 5 {
		t.Errorf("Sweep read %d after closing the first, want 5", got)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(every) != before {
		t.Errorf("%d live arenas after closing both, want %d", len(every), before)
	}
}
