package facts

import (
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
)

// modeFacts returns the facts of mode m, from its descriptor, for a run
// whose sim figures are priced by the cost profile ref.
func modeFacts(m, ref string) result.ModeFacts {
	d, ok := mode.Lookup(m)
	if !ok {
		return result.ModeFacts{Rank: len(mode.Names()), Enclave: true, Label: m, Summary: "a mode without a description"}
	}
	epc := d.Enclave && d.ModelsEPC
	return result.ModeFacts{Rank: d.Rank, Kind: d.Kind, Enclave: d.Enclave, LoadTime: d.RecordsLoadTime,
		Label: d.LabelFor(ref), Summary: d.Summary, Note: d.Note, ModelsEPC: &epc, Cannot: d.Cannot,
		HeapExtra: d.HeapExtra}
}
