//go:build sim && linux && amd64

package sim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/trace"
)

// cellProfile is the priced profile of a cell that ran in l.Dir, parsed
// back with the pprof library.
func cellProfile(t *testing.T, m *Mode, l mode.Launch) *profile.Profile {
	t.Helper()
	b, err := m.CellProfile(l, &result.CellResult{})
	if err != nil || b == nil {
		t.Fatalf("CellProfile: %v (nil: %v)", err, b == nil)
	}
	p, err := profile.ParseData(b)
	if err != nil {
		t.Fatalf("parsing the cell's profile back: %v", err)
	}
	return p
}

func sampleIndex(t *testing.T, p *profile.Profile, typ string) int {
	t.Helper()
	for i, st := range p.SampleType {
		if st.Type == typ {
			return i
		}
	}
	t.Fatalf("no sample type %s in %v", typ, p.SampleType)
	return -1
}

func hasFunc(s *profile.Sample, name string) bool {
	for _, loc := range s.Location {
		for _, ln := range loc.Line {
			if ln.Function.Name == name {
				return true
			}
		}
	}
	return false
}

// TestProfileSyscallRead: the syscall workload's read cell makes its
// OCALLs at one call site, workloads/syscall.Op's pread: at least 95% of
// the profile's OCALLs that follow its operations are there (those that
// follow the clock, label clock=yes, the runtime's sysmon and the waits it
// ends, grow with the pass's duration, and the model prices them by time),
// and the profile's OCALLs add up to the counting pass's.
func TestProfileSyscallRead(t *testing.T) {
	m := simMode(t)
	_, l := runCellLaunch(t, m, "syscall", map[string]string{"call": "read"}, "DC2s_v2", 1, 50*time.Millisecond)
	p := cellProfile(t, m, l)
	pass, err := trace.ReadPass(l.Dir)
	if err != nil {
		t.Fatal(err)
	}
	io := sampleIndex(t, p, trace.SampleOCalls)
	var all, total, atOp int64
	other := map[string]int64{}
	for _, s := range p.Sample {
		all += s.Value[io]
		if len(s.Label[trace.LabelClock]) > 0 {
			continue
		}
		total += s.Value[io]
		if hasFunc(s, "github.com/enclavebench/enclavebench/workloads/syscall.Op") && s.Label[trace.LabelCause][0] == "pread64" {
			atOp += s.Value[io]
		} else if s.Value[io] > 0 {
			other[s.Label[trace.LabelCause][0]] += s.Value[io]
		}
	}
	if all != pass.Counts.OCalls {
		t.Errorf("the profile's OCALLs add up to %d, the counting pass counted %d", all, pass.Counts.OCalls)
	}
	if share := float64(atOp) / float64(total); share < 0.95 {
		t.Errorf("%d of %d OCALLs (%.3f) at syscall.Op's pread, want >= 0.95; elsewhere by cause: %v", atOp, total, share, other)
	} else {
		t.Logf("%d of %d OCALLs (%.3f) at syscall.Op's pread; with the %d that follow the clock, %.3f of all %d; elsewhere by cause %v; %s",
			atOp, total, share, all-total, float64(atOp)/float64(all), all, other, pass.Stacks)
	}
}

// TestProfileHTTPServerAddsUp: httpserver's OCALLs split by call site add
// up to its counting pass's total exactly, cause by cause.
func TestProfileHTTPServerAddsUp(t *testing.T) {
	m := simMode(t)
	sz, _ := sizes.Lookup("DC2s_v2")
	dir := t.TempDir()
	args := []string{"httpserver", "--param", "payload=64KiB", "--param", "conns=4xvcpus", "--size", sz.Name + ",vcpus=2,epc_bytes=117440512,mem_bytes=8589934592",
		"--reps", "1", "--warmup", "0", "--min-time", "50ms", "--tmpdir", dir}
	l := mode.Launch{Cell: result.Cell{Workload: "httpserver", Size: sz.Name, Mode: Name}, Size: sz, Args: args, Dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd, err := m.Command(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The counting pass ends before the timed server says it is ready;
	// nobody drives the timed pass here, so stop it once the pass is written.
	done := false
	for !done {
		if _, err := os.Stat(filepath.Join(dir, trace.PassFile)); err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			if _, serr := os.Stat(filepath.Join(dir, trace.PassFile)); serr != nil {
				t.Fatalf("the cell exited without a counting pass: %v\n%s", err, stderr.String())
			}
			done = true
		case <-ctx.Done():
			t.Fatal("no counting pass within 3 minutes")
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	<-exited
	pass, err := trace.ReadPass(dir)
	if err != nil || pass.Unavailable != "" {
		t.Fatalf("pass: %v %s", err, pass.Unavailable)
	}
	p := cellProfile(t, m, l)
	io, ie := sampleIndex(t, p, trace.SampleOCalls), sampleIndex(t, p, trace.SampleECalls)
	byCause := map[string]int64{}
	var ocalls, ecalls int64
	for _, s := range p.Sample {
		cause := s.Label[trace.LabelCause]
		if len(cause) == 1 && s.Value[io] != 0 {
			c := cause[0]
			if len(s.Label[trace.LabelClock]) > 0 {
				c = trace.ClockPrefix + c
			}
			byCause[c] += s.Value[io]
		}
		ocalls += s.Value[io]
		ecalls += s.Value[ie]
	}
	if ocalls != pass.Counts.OCalls || ecalls != pass.Counts.ECalls {
		t.Errorf("profile: %d OCALLs %d ECALLs, counting pass %d and %d", ocalls, ecalls, pass.Counts.OCalls, pass.Counts.ECalls)
	}
	for c, v := range pass.Counts.BySyscall {
		if byCause[c] != v {
			t.Errorf("cause %s: profile %d, counting pass %d", c, byCause[c], v)
		}
	}
	var sites []string
	for _, s := range p.Sample {
		if len(s.Location) > 0 && len(s.Location[0].Line) > 0 && s.Value[io] > ocalls/10 {
			sites = append(sites, s.Label[trace.LabelCause][0]+"@"+s.Location[len(s.Location)-1].Line[0].Function.Name)
		}
	}
	t.Logf("%d OCALLs over %d requests; large sites: %s", ocalls, pass.Ops, strings.Join(sites, ", "))
}

// TestProfileEPCRegions: EPC loads are attributed to the memory they hit.
// kvstore keeps its table in an arena (in the Go heap in the paging pass),
// gokv in Go maps and slices: at twice DC1s_v2's EPC, at least 90% of each
// one's EPC loads are in its own region.
func TestProfileEPCRegions(t *testing.T) {
	m := simMode(t)
	for _, tc := range []struct {
		workload, region string
		params           map[string]string
	}{
		{"kvstore", "arena", map[string]string{"dataset": "2xEPC", "dist": "uniform", "mix": "read95"}},
		{"gokv", "go_heap", map[string]string{"dataset": "2xEPC", "dist": "uniform", "mix": "read95", "update": "inplace"}},
	} {
		t.Run(tc.workload, func(t *testing.T) {
			_, l := runCellLaunch(t, m, tc.workload, tc.params, "DC1s_v2", 1, 50*time.Millisecond)
			p := cellProfile(t, m, l)
			il := sampleIndex(t, p, SampleEPCLoads)
			by := map[string]int64{}
			var total int64
			for _, s := range p.Sample {
				if r := s.Label[LabelRegion]; len(r) == 1 {
					by[r[0]] += s.Value[il]
					total += s.Value[il]
				}
			}
			if total == 0 || float64(by[tc.region]) < 0.9*float64(total) {
				t.Errorf("EPC loads by region %v: want >= 90%% in %s", by, tc.region)
			}
			t.Logf("EPC loads by region over the counting pass's operations: %v", by)
		})
	}
}
