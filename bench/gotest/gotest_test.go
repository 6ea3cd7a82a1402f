package gotest

import (
	"slices"
	"testing"
)

func TestParams(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keys, vals []string
	}{
		{"BenchmarkGet", nil, nil},
		{"BenchmarkGet/n=1KiB", []string{"n"}, []string{"1KiB"}},
		{"BenchmarkGet/size=1KiB/mode=rw", []string{"go.size", "go.mode"}, []string{"1KiB", "rw"}},
		{"BenchmarkSort/100/random", []string{"sub", "sub2"}, []string{"100", "random"}},
	} {
		k, v := params("BenchmarkGet", tc.name)
		if tc.name == "BenchmarkSort/100/random" {
			k, v = params("BenchmarkSort", tc.name)
		}
		if !slices.Equal(k, tc.keys) || !slices.Equal(v, tc.vals) {
			t.Errorf("params(%s) = %q %q, want %q %q", tc.name, k, v, tc.keys, tc.vals)
		}
	}
}

func TestSplitRegexp(t *testing.T) {
	for in, want := range map[string][]string{
		".":             {"."},
		"Get/size=1KiB": {"Get", "size=1KiB"},
		"A[/]B/(x/y)":   {"A[/]B", "(x/y)"},
		`A\/B/c`:        {`A\/B`, "c"},
	} {
		if got := splitRegexp(in); !slices.Equal(got, want) {
			t.Errorf("splitRegexp(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAbs(t *testing.T) {
	got, err := Abs([]string{"./kv", "./...", "../x/...", "example.com/m/kv"}, "/src/m")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/src/m/kv", "/src/m/...", "/src/x/...", "example.com/m/kv"}; !slices.Equal(got, want) {
		t.Errorf("Abs = %q, want %q", got, want)
	}
}
