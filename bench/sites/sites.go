// Package sites reads a sim cell's profile (pprof format: OCALLs and ECALLs
// by Go call stack, EPC loads by region, priced by the cost profile; see
// bench/sim's Price) and says where the enclave's extra time comes from:
// the top call sites of OCALLs, the regions EPC loads hit, each with its
// share of the priced extra time, and one line of advice where a pattern
// is known. `bench report` and `bench explain` print it.
package sites

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/enclavebench/enclavebench/bench/result"
)

// Sample types and labels of a priced cell profile: the result
// directory's (result.Profile*), which bench/sim writes.
const (
	typeOCalls    = result.ProfileOCalls
	typeExtraTime = result.ProfileExtraTime
	typeEPCLoads  = result.ProfileEPCLoads
	typeEPCTime   = result.ProfileEPCTime
	labelCause    = result.ProfileCause
	labelClock    = result.ProfileClock
	labelRegion   = result.ProfileRegion
)

// Site is one call site's OCALLs of one cause, or one region's EPC loads.
type Site struct {
	// Where is the call site, "function file:line" (the innermost frame of
	// the caller's code), or the region of memory for EPC loads.
	Where string
	// Cause is the OCALL's cause (pread64, write, futex_wait, ...); empty
	// for EPC loads.
	Cause string
	// Clock says the OCALLs follow the clock (the runtime's sysmon).
	Clock bool
	// Count is OCALLs (or EPC loads) over the profile's operations;
	// ExtraNS their priced time.
	Count, ExtraNS int64
	// Share is ExtraNS over the profile's total priced extra time.
	Share float64
	// Advice is one line where a pattern is known, else "".
	Advice string
}

// Summary is what a cell's profile says.
type Summary struct {
	// Ops is the operations the counting pass counted (the profile's
	// values are over them).
	Ops int64
	// ExtraNS is the profile's total priced extra time (OCALLs, ECALLs,
	// EPC loads and evictions; memory encryption is not by site).
	ExtraNS int64
	OCalls  []Site // largest extra time first
	EPC     []Site // by region, largest first
	// Comments are the profile's own (how it was taken and priced).
	Comments []string
}

// Read reads a cell profile.
func Read(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return p, nil
}

var opsComment = regexp.MustCompile(`counting pass: (\d+) operations`)

// Summarize sums a priced cell profile by call site and region. It fails
// on a profile without the priced sample types (not a sim cell's).
func Summarize(p *profile.Profile) (*Summary, error) {
	idx := map[string]int{}
	for i, st := range p.SampleType {
		idx[st.Type] = i
	}
	for _, t := range []string{typeOCalls, typeExtraTime, typeEPCLoads, typeEPCTime} {
		if _, ok := idx[t]; !ok {
			return nil, fmt.Errorf("not a priced sim cell profile: no sample type %s", t)
		}
	}
	s := &Summary{Comments: p.Comments}
	for _, c := range p.Comments {
		if m := opsComment.FindStringSubmatch(c); m != nil {
			s.Ops, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	ocalls := map[string]*Site{}
	epc := map[string]*Site{}
	for _, smp := range p.Sample {
		extra := smp.Value[idx[typeExtraTime]]
		s.ExtraNS += extra
		if r := smp.Label[labelRegion]; len(r) == 1 {
			st := epc[r[0]]
			if st == nil {
				st = &Site{Where: r[0]}
				epc[r[0]] = st
			}
			st.Count += smp.Value[idx[typeEPCLoads]]
			st.ExtraNS += extra
			continue
		}
		cause := first(smp.Label[labelCause])
		clock := first(smp.Label[labelClock]) == "yes"
		where, frames := callSite(smp)
		k := where + "\x00" + cause + "\x00" + strconv.FormatBool(clock)
		st := ocalls[k]
		if st == nil {
			st = &Site{Where: where, Cause: cause, Clock: clock, Advice: advice(cause, frames)}
			ocalls[k] = st
		}
		st.Count += smp.Value[idx[typeOCalls]]
		st.ExtraNS += extra
	}
	for _, st := range ocalls {
		s.OCalls = append(s.OCalls, *st)
	}
	for _, st := range epc {
		if st.Count > 0 || st.ExtraNS > 0 {
			st.Advice = regionAdvice(st.Where)
			s.EPC = append(s.EPC, *st)
		}
	}
	for _, list := range [][]Site{s.OCalls, s.EPC} {
		for i := range list {
			if s.ExtraNS > 0 {
				list[i].Share = float64(list[i].ExtraNS) / float64(s.ExtraNS)
			}
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].ExtraNS != list[j].ExtraNS {
				return list[i].ExtraNS > list[j].ExtraNS
			}
			if list[i].Count != list[j].Count {
				return list[i].Count > list[j].Count
			}
			return list[i].Where+list[i].Cause < list[j].Where+list[j].Cause
		})
	}
	return s, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// frame is one line of a sample's stack.
type frame struct {
	fn, file string
	line     int64
}

func frames(smp *profile.Sample) []frame {
	var out []frame
	for _, loc := range smp.Location {
		for _, ln := range loc.Line {
			if ln.Function != nil {
				out = append(out, frame{ln.Function.Name, ln.Function.Filename, ln.Line})
			}
		}
	}
	return out
}

// primitives are the runtime's functions that make a system call for their
// caller: a site is named after the caller.
var primitives = map[string]bool{
	"runtime.futex": true, "runtime.futexsleep": true, "runtime.futexwakeup": true,
	"runtime.notesleep": true, "runtime.notetsleep": true, "runtime.notetsleep_internal": true, "runtime.notetsleepg": true,
	"runtime.notewakeup": true, "runtime.mPark": true, "runtime.usleep": true, "runtime.usleep_no_g": true,
	"runtime.semasleep": true, "runtime.semawakeup": true, "runtime.osyield": true,
	"runtime.write1": true, "runtime.write": true, "runtime.read": true, "runtime.netpollBreak": true,
	"runtime.mcall": true, "runtime.systemstack": true, "runtime.morestack": true, "runtime.asmcgocall": true,
}

// callSite names the code that made a sample's OCALLs: the innermost frame
// outside the Go distribution and golang.org/x (the caller's own code),
// else the innermost frame above the system-call plumbing (runtime,
// syscall, internal, os, net, io, bufio, golang.org/x/sys), else the
// runtime's innermost frame above its system-call primitives, else the
// outermost frame.
func callSite(smp *profile.Sample) (string, []frame) {
	fr := frames(smp)
	if len(fr) == 0 {
		return "[no stack]", fr
	}
	pick := -1
	for i, f := range fr {
		if !stdlib(f.fn) {
			pick = i
			break
		}
	}
	if pick < 0 {
		for i, f := range fr {
			if !plumbing(f.fn) {
				pick = i
				break
			}
		}
	}
	if pick < 0 {
		// The runtime's own: the innermost frame above its primitives
		// (runtime.stopm parks a thread, runtime.sysmon sleeps).
		for i, f := range fr {
			if pkgOf(f.fn) == "runtime" && !primitives[f.fn] {
				pick = i
				break
			}
		}
	}
	if pick < 0 {
		pick = len(fr) - 1
		for pick > 0 && (fr[pick].fn == "runtime.goexit" || strings.HasPrefix(fr[pick].fn, "runtime.mstart")) {
			pick--
		}
	}
	f := fr[pick]
	if f.file == "" {
		return f.fn, fr
	}
	return fmt.Sprintf("%s %s:%d", f.fn, shortFile(f.file), f.line), fr
}

// pkgOf is the package path of a Go function name.
func pkgOf(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return fn
	}
	return fn[:slash+1+dot]
}

func stdlib(fn string) bool {
	pkg := pkgOf(fn)
	if strings.HasPrefix(pkg, "golang.org/x/") || strings.HasPrefix(fn, "[") {
		return true
	}
	first, _, _ := strings.Cut(pkg, "/")
	return !strings.Contains(first, ".")
}

func plumbing(fn string) bool {
	pkg := pkgOf(fn)
	switch pkg {
	case "runtime", "syscall", "os", "net", "io", "bufio", "internal/poll", "golang.org/x/sys/unix":
		return true
	}
	return strings.HasPrefix(pkg, "internal/") || strings.HasPrefix(pkg, "runtime/internal")
}

// shortFile keeps a file's last two path elements.
func shortFile(f string) string {
	parts := strings.Split(f, "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}

// Text writes the summary for a terminal: the top sites of OCALLs and the
// EPC regions, each with its count per operation and share, and advice.
func (s *Summary) Text(top int) string {
	var b strings.Builder
	perOp := func(n int64) string {
		if s.Ops <= 0 {
			return strconv.FormatInt(n, 10)
		}
		return strconv.FormatFloat(float64(n)/float64(s.Ops), 'g', 3, 64) + "/op"
	}
	fmt.Fprintf(&b, "priced extra time %s per operation over %d operations (OCALLs, ECALLs, EPC paging; memory encryption is not by site)\n",
		nsText(s.ExtraNS, s.Ops), s.Ops)
	if len(s.OCalls) > 0 {
		fmt.Fprintf(&b, "OCALLs by call site:\n")
	}
	for i, st := range s.OCalls {
		if i == top {
			fmt.Fprintf(&b, "  ... %d more sites\n", len(s.OCalls)-top)
			break
		}
		clock := ""
		if st.Clock {
			clock = ", follows the clock"
		}
		fmt.Fprintf(&b, "  %5.1f%%  %-12s %-10s %s%s\n", 100*st.Share, st.Cause, perOp(st.Count), st.Where, clock)
		if st.Advice != "" {
			fmt.Fprintf(&b, "          -> %s\n", st.Advice)
		}
	}
	if len(s.EPC) > 0 {
		fmt.Fprintf(&b, "EPC loads by region:\n")
	}
	for _, st := range s.EPC {
		fmt.Fprintf(&b, "  %5.1f%%  %-10s loads %s\n", 100*st.Share, perOp(st.Count), st.Where)
		if st.Advice != "" {
			fmt.Fprintf(&b, "          -> %s\n", st.Advice)
		}
	}
	return b.String()
}

func nsText(ns, ops int64) string {
	if ops <= 0 {
		return strconv.FormatInt(ns, 10) + " ns"
	}
	v := float64(ns) / float64(ops)
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + " ms"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 2, 64) + " µs"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ns"
}
