//go:build linux && sim

// Package swepc is the software EPC of the sim mode: a region of memory
// whose resident pages are capped like an SGX enclave page cache, with real
// page faults, CLOCK eviction to an encrypted and integrity-protected
// backing store, and counted loads and evictions.
//
// The package exists only in builds with the tag sim (and needs cgo and
// Linux), so plain `go build` and `ego-go build` of the workload binary stay
// pure Go.
//
// # What is emulated
//
// SGX keeps enclave pages in the EPC. When the EPC is full the kernel's
// reclaimer (ksgxd, torvalds/linux arch/x86/kernel/cpu/sgx/main.c) evicts
// pages with EWB: it encrypts the page, MACs it together with a version
// number kept in a version-array (VA) slot inside the EPC, and writes it to
// ordinary memory. A later access faults, and the driver reloads the page
// with ELDU, which decrypts it and checks the MAC against the VA slot, so a
// tampered or replayed (older) copy is refused. Here:
//
//   - Region.Bytes is a MAP_SHARED mapping of a memfd, registered with a
//     userfaultfd for MISSING and MINOR faults. At most cap pages of the
//     memfd hold data ("resident"); every other page is a hole.
//   - A first touch of a never-written page maps zeros and counts as
//     epc_first_touch, not as a load: on SGX1 every enclave page is added
//     (EADD) and measured when the enclave is built, so touching it the
//     first time is not an ELDU. (With SGX2 EAUG the first touch would be
//     an EPC allocation; it is still not a load.) It may still need a
//     victim to be evicted when the cap is reached.
//   - An eviction (epc_evictions) reads the page from the memfd, seals it
//     with AES-256-GCM into its backing slot and punches the page out of the
//     memfd. A later fault on the page is a load (epc_loads): the slot is
//     decrypted and verified into a bounce buffer and only then mapped with
//     UFFDIO_COPY.
//   - The nonce is le32(page) || le64(version) and the AAD is
//     "swepc/v1" || le64(page) || le64(version); the version array lives in
//     the handler's private memory (the VA) and grows by one at every
//     eviction of the page; the key is random per region. So a slot copied
//     from another page, an older copy of the same page (replay) or a
//     flipped bit fails the GCM tag check.
//   - A page that fails verification is never mapped. The handler records
//     the failure (Region.Err, counter epc_integrity_failures), writes one
//     line to stderr ("swepc: integrity check failed loading page ...") and
//     poisons the address with UFFDIO_POISON (Linux >= 6.6): the faulting
//     thread gets SIGBUS, which kills a Go program with "unexpected fault
//     address" (or becomes a panic under debug.SetPanicOnFault, which is how
//     the tests observe it). Where the kernel cannot poison, the process
//     exits with status 86 after the stderr line. Wrong data is never read.
//
// # CLOCK and the reference bit
//
// When a page must come in and cap pages are resident, a CLOCK hand (second
// chance) walks the ring of resident frames: a page referenced since the
// hand last passed loses its reference and stays; the first unreferenced
// page is evicted. This approximates ksgxd, which ages EPC pages through the
// accessed bit of their PTEs (sgx_reclaimer_age -> ptep_test_and_clear_young)
// and moves young pages back to the tail of its active list instead of
// evicting them.
//
// User space cannot read or clear the PTE accessed bit, so "referenced" is
// emulated exactly with faults: when the hand clears a page's reference it
// also removes the page's PTE with MADV_DONTNEED. Because the region is a
// shared memfd mapping, that drops only the mapping; the data stays in the
// memfd. The next access of the page, read or write, takes a MINOR
// userfault, which sets the reference and maps the page again with
// UFFDIO_CONTINUE (counted as epc_refaults, aging as epc_aged). So a page is
// referenced exactly when it was accessed after the hand passed it, as with
// the accessed bit, at the price of one minor fault per aged page that is
// used again. Pages are aged only while the hand looks for a victim, so a
// working set under the cap costs nothing.
//
// # No write is lost during an eviction
//
// A victim is always unreferenced, hence already unmapped: its PTE was
// removed when it was aged, and MADV_DONTNEED returns only after the TLBs
// are flushed. From then on any access, read or write, by any thread, in
// user or (for full userfaultfds) kernel mode, faults and waits for the
// handler, which is busy evicting; it is answered only afterwards, from the
// sealed copy. This is what SGX's EBLOCK/ETRACK do before EWB, and it is
// stronger than write-protecting the page with UFFDIO_WRITEPROTECT during
// the copy: there is no window in which a write can land between copying
// the page out and dropping it, and no write-protect state to undo. The
// handler reads the page out with pread on the memfd (the region itself is
// never touched by the handler).
//
// # The fault handler is a C thread
//
// A goroutine blocked on a userfault keeps its P: the runtime does not know
// the thread is waiting in the kernel. A handler written as a goroutine can
// therefore wait for a preemption tick (10 ms) or forever at GOMAXPROCS=1.
// Here the whole fault loop (read the userfaultfd, decide, seal/unseal with
// OpenSSL's EVP AES-256-GCM, UFFDIO_COPY/CONTINUE/POISON, CLOCK) runs on a
// pthread started from C (handler.c) that never calls into Go and blocks all
// signals. It owns all page metadata; Go reads the counters with atomic
// loads. Faults are resolved in microseconds at any GOMAXPROCS, see
// BenchmarkFaultGOMAXPROCS1.
//
// After answering a fault the thread keeps reading the userfaultfd for
// 50 us before it sleeps, where its CPU affinity allows another CPU: a
// paging thread faults again within microseconds, and waking a sleeping
// handler through the scheduler cost more than the handler's work on a
// 2-vCPU VM (87-93 us per fault of which 30-33 us in the handler, against
// 40-45 us spinning). The emulation's time is in no timed figure (the
// paging pass counts), so this changes how long a sim run takes, not what
// it reports.
//
// # Obtaining a userfaultfd
//
// New tries, in order: userfaultfd(2) without flags (needs CAP_SYS_PTRACE
// or vm.unprivileged_userfaultfd=1; handles kernel-mode faults too, so
// syscalls may read or write the region), /dev/userfaultfd with
// USERFAULTFD_IOC_NEW (needs access to the device, Linux >= 6.1; same
// power), and userfaultfd(2) with UFFD_USER_MODE_ONLY (allowed to everyone
// since Linux 5.11; a syscall that touches a non-resident page of the region
// then fails with EFAULT instead of faulting it in, so workloads should
// touch the region only from user code). The environment variable
// ENCLAVEBENCH_SWEPC_UFFD=syscall|dev|usermode|deny forces one way ("deny"
// behaves as if none were permitted, to exercise the fallback). When none
// works New returns a one-line *DeniedError naming the permission needed.
// The kernel must support minor faults on shmem (Linux >= 5.14).
//
// # Limits
//
// Pages are 4 KiB. The region is at most 2^32-1 pages. Memory pinned by
// in-flight I/O (O_DIRECT, io_uring fixed buffers) must not be evicted,
// which the software EPC cannot know; SGX enclaves cannot do such I/O into
// the EPC either. The version array and backing store are not charged to
// the cap (on SGX the VA pages occupy EPC too).
package swepc
