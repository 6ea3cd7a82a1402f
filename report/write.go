package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	// ManifestFile records the plot files a report wrote, with their
	// SHA-256, so that the next report into the same directory removes
	// those it no longer draws and nothing else.
	ManifestFile = "report-files.json"
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
// drawn in parallel. Files are replaced atomically. Plots an earlier
// report recorded writing in ManifestFile and this one does not draw are
// removed if they are still what it wrote; no other file is. A plots
// directory that is a symbolic link is refused: the report neither writes
// nor removes anything through one.
func Write(r *Report, dir string) (*Written, error) {
	plots := filepath.Join(dir, PlotsDir)
	if st, err := os.Lstat(plots); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link: a report writes and removes plots only in a directory of its own (remove the link or choose another -o)", plots)
	}
	if err := os.MkdirAll(plots, 0o755); err != nil {
		return nil, fmt.Errorf("report directory: %w", err)
	}
	if st, err := os.Lstat(plots); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", plots)
	}
	previous := readManifest(dir)
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
				ff := FigureFiles{Figure: *fig, Files: map[string]string{}, sums: map[string]string{}}
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
					ff.sums[f] = sha256Hex(out[f])
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
	wrote := manifest{Version: 1, Plots: map[string]string{}}
	for _, ff := range rendered {
		if ff.Err != "" {
			w.Failed = append(w.Failed, ff.Figure.Name+": "+ff.Err)
			continue
		}
		w.Figures++
		for f, p := range ff.Files {
			wrote.Plots[filepath.Base(p)] = ff.sums[f]
		}
	}
	removeStale(plots, previous, wrote)
	mdata, err := json.MarshalIndent(wrote, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := result.WriteFileAtomic(filepath.Join(dir, ManifestFile), append(mdata, '\n')); err != nil {
		return nil, err
	}

	data, err := plot.MarshalFigures(r.Figures)
	if err != nil {
		return nil, err
	}
	if err := result.WriteFileAtomic(filepath.Join(dir, PlotDataFile), data); err != nil {
		return nil, err
	}
	linkSites(r, dir)
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

// manifest is ManifestFile: the plot files (base names in PlotsDir) a
// report wrote, each with the SHA-256 of what it wrote.
type manifest struct {
	Version int               `json:"version"`
	Plots   map[string]string `json:"plots"`
}

// readManifest reads dir's ManifestFile; a missing, linked or unreadable
// one is an empty manifest (so nothing is removed).
func readManifest(dir string) manifest {
	var m manifest
	p := filepath.Join(dir, ManifestFile)
	if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
		return m
	}
	data, err := os.ReadFile(p)
	if err != nil || json.Unmarshal(data, &m) != nil || m.Version != 1 {
		return manifest{}
	}
	return m
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// removeStale deletes the plots the previous report recorded writing that
// this one did not write: only plain files named as plots, directly in
// dir (never through a symbolic link), whose content is still what the
// previous report wrote. A file someone else put there or edited since
// stays.
func removeStale(dir string, previous, wrote manifest) {
	for name, sum := range previous.Plots {
		ext := strings.TrimPrefix(filepath.Ext(name), ".")
		if _, ok := wrote.Plots[name]; ok || name != filepath.Base(name) || strings.HasPrefix(name, ".") ||
			!(ext == plot.SVG || ext == plot.PNG || ext == plot.PDF) {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Lstat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil || sha256Hex(data) != sum {
			continue
		}
		os.Remove(p)
	}
}
