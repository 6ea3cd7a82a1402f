package memsweep

import "golang.org/x/sys/cpu"

//go:noescape
func sumLinesAVX2(p *uint64, lines int) uint64

//go:noescape
func fillLinesAVX2(p *uint64, lines int, v uint64)

// useAVX2 selects the 256-bit kernels: Go's scalar loop issues one 8-byte
// load per instruction and reaches about a third of the cache bandwidth
// that C tools like sysbench get from vectorised loops.
var useAVX2 = cpu.X86.HasAVX2

// sumLines adds up the words of seg (a whole number of lines).
func sumLines(seg []uint64) uint64 {
	if useAVX2 && len(seg) >= wordsPerLine {
		return sumLinesAVX2(&seg[0], len(seg)/wordsPerLine)
	}
	return sumLinesGeneric(seg)
}

// fillLines writes v to every word of seg.
func fillLines(seg []uint64, v uint64) {
	if useAVX2 && len(seg) >= wordsPerLine {
		fillLinesAVX2(&seg[0], len(seg)/wordsPerLine, v)
		return
	}
	fillLinesGeneric(seg, v)
}
