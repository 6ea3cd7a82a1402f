//go:build linux && sim && cgo && !procepc

package swepc

// Without the runtime overlay there is no process EPC to classify.

func procEPCKind(uintptr) uint8 { return 0 }

func procEPCExtent() (base, used uintptr) { return 0, 0 }

func procEPCAtExit(func()) {}

const haveKinds = false
