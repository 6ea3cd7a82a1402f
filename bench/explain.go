package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/sites"
)

func init() {
	register(command{name: "explain", summary: "where a sim cell's enclave time comes from: OCALLs by Go call site, EPC loads by region", run: explainCmd})
}

const explainExamples = `  bench explain results/latest
  bench explain results/latest Syscall/call=read/size=DC2s_v2/mode=sim
  bench explain --top 10 /tmp/mine Hash

Every sim cell keeps a profile of its counting pass (cells.jsonl extra
"profile", under DIR/profiles/, pprof format): the Go call stack of its
OCALLs and ECALLs, and its paging pass's EPC loads by region, priced by the
run's cost profile. explain prints, per cell whose name contains CELL (all
cells without it), the top call sites with their share of the priced extra
time and advice for known patterns. For the full stacks:
  go tool pprof -top DIR/profiles/<cell>.pb.gz
  go tool pprof -sample_index=ocalls -traces DIR/profiles/<cell>.pb.gz

Exit status: 0 when at least one cell was explained, 2 when none matches or
no matching cell has a profile (not a sim run, or made before profiles).
`

// explainCmd implements `bench explain DIR [CELL]`.
func explainCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("explain", "explain [flags] DIR [CELL]", explainExamples, stderr)
	top := flags.Int("top", 5, "call sites shown per cell")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() < 1 || flags.NArg() > 2 {
		flags.Usage()
		return usagef("explain needs a result directory and at most one cell name, got %d arguments", flags.NArg())
	}
	if *top < 1 {
		return usagef("--top %d: want 1 or more", *top)
	}
	dir, pattern := flags.Arg(0), flags.Arg(1)
	if _, err := result.ReadRun(dir); err != nil {
		return usagef("%v", err)
	}
	_, cells, problems := result.ReadAll(dir)
	for _, p := range problems {
		fmt.Fprintln(stderr, "bench explain: skipping", p)
	}
	latest := map[string]result.CellResult{}
	matched := 0
	for _, c := range cells {
		if pattern != "" && !strings.Contains(c.Cell, pattern) {
			continue
		}
		matched++
		if c.Status != result.StatusOK || c.Extra[result.ExtraProfile] == "" {
			continue
		}
		if prev, ok := latest[c.Cell]; !ok || c.Attempt >= prev.Attempt {
			latest[c.Cell] = c
		}
	}
	if matched == 0 {
		return usagef("no cell of %s is named like %q", dir, pattern)
	}
	if len(latest) == 0 {
		return usagef("no cell of %s named like %q has a profile: profiles come from sim cells of runs made since issue 23", dir, pattern)
	}
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := latest[k].Extra[result.ExtraProfile]
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s  (%s)\n", k, path)
		p, err := sites.Read(path)
		if err != nil {
			return err
		}
		s, err := sites.Summarize(p)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		fmt.Fprint(stdout, s.Text(*top))
	}
	return nil
}
