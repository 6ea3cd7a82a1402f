package result

import "strings"

// The VM sizes as the catalog (bench/sizes) described them while runs did
// not record them (schema versions 1 and 2 before Facts.Sizes). This table
// is frozen: an old directory reads with the sizes its harness used however
// the catalog changes. Never update it; runs record their sizes now.
const (
	frozenCPUv2    = "Intel Xeon E-2288G (Coffee Lake) 3.7 GHz"
	frozenCPUv3    = "Intel Xeon Platinum 8370C (Ice Lake) 2.8 GHz"
	frozenSourceV2 = "MicrosoftDocs/azure-docs articles/virtual-machines/dcv2-series.md, sizes/general-purpose/dcsv2-series.md"
	frozenSourceV3 = "MicrosoftDocs/azure-docs articles/virtual-machines/dcv3-series.md"
)

// frozenRows are the sizes of the catalog in its order: name, family,
// vCPUs, memory GiB, EPC MiB.
var frozenRows = []struct {
	name, family string
	vcpus        int
	memGiB       int64
	epcMiB       int64
}{
	{"DC1s_v2", "DCsv2", 1, 4, 28}, {"DC2s_v2", "DCsv2", 2, 8, 56},
	{"DC4s_v2", "DCsv2", 4, 16, 112}, {"DC8_v2", "DCsv2", 8, 32, 168},
	{"DC1s_v3", "DCsv3", 1, 8, 4 << 10}, {"DC2s_v3", "DCsv3", 2, 16, 8 << 10},
	{"DC4s_v3", "DCsv3", 4, 32, 16 << 10}, {"DC8s_v3", "DCsv3", 8, 64, 32 << 10},
	{"DC16s_v3", "DCsv3", 16, 128, 64 << 10}, {"DC24s_v3", "DCsv3", 24, 192, 128 << 10},
	{"DC32s_v3", "DCsv3", 32, 256, 192 << 10}, {"DC48s_v3", "DCsv3", 48, 384, 256 << 10},
	{"DC1ds_v3", "DCdsv3", 1, 8, 4 << 10}, {"DC2ds_v3", "DCdsv3", 2, 16, 8 << 10},
	{"DC4ds_v3", "DCdsv3", 4, 32, 16 << 10}, {"DC8ds_v3", "DCdsv3", 8, 64, 32 << 10},
	{"DC16ds_v3", "DCdsv3", 16, 128, 64 << 10}, {"DC24ds_v3", "DCdsv3", 24, 192, 128 << 10},
	{"DC32ds_v3", "DCdsv3", 32, 256, 192 << 10}, {"DC48ds_v3", "DCdsv3", 48, 384, 256 << 10},
}

// sizesV2 are the facts of each size of frozenRows by name.
var sizesV2 = func() map[string]SizeFacts {
	m := map[string]SizeFacts{}
	for _, r := range frozenRows {
		sf := SizeFacts{Family: r.family, VCPUs: r.vcpus, EPCBytes: r.epcMiB << 20, MemoryBytes: r.memGiB << 30,
			CPU: frozenCPUv3, Source: frozenSourceV3}
		if r.family == "DCsv2" {
			sf.CPU, sf.Source = frozenCPUv2, frozenSourceV2
		}
		m[r.name] = sf
	}
	return m
}()

// frozenSize finds a size of sizesV2 by name as the catalog's Lookup did:
// ignoring case and a "Standard_" prefix; Order is its place in the table.
func frozenSize(name string) (SizeFacts, bool) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "standard_")
	for i, r := range frozenRows {
		if strings.ToLower(r.name) == n {
			sf := sizesV2[r.name]
			sf.Order = i + 1
			return sf, true
		}
	}
	return SizeFacts{}, false
}

// UnknownSizeOrder is the SizeOrder of a size neither recorded with an
// order nor in the frozen table: after all the others.
const UnknownSizeOrder = 1 << 20

// SizeOrder is where a reader lists size name whose recorded facts are sf:
// its recorded Order; for runs from before it was recorded, its place in
// the frozen table of their time; else UnknownSizeOrder.
func SizeOrder(name string, sf SizeFacts) int {
	if sf.Order > 0 {
		return sf.Order
	}
	if f, ok := frozenSize(name); ok {
		return f.Order
	}
	return UnknownSizeOrder
}

// frozenSizes are the facts of the sizes a directory without recorded
// sizes names (plan, samples, cell outcomes), from sizesV2.
func frozenSizes(d *Dir, cells []CellResult) map[string]SizeFacts {
	out := map[string]SizeFacts{}
	add := func(name string) {
		if _, ok := out[name]; ok {
			return
		}
		if sf, ok := frozenSize(name); ok {
			out[name] = sf
		}
	}
	for _, s := range d.Run.Plan.Sizes {
		add(s)
	}
	for _, s := range d.Samples {
		add(s.Size)
	}
	for _, c := range cells {
		add(c.Size)
	}
	return out
}
