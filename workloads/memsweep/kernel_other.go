//go:build !amd64

package memsweep

func sumLines(seg []uint64) uint64 { return sumLinesGeneric(seg) }

func fillLines(seg []uint64, v uint64) { fillLinesGeneric(seg, v) }
