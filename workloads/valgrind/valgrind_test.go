package valgrind

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// Outside Valgrind the client requests are no-ops that answer 0.
func TestNativeNoOps(t *testing.T) {
	if Running() {
		t.Skip("running under valgrind")
	}
	Mark("enclavebench-test-mark") // must not crash or print
}

// HasSHA agrees with the kernel's view of the CPU (sha_ni in /proc/cpuinfo).
func TestHasSHA(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("CPUID is read on amd64 only")
	}
	if Running() {
		t.Skip("under valgrind, whose CPU model may hide SHA: that difference is what bench/counts records")
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	var flags []string
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags = strings.Fields(v)
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	want := false
	for _, f := range flags {
		want = want || f == "sha_ni"
	}
	if got := HasSHA(); got != want {
		t.Errorf("HasSHA() = %v, /proc/cpuinfo sha_ni = %v", got, want)
	}
}
