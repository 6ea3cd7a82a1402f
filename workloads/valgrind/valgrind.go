// Package valgrind lets the workload process talk to Valgrind when it runs
// under it: Valgrind's client requests (valgrind.h), issued as the special
// instruction sequence Valgrind recognises and real CPUs execute as
// no-ops. The counting pass (bench run --counts) runs the workload under
// Callgrind with instrumentation off at start and the system call trace
// on: the workload switches instrumentation on before its setup (or after
// it, then repeats the end of the setup's last pass over its data:
// workload.Spec CountWarm, Env.WarmBytes), dumps Callgrind's counters around each measured repetition, and marks
// the repetition's operations in Valgrind's log, so that the system calls
// between the marks are exactly theirs.
package valgrind

// Request codes from valgrind.h (Valgrind 3.x; stable ABI).
const (
	reqRunningOnValgrind = 0x1001
	reqPrintfValistByRef = 0x1403
)

// Callgrind's request codes (callgrind.h): VG_USERREQ_TOOL_BASE('C','T')
// = 'C'<<24 | 'T'<<16, then DUMP_STATS, ZERO_STATS, TOGGLE_COLLECT,
// DUMP_STATS_AT, START_INSTRUMENTATION, STOP_INSTRUMENTATION in order.
// Other tools ignore them.
const (
	reqCallgrindBase      = 'C'<<24 | 'T'<<16
	reqDumpStatsAt        = reqCallgrindBase + 3
	reqStartInstrumenting = reqCallgrindBase + 4
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

// StartInstrumentation makes Callgrind (run with --instr-atstart=no)
// instrument the code from here on: what ran before (start-up, and the
// setup of a workload with workload.Spec.CountWarm) ran at the speed of an
// uninstrumented Valgrind and is not counted.
func StartInstrumentation() { request(reqStartInstrumenting) }

// DumpStats makes Callgrind write its counters since the last zeroing or
// dump into a new output file whose trigger is "Client Request: " + name,
// and zero them.
func DumpStats(name string) {
	b := append([]byte(name), 0)
	request(reqDumpStatsAt, addr(&b[0]))
	keep(b)
}
