package report

import (
	"fmt"
	"strings"

	"github.com/enclavebench/enclavebench/bench/textfmt"
)

// usableEPC is the usable EPC per size the input runs recorded (the
// smallest where runs disagree: the baseline differs between hosts).
func (b *builder) usableEPC() map[string]int64 {
	out := map[string]int64{}
	for _, s := range b.in.Sources {
		if p := s.Dir.Run.Profile; p != nil {
			for size, v := range p.UsableEPC {
				if old, ok := out[size]; !ok || v < old {
					out[size] = v
				}
			}
		}
	}
	return out
}

// runs lists the metadata of every input run.
func (b *builder) runs() {
	for _, s := range b.in.Sources {
		r := &s.Dir.Run
		h := r.Host
		ego := h.EGo.Describe()
		sgx := "no SGX"
		switch {
		case h.SGX.SGX2:
			sgx = "SGX2"
		case h.SGX.SGX1:
			sgx = "SGX1"
		}
		if h.SGX.SGX1 || h.SGX.SGX2 {
			sgx += fmt.Sprintf(", EPC %s", fmtMiB(float64(h.SGX.EPCBytes)/(1<<20)))
			if !h.SGX.Usable {
				sgx += ", no enclave device"
			}
		}
		cost := ""
		if p := r.Profile; p != nil {
			cost = p.Name
			if p.Version > 0 {
				cost += fmt.Sprintf("/v%d", p.Version)
			}
			if p.Source != "" {
				cost += " (" + p.Source + ")"
			}
		}
		harness := r.HarnessVersion
		if r.HarnessCommit != "" {
			harness += " (" + shortCommit(r.HarnessCommit) + ")"
		}
		azure := h.AzureSize
		if azure == "" && h.AzureNote != "" {
			azure = "unknown: " + h.AzureNote
		}
		b.r.Runs = append(b.r.Runs, RunInfo{
			Dir: s.Path, ID: r.ID, Origin: s.OriginLabel, Host: h.Hostname, CPU: textfmt.OneLine(h.CPUModel),
			Microcode: h.Microcode, Kernel: textfmt.OneLine(h.Kernel), AzureSize: azure, SGX: sgx, EGo: ego,
			Modes: strings.Join(r.Plan.Modes, ", "), Sizes: strings.Join(r.Plan.Sizes, ", "), Profile: r.Plan.Profile, CostProfile: cost, Harness: harness,
			Start: r.Start.UTC().Format("2006-01-02 15:04:05Z"), Status: r.Status,
			Samples: len(s.Dir.Samples), Cells: len(s.Dir.Cells),
		})
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
