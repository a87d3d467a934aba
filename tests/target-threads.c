/* SPDX-License-Identifier: MIT */
/*
 * Helper target for the integration tests and the benchmark: a process whose threads, names,
 * stack functions and heap are known in advance, so a dump of it can be checked against the
 * truth. Worker thread i is named after a Greek letter and parks in its own noinline function
 * park_<letter>(), blocked in a system call made from that function; the main thread parks in
 * park_main(). Options: --threads N, --heap-mb M, --churn (an extra thread that keeps creating
 * and joining short-lived threads), --vfork-stuck (an extra thread that vfork()s a child that
 * never execs, so it sleeps in the kernel for good), --exit-after-ms N. It prints "ready PID" once
 * every thread is asleep in the kernel, then waits until it is killed, its stdin (when a pipe or
 * socket) reaches end of file, or --exit-after-ms runs out. A line "ping" on stdin is answered with
 * "pong N" (N = worker threads alive) so a test can see the process still works after a dump.
 * It must never touch anything outside itself: it is started and killed many times per run.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WORKER_STACK_BYTES   (64u * 1024u) /* per worker; small so 512 threads stay cheap */
#define THREADS_DEFAULT      6             /* worker threads when --threads is not given */
#define THREADS_MAX          4096          /* upper bound for --threads */
#define HEAP_MB_MAX          (64 * 1024)   /* MiB; upper bound for --heap-mb */
#define PARK_WAIT_MS         10000         /* ms to wait for every worker to fall asleep */
#define PARK_POLL_US         1000          /* us between checks of the workers' states */
#define CHURN_CHILD_SLEEP_NS 200000        /* ns each short-lived churn thread lives */
#define LINE_MAX_BYTES       256           /* bytes of one command line read from stdin */

/* Names of the park functions, in the order worker threads use them (thread i uses i % 8). */
static const char *const letters[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
};
#define N_LETTERS (sizeof(letters) / sizeof(letters[0]))

static int block_pipe[2] = {-1, -1}; /* never written: reads on it block forever */
static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cond = PTHREAD_COND_INITIALIZER; /* never signalled */
static pid_t *worker_tids;
static atomic_int workers_started;
static volatile unsigned char *heap_block; /* kept reachable so the heap stays in the dump */

/* Each park function blocks in a different kind of system call so the dump sees threads
 * sleeping in read, futex, poll and pause; two letters share each kind, since what a test
 * checks is the function's name. The loops restart a call that a ptrace stop or a signal
 * interrupted; none of them ever returns. */
#define PARK_IN_READ(fn)                                                                           \
	__attribute__((noinline)) static void fn(void)                                             \
	{                                                                                          \
		char c;                                                                            \
                                                                                                   \
		for (;;)                                                                           \
			(void)read(block_pipe[0], &c, 1);                                          \
	}
#define PARK_IN_FUTEX(fn)                                                                          \
	__attribute__((noinline)) static void fn(void)                                             \
	{                                                                                          \
		pthread_mutex_lock(&park_lock);                                                    \
		for (;;)                                                                           \
			pthread_cond_wait(&park_cond, &park_lock);                                 \
	}
#define PARK_IN_POLL(fn)                                                                           \
	__attribute__((noinline)) static void fn(void)                                             \
	{                                                                                          \
		struct pollfd p = {.fd = block_pipe[0], .events = POLLIN};                         \
                                                                                                   \
		for (;;)                                                                           \
			(void)poll(&p, 1, -1);                                                     \
	}
#define PARK_IN_PAUSE(fn)                                                                          \
	__attribute__((noinline)) static void fn(void)                                             \
	{                                                                                          \
		for (;;)                                                                           \
			pause();                                                                   \
	}

PARK_IN_READ(park_alpha)
PARK_IN_FUTEX(park_beta)
PARK_IN_POLL(park_gamma)
PARK_IN_PAUSE(park_delta)
PARK_IN_READ(park_epsilon)
PARK_IN_FUTEX(park_zeta)
PARK_IN_POLL(park_eta)
PARK_IN_PAUSE(park_theta)

static void (*const parks[N_LETTERS])(void) = {
    park_alpha, park_beta, park_gamma, park_delta, park_epsilon, park_zeta, park_eta, park_theta,
};

/* The thread name tells a test which park function the thread sits in: the part after the
 * last '-' is the letter. Linux keeps 15 bytes of a name, enough for "w4095-epsilon". */
static void worker_name(unsigned i, char *out, size_t size)
{
	if (i < N_LETTERS)
		snprintf(out, size, "worker-%s", letters[i]);
	else
		snprintf(out, size, "w%u-%s", i, letters[i % N_LETTERS]);
}

static void *worker_main(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	char name[16];

	worker_name(i, name, sizeof(name));
	pthread_setname_np(pthread_self(), name);
	worker_tids[i] = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&workers_started, 1);
	parks[i % N_LETTERS]();
	return NULL;
}

static void *churn_child(void *arg)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = CHURN_CHILD_SLEEP_NS};

	nanosleep(&ts, NULL);
	return arg;
}

/* The --vfork-stuck thread: vfork()s a child that never execs or exits, so this thread sleeps in
 * the kernel (state D) for good, where ptrace can neither stop it nor, once it is seized, let it
 * go. The child dies with this thread (PR_SET_PDEATHSIG), so killing the target leaves nothing
 * behind. */
static void *vfork_main(void *arg)
{
	pthread_setname_np(pthread_self(), "vfork-stuck");
	if (vfork() == 0) {
		char c;

		/* the child shares our memory until it execs: system calls only */
		syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		for (;;)
			syscall(SYS_read, block_pipe[0], &c, 1);
	}
	return arg;
}

/* Creates and joins short-lived threads for ever, so a dump keeps meeting threads that exit
 * between being listed and being read. */
static void *churn_main(void *arg)
{
	pthread_attr_t attr;

	pthread_setname_np(pthread_self(), "churn");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
	for (;;) {
		pthread_t t;

		if (pthread_create(&t, &attr, churn_child, NULL) == 0)
			pthread_join(t, NULL);
	}
	return arg;
}

/* Returns the state letter of /proc/self/task/TID/stat, or 0 when it cannot be read. */
static char task_state(pid_t tid)
{
	char path[64], buf[512];
	FILE *f;
	char *p;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name in parentheses may hold anything; the state follows the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	return p[2];
}

/* Waits until every worker has started and sleeps in the kernel. */
static int wait_parked(unsigned n)
{
	unsigned waited_us = 0;

	for (;;) {
		unsigned asleep = 0;

		if ((unsigned)atomic_load(&workers_started) == n) {
			for (unsigned i = 0; i < n; i++)
				if (task_state(worker_tids[i]) == 'S')
					asleep++;
			if (asleep == n)
				return 0;
		}
		if (waited_us >= PARK_WAIT_MS * 1000u)
			return -ETIMEDOUT;
		usleep(PARK_POLL_US);
		waited_us += PARK_POLL_US;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned alive_workers(unsigned n)
{
	unsigned alive = 0;

	for (unsigned i = 0; i < n; i++)
		if (task_state(worker_tids[i]) != 0)
			alive++;
	return alive;
}

/* The main thread's park: announces "ready" from here, so that park_main is on the main
 * thread's stack from the moment a reader sees the line, then sleeps in poll() on stdin (when
 * stdin is a pipe or socket) until end of file or the deadline, answering "ping". Returns when
 * the process should exit. */
#ifdef TARGET_AFTER_GAP
/* target-threads-gap: park_main lives past a hole in the executable segments (tests/gap.ld) */
__attribute__((section(".text.after_gap")))
#endif
__attribute__((noinline)) static void
park_main(unsigned n, int64_t deadline_ms)
{
	struct stat st;
	bool watch_stdin =
	    fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	char line[LINE_MAX_BYTES];
	size_t used = 0;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		struct pollfd p = {.fd = watch_stdin ? STDIN_FILENO : -1, .events = POLLIN};
		int timeout = -1;
		ssize_t r;

		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - now_ms();

			if (left <= 0)
				return;
			timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		r = poll(&p, 1, timeout);
		if (r <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(STDIN_FILENO, line + used, sizeof(line) - 1 - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		used += (size_t)r;
		line[used] = '\0';
		for (char *nl; (nl = strchr(line, '\n'));) {
			*nl = '\0';
			if (strcmp(line, "ping") == 0) {
				printf("pong %u\n", alive_workers(n));
				fflush(stdout);
			}
			used -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, used + 1);
		}
		if (used == sizeof(line) - 1)
			used = 0; /* an overlong line is dropped */
	}
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: target-threads [--threads N] [--heap-mb M] [--churn] [--vfork-stuck] "
	        "[--exit-after-ms N]\n");
	exit(2);
}

static long parse_num(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		usage();
	return v;
}

/* Starts a detached thread running fn(arg); says what could not be started and returns -1 on
 * failure. */
static int start_detached(pthread_attr_t *attr, void *(*fn)(void *), void *arg, const char *what)
{
	pthread_t t;
	int r = pthread_create(&t, attr, fn, arg);

	if (r != 0) {
		fprintf(stderr, "target-threads: cannot start %s: %s\n", what, strerror(r));
		return -1;
	}
	pthread_detach(t);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = THREADS_DEFAULT;
	long heap_mb = 0, exit_after_ms = -1;
	bool churn = false, vfork_stuck = false;
	pthread_attr_t attr;
	int64_t deadline = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			n = (unsigned)parse_num(argv[++i], THREADS_MAX);
		else if (strcmp(argv[i], "--heap-mb") == 0 && i + 1 < argc)
			heap_mb = parse_num(argv[++i], HEAP_MB_MAX);
		else if (strcmp(argv[i], "--churn") == 0)
			churn = true;
		else if (strcmp(argv[i], "--vfork-stuck") == 0)
			vfork_stuck = true;
		else if (strcmp(argv[i], "--exit-after-ms") == 0 && i + 1 < argc)
			exit_after_ms = parse_num(argv[++i], LONG_MAX);
		else
			usage();
	}
	if (exit_after_ms >= 0)
		deadline = now_ms() + exit_after_ms;

	/* A dying reader of our stdout must not kill us with SIGPIPE before the test is done. */
	signal(SIGPIPE, SIG_IGN);
	if (pipe(block_pipe) < 0) {
		perror("target-threads: pipe");
		return 1;
	}
	if (heap_mb > 0) {
		size_t bytes = (size_t)heap_mb << 20;

		heap_block = malloc(bytes);
		if (!heap_block) {
			fprintf(stderr, "target-threads: cannot allocate %ld MiB\n", heap_mb);
			return 1;
		}
		/* Touch every byte so the pages are really resident, with a recognisable pattern.
		 */
		for (size_t off = 0; off < bytes; off++)
			heap_block[off] = (unsigned char)(off * 31u + 7u);
	}

	worker_tids = calloc(n ? n : 1, sizeof(*worker_tids));
	if (!worker_tids)
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
	for (unsigned i = 0; i < n; i++) {
		char what[32];

		snprintf(what, sizeof(what), "thread %u", i);
		if (start_detached(&attr, worker_main, (void *)(uintptr_t)i, what) < 0)
			return 1;
	}
	if (churn && start_detached(&attr, churn_main, NULL, "the churn thread") < 0)
		return 1;
	if (vfork_stuck && start_detached(&attr, vfork_main, NULL, "the vfork thread") < 0)
		return 1;
	pthread_attr_destroy(&attr);

	if (wait_parked(n) < 0) {
		fprintf(stderr, "target-threads: workers did not park within %d ms\n",
		        PARK_WAIT_MS);
		return 1;
	}
	park_main(n, deadline);
	return 0;
}
