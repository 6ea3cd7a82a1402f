package kvstore

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/enclavebench/enclavebench/workloads/protocol"

	"pgregory.net/rapid"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

// TestTableAgainstMap checks the table against a Go map under random puts
// and gets, including a table that fills up.
func TestTableAgainstMap(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		slots := rapid.IntRange(2, 64).Draw(t, "slots")
		tb, err := NewTable(int64(slots * SlotBytes))
		if err != nil {
			t.Fatal(err)
		}
		defer tb.Close()
		if tb.Cap() != slots {
			t.Fatalf("cap %d, want %d", tb.Cap(), slots)
		}
		want := map[uint64]Value{}
		keyGen := rapid.OneOf(rapid.Uint64Range(1, 100), rapid.Uint64Min(1))
		for i := 0; i < rapid.IntRange(0, 300).Draw(t, "ops"); i++ {
			key := keyGen.Draw(t, "key")
			if rapid.Bool().Draw(t, "put") {
				var v Value
				v[0], v[55] = byte(i), byte(key)
				err := tb.Put(key, &v)
				_, had := want[key]
				switch {
				case err == ErrFull:
					if had || len(want)+1 < slots {
						t.Fatalf("put %d: full with %d of %d slots used (had=%v)", key, len(want), slots, had)
					}
				case err != nil:
					t.Fatal(err)
				default:
					want[key] = v
				}
			} else {
				got := tb.Get(key)
				w, ok := want[key]
				if (got != nil) != ok || (ok && *got != w) {
					t.Fatalf("get %d: got %v, want %v (present %v)", key, got, w, ok)
				}
			}
			if tb.Len() != len(want) {
				t.Fatalf("len %d, want %d", tb.Len(), len(want))
			}
		}
	})
}

func TestKeyZeroRefused(t *testing.T) {
	t.Parallel()
	tb, err := NewTable(1 << 10)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if err := tb.Put(0, &Value{}); err == nil {
		t.Fatal("key 0 accepted")
	}
}

func TestZipfSkew(t *testing.T) {
	t.Parallel()
	const n = 1000
	z := NewZipf(n, YCSBTheta)
	counts := make([]int, n)
	x := uint64(88172645463325252)
	for i := 0; i < 200000; i++ {
		x = Xorshift(x)
		r := z.Rank(float64(x>>11) / (1 << 53))
		if r >= n {
			t.Fatalf("rank %d out of range", r)
		}
		counts[r]++
	}
	// P(rank 0) = 1/zeta(1000, 0.99), about 13%; rank 9 about 10x rarer.
	if p0 := float64(counts[0]) / 200000; p0 < 0.11 || p0 > 0.15 {
		t.Errorf("P(rank 0) = %.3f, want about 0.13", p0)
	}
	if r := float64(counts[0]) / float64(counts[9]); r < 7 || r > 13 {
		t.Errorf("rank 0 / rank 9 = %.1f, want about 10", r)
	}
}

func TestZetaApproximation(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 1000, zetaExact, zetaExact + 1, 300000} {
		exact := 0.0
		for i := n; i >= 1; i-- {
			exact += math.Pow(float64(i), -YCSBTheta)
		}
		if got := Zeta(n, YCSBTheta); math.Abs(got-exact)/exact > 1e-10 {
			t.Errorf("Zeta(%d) = %.15g, want %.15g", n, got, exact)
		}
	}
}

func TestStoreRuns(t *testing.T) {
	t.Parallel()
	for _, dist := range []string{"uniform", "zipf"} {
		for _, mix := range []string{"read95", "write50"} {
			t.Run(dist+"/"+mix, func(t *testing.T) {
				t.Parallel()
				env := workload.Env{Size: protocol.Size{EPCBytes: 1 << 20}, Parameters: map[string]string{"dataset": "0.5xEPC", "dist": dist, "mix": mix}}
				if err := Spec.Validate(env.Parameters, env); err != nil {
					t.Fatal(err)
				}
				b, err := Spec.New(env)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				var r workload.Report
				if err := b.Run(10000, &r); err != nil {
					t.Fatal(err)
				}
				s := b.(*Store)
				if s.T.Len() != s.Keys() || s.Keys() != int(float64(512<<10/SlotBytes)*LoadFactor) {
					t.Errorf("table has %d keys, want %d", s.T.Len(), s.Keys())
				}
				units := map[string]bool{}
				for _, v := range r.Values {
					units[v.Unit] = v.Value > 0
				}
				for _, u := range []string{"ops/s", "p50-ns", "p99-ns"} {
					if _, ok := units[u]; !ok && (u == "ops/s" || s.clockOK) {
						t.Errorf("no %s in %v", u, r.Values)
					}
				}
			})
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	env := workload.Env{Size: protocol.Size{EPCBytes: 28 << 20}, HostMem: 1 << 30}
	tests := []struct{ dataset, dist, mix, want string }{
		{"2xEPC", "zipf", "write50", ""},
		{"-1", "zipf", "read95", "kvstore.dataset=-1"},
		{"64xEPC", "uniform", "read95", "more than this host's memory"},
		{"1xEPC", "pareto", "read95", "kvstore.dist=pareto: unknown value (valid: uniform, zipf)"},
		{"1xEPC", "zipf", "read90", "valid: read95, write50"},
	}
	for _, tt := range tests {
		err := Spec.Validate(map[string]string{"dataset": tt.dataset, "dist": tt.dist, "mix": tt.mix}, env)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want an error with %q", tt, err, tt.want)
		}
	}
}

// benchDataset is the table size of the side-by-side benchmarks: larger
// than a typical last-level cache, like the workload's datasets.
const benchDataset = 64 << 20

// BenchmarkKV is the workload's loop (latency sampling included);
// BenchmarkGoMap runs the same key and operation stream against a Go map
// with the same keys. The workload must reach >= 50% of the map natively.
func BenchmarkKV(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(benchDataset, c.zipf, c.read)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ResetTimer()
			if err := s.Ops(b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkGoMap(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(benchDataset, c.zipf, c.read)
			if err != nil {
				b.Fatal(err)
			}
			s.Close() // only the key stream is used
			m := make(map[uint64]Value, s.Keys())
			var v Value
			for r := 0; r < s.Keys(); r++ {
				m[KeyOf(uint64(r))] = v
			}
			var out Value
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				key, get := s.Next()
				if get {
					out = m[key]
				} else {
					v[8]++
					m[key] = v
				}
			}
			sink = out
		})
	}
}

var sink Value

type benchCase struct {
	name string
	zipf bool
	read int
}

func benchCases() []benchCase {
	var cs []benchCase
	for _, zipf := range []bool{false, true} {
		for _, read := range []int{95, 50} {
			dist := map[bool]string{false: "uniform", true: "zipf"}[zipf]
			cs = append(cs, benchCase{fmt.Sprintf("dist=%s/read=%d", dist, read), zipf, read})
		}
	}
	return cs
}

// countWarm's touch gets every key in the fill's order (a missing key
// would fail it) and changes nothing: the operations after it see the
// store New made.
func TestCountWarmChangesNothing(t *testing.T) {
	for _, dist := range []string{"uniform", "zipf"} {
		env := workload.Env{Parameters: map[string]string{"dataset": "256KiB", "dist": dist, "mix": "read95"}}
		b, err := Spec.New(env)
		if err != nil {
			t.Fatal(err)
		}
		s := b.(*Store)
		before := slices.Clone(s.T.slots)
		order := s.T.homeOrder(s.keys)
		if len(order) != s.keys {
			t.Fatalf("%s: homeOrder lists %d keys, the store has %d", dist, len(order), s.keys)
		}
		Spec.CountWarm(b, env)()
		if !slices.Equal(before, s.T.slots) || s.T.Len() != s.keys {
			t.Errorf("%s: the touch changed the table", dist)
		}
		b.Close()
	}
}

// warmTail: 0 and a bound whose span (twice it) holds the table are the
// whole fill; otherwise the keys from the index on are those of the
// buckets from the span's start, every key homed in the span among them,
// and before it only keys homed before the span.
func TestWarmTail(t *testing.T) {
	s, err := New(4<<20, false, 95)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	order := s.T.homeOrder(s.keys)
	for _, tt := range []struct {
		warmBytes int64
		whole     bool
	}{{0, true}, {2 << 20, true}, {4 << 20, true}, {1 << 20, false}, {1<<20 - 64, false}, {64 << 10, false}, {64, false}} {
		i := warmTail(s.T, order, tt.warmBytes)
		if (i == 0) != tt.whole || i < 0 || i >= len(order) && !tt.whole {
			t.Errorf("WarmBytes %d: tail from key %d of %d, want the whole fill %v", tt.warmBytes, i, len(order), tt.whole)
			continue
		}
		if tt.whole {
			continue
		}
		from := s.T.Cap() - int(2*tt.warmBytes/SlotBytes)
		for j, r := range order {
			h := s.T.home(KeyOf(uint64(r)))
			if j < i && h >= from || j >= i && uint64(h)/s.T.homeScale() < uint64(from)/s.T.homeScale() {
				t.Errorf("WarmBytes %d: key %d (home %d) at %d, the tail from %d (span from slot %d)", tt.warmBytes, r, h, j, i, from)
				break
			}
		}
	}
}

// The keys of the fill's end that countWarm's touch gets with the counting
// pass's WarmBytes (bench/counts: twice its 16 MiB LLC of 16,384 sets and
// 16 ways) probe at least 16 distinct lines of every LLC set, so the
// simulated caches end as after the whole fill (workload.Env.WarmBytes).
// The lines are those Get reads: its probe from the key's home to its slot.
func TestWarmTailCoversLL(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 80 MiB")
	}
	const sets, ways, warmBytes = 16384, 16, 32 << 20
	s, err := New(80<<20, false, 95)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	order := s.T.homeOrder(s.keys)
	i := warmTail(s.T, order, warmBytes)
	if i == 0 {
		t.Fatalf("the tail is the whole fill of %d keys: the table is too small to test it", len(order))
	}
	base := uintptr(unsafe.Pointer(&s.T.slots[0]))
	var lines [sets]map[uintptr]bool
	for _, r := range order[i:] {
		key := KeyOf(uint64(r))
		for j := s.T.home(key); ; j = (j + 1) % s.T.Cap() {
			l := (base + uintptr(j)*SlotBytes) / 64
			if lines[l%sets] == nil {
				lines[l%sets] = map[uintptr]bool{}
			}
			lines[l%sets][l] = true
			if s.T.slots[j].key == key {
				break
			}
		}
	}
	least := len(order)
	for _, l := range lines {
		least = min(least, len(l))
	}
	t.Logf("%d keys, the tail's %d (from %d): at least %d lines in every LL set", len(order), len(order)-i, i, least)
	if least < ways {
		t.Errorf("the tail's gets probe %d lines in some LL set, want at least %d (its ways)", least, ways)
	}
}
