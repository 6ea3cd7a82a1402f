//go:build linux && sim && cgo

// The software EPC's fault handler. Everything here runs on one C pthread
// (swepc_loop) that the Go runtime does not know about, so faults are
// resolved whatever the Go scheduler does. See doc.go for the design.

#define _GNU_SOURCE
#include "handler.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif
#ifndef UFFD_FEATURE_MINOR_SHMEM
#define UFFD_FEATURE_MINOR_SHMEM (1 << 10)
#endif
#ifndef UFFDIO_REGISTER_MODE_MINOR
#define UFFDIO_REGISTER_MODE_MINOR ((__u64)1 << 2)
#endif
// UFFDIO_POISON arrived in Linux 6.6; older uapi headers lack it.
#ifndef UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif

// Flags above the state bits of swepc.pg[i].
#define PG_STATE 0x03
#define PG_REF 0x10    // referenced since the CLOCK hand last passed
#define PG_MAPPED 0x20 // a PTE maps it in the region (not aged)

// Exit status when a page fails verification and the kernel cannot poison
// the faulting address (Linux < 6.6).
#define SWEPC_EXIT_INTEGRITY 86

struct swepc {
	int uffd, memfd, stopfd;
	int poison_ok, quiet;
	int adopted;   // base belongs to the Go runtime (the process EPC): never unmapped
	uint8_t *base; // the region: MAP_SHARED of memfd, registered MISSING|MINOR
	uint64_t npages, cap;
	uint8_t *pg;      // per page: state | PG_REF | PG_MAPPED
	uint64_t *ver;    // per page: version of its sealed copy (the "VA slot")
	uint32_t *nload;  // per page: loads (for the attribution of loads by region)
	uint32_t *nevict; // per page: evictions
	uint32_t *frames; // CLOCK ring of resident pages, cap entries
	uint32_t *pend;   // pages aged but not yet unmapped (see age), cap entries
	uint64_t npend;
	uint64_t used, hand;
	uint8_t *backing; // sealed pages: npages slots of ciphertext || tag
	uint8_t *bufs;    // three pages: load plaintext, evict plaintext, zeros
	EVP_CIPHER_CTX *enc, *dec;
	unsigned char key[32];
	pthread_t thr;
	int started;
	pthread_mutex_t mu; // held by the handler while it handles a batch
	swepc_stats st_own;
	swepc_stats *st; // st_own, or memory another process reads (swepc_share_stats)
	int err_set;
	uint64_t err_page, err_version, err_addr;
};

#define STAT_ADD(r, f, d) __atomic_fetch_add(&__atomic_load_n(&(r)->st, __ATOMIC_ACQUIRE)->f, (uint64_t)(d), __ATOMIC_RELAXED)

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// die reports a broken invariant of the handler itself and ends the process:
// the faulting threads could never be resumed correctly.
static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0) n = 0;
	if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
	line[n++] = '\n';
	static const char pfx[] = "swepc: fatal: ";
	(void)!write(2, pfx, sizeof pfx - 1);
	(void)!write(2, line, (size_t)n);
	abort();
}

static void *amap(size_t n) {
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int swepc_uffd_open(int how, int *err) {
	int fd = -1;
	*err = 0;
	switch (how) {
	case SWEPC_OPEN_SYSCALL:
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		break;
	case SWEPC_OPEN_USERMODE:
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
		break;
	case SWEPC_OPEN_DEV: {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			*err = errno;
			return -1;
		}
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		int e = errno;
		close(dev);
		errno = e;
		break;
	}
	default:
		errno = EINVAL;
	}
	if (fd < 0) *err = errno;
	return fd;
}

int swepc_uffd_api(int fd, uint64_t want, uint64_t *avail, int *err) {
	struct uffdio_api a = {.api = UFFD_API, .features = want};
	if (ioctl(fd, UFFDIO_API, &a) < 0) {
		*err = errno;
		return -1;
	}
	*avail = a.features;
	return 0;
}

// ---- sealing: AES-256-GCM, nonce and AAD bound to (page, version) ----

static void le64(uint8_t *b, uint64_t v) {
	for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

// nonce = le32(page) || le64(version); aad = "swepc/v1" || le64(page) || le64(version).
// (page, version) never repeats under one region key: version grows with
// every eviction of the page and the key is fresh per region.
static void nonce_aad(uint8_t iv[12], uint8_t aad[24], uint64_t page, uint64_t version) {
	for (int i = 0; i < 4; i++) iv[i] = (uint8_t)(page >> (8 * i));
	le64(iv + 4, version);
	memcpy(aad, "swepc/v1", 8);
	le64(aad + 8, page);
	le64(aad + 16, version);
}

static int seal(swepc *r, uint64_t page, uint64_t version, const uint8_t *in, uint8_t *slot) {
	uint8_t iv[12], aad[24];
	int n;
	nonce_aad(iv, aad, page, version);
	if (EVP_EncryptInit_ex(r->enc, NULL, NULL, NULL, iv) != 1) return -1;
	if (EVP_EncryptUpdate(r->enc, NULL, &n, aad, sizeof aad) != 1) return -1;
	if (EVP_EncryptUpdate(r->enc, slot, &n, in, SWEPC_PAGE) != 1 || n != SWEPC_PAGE) return -1;
	if (EVP_EncryptFinal_ex(r->enc, slot + SWEPC_PAGE, &n) != 1) return -1;
	if (EVP_CIPHER_CTX_ctrl(r->enc, EVP_CTRL_GCM_GET_TAG, SWEPC_TAG, slot + SWEPC_PAGE) != 1) return -1;
	return 0;
}

// unseal returns 0 when the slot decrypts and its tag verifies for the
// page's current version, -1 otherwise (out is then garbage, never mapped).
static int unseal(swepc *r, uint64_t page, uint64_t version, const uint8_t *slot, uint8_t *out) {
	uint8_t iv[12], aad[24], tag[SWEPC_TAG];
	int n;
	nonce_aad(iv, aad, page, version);
	memcpy(tag, slot + SWEPC_PAGE, SWEPC_TAG);
	if (EVP_DecryptInit_ex(r->dec, NULL, NULL, NULL, iv) != 1) return -1;
	if (EVP_DecryptUpdate(r->dec, NULL, &n, aad, sizeof aad) != 1) return -1;
	if (EVP_DecryptUpdate(r->dec, out, &n, slot, SWEPC_PAGE) != 1 || n != SWEPC_PAGE) return -1;
	if (EVP_CIPHER_CTX_ctrl(r->dec, EVP_CTRL_GCM_SET_TAG, SWEPC_TAG, tag) != 1) return -1;
	if (EVP_DecryptFinal_ex(r->dec, out + n, &n) != 1) return -1;
	return 0;
}

// ---- the handler ----

static uint8_t *page_addr(swepc *r, uint64_t p) { return r->base + p * SWEPC_PAGE; }

static void wake(swepc *r, uint64_t p) {
	struct uffdio_range rg = {.start = (uint64_t)(uintptr_t)page_addr(r, p), .len = SWEPC_PAGE};
	if (ioctl(r->uffd, UFFDIO_WAKE, &rg) < 0) die("UFFDIO_WAKE page %llu: %s", (unsigned long long)p, strerror(errno));
}

// zap removes the page's PTE (the page stays in the memfd). After it
// returns no CPU can reach the page through the region (the kernel has
// flushed the TLBs), so the next access faults into this handler.
static void zap(swepc *r, uint64_t p) {
	if (madvise(page_addr(r, p), SWEPC_PAGE, MADV_DONTNEED) < 0)
		die("madvise(MADV_DONTNEED) page %llu: %s", (unsigned long long)p, strerror(errno));
	r->pg[p] &= (uint8_t)~PG_MAPPED;
}

static int cmp_u32(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

// unmap_aged removes the PTEs of the pages aged since the last call, one
// madvise per run of consecutive pages: every madvise ends with a TLB
// flush, the dominant cost of aging.
static void unmap_aged(swepc *r) {
	if (r->npend == 0) return;
	qsort(r->pend, r->npend, sizeof r->pend[0], cmp_u32);
	for (uint64_t i = 0; i < r->npend;) {
		uint64_t j = i + 1;
		while (j < r->npend && r->pend[j] == r->pend[j - 1] + 1) j++;
		if (madvise(page_addr(r, r->pend[i]), (j - i) * SWEPC_PAGE, MADV_DONTNEED) < 0)
			die("madvise(MADV_DONTNEED) pages %u+%llu: %s", r->pend[i], (unsigned long long)(j - i), strerror(errno));
		i = j;
	}
	r->npend = 0;
}

// age clears the CLOCK reference of a resident page and unmaps it so that
// the next access (read or write) re-faults as a minor fault and sets it.
// The unmapping is batched (unmap_aged) until the hand stops, which is
// before any fault is answered or any page is evicted.
static void age(swepc *r, uint64_t p) {
	r->pg[p] &= (uint8_t)~PG_REF;
	if (r->pg[p] & PG_MAPPED) {
		r->pg[p] &= (uint8_t)~PG_MAPPED;
		r->pend[r->npend++] = (uint32_t)p;
	}
	STAT_ADD(r, aged, 1);
}

// evict seals resident page p into its backing slot (EWB) and drops it.
static void evict(swepc *r, uint64_t p) {
	// Invariant: an unreferenced page is unmapped (age unmapped it), so no
	// thread can read or write it while it is sealed; any access faults and
	// waits for this thread. Zap anyway if the invariant was ever broken.
	if (r->pg[p] & PG_MAPPED) zap(r, p);
	uint8_t *plain = r->bufs + SWEPC_PAGE;
	off_t off = (off_t)(p * SWEPC_PAGE);
	size_t got = 0;
	while (got < SWEPC_PAGE) {
		ssize_t n = pread(r->memfd, plain + got, SWEPC_PAGE - got, off + (off_t)got);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) die("pread page %llu: %s", (unsigned long long)p, n < 0 ? strerror(errno) : "short read");
		got += (size_t)n;
	}
	uint64_t v = r->ver[p] + 1;
	r->ver[p] = v;
	if (seal(r, p, v, plain, r->backing + p * SWEPC_SLOT) != 0) die("AES-GCM seal of page %llu failed", (unsigned long long)p);
	if (fallocate(r->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, SWEPC_PAGE) < 0)
		die("fallocate(PUNCH_HOLE) page %llu: %s", (unsigned long long)p, strerror(errno));
	r->pg[p] = SWEPC_EVICTED;
	__atomic_store_n(&r->nevict[p], r->nevict[p] + 1, __ATOMIC_RELAXED);
	STAT_ADD(r, evictions, 1);
}

// make_room returns a free frame, evicting the CLOCK victim when all cap
// frames hold pages.
static uint64_t make_room(swepc *r) {
	if (r->used < r->cap) {
		__atomic_store_n(&__atomic_load_n(&r->st, __ATOMIC_ACQUIRE)->resident, r->used + 1, __ATOMIC_RELAXED);
		return r->used++;
	}
	uint64_t t0 = now_ns();
	for (;;) {
		uint64_t f = r->hand;
		uint32_t q = r->frames[f];
		r->hand = f + 1 == r->cap ? 0 : f + 1;
		if (r->pg[q] & PG_REF) {
			age(r, q); // second chance
			continue;
		}
		unmap_aged(r); // q among them when the hand went all the way round
		evict(r, q);
		STAT_ADD(r, evict_ns, now_ns() - t0);
		return f;
	}
}

static void integrity_failure(swepc *r, uint64_t p) {
	uint64_t addr = (uint64_t)(uintptr_t)page_addr(r, p);
	STAT_ADD(r, integrity_failures, 1);
	if (!r->err_set) {
		r->err_page = p;
		r->err_version = r->ver[p];
		r->err_addr = addr;
		__atomic_store_n(&r->err_set, 1, __ATOMIC_RELEASE);
	}
	if (!r->quiet || !r->poison_ok) {
		char line[400];
		int n = snprintf(line, sizeof line,
		                 "swepc: integrity check failed loading page %llu at %#llx (version %llu): "
		                 "its sealed backing copy was tampered with or replayed; refusing to map it%s\n",
		                 (unsigned long long)p, (unsigned long long)addr, (unsigned long long)r->ver[p],
		                 r->poison_ok ? "; the faulting thread gets SIGBUS" : "; exiting");
		if (n > 0) (void)!write(2, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
	}
	if (!r->poison_ok) _exit(SWEPC_EXIT_INTEGRITY);
	struct uffdio_poison ps = {.range = {.start = addr, .len = SWEPC_PAGE}, .mode = 0};
	while (ioctl(r->uffd, UFFDIO_POISON, &ps) < 0) {
		if (errno == EAGAIN) continue;
		die("UFFDIO_POISON page %llu: %s", (unsigned long long)p, strerror(errno));
	}
	r->pg[p] = SWEPC_POISONED;
}

// load maps a page that is not in the memfd: zeros for a first touch, the
// verified plaintext of its sealed copy for an evicted page (ELDU).
static void load(swepc *r, uint64_t p, int sealed) {
	const uint8_t *src = r->bufs + 2 * SWEPC_PAGE; // zeros
	if (sealed) {
		uint8_t *plain = r->bufs;
		if (unseal(r, p, r->ver[p], r->backing + p * SWEPC_SLOT, plain) != 0) {
			integrity_failure(r, p);
			return;
		}
		src = plain;
	}
	uint64_t f = make_room(r);
	r->frames[f] = (uint32_t)p;
	r->pg[p] = SWEPC_RESIDENT | PG_REF | PG_MAPPED;
	// Count before UFFDIO_COPY wakes the faulting thread, so that a thread
	// reading the counters after its own access sees this fault.
	if (sealed) {
		__atomic_store_n(&r->nload[p], r->nload[p] + 1, __ATOMIC_RELAXED);
		STAT_ADD(r, loads, 1);
	} else
		STAT_ADD(r, first_touch, 1);
	struct uffdio_copy c = {
	    .dst = (uint64_t)(uintptr_t)page_addr(r, p), .src = (uint64_t)(uintptr_t)src, .len = SWEPC_PAGE, .mode = 0};
	while (ioctl(r->uffd, UFFDIO_COPY, &c) < 0) {
		if (errno == EAGAIN && c.copy <= 0) {
			c.copy = 0;
			continue;
		}
		die("UFFDIO_COPY page %llu: %s", (unsigned long long)p, strerror(errno));
	}
}

// map_resident answers a fault on a page that is in the memfd: an aged page
// touched again (minor fault: the CLOCK reference), or a late or duplicate
// message for a page that is mapped already.
static void map_resident(swepc *r, uint64_t p) {
	if (r->pg[p] & PG_MAPPED)
		STAT_ADD(r, stale, 1);
	else
		STAT_ADD(r, refaults, 1);
	r->pg[p] |= PG_REF | PG_MAPPED;
	struct uffdio_continue c = {.range = {.start = (uint64_t)(uintptr_t)page_addr(r, p), .len = SWEPC_PAGE}, .mode = 0};
	while (ioctl(r->uffd, UFFDIO_CONTINUE, &c) < 0) {
		if (errno == EAGAIN && c.mapped <= 0) {
			c.mapped = 0;
			continue;
		}
		if (errno == EEXIST) { // already mapped (kernel kept or restored the PTE)
			wake(r, p);
			return;
		}
		die("UFFDIO_CONTINUE page %llu: %s", (unsigned long long)p, strerror(errno));
	}
}

static void handle(swepc *r, const struct uffd_msg *m) {
	if (m->event != UFFD_EVENT_PAGEFAULT) return; // no other events are enabled
	uint64_t t0 = now_ns();
	uint64_t base = (uint64_t)(uintptr_t)r->base;
	uint64_t addr = m->arg.pagefault.address & ~(uint64_t)(SWEPC_PAGE - 1);
	if (addr < base || addr - base >= r->npages * SWEPC_PAGE) die("fault at %#llx outside the region", (unsigned long long)addr);
	uint64_t p = (addr - base) / SWEPC_PAGE;
	// The page's state, not the message's kind, decides: messages can be
	// late (another message already resolved the page) or duplicated (a
	// signal interrupted the faulting thread, which then faulted again).
	switch (r->pg[p] & PG_STATE) {
	case SWEPC_RESIDENT:
		map_resident(r, p);
		break;
	case SWEPC_NEVER:
		load(r, p, 0);
		break;
	case SWEPC_EVICTED:
		load(r, p, 1);
		break;
	default: // poisoned: the PTE marker raises SIGBUS without asking us
		STAT_ADD(r, stale, 1);
		wake(r, p);
	}
	STAT_ADD(r, faults, 1);
	STAT_ADD(r, fault_ns, now_ns() - t0);
}

// SWEPC_SPIN_NS is how long the handler keeps reading the userfaultfd
// after answering a fault before it sleeps in poll. A thread that pages
// faults again within microseconds of being answered (a sweep reads a
// page in ~0.1 us); a handler asleep by then is woken through the
// scheduler, which on a 2-vCPU VM cost more than the handler's work
// (BenchmarkFaultGOMAXPROCS1: 87-93 us per fault, 30-33 us of it in the
// handler, the rest mostly context switches and wake-ups).
#define SWEPC_SPIN_NS 50000

// may_spin: spinning pays only when the faulting thread can run on
// another CPU meanwhile; where this thread shares the only CPU it may use
// (a DC1s_v2 cell pinned to one), spinning would keep that thread waiting.
static int may_spin(void) {
	cpu_set_t set;
	CPU_ZERO(&set);
	return sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 1;
}

static void *swepc_loop(void *arg) {
	swepc *r = arg;
	struct uffd_msg msgs[16];
	struct pollfd pf[2] = {{.fd = r->uffd, .events = POLLIN}, {.fd = r->stopfd, .events = POLLIN}};
	int spin = may_spin();
	uint64_t answered = 0; // when the last batch was answered (0: never, or slept since)
	for (;;) {
		ssize_t n = read(r->uffd, msgs, sizeof msgs);
		if (n < 0) {
			if (errno == EINTR) continue;
			if (errno != EAGAIN) die("read userfaultfd: %s", strerror(errno));
			if (spin && answered && now_ns() - answered < SWEPC_SPIN_NS) {
				__builtin_ia32_pause();
				continue;
			}
			answered = 0;
			if (poll(pf, 2, -1) < 0 && errno != EINTR) die("poll userfaultfd: %s", strerror(errno));
			if (pf[1].revents) return NULL;
			continue;
		}
		if (n == 0 || n % (ssize_t)sizeof msgs[0] != 0) die("read userfaultfd: odd size %zd", n);
		pthread_mutex_lock(&r->mu);
		for (ssize_t i = 0; i < n / (ssize_t)sizeof msgs[0]; i++) handle(r, &msgs[i]);
		pthread_mutex_unlock(&r->mu);
		if (spin) answered = now_ns();
	}
}

// ---- lifetime ----

static void destroy(swepc *r) {
	size_t len = r->npages * SWEPC_PAGE;
	if (r->base && !r->adopted) munmap(r->base, len); // before closing uffd: late accesses crash instead of reading zeros
	if (r->uffd >= 0) close(r->uffd);
	if (r->memfd >= 0) close(r->memfd);
	if (r->stopfd >= 0) close(r->stopfd);
	if (r->pg) munmap(r->pg, r->npages);
	if (r->ver) munmap(r->ver, r->npages * sizeof r->ver[0]);
	if (r->nload) munmap(r->nload, r->npages * sizeof r->nload[0]);
	if (r->nevict) munmap(r->nevict, r->npages * sizeof r->nevict[0]);
	if (r->frames) munmap(r->frames, r->cap * sizeof r->frames[0]);
	if (r->pend) munmap(r->pend, r->cap * sizeof r->pend[0]);
	if (r->backing) munmap(r->backing, r->npages * SWEPC_SLOT);
	if (r->bufs) munmap(r->bufs, 3 * SWEPC_PAGE);
	if (r->enc) EVP_CIPHER_CTX_free(r->enc);
	if (r->dec) EVP_CIPHER_CTX_free(r->dec);
	OPENSSL_cleanse(r->key, sizeof r->key);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static swepc *fail(swepc *r, char *why, int whylen, const char *what, int err) {
	if (err)
		snprintf(why, (size_t)whylen, "%s: %s", what, strerror(err));
	else
		snprintf(why, (size_t)whylen, "%s", what);
	destroy(r);
	return NULL;
}

static int crypt_init(EVP_CIPHER_CTX **ctx, int enc, const unsigned char *key) {
	*ctx = EVP_CIPHER_CTX_new();
	if (!*ctx) return -1;
	if (EVP_CipherInit_ex(*ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1) return -1;
	if (EVP_CIPHER_CTX_ctrl(*ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1) return -1;
	if (EVP_CipherInit_ex(*ctx, NULL, NULL, key, NULL, enc) != 1) return -1;
	return 0;
}

static swepc *alloc_region(int uffd, int poison_ok, uint64_t npages, uint64_t cap, int quiet, char *why, int whylen) {
	swepc *r = calloc(1, sizeof *r);
	if (!r) {
		close(uffd);
		snprintf(why, (size_t)whylen, "out of memory");
		return NULL;
	}
	r->uffd = uffd;
	r->memfd = -1;
	r->stopfd = -1;
	r->poison_ok = poison_ok;
	r->quiet = quiet;
	r->npages = npages;
	r->cap = cap;
	pthread_mutex_init(&r->mu, NULL);
	r->st = &r->st_own;
	if (npages == 0 || npages > UINT32_MAX || cap == 0 || cap > npages) return fail(r, why, whylen, "bad region geometry", 0);
	return r;
}

static swepc *setup(swepc *r, char *why, int whylen);
static int seed(swepc *r, char *why, int whylen);
static swepc *start(swepc *r, char *why, int whylen);

swepc *swepc_new(int uffd, int poison_ok, uint64_t npages, uint64_t cap, int quiet, char *why, int whylen) {
	swepc *r = alloc_region(uffd, poison_ok, npages, cap, quiet, why, whylen);
	if (!r) return NULL;
	size_t len = npages * SWEPC_PAGE;
	r->memfd = memfd_create("enclavebench-swepc", MFD_CLOEXEC);
	if (r->memfd < 0) return fail(r, why, whylen, "memfd_create", errno);
	if (ftruncate(r->memfd, (off_t)len) < 0) return fail(r, why, whylen, "ftruncate memfd", errno);
	void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	if (base == MAP_FAILED) return fail(r, why, whylen, "mmap region", errno);
	r->base = base;
	(void)madvise(base, len, MADV_NOHUGEPAGE); // 4 KiB pages only, no khugepaged collapse
	if (!setup(r, why, whylen)) return NULL;
	return start(r, why, whylen);
}

// swepc_adopt puts an existing MAP_SHARED mapping of memfd (the Go
// runtime's process EPC) under the software EPC. Pages already in the memfd
// are resident (counted as first touches); beyond cap, the CLOCK evicts
// them before the handler starts.
swepc *swepc_adopt(int uffd, int poison_ok, int memfd, uint64_t base, uint64_t npages, uint64_t cap, int quiet, char *why, int whylen) {
	swepc *r = alloc_region(uffd, poison_ok, npages, cap, quiet, why, whylen);
	if (!r) {
		close(memfd);
		return NULL;
	}
	r->memfd = memfd;
	r->base = (uint8_t *)(uintptr_t)base;
	r->adopted = 1;
	if (!setup(r, why, whylen)) return NULL;
	if (seed(r, why, whylen) != 0) return NULL;
	return start(r, why, whylen);
}

// seed marks the pages the memfd holds as resident and mapped, in address
// order, evicting with the CLOCK beyond the cap. It runs after the range is
// registered (no page can appear without this handler from then on) and
// before the handler thread starts (faults wait for it meanwhile).
static int seed(swepc *r, char *why, int whylen) {
	off_t len = (off_t)(r->npages * SWEPC_PAGE);
	off_t off = 0;
	while (off < len) {
		off_t data = lseek(r->memfd, off, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO) break; // no data beyond off
			fail(r, why, whylen, "lseek(SEEK_DATA) on the process EPC", errno);
			return -1;
		}
		off_t hole = lseek(r->memfd, data, SEEK_HOLE);
		if (hole < 0) {
			fail(r, why, whylen, "lseek(SEEK_HOLE) on the process EPC", errno);
			return -1;
		}
		if (hole > len) hole = len;
		for (uint64_t p = (uint64_t)data / SWEPC_PAGE; p < (uint64_t)(hole + SWEPC_PAGE - 1) / SWEPC_PAGE; p++) {
			uint64_t f = make_room(r);
			r->frames[f] = (uint32_t)p;
			r->pg[p] = SWEPC_RESIDENT | PG_REF | PG_MAPPED;
			STAT_ADD(r, first_touch, 1);
		}
		off = hole;
	}
	return 0;
}

static swepc *setup(swepc *r, char *why, int whylen) {
	int uffd = r->uffd;
	uint64_t npages = r->npages, cap = r->cap;
	void *base = r->base;
	size_t len = npages * SWEPC_PAGE;
	struct uffdio_register reg = {
	    .range = {.start = (uint64_t)(uintptr_t)base, .len = len},
	    .mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) return fail(r, why, whylen, "UFFDIO_REGISTER (missing|minor on shmem)", errno);
	uint64_t need = (1ull << _UFFDIO_COPY) | (1ull << _UFFDIO_CONTINUE) | (1ull << _UFFDIO_WAKE);
	if (r->poison_ok) need |= 1ull << _UFFDIO_POISON;
	if ((reg.ioctls & need) != need) return fail(r, why, whylen, "userfaultfd range lacks UFFDIO_COPY/CONTINUE/WAKE(/POISON)", 0);

	r->pg = amap(npages);
	r->ver = amap(npages * sizeof r->ver[0]);
	r->nload = amap(npages * sizeof r->nload[0]);
	r->nevict = amap(npages * sizeof r->nevict[0]);
	r->frames = amap(cap * sizeof r->frames[0]);
	r->pend = amap(cap * sizeof r->pend[0]);
	r->backing = amap(npages * SWEPC_SLOT);
	r->bufs = amap(3 * SWEPC_PAGE);
	if (!r->pg || !r->ver || !r->nload || !r->nevict || !r->frames || !r->pend || !r->backing || !r->bufs) return fail(r, why, whylen, "mmap metadata", errno);

	if (getrandom(r->key, sizeof r->key, 0) != (ssize_t)sizeof r->key) return fail(r, why, whylen, "getrandom", errno);
	if (crypt_init(&r->enc, 1, r->key) != 0 || crypt_init(&r->dec, 0, r->key) != 0)
		return fail(r, why, whylen, "OpenSSL EVP AES-256-GCM init failed", 0);

	r->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stopfd < 0) return fail(r, why, whylen, "eventfd", errno);
	return r;
}

static swepc *start(swepc *r, char *why, int whylen) {
	// The handler thread takes no signals: they belong to Go's threads.
	pthread_attr_t attr;
	sigset_t all;
	sigfillset(&all);
	pthread_attr_init(&attr);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	pthread_attr_setsigmask_np(&attr, &all);
	int e = pthread_create(&r->thr, &attr, swepc_loop, r);
#else
	sigset_t old;
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&r->thr, &attr, swepc_loop, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
	pthread_attr_destroy(&attr);
	if (e != 0) return fail(r, why, whylen, "pthread_create", e);
	r->started = 1;
	pthread_setname_np(r->thr, "swepc-fault");
	return r;
}

void *swepc_base(swepc *r) { return r->base; }

void swepc_get_stats(swepc *r, swepc_stats *o) {
	swepc_stats *st = __atomic_load_n(&r->st, __ATOMIC_ACQUIRE);
	o->loads = __atomic_load_n(&st->loads, __ATOMIC_RELAXED);
	o->evictions = __atomic_load_n(&st->evictions, __ATOMIC_RELAXED);
	o->first_touch = __atomic_load_n(&st->first_touch, __ATOMIC_RELAXED);
	o->refaults = __atomic_load_n(&st->refaults, __ATOMIC_RELAXED);
	o->aged = __atomic_load_n(&st->aged, __ATOMIC_RELAXED);
	o->faults = __atomic_load_n(&st->faults, __ATOMIC_RELAXED);
	o->stale = __atomic_load_n(&st->stale, __ATOMIC_RELAXED);
	o->fault_ns = __atomic_load_n(&st->fault_ns, __ATOMIC_RELAXED);
	o->evict_ns = __atomic_load_n(&st->evict_ns, __ATOMIC_RELAXED);
	o->integrity_failures = __atomic_load_n(&st->integrity_failures, __ATOMIC_RELAXED);
	o->resident = __atomic_load_n(&st->resident, __ATOMIC_RELAXED);
}

void swepc_page_counts(swepc *r, const uint32_t **loads, const uint32_t **evicts) {
	*loads = r->nload;
	*evicts = r->nevict;
}

void swepc_share_stats(swepc *r, swepc_stats *mem) {
	pthread_mutex_lock(&r->mu);
	swepc_get_stats(r, mem);
	__atomic_store_n(&r->st, mem, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&r->mu);
}

int swepc_get_error(swepc *r, uint64_t *page, uint64_t *version, uint64_t *addr) {
	if (!__atomic_load_n(&r->err_set, __ATOMIC_ACQUIRE)) return 0;
	*page = r->err_page;
	*version = r->err_version;
	*addr = r->err_addr;
	return 1;
}

void swepc_close(swepc *r) {
	if (r->started) {
		uint64_t one = 1;
		while (write(r->stopfd, &one, sizeof one) < 0 && errno == EINTR) {
		}
		pthread_join(r->thr, NULL);
	}
	destroy(r);
}

// ---- test hooks ----

int swepc_test_state(swepc *r, uint64_t page) {
	if (page >= r->npages) return -1;
	pthread_mutex_lock(&r->mu);
	int s = r->pg[page];
	pthread_mutex_unlock(&r->mu);
	return s;
}

int swepc_test_flip(swepc *r, uint64_t page, uint64_t off) {
	if (page >= r->npages || off >= SWEPC_SLOT) return -1;
	pthread_mutex_lock(&r->mu);
	int ok = (r->pg[page] & PG_STATE) == SWEPC_EVICTED;
	if (ok) r->backing[page * SWEPC_SLOT + off] ^= 0x01;
	pthread_mutex_unlock(&r->mu);
	return ok ? 0 : -1;
}

int swepc_test_get_slot(swepc *r, uint64_t page, void *out) {
	if (page >= r->npages) return -1;
	pthread_mutex_lock(&r->mu);
	int ok = (r->pg[page] & PG_STATE) == SWEPC_EVICTED;
	if (ok) memcpy(out, r->backing + page * SWEPC_SLOT, SWEPC_SLOT);
	pthread_mutex_unlock(&r->mu);
	return ok ? 0 : -1;
}

int swepc_test_put_slot(swepc *r, uint64_t page, const void *in) {
	if (page >= r->npages) return -1;
	pthread_mutex_lock(&r->mu);
	int ok = (r->pg[page] & PG_STATE) == SWEPC_EVICTED;
	if (ok) memcpy(r->backing + page * SWEPC_SLOT, in, SWEPC_SLOT);
	pthread_mutex_unlock(&r->mu);
	return ok ? 0 : -1;
}
