package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runner"
	"github.com/enclavebench/enclavebench/bench/textfmt"
)

// progress draws a one-line bar with an ETA on a terminal, and on any
// output reports failed cells as they happen.
type progress struct {
	w     io.Writer
	bar   bool
	drawn bool
}

func newProgress(w io.Writer, setting string) *progress {
	p := &progress{w: w}
	switch setting {
	case "always":
		p.bar = true
	case "never":
	default:
		p.bar = isTerminal(w)
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// Progress implements session.Output.
func (p *progress) Progress(e runner.Event) {
	if e.Done && e.Result.Status == result.StatusFailed {
		p.clear()
		fmt.Fprintf(p.w, "FAILED %s: %s\n", e.Cell, textfmt.FirstLine(e.Result.Reason))
	}
	if !p.bar {
		return
	}
	const width = 24
	filled := width * e.Index / max(e.Total, 1)
	eta := "?"
	if e.Index > 0 {
		left := time.Duration(float64(e.Elapsed) / float64(e.Index) * float64(e.Total-e.Index))
		eta = left.Round(time.Second).String()
	}
	name := e.Cell
	if len(name) > 60 {
		name = "…" + name[len(name)-59:]
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d ETA %s  %s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), e.Index, e.Total, eta, name)
	p.drawn = true
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// Done implements session.Output.
func (p *progress) Done() { p.clear() }

// Summary implements session.Output.
func (p *progress) Summary(w io.Writer, d *result.Dir) { printSummary(w, d) }
