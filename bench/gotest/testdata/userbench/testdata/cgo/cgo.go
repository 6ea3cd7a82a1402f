// Package cgo calls C: the enclave modes refuse to run its benchmarks.
package cgo

// int twice(int x) { return 2 * x; }
import "C"

// Twice doubles x in C.
func Twice(x int) int { return int(C.twice(C.int(x))) }
