package ego

import (
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/host"
)

// MinVersion is the oldest EGo release the harness accepts. The workload
// module declares `go 1.26.0` (go.mod), so ego-go must be Go 1.26 or newer
// or it cannot build the workload at all; EGo v1.9.0 is the first release
// built on Go 1.26 (edgelesssys/ego commit c8fd070 "update go to 1.26.1",
// dockerfiles/Dockerfile of v1.9.0). It is also the version of EGo's
// enclave library in go.mod, whose syscalls the runtime must serve.
const MinVersion = "1.9.0"

// ParseBanner finds EGo's version banner in a launcher's output (all the
// forms EGo has printed: see host.ParseEGoVersion).
func ParseBanner(out string) (version, commit string, ok bool) { return host.ParseEGoVersion(out) }

// CompareVersions compares dotted release numbers ("1.9.0" < "1.10.0");
// a pre-release suffix ("1.9.0-rc1") sorts before its release.
func CompareVersions(a, b string) int {
	an, apre := splitVersion(a)
	bn, bpre := splitVersion(b)
	for i := 0; i < max(len(an), len(bn)); i++ {
		var x, y int
		if i < len(an) {
			x = an[i]
		}
		if i < len(bn) {
			y = bn[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case apre == bpre:
		return 0
	case apre == "":
		return 1
	case bpre == "":
		return -1
	case apre < bpre:
		return -1
	}
	return 1
}

func splitVersion(v string) ([]int, string) {
	v = strings.TrimPrefix(v, "v")
	v, _, _ = strings.Cut(v, "+")
	v, pre, _ := strings.Cut(v, "-")
	var nums []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			break
		}
		nums = append(nums, n)
	}
	return nums, pre
}
