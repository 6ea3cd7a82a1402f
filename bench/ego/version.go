package ego

import (
	"regexp"
	"strconv"
	"strings"
)

// MinVersion is the oldest EGo release the harness accepts. The workload
// module declares `go 1.26.0` (go.mod), so ego-go must be Go 1.26 or newer
// or it cannot build the workload at all; EGo v1.9.0 is the first release
// built on Go 1.26 (edgelesssys/ego commit c8fd070 "update go to 1.26.1",
// dockerfiles/Dockerfile of v1.9.0). It is also the version of EGo's
// enclave library in go.mod, whose syscalls the runtime must serve.
const MinVersion = "1.9.0"

// The banner `ego` prints on stderr at every invocation. Up to v1.6.0:
// fmt.Fprintf(os.Stderr, "EGo v%v (%v)\n", ...); since v1.6.1:
// slog.Info("EGo", "version", ..., "git_commit", ...), as text
// ("... INFO EGo version=1.9.0 git_commit=...") or, with
// EDG_LOG_FORMAT=json, as JSON (edgelesssys/ego ego/ego/main.go).
var bannerREs = []*regexp.Regexp{
	regexp.MustCompile(`\bEGo version=v?([0-9][0-9A-Za-z.+\-]*) git_commit=([0-9a-fA-F]+)`),
	regexp.MustCompile(`"msg":"EGo","version":"v?([0-9][0-9A-Za-z.+\-]*)","git_commit":"([0-9a-fA-F]+)"`),
	regexp.MustCompile(`\bEGo v([0-9][0-9A-Za-z.+\-]*) \(([0-9a-fA-F]+)\)`),
}

// ParseBanner finds EGo's version banner in a launcher's output.
func ParseBanner(out string) (version, commit string, ok bool) {
	for _, re := range bannerREs {
		if m := re.FindStringSubmatch(out); m != nil {
			return m[1], m[2], true
		}
	}
	return "", "", false
}

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
