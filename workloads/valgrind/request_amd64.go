package valgrind

import (
	"runtime"
	"unsafe"
)

//go:noescape
func clientRequest(args *[6]uintptr) uintptr

func addr(p *byte) uintptr     { return uintptr(unsafe.Pointer(p)) }
func addr2(p *uintptr) uintptr { return uintptr(unsafe.Pointer(p)) }
func keep(b []byte)            { runtime.KeepAlive(b) }

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// HasSHA reports whether CPUID, as this process sees it, announces the SHA
// extensions (leaf 7, EBX bit 29), which golang.org/x/sys/cpu does not
// report and Go's crypto/sha256 uses when present.
func HasSHA() bool {
	if max, _, _, _ := cpuid(0, 0); max < 7 {
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<29) != 0
}
