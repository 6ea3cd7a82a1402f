//go:build linux && sim && cgo

package swepc

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestShareRegionsNeedsTheProcessEPC: a region that is not the process
// EPC has no classifier to share (the test binary of a user's benchmark
// adopts the process EPC first; TestGoTestEPCByRegion in bench covers it).
func TestShareRegionsNeedsTheProcessEPC(t *testing.T) {
	r := newRegion(t, 16, 8)
	if err := r.ShareRegions(filepath.Join(t.TempDir(), "regions")); err == nil {
		t.Fatal("shared regions of an arena region")
	}
}

// TestReadSharedRegions: the file's layout (RegionNames' loads then
// evictions, little-endian) reads back by name, regions with nothing left
// out; a file of another size is refused.
func TestReadSharedRegions(t *testing.T) {
	b := make([]byte, SharedRegionsSize)
	want := map[string][2]int64{}
	for i, name := range RegionNames {
		if name == RegionHeapFree {
			continue
		}
		c := [2]int64{int64(100 + i), int64(7 * i)}
		binary.LittleEndian.PutUint64(b[16*i:], uint64(c[0]))
		binary.LittleEndian.PutUint64(b[16*i+8:], uint64(c[1]))
		want[name] = c
	}
	path := filepath.Join(t.TempDir(), "regions")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSharedRegions(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
	if err := os.WriteFile(path, b[:SharedRegionsSize-1], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSharedRegions(path); err == nil {
		t.Error("a short file read")
	}
}
