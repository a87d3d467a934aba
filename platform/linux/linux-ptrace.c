/* SPDX-License-Identifier: MIT */
/*
 * Stopping and resuming every thread of a target with PTRACE_SEIZE + PTRACE_INTERRUPT. All
 * seizes of a round are issued before any wait, so hundreds of threads stop in a few
 * milliseconds, and /proc/<pid>/task is re-read until a round finds no new thread (a thread
 * created meanwhile is caught by the next round). A signal that arrives while we stop a thread
 * is remembered and re-injected on detach, so the target loses nothing. Whatever this file
 * attaches it detaches on every path; it never kills, signals or leaves a thread stopped.
 *
 * Every wait on the target has a deadline (the caller's, inside its dump budget). A thread
 * blocked in the kernel in uninterruptible sleep cannot be stopped (one in vfork() sleeps until
 * its child execs or exits), and once seized it cannot be let go either: the kernel detaches
 * only a stopped tracee. So such a thread is not seized: it is looked at again each round until
 * it wakes, for MD_LINUX_ASLEEP_WAIT_NS at most (the other threads are stopped meanwhile) and
 * never past the deadline, and then it is left running and listed as not stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#define MD_LINUX_TRACEES_MIN       64          /* initial array size, in threads */
#define MD_LINUX_POLL_MIN_NS       10000       /* first sleep between wait polls: 10 us */
#define MD_LINUX_POLL_MAX_NS       1000000     /* longest sleep between wait polls: 1 ms */
#define MD_LINUX_ZOMBIE_CHECK_NS   5000000     /* look for an exited (zombie) thread after 5 ms */
#define MD_LINUX_STAT_MAX          512         /* bytes of /proc/<pid>/task/<tid>/stat we read */
#define MD_LINUX_STATUS_MAX        (64 * 1024) /* bytes of /proc/<pid>/task/<tid>/status */
/* How long threads asleep in the kernel get to wake while the others are held stopped: 200 ms. */
#define MD_LINUX_ASLEEP_WAIT_NS 200000000
/* Past the deadline or a cancel, how long a thread we interrupted may still take to stop: 250 ms
 * (a busy 2-core machine may not run it sooner). */
#define MD_LINUX_STOP_GRACE_NS 250000000
#define MD_LINUX_REAP_TIMEOUT_NS                                                                   \
	10000000000ull /* how long detach waits for dying threads:                                 \
	                * 10 s (512 threads dying on a loaded machine                              \
	                * take well over one) */

/* Threads this OS thread seized that had not stopped when their dump let go of the target (they
 * fell asleep in the kernel just after we looked at them). The kernel lets a tracer detach only
 * a stopped tracee, and only from the thread that attached it, so each later attach and detach
 * on this thread looks at them again and detaches those that have stopped since. */
#define MD_LINUX_LEFTOVERS_MAX 64 /* threads remembered per OS thread; more are not retried */
static __thread pid_t leftovers[MD_LINUX_LEFTOVERS_MAX];
static __thread size_t n_leftovers;

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

/* The one-letter state of a thread from /proc/<pid>/task/<tid>/stat, or 0 if unreadable; with
 * name, also its name (comm) there, or "". Read for every thread before it is seized (the only
 * file read per thread: the snapshot takes the name from here), so with one read into the
 * stack: the line starts with the pid and the name of at most 15 bytes in parentheses. */
static char thread_state(pid_t pid, pid_t tid, int task_fd, char *name, size_t name_size)
{
	char path[MD_LINUX_PATH_MAX], buf[MD_LINUX_STAT_MAX], *p, *open_paren;
	ssize_t n;
	int fd;

	if (name)
		name[0] = '\0';
	/* relative to /proc/<pid>/task where the caller has it open: no path walk per thread */
	if (task_fd >= 0) {
		snprintf(path, sizeof(path), "%d/stat", (int)tid);
		fd = openat(task_fd, path, O_RDONLY | O_CLOEXEC);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return 0;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the name may hold spaces and ')': the state follows the last ") " */
	p = strrchr(buf, ')');
	open_paren = strchr(buf, '(');
	if (!p || p[1] != ' ' || !open_paren || open_paren > p)
		return 0;
	if (name) {
		size_t len = (size_t)(p - open_paren - 1);

		if (len >= name_size)
			len = name_size - 1;
		memcpy(name, open_paren + 1, len);
		name[len] = '\0';
	}
	return p[2];
}

static bool is_dead_state(char state)
{
	return state == 'Z' || state == 'X' || state == 'x';
}

/* Whether a thread is dead or dying: a zombie, or SIGKILL pending (SigPnd, from
 * /proc/<pid>/task/<tid>/status; a fatal signal is queued to every thread of the process). */
static bool is_dying(pid_t pid, pid_t tid)
{
	char path[MD_LINUX_PATH_MAX], *text;
	unsigned long long pending = 0;
	const char *f;
	size_t len;

	if (is_dead_state(thread_state(pid, tid, -1, NULL, 0)))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (md_linux_read_text_file(path, MD_LINUX_STATUS_MAX, &text, &len) < 0)
		return true; /* gone already */
	f = md_linux_status_field(text, "SigPnd");
	if (f)
		pending = strtoull(f, NULL, 16);
	free(text);
	return pending >> (SIGKILL - 1) & 1;
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
	char *text, *fields;
	pid_t ppid = -1;

	if (md_linux_read_stat(pid, 0, &text, &fields) < 0)
		return -1;
	if (strlen(fields) > 2)
		ppid = (pid_t)strtol(fields + 2, NULL, 10); /* "S <ppid>" */
	free(text);
	return ppid;
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

static bool past(uint64_t deadline_ns)
{
	return deadline_ns && (uint64_t)md_os_now_ns() >= deadline_ns;
}

/*
 * Collects one tracee's stop or exit without blocking. Returns true once it is settled: stopped
 * (a signal it was stopped with is kept for detach), or gone (tid set to 0, recorded in diag).
 * With check_zombies, a group leader with nothing to report is looked up in procfs, since one
 * that exits meanwhile is not reported while other threads live.
 */
static bool collect(pid_t pid, struct md_linux_tracees *t, struct md_linux_tracee *tr,
                    bool check_zombies, struct md_diag *diag)
{
	bool gone = false;
	int status;
	pid_t w = wait_tracee(t, tr->tid, &status);

	if (w == 0) {
		/* only the leader: any other thread reports its exit, and one that turned zombie
		 * since our wait is still ours to reap */
		if (!check_zombies || tr->tid != pid ||
		    !is_dead_state(thread_state(pid, tr->tid, -1, NULL, 0)))
			return false;
		gone = true;
		/* a traced zombie leader reports its exit to us only once every other thread is
		 * gone: it must still be reaped at detach, or it stays a zombie its parent cannot
		 * reap while we live */
		if (tr->tid == pid)
			t->leader_unreaped = true;
	} else if (w < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
		gone = true;
	} else if (!WIFSTOPPED(status)) {
		return false;
	} else if (((status >> 16) & 0xff) == 0) {
		/* A plain stop is a signal-delivery-stop: the signal would be lost unless we pass
		 * it to PTRACE_DETACH. PTRACE_EVENT_STOP (our interrupt, or a group-stop) has
		 * nothing to give back. */
		tr->pending_sig = WSTOPSIG(status);
	}
	if (gone) {
		md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tr->tid, -ESRCH,
		            "thread exited while being stopped");
		tr->tid = 0; /* dropped: there is nothing left to detach */
	}
	tr->settled = true;
	return true;
}

/*
 * Waits until every tracee from index first on has stopped, dropping those that exit, until
 * deadline_ns (0: none) or *cancel. The tracees are taken in turn, each polled with WNOHANG
 * and short sleeps until it settles: they all stop at once after their interrupts, so by the
 * time one has been collected the next ones have long stopped and cost one call each, and no
 * wait blocks past the deadline. A thread still not stopped at the end (it went to sleep in the
 * kernel between our look at it and the interrupt) is marked unstopped: it is listed without
 * registers, and detach gets one more try at it. Returns 0, or -ECANCELED.
 */
static int wait_stopped(pid_t pid, struct md_linux_tracees *t, size_t first, uint64_t deadline_ns,
                        volatile sig_atomic_t *cancel, struct md_diag *diag)
{
	uint64_t start = (uint64_t)md_os_now_ns(), give_up = 0;
	size_t i, j;
	int r = 0;

	for (i = first; i < t->n; i++)
		t->t[i].settled = !t->t[i].seized; /* one left alone has nothing to report */
	for (i = first; i < t->n && !(give_up && past(give_up)); i++) {
		struct md_linux_tracee *tr = &t->t[i];
		uint64_t sleep = MD_LINUX_POLL_MIN_NS;

		while (!tr->settled &&
		       !collect(pid, t, tr,
		                (uint64_t)md_os_now_ns() - start > MD_LINUX_ZOMBIE_CHECK_NS,
		                diag)) {
			/* Every thread here was running or asleep interruptibly when interrupted,
			 * so it stops within moments: a deadline or a cancel still gives it a
			 * grace, since one left seized without a stop could not be let go. */
			if (cancel && *cancel)
				r = -ECANCELED;
			if (!give_up && (r < 0 || past(deadline_ns)))
				give_up = (uint64_t)md_os_now_ns() + MD_LINUX_STOP_GRACE_NS;
			if (give_up && past(give_up))
				break;
			sleep_ns(sleep);
			if (sleep < MD_LINUX_POLL_MAX_NS)
				sleep *= 2;
		}
	}
	/* given up: one last look at each thread left, then it is not stopped */
	for (i = first; give_up && i < t->n; i++) {
		struct md_linux_tracee *tr = &t->t[i];

		if (tr->settled || collect(pid, t, tr, true, diag))
			continue;
		tr->unstopped = true;
		md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tr->tid, -ETIMEDOUT,
		            "did not stop in time (asleep in the kernel): no registers");
	}

	for (i = j = first; i < t->n; i++)
		if (t->t[i].tid > 0)
			t->t[j++] = t->t[i];
	t->n = j;
	return r;
}

/* Detaches the leftovers that have stopped since and forgets those that have exited. */
static void retry_leftovers(void)
{
	size_t i, j;

	for (i = j = 0; i < n_leftovers; i++) {
		int status;
		pid_t w;

		do
			w = waitpid(leftovers[i], &status, __WALL | WNOHANG);
		while (w < 0 && errno == EINTR);
		if (w == 0) {
			leftovers[j++] = leftovers[i]; /* still asleep */
			continue;
		}
		if (w > 0 && WIFSTOPPED(status))
			ptrace(PTRACE_DETACH, leftovers[i], NULL,
			       (void *)(long)(((status >> 16) & 0xff) == 0 ? WSTOPSIG(status) : 0));
	}
	n_leftovers = j;
}

/* Lists a thread that was never seized, because it stayed asleep in the kernel (state D) past
 * the deadline, as not stopped. */
static void add_unstopped(struct md_linux_tracees *t, pid_t tid, struct md_diag *diag)
{
	md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tid, -ETIMEDOUT,
	            "not stopped in time, asleep in the kernel (vfork() until the child execs, "
	            "or I/O): left running, no registers");
	t->t[t->n++] = (struct md_linux_tracee){.tid = tid, .unstopped = true};
}

int md_linux_attach_all(pid_t pid, volatile sig_atomic_t *cancel, uint64_t deadline_ns,
                        struct md_diag *diag, struct md_linux_tracees *tracees)
{
	struct tid_set seen = {0}, fresh = {0};
	struct md_linux_tracees t = {.pid = pid, .parent_is_us = parent_of(pid) == getpid()};
	uint64_t sleep = MD_LINUX_POLL_MIN_NS, asleep_until = 0;
	unsigned round = 0;
	size_t i, n_stopped = 0;
	char path[MD_LINUX_PATH_MAX];
	int r = 0, task_fd;

	retry_leftovers();
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	task_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* -1: absolute paths instead */
	for (;;) {
		size_t first = t.n, n_asleep = 0;
		bool expired = past(deadline_ns) || past(asleep_until);

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
			char name[sizeof(t.t[0].name)];

			/* Asleep in the kernel: seized, it could be neither stopped nor let go.
			 * Looked at again next time round; past the deadline, left running. */
			if (thread_state(pid, tid, task_fd, name, sizeof(name)) == 'D') {
				if (expired) {
					add_unstopped(&t, tid, diag);
				} else {
					fresh.v[i] = fresh.v[n_asleep];
					fresh.v[n_asleep++] = tid;
				}
				continue;
			}
			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
				int e = errno;

				if (e == ESRCH) {
					md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tid, -ESRCH,
					            "thread exited before it could be stopped");
					continue;
				}
				/* The kernel refuses to attach to an exited thread (a zombie
				 * group leader) with EPERM; that is not a permission problem. */
				if (e == EPERM &&
				    is_dead_state(thread_state(pid, tid, -1, NULL, 0))) {
					md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tid, -ESRCH,
					            "thread has exited (zombie)");
					continue;
				}
				/* Permission is per process: once one of its threads is ours, EPERM
				 * on another means that thread is already in do_exit (not yet a
				 * zombie), which the kernel refuses to attach to. */
				if (e == EPERM && t.stopped) {
					md_diag_add(diag, MD_DIAG_THREAD, (uint64_t)tid, -ESRCH,
					            "thread was exiting and could not be stopped");
					continue;
				}
				/* No thread is ours yet (the leader may be asleep in the kernel,
				 * skipped above): this one may be exiting rather than forbidden.
				 * Looked at again next round, like a sleeper; a refusal that lasts
				 * past the short wait is a refusal of the process. */
				if (e == EPERM && tid != pid && !expired) {
					fresh.v[i] = fresh.v[n_asleep];
					fresh.v[n_asleep++] = tid;
					continue;
				}
				r = -e;
				break;
			}
			if (!t.stopped) {
				t.stopped = true;
				t.stop_ns = (uint64_t)md_os_now_ns();
			}
			t.t[t.n] = (struct md_linux_tracee){.tid = tid, .seized = true};
			memcpy(t.t[t.n++].name, name, sizeof(name));
			/* ESRCH here means the thread is exiting; its exit is reaped below. */
			ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
		}
		if (wait_stopped(pid, &t, first, deadline_ns, cancel, diag) < 0 && r == 0)
			r = -ECANCELED;
		if (r < 0)
			goto out;

		/* Threads asleep in the kernel (moved to the front of fresh) are not seen yet, so
		 * the next scan offers them again; the rest are. */
		for (i = n_asleep; i < fresh.n; i++) {
			r = tid_set_push(&seen, fresh.v[i]);
			if (r < 0)
				goto out;
		}
		if (seen.n)
			qsort(seen.v, seen.n, sizeof(pid_t), cmp_pid);
		if (n_asleep && !asleep_until)
			asleep_until = (uint64_t)md_os_now_ns() + MD_LINUX_ASLEEP_WAIT_NS;
		if (n_asleep == fresh.n) {
			/* nothing but sleepers: wait a little for them, without using up a round */
			sleep_ns(sleep);
			if (sleep < MD_LINUX_POLL_MAX_NS)
				sleep *= 2;
		} else {
			sleep = MD_LINUX_POLL_MIN_NS;
			round++;
		}
	}
	for (i = 0; i < t.n; i++)
		if (!t.t[i].unstopped)
			n_stopped++;
	if (!n_stopped) {
		/* Every thread vanished (the process is gone), or none could be stopped. */
		r = t.n ? -ETIMEDOUT : -ESRCH;
		goto out;
	}
	qsort(t.t, t.n, sizeof(*t.t), cmp_tracee);
	*tracees = t;
	t = (struct md_linux_tracees){0};
	r = 0;
out:
	md_linux_detach_all(&t);
	if (task_fd >= 0)
		close(task_fd);
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
			int status;

			if (!tr.seized)
				continue;
			/* Seized but never seen to stop: detach works only if it has stopped since.
			 * One that is dying is reaped below, like any; one still asleep in the
			 * kernel the kernel gives us no way to let go (see the top). */
			if (tr.unstopped) {
				pid_t w = wait_tracee(t, tr.tid, &status);

				if (w > 0 && WIFSTOPPED(status))
					ptrace(PTRACE_DETACH, tr.tid, NULL,
					       (void *)(long)(((status >> 16) & 0xff) == 0
					                          ? WSTOPSIG(status)
					                          : 0));
				else if (w == 0 && is_dying(t->pid, tr.tid))
					t->t[n_dying++] = tr;
				else if (w == 0 && n_leftovers < MD_LINUX_LEFTOVERS_MAX)
					leftovers[n_leftovers++] = tr.tid;
				continue;
			}
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
	retry_leftovers();
	free(t->t);
	*t = (struct md_linux_tracees){0};
	return us;
}
