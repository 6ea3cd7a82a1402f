//go:build linux && amd64 && sim

package trace

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStacksTwoSites counts a Go program whose two functions make OCALLs
// at 3:1 (testdata/sites) with stacks: every getppid is attributed to its
// site, so the split is exactly 3:1, and the sites add up to the counts.
func TestStacksTwoSites(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sites")
	if b, err := exec.Command("go", "build", "-o", bin, "./testdata/sites").CombinedOutput(); err != nil {
		t.Fatalf("building testdata/sites: %v\n%s", err, b)
	}
	const n = 1000
	sup, out := runCountedWith(t, Options{Timeout: 10 * time.Second, Stacks: true}, bin, "1000")
	if !strings.Contains(out, "done 1000") {
		t.Fatalf("sites printed %q", out)
	}
	c := sup.Counts()
	bySite := map[string]int64{}
	var total int64
	for _, s := range sup.Sites(c) {
		total += s.Count
		if s.Cause != "getppid" {
			continue
		}
		site := "other"
		for _, f := range s.Frames() {
			if f.Func == "main.siteA" || f.Func == "main.siteB" {
				site = f.Func
				if !strings.HasSuffix(f.File, "testdata/sites/main.go") || f.Line == 0 {
					t.Errorf("%s named at %s:%d", f.Func, f.File, f.Line)
				}
				break
			}
		}
		if site == "other" {
			t.Errorf("getppid x%d at a stack without siteA/siteB: %+v (no stack: %q)", s.Count, s.Frames(), s.NoStack)
		}
		bySite[site] += s.Count
	}
	if bySite["main.siteA"] != 3*n || bySite["main.siteB"] != n {
		t.Errorf("getppid by site %v, want main.siteA=%d main.siteB=%d", bySite, 3*n, n)
	}
	if total != c.OCalls+c.ECalls {
		t.Errorf("sites add up to %d, counts say %d OCALLs + %d ECALLs", total, c.OCalls, c.ECalls)
	}
	t.Logf("%d OCALLs, %d ECALLs; by site %v", c.OCalls, c.ECalls, bySite)
}
