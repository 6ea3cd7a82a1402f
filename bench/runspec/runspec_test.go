package runspec

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"pgregory.net/rapid"
)

var testDefaults = Defaults{Sizes: []string{"dcsv2"}, Modes: []string{"native"}, Profile: "quick", Run: true}

func parse(args []string) (Spec, error) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	f := AddFlags(fs, testDefaults)
	if err := fs.Parse(args); err != nil {
		return Spec{}, err
	}
	s, err := f.Spec()
	if err != nil {
		return Spec{}, err
	}
	return s, s.Validate() // as bench/plan.Resolve does
}

var (
	genName  = rapid.StringMatching(`[a-z][a-z0-9_]{0,7}`)
	genValue = rapid.StringMatching(`[A-Za-z0-9.:_-]{1,8}`)
)

func genList(t *rapid.T, label string, min int) []string {
	return rapid.SliceOfNDistinct(genName, min, 4, strings.ToLower).Draw(t, label)
}

func genSpec(t *rapid.T) Spec {
	s := Spec{Workloads: genList(t, "workloads", 0), Sizes: genList(t, "sizes", 1), Modes: genList(t, "modes", 1),
		Profile: genName.Draw(t, "profile"),
		Reps:    rapid.IntRange(0, 50).Draw(t, "reps"), MinTimeNS: rapid.Int64Range(0, 1e12).Draw(t, "min"),
		TimeoutNS: rapid.Int64Range(0, 1e13).Draw(t, "timeout"), Seed: rapid.Int64Range(1, 1<<62).Draw(t, "seed"),
		Rounds: rapid.IntRange(0, 10).Draw(t, "rounds"), Counts: rapid.Bool().Draw(t, "counts")}
	// Refused: every cell would time out. A microsecond apart at least, so
	// that TestArgsRoundTrip's truncation to microseconds (Args prints
	// durations as Go does) keeps min-time below the timeout (min 1000 ns,
	// timeout 1001 ns printed both as 1µs and failed ./test.sh once).
	if s.TimeoutNS != 0 && s.MinTimeNS+int64(time.Microsecond) > s.TimeoutNS {
		s.TimeoutNS = s.MinTimeNS + int64(time.Millisecond)
	}
	if len(s.Workloads) == 0 {
		s.Workloads = nil
	}
	if s.Footprints = rapid.SliceOfNDistinct(genValue, 0, 3, strings.ToLower).Draw(t, "footprints"); len(s.Footprints) == 0 {
		s.Footprints = nil
	}
	if rapid.Bool().Draw(t, "warmup set") {
		w := rapid.IntRange(0, 5).Draw(t, "warmup")
		s.Warmup = &w
	}
	for i, n := 0, rapid.IntRange(0, 3).Draw(t, "overrides"); i < n; i++ {
		if s.Overrides == nil {
			s.Overrides = map[string][]string{}
		}
		k := genName.Draw(t, "w") + "." + genName.Draw(t, "p")
		s.Overrides[k] = rapid.SliceOfNDistinct(genValue, 1, 4, func(v string) string { return v }).Draw(t, "values")
	}
	return s
}

// Args and Flags are inverses (durations as Go prints them).
func TestArgsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		s.MinTimeNS -= s.MinTimeNS % int64(time.Microsecond)
		s.TimeoutNS -= s.TimeoutNS % int64(time.Microsecond)
		got, err := parse(s.Args())
		if err != nil {
			t.Fatalf("%v: %v", s.Args(), err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("args %v\nparsed %+v\nwant   %+v", s.Args(), got, s)
		}
	})
}

// The JSON codec round-trips, and the digest survives it.
func TestJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		b, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, s) || got.Digest() != s.Digest() {
			t.Fatalf("%s: got %+v", b, got)
		}
	})
}

func TestDigestChanges(t *testing.T) {
	t.Parallel()
	one := 1
	s := Spec{Sizes: []string{"DC1s_v2"}, Modes: []string{"native"}, Profile: "quick", Reps: 6, Warmup: &one, Seed: 7}
	d := s.Digest()
	if !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
		t.Fatalf("digest %q", d)
	}
	edited := s
	edited.Reps = 60
	if edited.Digest() == d {
		t.Error("an edited spec kept its digest")
	}
}

func TestUnmarshalStrict(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`{"reps":1,"extra":2}`, `{"reps":1} {}`, `[]`, `{"reps":"six"}`} {
		if _, err := Unmarshal([]byte(bad)); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

// Every flag refuses what it cannot mean, naming the valid range.
func TestFlagsRefuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--reps", "0"}, "1 or more"},
		{[]string{"--reps", "-3"}, "1 or more"},
		{[]string{"--reps", "six"}, "integer"},
		{[]string{"--reps", "2000000"}, "want at most 1048576 repetitions"}, // readers refuse rep > 2^20
		{[]string{"--min-time", "100h", "--timeout", "1h"}, "--min-time 100h0m0s is not below the per-cell --timeout 1h0m0s"},
		{[]string{"--min-time", "1s", "--timeout", "1s"}, "not below"},
		{[]string{"--warmup", "-5"}, "0 or more"},
		{[]string{"--min-time", "0"}, "positive duration"},
		{[]string{"--min-time", "-1s"}, "positive duration"},
		{[]string{"--timeout", "0"}, "positive duration"},
		{[]string{"--timeout", "NaN"}, "positive duration"},
		{[]string{"--rounds", "-1"}, "1 or more"},
		{[]string{"--rounds", "0"}, "1 or more"},
		{[]string{"--seed", "0"}, "non-zero"},
		{[]string{"--workloads", ""}, "empty: give at least one"},
		{[]string{"--workloads", "syscall", "--workloads", " "}, "empty: give at least one"},
		{[]string{"--sizes", ""}, "empty: give at least one"},
		{[]string{"--modes", ""}, "empty: give at least one"},
		{[]string{"--workloads", "syscall,"}, "an empty name"},
		{[]string{"--workloads", "syscall,syscall"}, "syscall is listed twice"},
		{[]string{"--modes", "native", "--modes", "native"}, "native is listed twice"},
		{[]string{"--profile", ""}, "--profile: empty"},
		{[]string{"--footprint", ""}, "empty: give at least one"},
		{[]string{"--footprint", "64MiB,64MiB"}, "64MiB is listed twice"},
		{[]string{"--param", "syscall.call=clock,clock"}, "clock is listed twice"},
		{[]string{"--param", "syscall.call=clock", "--param", "syscall.call=clock"}, "clock is listed twice"},
		{[]string{"--param", "syscall.call=clock,"}, "an empty value"},
		{[]string{"--param", "syscall.call"}, "want workload.parameter=v1,v2"},
		{[]string{"--param", "syscall=clock"}, "want workload.parameter=v1,v2"},
		{[]string{"--param", "syscall.call=a\nb"}, "control characters"},
	}
	for _, tt := range tests {
		_, err := parse(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.args, err, tt.want)
		}
	}
}

func TestFlagsDefaults(t *testing.T) {
	t.Parallel()
	s, err := parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{Sizes: []string{"dcsv2"}, Modes: []string{"native"}, Profile: "quick"}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("defaults %+v", s)
	}
	// A user's list replaces the default, it does not add to it.
	s, err = parse([]string{"--sizes", "DC1s_v2"})
	if err != nil || !reflect.DeepEqual(s.Sizes, []string{"DC1s_v2"}) {
		t.Errorf("--sizes DC1s_v2: %v %v", s.Sizes, err)
	}
}

func FuzzParseOverrides(f *testing.F) {
	for _, s := range []string{"kvstore.dataset=1xEPC, 2xEPC", "a.b=1,1", "a.b=", "=1", "a.b=x\ny", "a.b=1,,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseOverrides([]string{in})
		if err != nil {
			return
		}
		s := Spec{Sizes: []string{"x"}, Modes: []string{"y"}, Profile: "quick", Overrides: m}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseOverrides(%q) = %v, which Validate refuses: %v", in, m, err)
		}
		back, err := ParseOverrides(s.Args()[7:])
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("%q: %v re-parsed as %v (%v)", in, m, back, err)
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"workloads":["syscall"],"sizes":["DC1s_v2"],"modes":["native"],"profile":"quick","reps":6,"warmup":1,"min_time_ns":20000000,"timeout_ns":120000000000,"seed":5}`))
	f.Add([]byte(`{"warmup":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Unmarshal(b)
		if err != nil {
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Unmarshal(out)
		if err != nil || again.Digest() != s.Digest() {
			t.Fatalf("%s -> %s: %v", b, out, err)
		}
	})
}
