package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/enclavebench/enclavebench/bench/sizes"
)

func init() {
	register(command{name: "sizes", summary: "list the VM size catalog (vCPUs, memory, EPC)", run: sizesCmd})
}

func sizesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sizes", "sizes [--sizes SELECTOR] [--json]", `  bench sizes
  bench sizes --sizes dcsv2
  bench sizes --sizes DC1s_v2,DC8_v2 --json
`, stderr)
	sel := fs.String("sizes", "all", "selector: all, "+strings.Join(sizes.Families(), ", ")+", or a list of names")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("sizes takes no arguments (use --sizes %s)", strings.Join(fs.Args(), ","))
	}
	list, err := sizes.Select(*sel)
	if err != nil {
		return usageError{err}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "size\tfamily\tvCPU\tmemory\tEPC\tSGX\tCPU")
	for _, s := range list {
		epc := fmt.Sprintf("%g MiB", s.EPCMiB())
		if s.EPCBytes >= 1<<30 {
			epc = fmt.Sprintf("%g GiB", float64(s.EPCBytes)/(1<<30))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d GiB\t%s\tSGX%d\t%s\n", s.Name, s.Family, s.VCPUs, s.MemoryGiB, epc, s.SGX, s.CPU)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nSources: MicrosoftDocs/azure-docs articles/virtual-machines/dcv2-series.md, dcv3-series.md.")
	return nil
}
