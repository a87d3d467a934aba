/* SPDX-License-Identifier: MIT */
/*
 * The Linux live-process backend of platform/md-backend.h: the steps the snapshot builder
 * (common/md-snapshot-build.c) runs. Stopping every thread is linux-ptrace.c, registers the
 * arch file, thread names, process and system info linux-proc.c, mappings linux-maps.c and
 * modules linux-modules.c; the target's memory and raw procfs files are offered through the
 * snapshot's operations. The builder resumes the target (linux_resume) on every path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux-arch.h"
#include "linux-internal.h"
#include "md-backend.h"

#define MD_LINUX_CAP_SYS_PTRACE 19          /* bit of CAP_SYS_PTRACE in CapEff */
#define MD_LINUX_SMALL_FILE_MAX (64 * 1024) /* bytes read of a status-style procfs file */

static const struct md_snapshot_ops linux_ops = {
    .read_ranges = md_linux_read_ranges,
    .read_blob = md_linux_read_blob,
};

/*
 * Guards against pid reuse: the pidfd must name the pid we attached to, and that process must
 * still exist (while it does, its pid cannot be given to another process).
 */
static int check_pidfd(int pidfd, pid_t pid)
{
	char path[MD_LINUX_PATH_MAX], *text = NULL;
	const char *f;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	r = md_linux_read_text_file(path, MD_LINUX_SMALL_FILE_MAX, &text, &len);
	if (r < 0)
		return r == -ENOENT ? -EBADF : r;
	f = md_linux_status_field(text, "Pid");
	if (f && strtol(f, NULL, 10) != pid)
		r = -ESRCH; /* -1 once the process has exited, another pid if it is another */
	free(text);
	if (r < 0)
		return r;
#if HAVE_PIDFD_OPEN && defined(SYS_pidfd_send_signal)
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return -errno;
#endif
	return 0;
}

struct name_job {
	struct md_snapshot *s;
	int task_fd;
};

/* Reads the name of every thread that has none yet (most have theirs from the stop, which read
 * it with the thread's state). Runs on its own thread, beside the register reads: the two are
 * independent, and on a 512-thread target each costs several milliseconds of syscalls. */
static void *read_names(void *arg)
{
	struct name_job *j = arg;

	for (size_t i = 0; i < j->s->n_threads; i++)
		if (!j->s->threads[i].name[0])
			md_linux_read_thread_name(j->task_fd, (pid_t)j->s->threads[i].tid,
			                          j->s->threads[i].name,
			                          sizeof(j->s->threads[i].name));
	return NULL;
}

static int read_threads(struct md_linux_snapshot *ls)
{
	struct md_snapshot *s = &ls->pub;
	char path[MD_LINUX_PATH_MAX];
	struct name_job names = {.s = s, .task_fd = -1};
	pthread_t name_thread;
	bool threaded = false;
	size_t i, gone = 0, unnamed = 0;

	s->threads = calloc(ls->tracees.n, sizeof(*s->threads));
	if (!s->threads)
		return -ENOMEM;
	s->n_threads = ls->tracees.n;
	for (i = 0; i < ls->tracees.n; i++) {
		s->threads[i].tid = (uint32_t)ls->tracees.t[i].tid;
		snprintf(s->threads[i].name, sizeof(s->threads[i].name), "%s",
		         ls->tracees.t[i].name);
		unnamed += !s->threads[i].name[0];
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)ls->pid);
	if (unnamed)
		names.task_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (names.task_fd >= 0) {
		threaded = pthread_create(&name_thread, NULL, read_names, &names) == 0;
		if (!threaded)
			read_names(&names); /* no thread to be had: do it here */
	}
	/* registers only from this thread: ptrace ties each tracee to the thread that attached */
	for (i = 0; i < ls->tracees.n; i++) {
		struct md_thread_info *t = &s->threads[i];
		int r;

		if (ls->tracees.t[i].unstopped) {
			t->error = -ETIMEDOUT; /* running: no registers (linux-ptrace.c said why) */
			continue;
		}
		r = md_linux_arch_read_context((pid_t)t->tid, &t->context, &t->sp, &t->pc);
		if (r < 0) {
			t->error = r;
			t->context.size = 0;
			md_diag_add(&s->diag, MD_DIAG_THREAD, (uint64_t)t->tid, r,
			            "cannot read registers: %s", strerror(-r));
			if (r == -ESRCH)
				gone++;
		}
	}
	if (threaded)
		pthread_join(name_thread, NULL);
	if (names.task_fd >= 0)
		close(names.task_fd);
	/* Every stopped thread vanished (SIGKILL meanwhile): the process is gone. */
	if (gone == ls->tracees.n) {
		s->target_gone = true;
		return -ESRCH;
	}
	return 0;
}

static int linux_open(struct md_snapshot *s, uint32_t pid, const struct md_backend_options *o)
{
	struct md_linux_snapshot *ls = md_linux_snapshot_from_pub(s);

	ls->mem_fd = -1; /* before anything can fail: linux_free closes it */
	if (pid == 0 || pid > INT_MAX)
		return -ESRCH;
	ls->pid = (pid_t)pid;
	ls->mem_method = MD_LINUX_MEM_VM_READV;
	if (!s->crash)
		s->requesting_tid = pid;
	return 0;
}

static int linux_stop(struct md_snapshot *s, const struct md_backend_options *o)
{
	struct md_linux_snapshot *ls = md_linux_snapshot_from_pub(s);
	int r;

	r = md_linux_attach_all(ls->pid, o->cancel,
	                        o->stop_deadline_ms > 0 ? (uint64_t)(o->stop_deadline_ms * 1e6) : 0,
	                        &s->diag, &ls->tracees);
	if (r < 0 || o->pidfd < 0)
		return r;
	return check_pidfd(o->pidfd, ls->pid);
}

static int linux_threads(struct md_snapshot *s)
{
	return read_threads(md_linux_snapshot_from_pub(s));
}

static int linux_process(struct md_snapshot *s)
{
	return md_linux_read_process_info(md_linux_snapshot_from_pub(s)->pid, &s->process,
	                                  &s->diag);
}

static int linux_system(struct md_snapshot *s)
{
	return md_linux_read_system_info(&s->system, &s->diag);
}

static int linux_mappings(struct md_snapshot *s)
{
	return md_linux_read_maps(md_linux_snapshot_from_pub(s)->pid, &s->mappings, &s->n_mappings);
}

static int linux_modules(struct md_snapshot *s)
{
	return md_linux_read_modules(md_linux_snapshot_from_pub(s));
}

static uint64_t linux_resume(struct md_snapshot *s)
{
	struct md_linux_snapshot *ls = md_linux_snapshot_from_pub(s);

	return ls->tracees.stopped ? md_linux_detach_all(&ls->tracees) : 0;
}

static void linux_free(struct md_snapshot *s)
{
	struct md_linux_snapshot *ls = md_linux_snapshot_from_pub(s);

	if (ls->mem_fd >= 0)
		close(ls->mem_fd);
	md_linux_modules_free(s->modules, s->n_modules);
	md_linux_mappings_free(s->mappings, s->n_mappings);
}

/* The target died meanwhile if a memory read said so (s->target_gone): no alive step. */
const struct md_backend_ops md_platform_live_backend =
    MD_BACKEND_OPS(struct md_linux_snapshot, linux, MD_LIVE_STEPS(linux));

/* Whether this process holds CAP_SYS_PTRACE, from CapEff in /proc/self/status. */
static bool have_cap_sys_ptrace(void)
{
	unsigned long long caps = 0;
	const char *f;
	char *text;
	size_t len;

	if (md_linux_read_text_file("/proc/self/status", MD_LINUX_SMALL_FILE_MAX, &text, &len) < 0)
		return false;
	f = md_linux_status_field(text, "CapEff");
	if (f)
		caps = strtoull(f, NULL, 16);
	free(text);
	return caps >> MD_LINUX_CAP_SYS_PTRACE & 1;
}

void md_platform_explain_permission(uint32_t pid, char *buf, size_t size)
{
	long scope = -1, target_uid = -1, tracer = 0;
	char path[MD_LINUX_PATH_MAX], *text;
	bool cap = have_cap_sys_ptrace();
	uid_t uid = geteuid();
	const char *f;
	size_t len;

	if (!size)
		return;
	if (md_linux_read_text_file("/proc/sys/kernel/yama/ptrace_scope", 64, &text, &len) == 0) {
		scope = strtol(text, NULL, 10);
		free(text);
	}
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (md_linux_read_text_file(path, MD_LINUX_SMALL_FILE_MAX, &text, &len) < 0) {
		snprintf(buf, size, "Process %u does not exist or its /proc entry is unreadable.",
		         pid);
		return;
	}
	f = md_linux_status_field(text, "Uid");
	if (f)
		target_uid = strtol(f, NULL, 10);
	f = md_linux_status_field(text, "TracerPid");
	if (f)
		tracer = strtol(f, NULL, 10);
	free(text);

	if (tracer > 0)
		snprintf(buf, size,
		         "Process %u is already traced by process %ld (a debugger?); only one "
		         "tracer is allowed, so detach it first.",
		         pid, tracer);
	else if (scope == 3)
		snprintf(buf, size,
		         "ptrace is disabled for everyone (kernel.yama.ptrace_scope = 3) until the "
		         "next reboot; no dump can be taken.");
	else if (cap || uid == 0)
		snprintf(buf, size,
		         "We hold CAP_SYS_PTRACE but the kernel still refused to trace process %u: "
		         "it may live in another user namespace or be protected by a security "
		         "module (SELinux, AppArmor) or a seccomp filter.",
		         pid);
	else if (target_uid >= 0 && (uid_t)target_uid != uid)
		snprintf(buf, size,
		         "Process %u belongs to uid %ld and we run as uid %u: run as root, as uid "
		         "%ld, or with CAP_SYS_PTRACE.",
		         pid, target_uid, (unsigned)uid, target_uid);
	else if (scope == 2)
		snprintf(buf, size,
		         "kernel.yama.ptrace_scope is 2 (admin only): run as root or grant "
		         "CAP_SYS_PTRACE to trace process %u.",
		         pid);
	else if (scope == 1)
		snprintf(
		    buf, size,
		    "kernel.yama.ptrace_scope is 1 (only a parent may trace its children): run "
		    "as root, grant CAP_SYS_PTRACE, let process %u allow us with "
		    "prctl(PR_SET_PTRACER), or set kernel.yama.ptrace_scope to 0.",
		    pid);
	else
		snprintf(buf, size,
		         "Process %u is not dumpable (set-uid, file capabilities or "
		         "prctl(PR_SET_DUMPABLE, 0)): run as root or grant CAP_SYS_PTRACE.",
		         pid);
}
