package report

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/enclavebench/enclavebench/bench/result"
)

// Merge policies (see the package documentation).
const (
	MergeHost = "host"
	MergeRun  = "run"
	MergeAll  = "all"
)

// Defaults.
const (
	DefaultTolerance = 0.20
	DefaultAlpha     = 0.05
)

// Options configure a report.
type Options struct {
	// Tolerance is the slowdown accepted by the sizing advice (0.2: an
	// enclave figure within 20% of native).
	Tolerance float64
	// Alpha is the significance level of comparisons.
	Alpha float64
	// Merge is MergeHost, MergeRun or MergeAll.
	Merge string
	// MixedVersions keeps directories written by another harness version.
	MixedVersions bool
	// Now is the time written in the report (tests fix it).
	Now time.Time
	// PDF also writes each plot as PDF.
	PDF bool
}

// DefaultOptions returns the defaults: 20% tolerance, alpha 0.05, merge by
// host.
func DefaultOptions() Options {
	return Options{Tolerance: DefaultTolerance, Alpha: DefaultAlpha, Merge: MergeHost}
}

// Source is one result directory kept for the report.
type Source struct {
	Path        string
	Dir         *result.Dir
	Origin      string // grouping key (see Options.Merge)
	OriginLabel string // how figures name the origin ("" when there is one)
}

// LeftOut is a directory, or part of one, the report does not use.
type LeftOut struct {
	Dir    string `json:"dir"`
	Reason string `json:"reason"`
}

// Input is what Load kept and left out.
type Input struct {
	Sources []*Source
	LeftOut []LeftOut
	// Notes are problems inside kept directories (bad lines), one per
	// line, prefixed with the directory.
	Notes []string
	// ShortNotes are the Notes that name a short cell (samples lost).
	ShortNotes []string
	// HarnessVersion is the version the kept directories share.
	HarnessVersion string
}

// Reportable reports whether any kept directory has samples.
func (in *Input) Reportable() bool {
	for _, s := range in.Sources {
		if len(s.Dir.Samples) > 0 {
			return true
		}
	}
	return false
}

// Load reads the result directories dirs and decides which to use.
func Load(dirs []string, o Options) *Input {
	in := &Input{}
	seenPath := map[string]string{}
	seenRun := map[string]string{}
	var loaded []*Source
	// Read the directories in parallel; decide in argument order.
	type loadResult struct {
		d   *result.Dir
		err error
	}
	results := make([]loadResult, len(dirs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, p := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, err := result.Load(p)
			results[i] = loadResult{d, err}
		}()
	}
	wg.Wait()
	for i, p := range dirs {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		if first, ok := seenPath[abs]; ok {
			in.LeftOut = append(in.LeftOut, LeftOut{p, "given twice (also as " + first + ")"})
			continue
		}
		seenPath[abs] = p
		d, err := results[i].d, results[i].err
		if err != nil {
			in.LeftOut = append(in.LeftOut, LeftOut{p, trimDirPrefix(err.Error(), p)})
			continue
		}
		if first, ok := seenRun[d.Run.ID]; ok && d.Run.ID != "" {
			in.LeftOut = append(in.LeftOut, LeftOut{p, fmt.Sprintf("run %s was already read from %s (a copy?); left out so its samples are not counted twice", d.Run.ID, first)})
			continue
		}
		seenRun[d.Run.ID] = p
		for _, e := range d.Problems {
			in.Notes = append(in.Notes, fmt.Sprintf("%s: left out a bad record: %v", p, e))
		}
		for _, s := range d.Short {
			n := fmt.Sprintf("%s: %s", p, s)
			in.Notes = append(in.Notes, n)
			in.ShortNotes = append(in.ShortNotes, n)
		}
		loaded = append(loaded, &Source{Path: p, Dir: d})
	}

	// The harness version most directories with samples share (ties: the
	// first seen) is the reference.
	count := map[string]int{}
	var order []string
	for _, s := range loaded {
		if len(s.Dir.Samples) == 0 {
			continue
		}
		v := s.Dir.Run.HarnessVersion
		if count[v] == 0 {
			order = append(order, v)
		}
		count[v]++
	}
	bestN := 0
	for _, v := range order {
		if count[v] > bestN {
			in.HarnessVersion, bestN = v, count[v]
		}
	}
	for _, s := range loaded {
		r := &s.Dir.Run
		if len(s.Dir.Samples) == 0 {
			in.LeftOut = append(in.LeftOut, LeftOut{s.Path, "no samples" + cellCounts(s.Dir) + "; its failed cells are still listed"})
			in.Sources = append(in.Sources, s)
			continue
		}
		if r.HarnessVersion != in.HarnessVersion {
			if !o.MixedVersions {
				in.LeftOut = append(in.LeftOut, LeftOut{s.Path, fmt.Sprintf("harness version %q differs from %q of the other directories; figures from different harness versions are not comparable (--mixed-versions keeps it)", r.HarnessVersion, in.HarnessVersion)})
				continue
			}
			in.Notes = append(in.Notes, fmt.Sprintf("%s: harness version %q differs from %q; kept (--mixed-versions)", s.Path, r.HarnessVersion, in.HarnessVersion))
		}
		in.Sources = append(in.Sources, s)
	}
	assignOrigins(in.Sources, o.Merge)
	return in
}

func trimDirPrefix(msg, dir string) string {
	return strings.TrimPrefix(msg, dir+": ")
}

func cellCounts(d *result.Dir) string {
	n := map[result.Status]int{}
	for _, c := range d.Cells {
		n[c.Status]++
	}
	if len(n) == 0 {
		return " and no cell outcomes"
	}
	var parts []string
	for _, st := range []result.Status{result.StatusFailed, result.StatusNA, result.StatusSkipped, result.StatusOK} {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	return " (cells: " + strings.Join(parts, ", ") + ")"
}

// assignOrigins sets each source's origin key and label.
func assignOrigins(srcs []*Source, merge string) {
	labels := map[string]string{} // key -> label
	var keys []string
	for _, s := range srcs {
		h := s.Dir.Run.Host
		var key, label string
		switch merge {
		case MergeAll:
		case MergeRun:
			key = s.Dir.Run.ID
			label = s.Dir.Run.ID
			if h.Hostname != "" {
				label += " on " + h.Hostname
			}
		default:
			key = strings.Join([]string{h.Hostname, h.CPUModel, h.Microcode, h.Kernel, h.AzureSize}, "\x00")
			label = h.Hostname
			if label == "" {
				label = "unnamed host"
			}
			if h.AzureSize != "" {
				label += " (" + h.AzureSize + ")"
			}
		}
		if _, ok := labels[key]; !ok {
			labels[key] = label
			keys = append(keys, key)
		}
		s.Origin = key
	}
	// Distinct origins with the same label (same hostname, other kernel)
	// get a suffix.
	used := map[string]int{}
	for _, k := range keys {
		l := labels[k]
		used[l]++
		if used[l] > 1 {
			labels[k] = fmt.Sprintf("%s #%d", l, used[l])
		}
	}
	for _, s := range srcs {
		if len(keys) > 1 {
			s.OriginLabel = labels[s.Origin]
		}
	}
}

// originLabels lists the distinct origin labels in order.
func originLabels(srcs []*Source) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range srcs {
		if !seen[s.OriginLabel] {
			seen[s.OriginLabel] = true
			out = append(out, s.OriginLabel)
		}
	}
	sort.Strings(out)
	return out
}
