package sizes

import (
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sel     string
		want    string // names joined with ","; "" for an error
		errSubs []string
	}{
		{"dcsv2", "DC1s_v2,DC2s_v2,DC4s_v2,DC8_v2", nil},
		{"DC2s_v2,dc1s_v2", "DC1s_v2,DC2s_v2", nil}, // catalog order, case-insensitive
		{"Standard_DC8_v2", "DC8_v2", nil},
		{"dc1s_v2,DC1s_v2", "DC1s_v2", nil},
		{"DC4s_v3", "DC4s_v3", nil},
		{"DC3s_v2", "", []string{`unknown size "DC3s_v2"`, "DC1s_v2", "dcsv2", "all"}},
		{"", "", []string{"no sizes selected"}},
	}
	for _, tt := range tests {
		got, err := Select(tt.sel)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Select(%q) succeeded; want an error", tt.sel)
				continue
			}
			for _, s := range tt.errSubs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Select(%q) error %q does not name %q", tt.sel, err, s)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("Select(%q): %v", tt.sel, err)
			continue
		}
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if g := strings.Join(names, ","); g != tt.want {
			t.Errorf("Select(%q) = %s, want %s", tt.sel, g, tt.want)
		}
	}
	all, _ := Select("all")
	if len(all) != len(catalog) {
		t.Errorf("all = %d sizes, want %d", len(all), len(catalog))
	}
}

// TestDCsv2Catalog pins the published DCsv2 figures (dcv2-series.md).
func TestDCsv2Catalog(t *testing.T) {
	t.Parallel()
	want := map[string][3]int{"DC1s_v2": {1, 4, 28}, "DC2s_v2": {2, 8, 56}, "DC4s_v2": {4, 16, 112}, "DC8_v2": {8, 32, 168}}
	for name, w := range want {
		s, ok := Lookup(name)
		if !ok || s.VCPUs != w[0] || s.MemoryGiB != w[1] || s.EPCMiB() != float64(w[2]) || s.SGX != 1 {
			t.Errorf("%s = %+v, want vCPU %d, %d GiB, %d MiB EPC", name, s, w[0], w[1], w[2])
		}
	}
}

// TestToySizeFamily follows the recipe "adding a size family touches only
// the catalog": rows with a new family are selectable by family and name,
// listed among the families and carry their source.
func TestToySizeFamily(t *testing.T) {
	AddRowsForTest(t,
		Size{"TOY1", "Toyv1", 1, 2, 8 * mib, "a toy CPU", 2, "a toy page"},
		Size{"TOY2", "Toyv1", 2, 4, 16 * mib, "a toy CPU", 2, "a toy page"})
	if fs := Families(); fs[len(fs)-1] != "toyv1" || len(fs) != 4 {
		t.Errorf("families %v: want the catalog's three and toyv1", fs)
	}
	got, err := Select("toyv1")
	if err != nil || len(got) != 2 || got[0].Name != "TOY1" || got[1].Source != "a toy page" {
		t.Errorf("Select(toyv1) = %v, %v", got, err)
	}
	if s, ok := Lookup("standard_toy2"); !ok || s.VCPUs != 2 {
		t.Errorf("Lookup(standard_toy2) = %+v, %v", s, ok)
	}
	if _, err := Select("toyv2"); err == nil || !strings.Contains(err.Error(), "toyv1") {
		t.Errorf("an unknown selector: %v, want the families listed", err)
	}
}
