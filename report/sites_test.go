package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/bench/sites"
)

// TestSitesSection renders the call-site section from a fixture profile
// (bench/sites/testdata/cell.pb.gz: a pread site, a 64 KiB write with its
// host allocations, sysmon, EPC loads in the Go heap) and one unreadable
// profile, against testdata/golden/sites.md.
func TestSitesSection(t *testing.T) {
	p, err := sites.Read("../bench/sites/testdata/cell.pb.gz")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sites.Summarize(p)
	if err != nil {
		t.Fatal(err)
	}
	r := &Report{Sites: []CellSites{
		{Cell: "App/size=DC2s_v2/mode=sim", Mode: "sim", Profile: "/r/profiles/app.pb.gz", Link: "../profiles/app.pb.gz", Summary: s},
		{Cell: "Broken/size=DC2s_v2/mode=sim", Mode: "sim", Profile: "/r/profiles/broken.pb.gz", Link: "../profiles/broken.pb.gz", Err: "unexpected EOF"},
	}}
	var b strings.Builder
	mdSites(func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }, r, -1)
	golden(t, "sites.md", []byte(b.String()))
	// The section names the modes of the cells with a profile.
	r.Sites[1].Mode = "toy"
	var toy strings.Builder
	mdSites(func(format string, args ...any) { fmt.Fprintf(&toy, format, args...) }, r, -1)
	if !strings.Contains(toy.String(), "(sim or toy cells: ") || !strings.Contains(toy.String(), "Each sim or toy cell's counting pass") {
		t.Errorf("the section does not name the profiled cells' modes:\n%.300s", toy.String())
	}
	if !strings.Contains(b.String(), "16 KiB") || !strings.Contains(b.String(), "Go heap does not fit") {
		t.Error("the section lacks the advice for the fixture's patterns")
	}
}
