/* SPDX-License-Identifier: MIT */
/*
 * Stopping and resuming every thread of a target with PTRACE_SEIZE + PTRACE_INTERRUPT. All
 * seizes of a round are issued before any wait, so hundreds of threads stop in a few
 * milliseconds, and /proc/<pid>/task is re-read until a round finds no new thread (a thread
 * created meanwhile is caught by the next round). A signal that arrives while we stop a thread
 * is remembered and re-injected on detach, so the target loses nothing. Whatever this file
 * attaches it detaches on every path; it never kills, signals or leaves a thread stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linux-internal.h"
#include "md-os.h"

/* Rescans of /proc/<pid>/task; a target still spawning threads after this many is refused with
 * -EAGAIN (each round stops every thread it finds, so two rounds are the norm). */
#define MD_LINUX_ATTACH_ROUNDS_MAX 64
#define MD_LINUX_TRACEES_MIN       64         /* initial array size, in threads */
#define MD_LINUX_POLL_MIN_NS       10000      /* first sleep between wait polls: 10 us */
#define MD_LINUX_POLL_MAX_NS       1000000    /* longest sleep between wait polls: 1 ms */
#define MD_LINUX_ZOMBIE_CHECK_NS   5000000    /* look for an exited (zombie) thread after 5 ms */
#define MD_LINUX_REAP_TIMEOUT_NS   10000000000ull /* how long detach waits for dying threads:
							   * 10 s (512 threads dying on a loaded machine
							   * take well over one) */

/* A growable list of thread ids. */
struct tid_set {
	pid_t *v;
	size_t n;
	size_t cap;
};

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
	                      .tv_nsec = (long)(ns % 1000000000u)};

	nanosleep(&ts, NULL);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int cmp_tracee(const void *a, const void *b)
{
	return cmp_pid(&((const struct md_linux_tracee *)a)->tid,
	               &((const struct md_linux_tracee *)b)->tid);
}

static int tid_set_push(struct tid_set *s, pid_t tid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : MD_LINUX_TRACEES_MIN;
		pid_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = tid;
	return 0;
}

static int tracees_reserve(struct md_linux_tracees *t, size_t want)
{
	size_t cap = t->cap ? t->cap : MD_LINUX_TRACEES_MIN;
	struct md_linux_tracee *v;

	if (want <= t->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	v = realloc(t->t, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->t = v;
	t->cap = cap;
	return 0;
}

/* The one-letter state of a thread from /proc/<pid>/task/<tid>/stat, or 0 if unreadable. */
static char thread_state(pid_t pid, pid_t tid)
{
	char path[MD_LINUX_PATH_MAX], buf[512];
	const char *p;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	len = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	/* The comm field may hold spaces and parentheses; the state follows the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	return p[2];
}

static bool is_dead_state(char state)
{
	return state == 'Z' || state == 'X' || state == 'x';
}

/*
 * Collects a tracee's stop or exit without blocking. Returns its tid, 0 if it has nothing to
 * report yet, or -1 with errno. When the caller is also the target's parent, the group
 * leader's exit status belongs to the caller's own wait, so it is looked at (WNOWAIT) but not
 * consumed.
 */
static pid_t wait_tracee(const struct md_linux_tracees *t, pid_t tid, int *status)
{
	pid_t w;

	if (t->parent_is_us && tid == t->pid) {
		siginfo_t si = {0};
		int r;

		do
			r = waitid(P_PID, (id_t)tid, &si,
			           WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -1;
		if (si.si_pid == 0)
			return 0;
		if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
		    si.si_code == CLD_DUMPED) {
			*status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0)
			                                   : si.si_status & 0x7f;
			return tid;
		}
	}
	do
		w = waitpid(tid, status, __WALL | WNOHANG);
	while (w < 0 && errno == EINTR);
	return w;
}

/* The parent pid from /proc/<pid>/stat, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[MD_LINUX_PATH_MAX], buf[512];
	const char *p;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	len = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	p = strrchr(buf, ')');
	if (!p || strlen(p) < 5)
		return -1;
	return (pid_t)strtol(p + 4, NULL, 10); /* ") S <ppid>" */
}

/* Lists the tids of /proc/<pid>/task that are not in seen (sorted). */
static int scan_tasks(pid_t pid, const struct tid_set *seen, struct tid_set *fresh)
{
	char path[MD_LINUX_PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int r = 0;

	fresh->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(dir))) {
		char *end;
		long tid;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0)
			continue;
		if (seen->n &&
		    bsearch(&(pid_t){(pid_t)tid}, seen->v, seen->n, sizeof(pid_t), cmp_pid))
			continue;
		r = tid_set_push(fresh, (pid_t)tid);
		if (r < 0)
			break;
	}
	closedir(dir);
	return r;
}

/*
 * Waits until every tracee from index first on has stopped, dropping those that exit. Polls
 * with WNOHANG so that a thread group leader that exits meanwhile (whose exit the kernel does
 * not report while other threads live) cannot block us: it is recognised as a zombie instead.
 * A thread that is stuck (uninterruptible sleep) is waited for as long as it takes, because a
 * seized thread that has not stopped yet cannot be detached.
 */
static void wait_stopped(pid_t pid, struct md_linux_tracees *t, size_t first, struct md_diag *diag)
{
	uint64_t start = (uint64_t)md_os_now_ns(), sleep = MD_LINUX_POLL_MIN_NS;
	size_t pending = t->n - first, i, j;

	for (i = first; i < t->n; i++)
		t->t[i].settled = false;
	/* Threads other than the group leader always report to their tracer, with a stop or an
	 * exit, so a blocking wait on each is both safe and cheapest: no polling passes over
	 * hundreds of threads, no sleeping past a stop. Only the leader, which can linger as a
	 * zombie without reporting, is polled below. */
	for (i = first; i < t->n; i++) {
		struct md_linux_tracee *tr = &t->t[i];
		int status;
		pid_t w;

		if (tr->tid == pid)
			continue;
		do
			w = waitpid(tr->tid, &status, __WALL);
		while (w < 0 && errno == EINTR);
		if (w < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
			md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tr->tid, -ESRCH,
			            "thread exited while being stopped");
			tr->tid = 0;
		} else if (WIFSTOPPED(status) && ((status >> 16) & 0xff) == 0) {
			tr->pending_sig = WSTOPSIG(status);
		}
		tr->settled = true;
		pending--;
	}
	while (pending) {
		bool check_zombies = (uint64_t)md_os_now_ns() - start > MD_LINUX_ZOMBIE_CHECK_NS;

		for (i = first; i < t->n; i++) {
			struct md_linux_tracee *tr = &t->t[i];
			bool gone = false;
			int status;
			pid_t w;

			if (tr->settled)
				continue;
			w = wait_tracee(t, tr->tid, &status);
			if (w == 0) {
				if (!check_zombies || !is_dead_state(thread_state(pid, tr->tid)))
					continue;
				gone = true;
				/* a traced zombie leader reports its exit to us only once every
				 * other thread is gone: it must still be reaped at detach, or it
				 * stays a zombie its parent cannot reap while we live */
				if (tr->tid == pid)
					t->leader_unreaped = true;
			} else if (w < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
				gone = true;
			} else if (!WIFSTOPPED(status)) {
				continue;
			} else if (((status >> 16) & 0xff) == 0) {
				/* A plain stop is a signal-delivery-stop: the signal would be lost
				 * unless we pass it to PTRACE_DETACH. PTRACE_EVENT_STOP (our
				 * interrupt, or a group-stop) has nothing to give back. */
				tr->pending_sig = WSTOPSIG(status);
			}
			if (gone) {
				md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tr->tid, -ESRCH,
				            "thread exited while being stopped");
				tr->tid = 0; /* dropped: there is nothing left to detach */
			}
			tr->settled = true;
			pending--;
		}
		if (!pending)
			break;
		sleep_ns(sleep);
		if (sleep < MD_LINUX_POLL_MAX_NS)
			sleep *= 2;
	}

	for (i = j = first; i < t->n; i++)
		if (t->t[i].tid > 0)
			t->t[j++] = t->t[i];
	t->n = j;
}

int md_linux_attach_all(pid_t pid, volatile sig_atomic_t *cancel, struct md_diag *diag,
                        struct md_linux_tracees *tracees)
{
	struct tid_set seen = {0}, fresh = {0};
	struct md_linux_tracees t = {.pid = pid, .parent_is_us = parent_of(pid) == getpid()};
	unsigned round;
	int r = 0;
	size_t i;

	for (round = 0;; round++) {
		size_t first = t.n;

		if (cancel && *cancel) {
			r = -ECANCELED;
			goto out;
		}
		if (round == MD_LINUX_ATTACH_ROUNDS_MAX) {
			r = -EAGAIN;
			goto out;
		}
		r = scan_tasks(pid, &seen, &fresh);
		if (r < 0)
			goto out;
		if (!fresh.n)
			break;

		r = tracees_reserve(&t, t.n + fresh.n);
		if (r < 0)
			goto out;
		/* Seize and interrupt every new thread before waiting for any. */
		for (i = 0; i < fresh.n; i++) {
			pid_t tid = fresh.v[i];

			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
				int e = errno;

				if (e == ESRCH) {
					md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tid, -ESRCH,
					            "thread exited before it could be stopped");
					continue;
				}
				/* The kernel refuses to attach to an exited thread (a zombie
				 * group leader) with EPERM; that is not a permission problem. */
				if (e == EPERM && is_dead_state(thread_state(pid, tid))) {
					md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tid, -ESRCH,
					            "thread has exited (zombie)");
					continue;
				}
				/* Permission is per process: once one of its threads is ours, EPERM
				 * on another means that thread is already in do_exit (not yet a
				 * zombie), which the kernel refuses to attach to. */
				if (e == EPERM && t.n > 0) {
					md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tid, -ESRCH,
					            "thread was exiting and could not be stopped");
					continue;
				}
				r = -e;
				break;
			}
			if (!t.stopped) {
				t.stopped = true;
				t.stop_ns = (uint64_t)md_os_now_ns();
			}
			t.t[t.n++] = (struct md_linux_tracee){.tid = tid};
			/* ESRCH here means the thread is exiting; its exit is reaped below. */
			ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
		}
		wait_stopped(pid, &t, first, diag);
		if (r < 0)
			goto out;

		for (i = 0; i < fresh.n; i++) {
			r = tid_set_push(&seen, fresh.v[i]);
			if (r < 0)
				goto out;
		}
		qsort(seen.v, seen.n, sizeof(pid_t), cmp_pid);
	}
	if (!t.n) {
		/* Every thread vanished: the process is gone. */
		r = -ESRCH;
		goto out;
	}
	qsort(t.t, t.n, sizeof(*t.t), cmp_tracee);
	*tracees = t;
	t = (struct md_linux_tracees){0};
	r = 0;
out:
	md_linux_detach_all(&t);
	free(seen.v);
	free(fresh.v);
	return r;
}

/* Waits a bounded time for threads that could not be detached because they are dying (a
 * SIGKILL woke them from the ptrace stop), so that no traced zombie is left behind. */
static void reap_dying(const struct md_linux_tracees *t, struct md_linux_tracee *dying, size_t n)
{
	uint64_t deadline = (uint64_t)md_os_now_ns() + MD_LINUX_REAP_TIMEOUT_NS;
	uint64_t sleep = MD_LINUX_POLL_MIN_NS;
	size_t left = n, i;

	while (left) {
		for (i = 0; i < n; i++) {
			int status;
			pid_t w;

			if (dying[i].tid <= 0)
				continue;
			w = wait_tracee(t, dying[i].tid, &status);
			if (w == 0)
				continue;
			/* A thread that reports a stop after all can be detached now. */
			if (w > 0 && WIFSTOPPED(status) &&
			    ptrace(PTRACE_DETACH, dying[i].tid, NULL,
			           (void *)(long)dying[i].pending_sig) < 0)
				continue;
			dying[i].tid = 0;
			left--;
		}
		if (!left || (uint64_t)md_os_now_ns() > deadline)
			break;
		sleep_ns(sleep);
		if (sleep < MD_LINUX_POLL_MAX_NS)
			sleep *= 2;
	}
}

uint64_t md_linux_detach_all(struct md_linux_tracees *t)
{
	size_t n_dying = 0, i;
	uint64_t us = 0;

	if (t->stopped) {
		for (i = 0; i < t->n; i++) {
			struct md_linux_tracee tr = t->t[i];

			if (ptrace(PTRACE_DETACH, tr.tid, NULL, (void *)(long)tr.pending_sig) == 0)
				continue;
			/* ESRCH: no longer in a ptrace-stop, which only a SIGKILL causes. Keep it
			 * (in place: entries before i are done) and reap it below. */
			if (errno == ESRCH)
				t->t[n_dying++] = tr;
		}
		us = ((uint64_t)md_os_now_ns() - t->stop_ns) / 1000u;
		if (t->leader_unreaped && !t->parent_is_us && tracees_reserve(t, n_dying + 1) == 0)
			t->t[n_dying++] = (struct md_linux_tracee){.tid = t->pid};
		if (n_dying)
			reap_dying(t, t->t, n_dying);
		if (!us)
			us = 1;
	}
	free(t->t);
	*t = (struct md_linux_tracees){0};
	return us;
}
