package protocol

import (
	"fmt"
	"strconv"
	"strings"
)

// Size is the VM size a cell runs on, as the harness hands it to the
// workload process: one command-line value (--size), written by String
// and read by ParseSize, so the workload binary parses it in one place.
type Size struct {
	Name     string // e.g. DC2s_v2
	VCPUs    int    // the size's vCPUs, 1 or more
	EPCBytes int64  // its EPC as published in the catalog
	MemBytes int64  // its memory
}

// String encodes s as the value of the workload's --size flag:
// "DC2s_v2,vcpus=2,epc_bytes=58720256,mem_bytes=8589934592".
func (s Size) String() string {
	return fmt.Sprintf("%s,vcpus=%d,epc_bytes=%d,mem_bytes=%d", s.Name, s.VCPUs, s.EPCBytes, s.MemBytes)
}

// ParseSize reads a --size value written by Size.String. Every field must
// be there once and hold a valid value (a name without ',' or '=', at
// least one vCPU, no negative byte count); the fields after the name may
// come in any order.
func ParseSize(v string) (Size, error) {
	parts := strings.Split(v, ",")
	s := Size{Name: parts[0]}
	if s.Name == "" || strings.ContainsAny(s.Name, "= \t\n") {
		return Size{}, fmt.Errorf("size %q: want NAME,vcpus=N,epc_bytes=N,mem_bytes=N", v)
	}
	seen := map[string]bool{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok || seen[k] {
			return Size{}, fmt.Errorf("size %q: %q: want each of vcpus=N, epc_bytes=N and mem_bytes=N once", v, p)
		}
		seen[k] = true
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 || k == "vcpus" && (n < 1 || n > 1<<20) {
			return Size{}, fmt.Errorf("size %q: %s=%q: want a count, at least 1 vCPU", v, k, val)
		}
		switch k {
		case "vcpus":
			s.VCPUs = int(n)
		case "epc_bytes":
			s.EPCBytes = n
		case "mem_bytes":
			s.MemBytes = n
		default:
			return Size{}, fmt.Errorf("size %q: unknown field %q (want vcpus, epc_bytes, mem_bytes)", v, k)
		}
	}
	if len(seen) != 3 {
		return Size{}, fmt.Errorf("size %q: want NAME,vcpus=N,epc_bytes=N,mem_bytes=N", v)
	}
	return s, nil
}
