package ego

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/host"
)

// A Requirement is something the harness asks of EGo's launcher or
// runtime, with the oldest EGo release that provides it.
type Requirement struct {
	What   string // what the harness uses
	Since  string // oldest EGo release that has it
	Source string // where that was read
}

// Requirements lists what the harness uses of EGo beyond `ego sign` and
// `ego run` themselves; MinVersion is the newest Since among them. The Go
// version of ego-go is checked on its own (against go.mod), because it is
// what decides whether the workload builds at all: the runtime can be
// older than the toolchain (EGo v1.6.0 with a Go 1.26 ego-go built from
// source, docs/ego.md).
var Requirements = []Requirement{
	{"enclave.json executableHeap (written in every configuration)", "0.4.0",
		"edgelesssys/ego ego/config/config.go: absent at v0.3.3, present at v0.4.0"},
	{"EGOMAXTHREADS (enclave.json env; the Go fork's thread limit)", "1.0.0",
		"edgelesssys/ego src/enc.cpp _set_concurrency_limits: absent at v0.5.0, present at v1.0.0"},
	{"ERT_DISABLE_VDSO_CLOCK (ego.Options.PreciseClock)", "1.1.0",
		"edgelesssys/edgelessrt src/ert/host/vdso.cpp since v0.3.6 (commit 5c785abd6); EGo v1.1.0 is the first built on it (dockerfiles/Dockerfile.build erttag=v0.3.6; v1.0.1 has v0.3.5)"},
}

// MinVersion is the oldest EGo release the harness accepts: the newest
// Since of Requirements.
var MinVersion = minVersion(Requirements)

func minVersion(rs []Requirement) string {
	v := "0"
	for _, r := range rs {
		if CompareVersions(r.Since, v) > 0 {
			v = r.Since
		}
	}
	return v
}

// FirstGo126Release is EGo's first release whose ego-go is Go 1.26
// (edgelesssys/ego commit c8fd070 "update go to 1.26.1"). It only names
// what to install: an older EGo with a Go 1.26 ego-go passes the check.
const FirstGo126Release = "1.9.0"

// missingRequirements returns the requirements EGo version v lacks.
func missingRequirements(v string) []Requirement {
	var out []Requirement
	for _, r := range Requirements {
		if CompareVersions(v, r.Since) < 0 {
			out = append(out, r)
		}
	}
	return out
}

// VersionError says why an EGo installation cannot run the harness's cells.
func versionError(ego, egoVersion, egoGo, goVersion, need string) error {
	if miss := missingRequirements(egoVersion); len(miss) > 0 {
		var what []string
		for _, r := range miss {
			what = append(what, fmt.Sprintf("%s (since v%s)", r.What, r.Since))
		}
		return fmt.Errorf("EGo %s at %s lacks what the harness uses: %s; install EGo v%s or newer: sudo snap refresh ego-dev, or the .deb from https://github.com/edgelesssys/ego/releases (EGo docs/docs/getting-started/install.md)",
			egoVersion, ego, strings.Join(what, "; "), FirstGo126Release)
	}
	if need != "" && !goAtLeast(goVersion, need) {
		return fmt.Errorf("ego-go at %s is %s, but the workload module needs go %s (go.mod), so ego-go cannot build it: install EGo v%s or newer (its ego-go is Go 1.26), or put an ego-go built on Go %s first on PATH (docs/ego.md, \"EGo from source\")",
			egoGo, goVersion, need, FirstGo126Release, need)
	}
	return nil
}

// Pairing describes an accepted installation whose runtime predates its
// toolchain (EGo before FirstGo126Release with a new enough ego-go): ""
// for a released pairing.
func Pairing(egoVersion, goVersion string) string {
	if CompareVersions(egoVersion, FirstGo126Release) >= 0 {
		return ""
	}
	return fmt.Sprintf("EGo %s runtime with ego-go %s: not a released pairing (EGo's releases on Go 1.26 start at v%s); results depend on this runtime", egoVersion, goVersion, FirstGo126Release)
}

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
