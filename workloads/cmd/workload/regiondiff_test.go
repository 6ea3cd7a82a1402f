//go:build sim && amd64

package main

import (
	"reflect"
	"testing"
)

// TestRegionDiff: a user benchmark's loads by region are the 2n run's less
// the n run's; a negative difference (set-up noise) is 0, and regions never
// add up to more than the pass's own difference of all loads.
func TestRegionDiff(t *testing.T) {
	a := map[string][2]int64{"go_heap": {8881, 1}, "runtime": {433, 0}, "stacks": {32, 0}}
	b := map[string][2]int64{"go_heap": {9454, 5}, "runtime": {299, 0}, "stacks": {48, 0}, "heap_free": {0, 3}}
	for _, tc := range []struct {
		name  string
		i     int
		total int64
		want  map[string]int64
	}{
		{"loads, regions within the total", 0, 1000, map[string]int64{"go_heap": 573, "stacks": 16}},
		{"loads, scaled to the total", 0, 439, map[string]int64{"go_heap": 427, "stacks": 11}},
		{"evictions", 1, 7, map[string]int64{"go_heap": 4, "heap_free": 3}},
		{"nothing counted", 0, 0, map[string]int64{"go_heap": 0, "stacks": 0}},
	} {
		if got := regionDiff(a, b, tc.i, tc.total); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
