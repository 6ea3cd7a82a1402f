package workload

import (
	"fmt"
	"strconv"
	"strings"
)

var byteSuffixes = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

// ParseBytes reads a byte count: a plain number, one with a unit
// ("64KiB", "16MiB", "1GB"), or a multiple of the size's EPC ("0.5xEPC").
func ParseBytes(v string, env Env) (int64, error) {
	if f, ok := strings.CutSuffix(v, "xEPC"); ok {
		x, err := strconv.ParseFloat(f, 64)
		// !(x > 0) also catches NaN, which every comparison lets through.
		if err != nil || !(x > 0) || x > 1e6 {
			return 0, fmt.Errorf("%q is not a positive multiple of the EPC", v)
		}
		if env.EPCBytes <= 0 {
			return 0, fmt.Errorf("%q needs the size's EPC, which is unknown", v)
		}
		n := int64(x * float64(env.EPCBytes))
		if n < 1 {
			return 0, fmt.Errorf("%q is less than one byte of this size's EPC", v)
		}
		return n, nil
	}
	mult := int64(1)
	num := v
	for _, s := range byteSuffixes {
		if n, ok := strings.CutSuffix(v, s.suffix); ok {
			num, mult = n, s.mult
			break
		}
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a byte count (e.g. 4096, 64KiB, 16MiB, 0.5xEPC)", v)
	}
	if !(x > 0) { // NaN too
		return 0, fmt.Errorf("%q: byte count must be positive", v)
	}
	if x*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("%q: byte count too large", v)
	}
	n := int64(x * float64(mult))
	if n < 1 {
		return 0, fmt.Errorf("%q is less than one byte", v)
	}
	return n, nil
}

// BytesInRange returns a Check for byte counts in [lo, hi], and no larger
// than the host's memory when that is known.
func BytesInRange(lo, hi int64) func(string, Env) error {
	return func(v string, env Env) error {
		n, err := ParseBytes(v, env)
		if err != nil {
			return err
		}
		if n < lo || (hi > 0 && n > hi) {
			return fmt.Errorf("%d bytes is out of range", n)
		}
		if env.HostMem > 0 && n > env.HostMem {
			return fmt.Errorf("%d bytes is more than this host's memory (%d bytes)", n, env.HostMem)
		}
		return nil
	}
}
