package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/report/plot"
)

// Files of a report directory.
const (
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
	PlotDataFile = "plotdata.json"
	PlotsDir     = "plots"
)

// Written says what Write produced.
type Written struct {
	Dir     string
	Figures int
	// Failed lists figures that could not be drawn, with the reason.
	Failed []string
}

// Write renders the report into dir: plots/ (SVG and PNG, PDF with
// Options.PDF), plotdata.json, report.html and report.md. Figures are
// drawn in parallel. Files are replaced atomically; stale plots from an
// earlier report in dir are removed.
func Write(r *Report, dir string) (*Written, error) {
	if err := os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755); err != nil {
		return nil, fmt.Errorf("report directory: %w", err)
	}
	formats := []string{plot.SVG, plot.PNG}
	if r.Options.PDF {
		formats = append(formats, plot.PDF)
	}
	rendered := make([]FigureFiles, len(r.Figures))
	var wg sync.WaitGroup
	jobs := make(chan int)
	var mu sync.Mutex
	var werr error
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				fig := &r.Figures[i]
				ff := FigureFiles{Figure: *fig, Files: map[string]string{}}
				out, err := plot.Render(fig, formats...)
				if err != nil {
					ff.Err = err.Error()
					rendered[i] = ff
					continue
				}
				for _, f := range formats {
					rel := filepath.ToSlash(filepath.Join(PlotsDir, fig.Name+"."+f))
					if err := result.WriteFileAtomic(filepath.Join(dir, rel), out[f]); err != nil {
						mu.Lock()
						werr = errors.Join(werr, err)
						mu.Unlock()
						continue
					}
					ff.Files[f] = rel
				}
				ff.Embed = out[plot.PNG]
				rendered[i] = ff
			}
		}()
	}
	for i := range r.Figures {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if werr != nil {
		return nil, werr
	}
	w := &Written{Dir: dir}
	keep := map[string]bool{}
	for _, ff := range rendered {
		if ff.Err != "" {
			w.Failed = append(w.Failed, ff.Figure.Name+": "+ff.Err)
			continue
		}
		w.Figures++
		for _, p := range ff.Files {
			keep[filepath.Base(p)] = true
		}
	}
	removeStale(filepath.Join(dir, PlotsDir), keep)

	data, err := plot.MarshalFigures(r.Figures)
	if err != nil {
		return nil, err
	}
	if err := result.WriteFileAtomic(filepath.Join(dir, PlotDataFile), data); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, r, rendered); err != nil {
		return nil, err
	}
	if err := result.WriteFileAtomic(filepath.Join(dir, HTMLFile), b.Bytes()); err != nil {
		return nil, err
	}
	b.Reset()
	if err := WriteMarkdown(&b, r); err != nil {
		return nil, err
	}
	if err := result.WriteFileAtomic(filepath.Join(dir, MarkdownFile), b.Bytes()); err != nil {
		return nil, err
	}
	return w, nil
}

// removeStale deletes plot files this report did not write (left by an
// earlier report into the same directory).
func removeStale(dir string, keep map[string]bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		ext := strings.TrimPrefix(filepath.Ext(n), ".")
		if e.Type().IsRegular() && !keep[n] && (ext == plot.SVG || ext == plot.PNG || ext == plot.PDF) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
