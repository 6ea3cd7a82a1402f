package gotest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// TestReadDirectives: heap and serial declarations above benchmarks, and
// a serial line with anything after it refused.
func TestReadDirectives(t *testing.T) {
	dir := t.TempDir()
	write := func(src string) pkg {
		if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return pkg{ImportPath: "example.com/x", Dir: dir, TestGoFiles: []string{"x_test.go"}}
	}
	d, err := readDirectives(write("package x\n\nimport \"testing\"\n\n//enclavebench:heap 8MiB\n//enclavebench:serial\nfunc BenchmarkA(b *testing.B) {}\n\nfunc BenchmarkB(b *testing.B) {}\n"))
	if err != nil || d.heap["BenchmarkA"] != 8<<20 || !d.serial["BenchmarkA"] || d.serial["BenchmarkB"] {
		t.Fatalf("directives %+v, %v", d, err)
	}
	if _, err := readDirectives(write("package x\n\nimport \"testing\"\n\n//enclavebench:serial please\nfunc BenchmarkA(b *testing.B) {}\n")); err == nil || !strings.Contains(err.Error(), "takes nothing after it") {
		t.Fatalf("err %v, want the serial line refused", err)
	}
}
