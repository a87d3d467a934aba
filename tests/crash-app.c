/* SPDX-License-Identifier: MIT */
/*
 * Helper target for the client and daemon tests: an application linked with libmdclient that
 * crashes on demand in a known, noinline function, so a crash report or dump can be checked
 * against the truth. Usage: crash-app MODE [--annotate KEY=VALUE ...]. MODE is segv, abort,
 * fpe, ill, stackoverflow, thread-segv, double-segv, dump-now or sleep (see usage()). It
 * calls md_client_init(NULL), so $MINIDUMPD_SOCKET and $MINIDUMPD_TIMEOUT_MS apply, sets the
 * annotation app=crash-app and every --annotate pair, prints "ready PID" and then does what
 * the mode says. With CRASH_APP_STAMP=1 in the environment it also prints "fault-at US RUN
 * WAIT", the CLOCK_MONOTONIC time in microseconds and its schedstat so far (ns run, ns waited
 * for a cpu), right before it faults (bench/bench-crash and bench-coredump measure from there).
 * With CRASH_APP_GO=FIFO it opens that FIFO for reading and reads it to its end before faulting, so
 * a test can make many apps crash at one instant by opening the FIFO for writing and closing it.
 * With CRASH_APP_HEAP_MB=N it first allocates and touches N MiB of heap (bench/bench-coredump).
 * Built without libmdclient as crash-app-plain (crash-app-plain.h). It must never touch anything
 * outside itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef CRASH_APP_PLAIN
#include "crash-app-plain.h"
#else
#include "mdclient.h"
#endif

#define THREADS_COUNT       20   /* threads started by thread-segv */
#define CRASHER_INDEX       7    /* the thread of thread-segv that crashes */
#define RECURSE_FRAME_BYTES 512  /* bytes of stack each crash_recurse() frame pins */
#define DUMP_NOW_LINGER_MS  2000 /* ms dump-now keeps running unless stdin closes first */
#define REPORT_BYTES        4096 /* bytes of the daemon's report dump-now prints */
#define NAME_BYTES          16   /* a thread name, NUL included (the kernel's limit) */

static volatile int never;           /* never set: keeps the compiler from proving loops end */
static int block_pipe[2] = {-1, -1}; /* never written: reads on it block forever */
static int go_pipe[2] = {-1, -1};    /* written once by main to start the crash */
static pthread_barrier_t barrier;
static bool stamp_faults; /* CRASH_APP_STAMP=1: print "fault-at US" before faulting */

static void usage(FILE *f)
{
	fputs("Usage: crash-app MODE [--annotate KEY=VALUE ...]\n"
	      "\n"
	      "Modes:\n"
	      "  segv           write to NULL in crash_segv()\n"
	      "  abort          call abort() in crash_abort()\n"
	      "  fpe            divide by zero in crash_fpe()\n"
	      "  ill            __builtin_trap() in crash_ill() (SIGILL on x86_64)\n"
	      "  stackoverflow  unbounded recursion in crash_recurse()\n"
	      "  thread-segv    20 named threads; thread 7, \"crasher\", writes to NULL in\n"
	      "                 crash_in_thread()\n"
	      "  double-segv    two threads write to NULL at the same moment in crash_double()\n"
	      "  dump-now       md_client_dump_now(), print \"dump-now: RC\", run until stdin\n"
	      "                 closes or 2 s pass, exit 0\n"
	      "  sleep          sleep until killed\n",
	      f);
}

/* In a sanitizer build, AddressSanitizer would take SIGSEGV, SIGBUS, SIGFPE and SIGILL itself,
 * report them and exit 1, so the shim's handler would pass each crash on to ASan instead of
 * the default action, and the app would not die by its own signal. This app exists to crash
 * through the shim: ASan leaves those signals alone here (ASAN_OPTIONS can still override). */
const char *__asan_default_options(void);
__attribute__((used)) const char *__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0";
}

/* The crashes are undefined behaviour on purpose: UBSan must not stop them before they fault. */
#define CRASHES_ON_PURPOSE __attribute__((noinline, no_sanitize("undefined")))

static pid_t get_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Right before a fault: waits for the CRASH_APP_GO FIFO to be opened and closed by a writer,
 * then prints the monotonic time when CRASH_APP_STAMP asks for it. */
static void stamp(void)
{
	const char *go = getenv("CRASH_APP_GO");
	struct timespec ts;

	if (go && *go) {
		int fd = open(go, O_RDONLY | O_CLOEXEC);
		ssize_t n = 1;
		char c;

		while (fd >= 0 && (n > 0 || (n < 0 && errno == EINTR)))
			n = read(fd, &c, 1);
		if (fd >= 0)
			close(fd);
	}
	if (!stamp_faults)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* and the time this task has run and waited for a cpu so far (/proc/self/schedstat), so
	 * a benchmark can tell its death's cpu and run-queue time from its blocked time */
	{
		unsigned long long run_ns = 0, wait_ns = 0;
		FILE *f = fopen("/proc/self/schedstat", "re");

		if (f) {
			if (fscanf(f, "%llu %llu", &run_ns, &wait_ns) != 2)
				run_ns = wait_ns = 0;
			fclose(f);
		}
		printf("fault-at %lld %llu %llu\n",
		       (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, run_ns, wait_ns);
	}
	fflush(stdout);
}

static void ready(void)
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
}

CRASHES_ON_PURPOSE static void crash_segv(void)
{
	volatile int *p = NULL;

	*p = 42;
}

__attribute__((noinline)) static void crash_abort(void)
{
	abort();
}

static volatile int quotient; /* crash_fpe's result, so the division is not dropped */

CRASHES_ON_PURPOSE static void crash_fpe(void)
{
	volatile int a = 1, b = 0;

	quotient = a / b;
}

__attribute__((noinline)) static void crash_ill(void)
{
	__builtin_trap();
}

__attribute__((noinline)) static int crash_recurse(int depth)
{
	volatile char pad[RECURSE_FRAME_BYTES];

	pad[0] = (char)depth;
	pad[RECURSE_FRAME_BYTES - 1] = (char)depth;
	if (never)
		return pad[0];
	return crash_recurse(depth + 1) + pad[RECURSE_FRAME_BYTES - 1];
}

static void crash_overflow(void)
{
	crash_recurse(0);
}

/* The modes that say ready, stamp the time and fault in a function of their own. */
static const struct {
	const char *mode;
	void (*crash)(void);
} crashes[] = {
    {"segv", crash_segv},
    {"abort", crash_abort},
    {"fpe", crash_fpe},
    {"ill", crash_ill},
    {"stackoverflow", crash_overflow},
};

CRASHES_ON_PURPOSE static void crash_in_thread(void)
{
	volatile int *p = NULL;

	*p = 7;
}

CRASHES_ON_PURPOSE static void crash_double(void)
{
	volatile int *p = NULL;

	*p = 2;
}

/* Blocks in read() on a pipe nobody writes: a thread parked in a known function. */
__attribute__((noinline)) static void park_worker(void)
{
	char c;

	while (read(block_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
}

__attribute__((noinline)) static void park_main(pthread_t *threads, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

static void wait_go(void)
{
	char c;

	while (read(go_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
}

static void *worker(void *arg)
{
	int index = (int)(intptr_t)arg;
	char name[NAME_BYTES];

	if (index == CRASHER_INDEX)
		snprintf(name, sizeof(name), "crasher");
	else
		snprintf(name, sizeof(name), "worker-%02d", index);
	pthread_setname_np(pthread_self(), name);
	md_client_thread_init();
	if (index == CRASHER_INDEX) {
		printf("crasher %d\n", (int)get_tid());
		fflush(stdout);
	}
	pthread_barrier_wait(&barrier);
	if (index != CRASHER_INDEX) {
		park_worker();
		return NULL;
	}
	wait_go();
	stamp();
	crash_in_thread();
	return NULL;
}

static int run_thread_segv(void)
{
	pthread_t threads[THREADS_COUNT];
	struct timespec settle = {0, 50 * 1000 * 1000}; /* lets the workers reach read() */

	if (pipe(block_pipe) < 0 || pipe(go_pipe) < 0)
		return 1;
	pthread_barrier_init(&barrier, NULL, THREADS_COUNT + 1);
	for (int i = 0; i < THREADS_COUNT; i++)
		if (pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i) != 0)
			return 1;
	pthread_barrier_wait(&barrier);
	nanosleep(&settle, NULL);
	ready();
	if (write(go_pipe[1], "g", 1) != 1)
		return 1;
	park_main(threads, THREADS_COUNT);
	return 1;
}

static void *double_worker(void *arg)
{
	pthread_setname_np(pthread_self(), (const char *)arg);
	md_client_thread_init();
	pthread_barrier_wait(&barrier);
	stamp();
	crash_double();
	return NULL;
}

static int run_double_segv(void)
{
	pthread_t threads[2];

	pthread_barrier_init(&barrier, NULL, 2);
	ready();
	if (pthread_create(&threads[0], NULL, double_worker, "segv-a") != 0 ||
	    pthread_create(&threads[1], NULL, double_worker, "segv-b") != 0)
		return 1;
	park_main(threads, 2);
	return 1;
}

static int run_dump_now(void)
{
	char report[REPORT_BYTES];
	struct timespec start, now;
	int r;

	ready();
	r = md_client_dump_now_report(report, sizeof(report));
	printf("dump-now: %d\n", r);
	if (r == 0)
		printf("report: %s\n", report);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		char buf[256];
		long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = DUMP_NOW_LINGER_MS - ((now.tv_sec - start.tv_sec) * 1000 +
		                             (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
			break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	mode = argv[1];
	stamp_faults = getenv("CRASH_APP_STAMP") && strcmp(getenv("CRASH_APP_STAMP"), "1") == 0;
	/* CRASH_APP_HEAP_MB=N: N MiB of heap, touched (resident), before anything else */
	if (getenv("CRASH_APP_HEAP_MB")) {
		size_t mb = strtoul(getenv("CRASH_APP_HEAP_MB"), NULL, 10);
		volatile char *heap = mb ? malloc(mb << 20) : NULL;

		if (mb && !heap)
			return 1;
		for (size_t i = 0; heap && i < (mb << 20); i += 4096)
			heap[i] = (char)i | 1;
	}

	r = md_client_init(NULL);
	if (r < 0) {
		fprintf(stderr, "crash-app: md_client_init: %s\n", strerror(-r));
		return 1;
	}
	r = md_client_annotate("app", "crash-app");
	for (int i = 2; r >= 0 && i < argc; i++) {
		char key[128], *eq;

		if (strcmp(argv[i], "--annotate") != 0 || i + 1 >= argc ||
		    !(eq = strchr(argv[i + 1], '=')) || (size_t)(eq - argv[i + 1]) >= sizeof(key)) {
			fprintf(stderr, "crash-app: expected --annotate KEY=VALUE, got '%s'\n",
			        argv[i]);
			return 2;
		}
		i++;
		memcpy(key, argv[i], (size_t)(eq - argv[i]));
		key[eq - argv[i]] = 0;
		r = md_client_annotate(key, eq + 1);
	}
	if (r < 0) {
		fprintf(stderr, "crash-app: md_client_annotate: %s\n", strerror(-r));
		return 1;
	}

	for (size_t i = 0; i < sizeof(crashes) / sizeof(crashes[0]); i++) {
		if (strcmp(mode, crashes[i].mode) == 0) {
			ready();
			stamp();
			crashes[i].crash();
			fprintf(stderr, "crash-app: mode '%s' did not crash\n", mode);
			return 1;
		}
	}
	if (strcmp(mode, "thread-segv") == 0) {
		return run_thread_segv();
	} else if (strcmp(mode, "double-segv") == 0) {
		return run_double_segv();
	} else if (strcmp(mode, "dump-now") == 0) {
		r = run_dump_now();
		md_client_shutdown();
		return r;
	} else if (strcmp(mode, "sleep") == 0) {
		ready();
		for (;;)
			pause();
	} else {
		fprintf(stderr, "crash-app: unknown mode '%s'\n", mode);
		usage(stderr);
		return 2;
	}
}
