package sites

import "strings"

// advice is one line for an OCALL pattern that has a known fix, or "".
// The facts behind each: workloads/trace's package doc and classify_amd64.go
// (what EGo forwards, Open Enclave's 16 KiB OCALL buffer), and
// ../shared/reference/sgx-facts.md (EGo's clock).
func advice(cause string, fr []frame) string {
	has := func(fn string) bool {
		for _, f := range fr {
			if f.fn == fn {
				return true
			}
		}
		return false
	}
	switch {
	case cause == "oe_host_malloc" || cause == "oe_host_free":
		return "each read or write whose buffer (with its arguments) exceeds Open Enclave's 16 KiB OCALL buffer makes two more OCALLs to allocate and free host memory: move data in chunks under 16 KiB (16 KiB less ~256 B)"
	case has("time.Now"):
		return "time.Now: EGo reads the host's coarse vDSO clock inside the enclave (4 ms steps), but with ERT_DISABLE_VDSO_CLOCK=1 every read is an OCALL: read the clock once per batch, not per operation"
	case (cause == "read" || cause == "recvfrom" || cause == "recvmsg") && has("internal/poll.(*FD).Read"):
		return "reads through Go's netpoller: a read that finds no data (EAGAIN) is an OCALL too, then a wait; read more per call (a larger bufio.Reader) so fewer reads come back empty"
	case cause == "futex_wait" || cause == "futex_wake":
		return "threads parking and waking (goroutine handoffs): each wait that blocks and each wake of a waiting thread is an OCALL; fewer handoffs per operation (batch work per goroutine) make fewer"
	case cause == "epoll_pwait" || cause == "epoll_wait":
		return "the netpoller waiting for I/O: one OCALL per wait; fewer, larger messages make fewer waits"
	case cause == "thread_create" || cause == StackECall:
		return "a new OS thread (an OCALL, then an ECALL as it enters): threads the runtime starts mid-run (blocking system calls, LockOSThread) cost both"
	case cause == "write" || cause == "writev" || cause == "sendto" || cause == "sendmsg" || cause == "pwrite64":
		return "one OCALL per write: buffer small writes (bufio.Writer) so that each call carries more"
	}
	return ""
}

// StackECall is the cause workloads/trace gives ECALLs.
const StackECall = "ecall"

// regionAdvice is one line for EPC loads in a region.
func regionAdvice(region string) string {
	switch {
	case region == "go_heap":
		return "the Go heap does not fit the usable EPC: each load is a heap page evicted and needed back; lower the live heap (GOMEMLIMIT under the usable EPC, smaller caches) or pick a size with more EPC"
	case region == "arena":
		return "the workload's data does not fit the usable EPC: pick a size with more EPC, or touch less of it per operation"
	case region == "stacks":
		return "goroutine stacks are paged: fewer live goroutines (a worker pool) keep them resident"
	case strings.HasPrefix(region, "runtime"):
		return "the runtime's own memory (collector and allocator metadata) is paged: it grows with the heap; a smaller heap shrinks it"
	}
	return ""
}
