package compare

import (
	"fmt"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchproc"
)

// Key components that --ignore can drop when matching cells.
const (
	IgnoreMode    = "mode"
	IgnoreSize    = "size"
	IgnoreProfile = "profile"
	// IgnoreSettings compares cells measured under other mode settings
	// (run.json mode_settings: --ego-trace-ocalls, ...).
	IgnoreSettings = "settings"
)

// IgnoreNames are the valid --ignore values.
var IgnoreNames = []string{IgnoreMode, IgnoreSize, IgnoreProfile, IgnoreSettings}

// ParseIgnore validates --ignore values (comma-separated or repeated).
func ParseIgnore(vals []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			switch f {
			case IgnoreMode, IgnoreSize, IgnoreProfile, IgnoreSettings:
			default:
				return nil, fmt.Errorf("--ignore %q: want %s", f, strings.Join(IgnoreNames, ", "))
			}
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// matcher projects a cell's benchmark name onto the name cells are matched
// by: the full name without the dropped name components, through
// benchproc (as benchstat's -ignore does), and reads single components.
type matcher struct {
	full      *benchproc.Projection
	fullField *benchproc.Field
	drop      *benchproc.Projection
	dropField map[string]*benchproc.Field
}

// newMatcher returns the matcher that drops the name components names
// (mode, size).
func newMatcher(names ...string) *matcher {
	var p benchproc.ProjectionParser
	m := &matcher{dropField: map[string]*benchproc.Field{}}
	if len(names) > 0 {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = "/" + n
		}
		drop, err := p.Parse(strings.Join(q, ","), nil)
		if err != nil {
			panic("compare: projection of " + strings.Join(q, ",") + ": " + err.Error()) // names are ours
		}
		m.drop = drop
		for _, f := range drop.Fields() {
			m.dropField[strings.TrimPrefix(f.Name, "/")] = f
		}
	}
	full, err := p.Parse(".fullname", nil)
	if err != nil {
		panic("compare: projection .fullname: " + err.Error())
	}
	m.full, m.fullField = full, full.Fields()[0]
	return m
}

func named(name string) *benchfmt.Result { return &benchfmt.Result{Name: benchfmt.Name(name)} }

// key is the name a cell is matched by.
func (m *matcher) key(name string) string {
	return m.full.Project(named(name)).Get(m.fullField)
}

// component is the value of a dropped name component of name ("" when
// absent).
func (m *matcher) component(name, comp string) string {
	f := m.dropField[comp]
	if f == nil {
		return ""
	}
	return m.drop.Project(named(name)).Get(f)
}
