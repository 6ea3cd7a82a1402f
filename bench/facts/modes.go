package facts

import "github.com/enclavebench/enclavebench/bench/result"

// modeTable describes the modes until each mode carries its own
// descriptor (bench/mode); the descriptor replaces this table.
var modeTable = map[string]result.ModeFacts{
	"native": {Rank: 0, Kind: result.KindMeasured, Label: "native", Summary: "a plain process on the host: the baseline"},
	"sgx": {Rank: 1, Kind: result.KindMeasured, Enclave: true, LoadTime: true, Label: "sgx",
		Summary: "an EGo enclave on SGX hardware"},
	"ego-sim": {Rank: 2, Kind: result.KindEmulated, Enclave: true, LoadTime: true, Label: "ego-sim",
		Summary: "EGo's simulation mode: no SGX hardware; OCALLs are real syscalls, so these are not hardware figures"},
	"sim": {Rank: 3, Kind: result.KindModel, Enclave: true, Label: "sim",
		Summary: "predicted by enclavebench's model: each repetition's native time, measured in the sim process, plus the enclave events counted for that repetition, priced by the cost profile; its slowdown is over that base, pair by pair (never against the native cells, which another process measured): a prediction, not a measurement"},
}

// modeFacts returns the facts of mode m for a run whose sim figures are
// priced by the cost profile ref.
func modeFacts(m, ref string) result.ModeFacts {
	mf, ok := modeTable[m]
	if !ok {
		return result.ModeFacts{Rank: len(modeTable), Enclave: true, Label: m, Summary: "a mode without a description"}
	}
	if m == "sim" {
		if ref == "" {
			ref = "unknown"
		}
		mf.Label = "sim (model, profile " + ref + ")"
	}
	return mf
}
