package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

func init() {
	register(command{name: "list", summary: "list workloads, their parameters, metrics and units", run: listCmd})
}

func listCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("list", "list [WORKLOAD...] [--json]", `  bench list
  bench list memsweep
  bench list --json
`, stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		names = suite.Workloads.Names()
	}
	var specs []*workload.Spec
	for _, n := range names {
		s, err := suite.Workloads.Lookup(n)
		if err != nil {
			return usageError{err}
		}
		specs = append(specs, s)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(listJSON(specs))
	}
	for i, s := range specs {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s: %s\n", s.Name, s.Doc)
		if s.EnclaveOnly {
			fmt.Fprintln(stdout, "  (enclave only: reported as not applicable outside an enclave)")
		}
		fmt.Fprintln(stdout, "  parameters:")
		for _, p := range s.Params {
			fmt.Fprintf(stdout, "    %-10s %s\n", p.Name, p.Doc)
			fmt.Fprintf(stdout, "    %-10s valid: %s\n", "", p.Range)
			fmt.Fprintf(stdout, "    %-10s quick: %s   full: %s\n", "", strings.Join(p.Quick, ","), strings.Join(p.Full, ","))
			if p.Name == s.FootprintParam {
				fmt.Fprintf(stdout, "    %-10s the footprint: bench run --footprint sets it\n", "")
			}
		}
		fmt.Fprintln(stdout, "  metrics:")
		for _, m := range s.Metrics {
			fmt.Fprintf(stdout, "    %-10s %s is better; %s\n", m.Unit, m.Better, m.Doc)
		}
	}
	fmt.Fprintf(stdout, "\nprofiles: %s (override a grid with --param workload.param=v1,v2; set every footprint with --footprint 64MiB,200MiB)\n", strings.Join(plan.ProfileNames(), ", "))
	return nil
}

type paramJSON struct {
	Name  string   `json:"name"`
	Doc   string   `json:"doc"`
	Range string   `json:"range"`
	Quick []string `json:"quick"`
	Full  []string `json:"full"`
	// Footprint marks the parameter --footprint sets.
	Footprint bool `json:"footprint,omitempty"`
}

type metricJSON struct {
	Unit   string `json:"unit"`
	Better string `json:"better"`
	Doc    string `json:"doc"`
}

type specJSON struct {
	Name        string       `json:"name"`
	Doc         string       `json:"doc"`
	EnclaveOnly bool         `json:"enclave_only,omitempty"`
	Params      []paramJSON  `json:"params"`
	Metrics     []metricJSON `json:"metrics"`
}

func listJSON(specs []*workload.Spec) []specJSON {
	out := make([]specJSON, 0, len(specs))
	for _, s := range specs {
		j := specJSON{Name: s.Name, Doc: s.Doc, EnclaveOnly: s.EnclaveOnly}
		for _, p := range s.Params {
			j.Params = append(j.Params, paramJSON{p.Name, p.Doc, p.Range, p.Quick, p.Full, p.Name == s.FootprintParam})
		}
		for _, m := range s.Metrics {
			j.Metrics = append(j.Metrics, metricJSON{m.Unit, m.Better, m.Doc})
		}
		out = append(out, j)
	}
	return out
}
