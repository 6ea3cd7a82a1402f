//go:build linux && sim && cgo && procepc

package swepc

import _ "unsafe" // go:linkname

// The process EPC's classifier, in the runtime overlay
// (workloads/swepc/_overlay/procepc_linux.go); scripts/build-sim.sh builds
// with the procepc tag, so this file is only compiled with the overlay.

//go:linkname procEPCKind runtime.procEPCKind
func procEPCKind(p uintptr) uint8

//go:linkname procEPCExtent runtime.procEPCExtent
func procEPCExtent() (base, used uintptr)

//go:linkname procEPCAtExit runtime.procEPCAtExit
func procEPCAtExit(f func())

const haveKinds = true
