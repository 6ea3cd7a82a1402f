//go:build linux && sim && cgo

// The software EPC's fault handler: a C pthread that owns the region's
// metadata. See doc.go for the design.

#ifndef SWEPC_HANDLER_H
#define SWEPC_HANDLER_H

#include <stdint.h>

#define SWEPC_PAGE 4096
#define SWEPC_TAG 16
#define SWEPC_SLOT (SWEPC_PAGE + SWEPC_TAG)

// How the userfaultfd is obtained (swepc_uffd_open).
enum {
	SWEPC_OPEN_SYSCALL = 1,  // userfaultfd(2), kernel faults too
	SWEPC_OPEN_DEV = 2,      // /dev/userfaultfd, USERFAULTFD_IOC_NEW
	SWEPC_OPEN_USERMODE = 3, // userfaultfd(2) with UFFD_USER_MODE_ONLY
};

// Page states (low bits of swepc.pg[i]).
enum {
	SWEPC_NEVER = 0,    // never touched: a hole in the memfd
	SWEPC_RESIDENT = 1, // in the memfd (mapped or aged)
	SWEPC_EVICTED = 2,  // sealed in the backing store; a hole in the memfd
	SWEPC_POISONED = 3, // failed verification; poison PTE installed
};

// Counters, written by the handler thread only (atomic stores), read by Go
// through swepc_get_stats.
typedef struct swepc_stats {
	uint64_t loads;              // evicted page decrypted, verified, mapped (ELDU)
	uint64_t evictions;          // resident page sealed out and dropped (EWB)
	uint64_t first_touch;        // never-written page mapped as zeros
	uint64_t refaults;           // aged page touched again (CLOCK reference)
	uint64_t aged;               // reference bit cleared by the CLOCK hand
	uint64_t faults;             // fault messages handled
	uint64_t stale;              // messages for pages that were already mapped
	uint64_t fault_ns;           // handler time for fault messages
	uint64_t evict_ns;           // part of fault_ns spent choosing and evicting victims
	uint64_t integrity_failures; // backing pages that failed verification
	uint64_t resident;           // pages resident now (gauge)
} swepc_stats;

typedef struct swepc swepc;

// Open a userfaultfd (O_CLOEXEC|O_NONBLOCK); -1 and *err = errno on failure.
int swepc_uffd_open(int how, int *err);
// UFFDIO_API: want = features to enable; *avail = features available.
int swepc_uffd_api(int fd, uint64_t want, uint64_t *avail, int *err);

// swepc_new takes ownership of uffd (on success and failure alike).
// npages > 0, 0 < cap <= npages. On failure returns NULL and writes a
// one-line reason to why.
swepc *swepc_new(int uffd, int poison_ok, uint64_t npages, uint64_t cap, int quiet, char *why, int whylen);
// swepc_adopt puts an existing MAP_SHARED mapping of memfd at base (npages
// pages) under the software EPC; it takes ownership of uffd and memfd, never
// of the mapping. Pages the memfd already holds are resident.
swepc *swepc_adopt(int uffd, int poison_ok, int memfd, uint64_t base, uint64_t npages, uint64_t cap, int quiet, char *why, int whylen);
void *swepc_base(swepc *r);
void swepc_get_stats(swepc *r, swepc_stats *out);
// Per-page load and eviction counters (npages each, written by the handler
// with relaxed atomic stores; monotonic), for attribution by region.
void swepc_page_counts(swepc *r, const uint32_t **loads, const uint32_t **evicts);
// swepc_share_stats moves the counters to mem (their current values copied),
// which may be a MAP_SHARED mapping another process reads after this one
// exits; mem must outlive the region.
void swepc_share_stats(swepc *r, swepc_stats *mem);
// First integrity failure: returns 1 and fills page/version/addr, else 0.
int swepc_get_error(swepc *r, uint64_t *page, uint64_t *version, uint64_t *addr);
void swepc_close(swepc *r);

// Test hooks (take the handler's lock).
int swepc_test_state(swepc *r, uint64_t page);
int swepc_test_flip(swepc *r, uint64_t page, uint64_t off);
int swepc_test_get_slot(swepc *r, uint64_t page, void *out);
int swepc_test_put_slot(swepc *r, uint64_t page, const void *in);

#endif
