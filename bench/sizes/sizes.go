// Package sizes is the catalog of Azure confidential-computing VM sizes
// with Intel SGX: vCPUs, memory and EPC, with the published sources.
package sizes

import (
	"fmt"
	"slices"
	"strings"
)

// Size is one VM size.
type Size struct {
	Name      string `json:"name"`   // e.g. DC2s_v2 (without the Standard_ prefix)
	Family    string `json:"family"` // DCsv2, DCsv3 or DCdsv3
	VCPUs     int    `json:"vcpus"`
	MemoryGiB int    `json:"memory_gib"`
	EPCBytes  int64  `json:"epc_bytes"`
	CPU       string `json:"cpu"`
	SGX       int    `json:"sgx"` // 1 or 2
	// Source is the published page the figures come from; runs record it
	// with the size (result.SizeFacts).
	Source string `json:"-"`
}

// EPCMiB is the EPC in MiB.
func (s Size) EPCMiB() float64 { return float64(s.EPCBytes) / (1 << 20) }

// MemBytes is the VM's memory in bytes.
func (s Size) MemBytes() int64 { return int64(s.MemoryGiB) << 30 }

// InstanceType is the name Azure and Kubernetes use (Standard_<name>).
func (s Size) InstanceType() string { return "Standard_" + s.Name }

const (
	mib = 1 << 20
	gib = 1 << 30

	// Source: MicrosoftDocs/azure-docs articles/virtual-machines/dcv2-series.md
	// ("Intel Xeon E-2288G ... 3.7 GHz, all-core turbo 5.0 GHz", SGX1).
	cpuDCsv2 = "Intel Xeon E-2288G (Coffee Lake) 3.7 GHz"
	// Source: MicrosoftDocs/azure-docs articles/virtual-machines/dcv3-series.md
	// (3rd Gen Xeon Scalable "Ice Lake" 8370C, 2.8 GHz all-core, SGX2).
	cpuDCsv3 = "Intel Xeon Platinum 8370C (Ice Lake) 2.8 GHz"

	// The pages each family's figures come from (see catalog).
	sourceDCsv2 = "MicrosoftDocs/azure-docs articles/virtual-machines/dcv2-series.md, sizes/general-purpose/dcsv2-series.md"
	sourceDCsv3 = "MicrosoftDocs/azure-docs articles/virtual-machines/dcv3-series.md"
)

// catalog lists every size. DCsv2 figures: MicrosoftDocs/azure-docs
// articles/virtual-machines/dcv2-series.md and
// articles/virtual-machines/sizes/general-purpose/dcsv2-series.md (vCPU,
// memory GiB, EPC MiB). DC8_v2 takes the whole host and all its EPC
// (articles/confidential-computing/virtual-machine-solutions-sgx.md).
// DCsv3/DCdsv3: articles/virtual-machines/dcv3-series.md (vCPU, memory GiB,
// EPC GiB). EPC is not a fixed fraction of memory, so both are listed.
var catalog = []Size{
	{"DC1s_v2", "DCsv2", 1, 4, 28 * mib, cpuDCsv2, 1, sourceDCsv2},
	{"DC2s_v2", "DCsv2", 2, 8, 56 * mib, cpuDCsv2, 1, sourceDCsv2},
	{"DC4s_v2", "DCsv2", 4, 16, 112 * mib, cpuDCsv2, 1, sourceDCsv2},
	{"DC8_v2", "DCsv2", 8, 32, 168 * mib, cpuDCsv2, 1, sourceDCsv2},

	{"DC1s_v3", "DCsv3", 1, 8, 4 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC2s_v3", "DCsv3", 2, 16, 8 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC4s_v3", "DCsv3", 4, 32, 16 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC8s_v3", "DCsv3", 8, 64, 32 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC16s_v3", "DCsv3", 16, 128, 64 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC24s_v3", "DCsv3", 24, 192, 128 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC32s_v3", "DCsv3", 32, 256, 192 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC48s_v3", "DCsv3", 48, 384, 256 * gib, cpuDCsv3, 2, sourceDCsv3},

	{"DC1ds_v3", "DCdsv3", 1, 8, 4 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC2ds_v3", "DCdsv3", 2, 16, 8 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC4ds_v3", "DCdsv3", 4, 32, 16 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC8ds_v3", "DCdsv3", 8, 64, 32 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC16ds_v3", "DCdsv3", 16, 128, 64 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC24ds_v3", "DCdsv3", 24, 192, 128 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC32ds_v3", "DCdsv3", 32, 256, 192 * gib, cpuDCsv3, 2, sourceDCsv3},
	{"DC48ds_v3", "DCdsv3", 48, 384, 256 * gib, cpuDCsv3, 2, sourceDCsv3},
}

// All returns the whole catalog in a stable order.
func All() []Size { return append([]Size(nil), catalog...) }

// Families lists the family names usable as a selector (the catalog's
// families, lower case, in catalog order): a family added to the catalog
// is selectable without another change.
func Families() []string {
	var out []string
	for _, s := range catalog {
		if f := strings.ToLower(s.Family); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Lookup finds a size by name, ignoring case and a "Standard_" prefix.
func Lookup(name string) (Size, bool) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "standard_")
	for _, s := range catalog {
		if strings.ToLower(s.Name) == n {
			return s, true
		}
	}
	return Size{}, false
}

// Names lists every size name.
func Names() []string {
	names := make([]string, len(catalog))
	for i, s := range catalog {
		names[i] = s.Name
	}
	return names
}

// Select resolves a selector: "all", a family ("dcsv2", "dcsv3",
// "dcdsv3"), or a comma-separated list of names and families. The result has
// no duplicates and keeps catalog order.
func Select(selector string) ([]Size, error) {
	want := map[string]bool{}
	for _, part := range strings.Split(selector, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		switch p := strings.ToLower(part); {
		case p == "all":
			for _, s := range catalog {
				want[s.Name] = true
			}
		case slices.Contains(Families(), p):
			for _, s := range catalog {
				if strings.ToLower(s.Family) == p {
					want[s.Name] = true
				}
			}
		default:
			s, ok := Lookup(part)
			if !ok {
				return nil, fmt.Errorf("unknown size %q (valid: all, %s, or one of %s)", part, strings.Join(Families(), ", "), strings.Join(Names(), ", "))
			}
			want[s.Name] = true
		}
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("no sizes selected (valid: all, %s, or one of %s)", strings.Join(Families(), ", "), strings.Join(Names(), ", "))
	}
	var out []Size
	for _, s := range catalog {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out, nil
}
