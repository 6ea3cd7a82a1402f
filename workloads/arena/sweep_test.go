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
	Sweep(0)
	if got := sweepSink.Load(); got != 6 {
		t.Errorf("Sweep read %d, want 6 (one byte of each line: 1 + 2 + 3)", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := every[before:]; !slices.Equal(got, []*Arena{b}) {
		t.Fatalf("live arenas after closing the first %p, want %p", got, b)
	}
	Sweep(0)
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

// tailStarts: the sweep of the last bytes takes the arenas' ends, the
// last arena first, each start on a whole line from the arena's start;
// a bound of 0, or one beyond the arenas, sweeps everything.
func TestTailStarts(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sizes []int
		bytes int64
		want  []int
	}{
		{"0: everything", []int{4096, 8192}, 0, []int{0, 0}},
		{"beyond the arenas: everything", []int{4096, 8192}, 1 << 20, []int{0, 0}},
		{"exactly the arenas", []int{4096, 8192}, 4096 + 8192, []int{0, 0}},
		{"inside the last", []int{4096, 8192}, 1024, []int{4096, 8192 - 1024}},
		{"the whole last", []int{4096, 8192}, 8192, []int{4096, 0}},
		{"into the one before", []int{4096, 8192}, 8192 + 640, []int{4096 - 640, 0}},
		{"three pieces", []int{4096, 128, 256}, 1024, []int{4096 - 640, 0, 0}},
		{"a part line: rounded to cover it", []int{4096}, 100, []int{4096 - 128}},
		{"an arena of a part line", []int{4096, 100}, 164, []int{4096 - 64, 0}},
		{"one arena", []int{1 << 20}, 64 << 10, []int{1<<20 - 64<<10}},
		{"none", nil, 100, []int{}},
	} {
		got := tailStarts(tt.sizes, tt.bytes)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v of %v: starts %v, want %v", tt.name, tt.bytes, tt.sizes, got, tt.want)
		}
		covered := 0
		for k, from := range got {
			covered += tt.sizes[k] - from
		}
		if total := 0; tt.bytes > 0 {
			for _, n := range tt.sizes {
				total += n
			}
			if covered < min(total, int(tt.bytes)) {
				t.Errorf("%s: covers %d bytes, want at least %d", tt.name, covered, min(total, int(tt.bytes)))
			}
		}
	}
}

// Sweep(bytes) reads the lines of the arenas' last bytes only.
func TestSweepTail(t *testing.T) {
	a, err := New(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(1 << 12)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.Bytes()[0], a.Bytes()[1<<16-64], b.Bytes()[0], b.Bytes()[1<<12-64] = 1, 2, 4, 8
	for _, tt := range []struct {
		bytes int64
		want  uint64
	}{{0, 15}, {64, 8}, {1<<12 + 64, 14}, {1<<12 + 1<<16, 15}} {
		Sweep(tt.bytes)
		if got := sweepSink.Load(); got != tt.want {
			t.Errorf("Sweep(%d) read %d, want %d", tt.bytes, got, tt.want)
		}
	}
}
