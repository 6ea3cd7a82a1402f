package report

import (
	"sort"
	"strconv"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
)

// sizeOrder lists sizes as the runs recorded them: by their recorded
// catalog order (result.SizeOrder; the frozen table's for runs from before
// it was recorded), unknown sizes last, then by name.
type sizeOrder map[string]int

// newSizeOrder is the order of the sizes whose recorded facts are facts.
func newSizeOrder(facts map[string]result.SizeFacts) sizeOrder {
	o := sizeOrder{}
	for name, sf := range facts {
		o[name] = result.SizeOrder(name, sf)
	}
	return o
}

func (o sizeOrder) rank(s string) int {
	if r, ok := o[s]; ok {
		return r
	}
	return result.SizeOrder(s, result.SizeFacts{})
}

func (o sizeOrder) less(a, b string) bool {
	ra, rb := o.rank(a), o.rank(b)
	if ra != rb {
		return ra < rb
	}
	return a < b
}

// tables sorts the groups into one table per workload.
func (b *builder) tables() {
	by := map[string]*WorkloadTable{}
	for _, g := range b.order {
		t := by[g.Workload]
		if t == nil {
			t = &WorkloadTable{Name: g.Workload, Unit: g.Unit, Better: g.Better, Figures: b.figures[g.Workload], FootprintParam: b.footprintParam[g.Workload]}
			by[g.Workload] = t
			b.r.Workloads = append(b.r.Workloads, t)
		}
		t.Rows = append(t.Rows, g)
		if len(g.ParamOrder) > len(t.Params) {
			t.Params = g.ParamOrder
		}
	}
	sort.Slice(b.r.Workloads, func(i, j int) bool { return b.r.Workloads[i].Name < b.r.Workloads[j].Name })
	for _, t := range b.r.Workloads {
		sort.SliceStable(t.Rows, func(i, j int) bool { return b.sizeOrder.lessGroup(t.Rows[i], t.Rows[j]) })
	}
	for label, mf := range b.modes {
		b.r.Modes = append(b.r.Modes, modeInfo(b.modeNames[label], label, mf))
	}
	sort.Slice(b.r.Modes, func(i, j int) bool {
		mi, mj := b.modes[b.r.Modes[i].Label], b.modes[b.r.Modes[j].Label]
		if mi.Rank != mj.Rank {
			return mi.Rank < mj.Rank
		}
		return b.r.Modes[i].Label < b.r.Modes[j].Label
	})
	b.r.Origins = nil
	for _, l := range originLabels(b.in.Sources) {
		if l != "" {
			b.r.Origins = append(b.r.Origins, l)
		}
	}
}

// lessGroup orders rows: parameters (natural order), size (recorded
// order), origin, mode (native first).
func (o sizeOrder) lessGroup(a, b *Group) bool {
	if c := compareParams(a, b); c != 0 {
		return c < 0
	}
	if a.Size != b.Size {
		return o.less(a.Size, b.Size)
	}
	if a.OriginLabel != b.OriginLabel {
		return a.OriginLabel < b.OriginLabel
	}
	if a.ModeFacts.Rank != b.ModeFacts.Rank {
		return a.ModeFacts.Rank < b.ModeFacts.Rank
	}
	return a.ModeLabel < b.ModeLabel
}

func compareParams(a, b *Group) int {
	for _, k := range a.ParamOrder {
		va, vb := a.Params[k], b.Params[k]
		if va == vb {
			continue
		}
		return compareValues(va, vb)
	}
	return strings.Compare(a.ParamText, b.ParamText)
}

// compareValues orders parameter values naturally: multiples of the EPC,
// then byte counts and numbers by magnitude, then text.
func compareValues(a, b string) int {
	ka, na := valueRank(a)
	kb, nb := valueRank(b)
	if ka != kb {
		return ka - kb
	}
	if ka < 3 && na != nb {
		if na < nb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func valueRank(v string) (int, float64) {
	if f, ok := strings.CutSuffix(v, "xEPC"); ok {
		if x, err := strconv.ParseFloat(f, 64); err == nil {
			return 0, x
		}
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		return 1, x
	}
	if n, ok := result.ByteCount(v); ok {
		return 2, float64(n)
	}
	return 3, 0
}
