// Package valgrind lets the workload process talk to Valgrind when it runs
// under it: Valgrind's client requests (valgrind.h), issued as the special
// instruction sequence Valgrind recognises and real CPUs execute as
// no-ops. The counting pass (bench run --counts) runs the workload under
// Cachegrind with the system call trace on, and the workload marks the
// counted repetition's operations in Valgrind's log, so that the system
// calls between the marks are exactly theirs. (Callgrind, whose client
// requests could zero and dump its counters around them, aborts on the Go
// runtime's signals in Valgrind 3.19: threads.c assertion in
// post_signal.)
package valgrind

// Request codes from valgrind.h (Valgrind 3.x; stable ABI).
const (
	reqRunningOnValgrind = 0x1001
	reqPrintfValistByRef = 0x1403
)

// request issues a client request with up to five arguments and returns
// Valgrind's answer, or 0 outside Valgrind.
func request(code uintptr, args ...uintptr) uintptr {
	var a [6]uintptr
	a[0] = code
	copy(a[1:], args)
	return clientRequest(&a)
}

// Running reports whether the process runs under Valgrind.
func Running() bool { return request(reqRunningOnValgrind) != 0 }

// Mark writes msg and a newline into Valgrind's log, between the lines of
// its system call trace (--trace-syscalls=yes): the counting pass counts
// the system calls between two marks.
func Mark(msg string) {
	b := append([]byte(msg), '\n', 0)
	var valist [4]uintptr // a va_list's size; the format has no verbs, so nothing is read from it
	request(reqPrintfValistByRef, addr(&b[0]), addr2(&valist[0]))
	keep(b)
}
