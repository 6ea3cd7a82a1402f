// A counted child with a known syscall mix, for trace_test.go. The test
// starts it under the counting filter (installed by the Go helper before it
// execs this program) and compares the counts between the two snapshots
// with the numbers below. Arguments: a readable file; optional second
// argument N: afterwards, time N getppid calls and print ns per call.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int snap(void) {
	char c = 'S';
	if (write(3, &c, 1) != 1)
		return -1;
	char buf[32];
	int got = 0;
	while (got < 32) {
		int n = read(3, buf + got, 32 - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

static int ready, finished, word;

static void *waiter(void *arg) {
	(void)arg;
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	__atomic_store_n(&finished, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *nop(void *arg) { return arg; }

static long long now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); // vDSO: no system call
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return 2;
	char buf[64];
	pthread_attr_t detached;
	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
	if (snap())
		return 4;

	// OCALLs: 100 pread64, 4 getppid.
	for (int i = 0; i < 100; i++)
		if (pread(fd, buf, sizeof buf, 0) < 0)
			return 5;
	// Two more pread64: the largest that fits Open Enclave's OCALL buffer
	// (one OCALL), and one byte more (three: host memory allocated, freed).
	static char big[16225];
	if (pread(fd, big, 16224, 0) < 0 || pread(fd, big, 16225, 0) < 0)
		return 5;
	for (int i = 0; i < 4; i++)
		syscall(SYS_getppid);
	// Futex: 5 waits whose value matches (they time out): 5 OCALLs;
	// 7 waits whose value does not match and 3 wakes without waiters: none.
	int v = 0;
	struct timespec ms = {0, 1000000};
	for (int i = 0; i < 5; i++)
		syscall(SYS_futex, &v, FUTEX_WAIT_PRIVATE, 0, &ms, NULL, 0);
	for (int i = 0; i < 7; i++)
		syscall(SYS_futex, &v, FUTEX_WAIT_PRIVATE, 1, &ms, NULL, 0);
	for (int i = 0; i < 3; i++)
		syscall(SYS_futex, &v, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	// Handled inside the enclave: not counted.
	for (int i = 0; i < 10; i++) {
		sched_yield();
		syscall(SYS_gettid);
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(p, 4096);
		struct timespec ts;
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	}
	// Threads: 3 creations (3 OCALLs, 3 ECALLs), one of them a waiter
	// woken by one wake: 1 wait OCALL and 1 wake OCALL.
	pthread_t t;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t, &detached, nop, NULL))
			return 6;
	if (pthread_create(&t, &detached, waiter, NULL))
		return 6;
	while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST))
		;
	for (long long end = now() + 50000000LL; now() < end;)
		; // let the waiter block in the kernel
	if (syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) != 1)
		return 7;
	while (!__atomic_load_n(&finished, __ATOMIC_SEQ_CST))
		;
	if (snap())
		return 4;

	if (argc > 2) {
		long n = atol(argv[2]);
		long long t0 = now();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		printf("%.1f\n", (double)(now() - t0) / n);
	}
	return 0;
}
