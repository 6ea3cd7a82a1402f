package workload

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseCount reads a count that may scale with the size: "8", "vcpus" or
// "4xvcpus" (threads, connections). what names the thing counted in errors.
func ParseCount(v string, vcpus, max int, what string) (int, error) {
	n := 0
	if f, ok := strings.CutSuffix(v, "vcpus"); ok {
		k := 1
		if f != "" {
			x, found := strings.CutSuffix(f, "x")
			var err error
			if k, err = strconv.Atoi(x); !found || err != nil || k <= 0 {
				return 0, fmt.Errorf("%q is not vcpus or a positive multiple Nxvcpus", v)
			}
		}
		if vcpus <= 0 {
			return 0, fmt.Errorf("%q needs the size's vCPUs, which are unknown", v)
		}
		if k > max {
			return 0, fmt.Errorf("%q: %d %ss is out of range", v, k, what)
		}
		n = k * vcpus
	} else {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return 0, fmt.Errorf("%q is not a %s count (e.g. 4, vcpus, 2xvcpus)", v, what)
		}
	}
	if n < 1 || n > max {
		return 0, fmt.Errorf("%d %ss is out of range", n, what)
	}
	return n, nil
}
