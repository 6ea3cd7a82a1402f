//go:build linux && amd64 && sim

package trace

import (
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStacksTwoSites counts a Go program whose two functions make OCALLs
// at 3:1 (testdata/sites) with stacks. Taking every stack, the split is
// exactly 3:1; taking one in 4 at random, siteA's share of the m stacks
// taken is binomial, so it must lie within 4 standard deviations
// (sqrt(0.75*0.25/m)) of 0.75. Either way the sites add up to the counts
// exactly (scaled per cause).
func TestStacksTwoSites(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sites")
	if b, err := exec.Command("go", "build", "-o", bin, "./testdata/sites").CombinedOutput(); err != nil {
		t.Fatalf("building testdata/sites: %v\n%s", err, b)
	}
	const n = 4000
	for _, every := range []int{1, 4} {
		t.Run("every="+strconv.Itoa(every), func(t *testing.T) {
			sup, out := runCountedWith(t, Options{Timeout: 20 * time.Second, StackEvery: every}, bin, strconv.Itoa(n))
			if !strings.Contains(out, "done "+strconv.Itoa(n)) {
				t.Fatalf("sites printed %q", out)
			}
			c := sup.Counts()
			count, taken := map[string]int64{}, map[string]int64{}
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
				count[site] += s.Count
				taken[site] += s.Taken
			}
			if total != c.OCalls+c.ECalls {
				t.Errorf("sites add up to %d, counts say %d OCALLs + %d ECALLs", total, c.OCalls, c.ECalls)
			}
			if count["main.siteA"]+count["main.siteB"] != 4*n {
				t.Errorf("getppid by site %v, want %d in all", count, 4*n)
			}
			if every == 1 {
				if count["main.siteA"] != 3*n || count["main.siteB"] != n {
					t.Errorf("getppid by site %v, want main.siteA=%d main.siteB=%d", count, 3*n, n)
				}
				return
			}
			m := float64(taken["main.siteA"] + taken["main.siteB"])
			share := float64(taken["main.siteA"]) / m
			sd := math.Sqrt(0.75 * 0.25 / m)
			if math.Abs(share-0.75) > 4*sd {
				t.Errorf("siteA's share of %v stacks taken = %.4f, want 0.75 +- %.4f (4 sd)", m, share, 4*sd)
			}
			t.Logf("%v stacks taken of %d getppid: siteA %.4f (0.75 +- %.4f)", m, 4*n, share, 4*sd)
		})
	}
}

// A window's counts can hold a wait moved to the clock's cause after it
// was counted before the window (-1 futex_wait, +1 clock:futex_wait): the
// sites add up to the window's OCALLs, not one more.
func TestScaleSitesNetsAMoveToTheClock(t *testing.T) {
	c := Counts{OCalls: 10, BySyscall: map[string]int64{"pread64": 10, "futex_wait": -1, ClockPrefix + "futex_wait": 1}}
	sites := []Site{{Cause: "pread64", Taken: 3}, {Cause: ClockPrefix + "futex_wait", Taken: 1}}
	var sum int64
	for _, s := range scaleSites(sites, c) {
		if s.Count < 0 {
			t.Errorf("site %s: count %d", s.Cause, s.Count)
		}
		sum += s.Count
	}
	if sum != c.OCalls {
		t.Errorf("sites add up to %d, want the window's %d OCALLs", sum, c.OCalls)
	}
}
