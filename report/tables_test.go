package report

import (
	"slices"
	"sort"
	"testing"

	"github.com/enclavebench/enclavebench/bench/result"
)

// TestSizeOrder: sizes are listed in the order the runs recorded (never
// today's catalog): a recorded order first, the frozen table's place for
// runs from before it was recorded, unknown sizes last by name.
func TestSizeOrder(t *testing.T) {
	o := newSizeOrder(map[string]result.SizeFacts{
		"Toy2": {Order: 2}, "Toy1": {Order: 1}, // a family today's catalog does not have
		"DC4s_v2": {}, "DC1s_v2": {}, // recorded before the order was: frozen table (1, 3); equal places by name
		"Mystery": {},
	})
	names := []string{"Mystery", "DC4s_v2", "Toy2", "Zed", "DC1s_v2", "Toy1"}
	sort.Slice(names, func(i, j int) bool { return o.less(names[i], names[j]) })
	if want := []string{"DC1s_v2", "Toy1", "Toy2", "DC4s_v2", "Mystery", "Zed"}; !slices.Equal(names, want) {
		t.Errorf("order %v, want %v", names, want)
	}
}
