package compare

import (
	"fmt"
	"strings"
)

// Key components that --ignore can drop when matching cells.
const (
	IgnoreMode    = "mode"
	IgnoreSize    = "size"
	IgnoreProfile = "profile"
)

// IgnoreNames are the valid --ignore values.
var IgnoreNames = []string{IgnoreMode, IgnoreSize, IgnoreProfile}

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
			case IgnoreMode, IgnoreSize, IgnoreProfile:
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

// component returns the value of name=value in a cell key ("" if absent).
func component(key, name string) string {
	for _, p := range strings.Split(key, "/")[1:] {
		if v, ok := strings.CutPrefix(p, name+"="); ok {
			return v
		}
	}
	return ""
}

func modeOf(key string) string { return component(key, "mode") }

// without returns key with the name=value components of names removed.
func without(key string, names ...string) string {
	if len(names) == 0 {
		return key
	}
	parts := strings.Split(key, "/")
	out := parts[:1]
	for _, p := range parts[1:] {
		drop := false
		for _, n := range names {
			if strings.HasPrefix(p, n+"=") {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}
