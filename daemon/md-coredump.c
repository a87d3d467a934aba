/* SPDX-License-Identifier: MIT */
/*
 * The kernel's coredump socket (kernel.core_pattern "@PATH", Linux >= 6.16, or "@@PATH" with
 * the request protocol, >= 6.17), served on the daemon's loop. A connection is the crashing
 * task itself: the kernel connects as it, so SO_PEERCRED names it, and it waits in the kernel
 * until the connection is closed. The decision is made here, on the loop thread, from what
 * the kernel says about the peer:
 *   - a crash the client shim already had dumped (one crash, one dump), or a program past the
 *     crash-loop limit, is rejected (mdd_coredump_reject): COREDUMP_REJECT in the request
 *     protocol (no core at all, anywhere), else the connection is closed;
 *   - anything else becomes a capture job (MDD_JOB_COREDUMP) on the existing queue; the
 *     worker's side is md-coredump-job.c: it answers COREDUMP_KERNEL|COREDUMP_WAIT, the
 *     core-stream backend reads the stream's head and the task's memory through
 *     /proc/<pid>/mem, and the connection is closed once the dump is written, which ends the
 *     kernel's core there: the rest of the address space is never read.
 * The stream's first bytes tell the kinds of connection apart: the ELF magic (plain socket
 * mode) or a coredump_req (its size, 16 to 4095). The pipe helper (md-coredump-helper.c, run
 * by the kernel as root) connects here too and sends its header and the core pipe at once;
 * it is told apart by its credentials and executable, and the task is the one it names (%P;
 * the kernel keeps it while the helper runs).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "md-coredump-int.h"
#include "md-coredump-proto.h"

#define CD_RECENT      64   /* client crashes remembered for one-crash-one-dump */
#define CD_RECENT_S    60.0 /* seconds a client crash is remembered */
#define CD_HELPER_MS   500  /* ms the pipe helper has to send its header */
#define CD_HELPER_NAME "md-coredump"

struct mdd_coredump {
	uv_poll_t poll;
	int fd;
	bool inherited; /* from systemd: its unit removes the file */
	bool closing;
	struct {
		uint32_t pid;
		uint64_t start; /* its start time: a pid reused meanwhile is another process */
		double at_s;
	} recent[CD_RECENT];
	unsigned next_recent;
};

/* Field 22 of /proc/<pid>/stat (start time in clock ticks), 0 when unreadable. */
static uint64_t start_time(uint32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	if (!p || sscanf(p + 2,
	                 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
	                 "%*d %*d %*d %llu",
	                 &v) != 1)
		return 0;
	return v;
}

static bool recent_client_crash(struct mdd_coredump *cd, uint32_t pid)
{
	double now = md_now_ms() / 1000.0;
	uint64_t start = start_time(pid);

	for (unsigned i = 0; i < CD_RECENT; i++)
		if (cd->recent[i].pid == pid && cd->recent[i].start == start &&
		    now - cd->recent[i].at_s < CD_RECENT_S)
			return true;
	return false;
}

void mdd_coredump_note_client_crash(struct mdd_daemon *d, uint32_t pid)
{
	struct mdd_coredump *cd = d->coredump;

	if (!cd)
		return;
	cd->recent[cd->next_recent].pid = pid;
	cd->recent[cd->next_recent].start = start_time(pid);
	cd->recent[cd->next_recent].at_s = md_now_ms() / 1000.0;
	cd->next_recent = (cd->next_recent + 1) % CD_RECENT;
}

static void process_name(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Whether the peer is the pipe helper: root, running our helper's executable. */
static bool is_helper(const struct ucred *cred)
{
	char exe[MDD_LOOP_EXE_MAX];
	const char *base;
	uint64_t id;

	if (cred->uid != 0 ||
	    mdd_privsep_process_exe((uint32_t)cred->pid, -1, exe, sizeof(exe), &id) < 0)
		return false;
	base = strrchr(exe, '/');
	return !strcmp(base ? base + 1 : exe, CD_HELPER_NAME);
}

static int set_recv_timeout(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ? -errno : 0;
}

/* The helper's header and the core pipe, sent right after it connected. */
static int receive_helper(int fd, struct mdd_cd_helper_msg *m, int *ret_stream)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {0};
	struct cmsghdr *cm;
	ssize_t n;

	*ret_stream = -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC); /* at most CD_HELPER_MS (SO_RCVTIMEO) */
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(ret_stream, CMSG_DATA(cm), sizeof(int));
	if ((size_t)n != sizeof(*m) || m->magic != MDD_CD_HELPER_MAGIC ||
	    m->version != MDD_CD_HELPER_VERSION || m->pid == 0 || m->pid > INT32_MAX ||
	    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || *ret_stream < 0) {
		if (*ret_stream >= 0)
			close(*ret_stream);
		*ret_stream = -1;
		return -EPROTO;
	}
	return 0;
}

static void on_kernel_connection(uv_poll_t *h, int status, int events)
{
	struct mdd_daemon *d = h->data;
	struct mdd_coredump *cd = d->coredump;
	struct mdd_loop_entry *e;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char exe[MDD_LOOP_EXE_MAX];
	uint64_t file_id;
	struct mdd_job *job;
	int fd, stream = -1, helper_dumpable = -1;
	bool helper;

	if (status < 0)
		return;
	fd = accept4(cd->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	d->counters.connections++;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.pid <= 0) {
		close(fd);
		return;
	}
	if (d->stopping) {
		close(fd);
		return;
	}
	helper = is_helper(&cred);
	/* a receive that waits longer fails: the kernel streams at once, the helper sends its
	 * header at once */
	if (set_recv_timeout(fd, helper ? CD_HELPER_MS : CD_PEEK_MS) < 0) {
		close(fd);
		return;
	}
	if (helper) {
		struct mdd_cd_helper_msg m;

		if (receive_helper(fd, &m, &stream) < 0) {
			mdd_log(MDD_LOG_WARNING, "the pipe helper (pid %d) sent no usable header",
			        (int)cred.pid);
			close(fd);
			return;
		}
		cred.pid = (pid_t)m.pid;
		cred.uid = m.uid;
		helper_dumpable = (int)m.dumpable;
	}
	if (recent_client_crash(cd, (uint32_t)cred.pid)) {
		mdd_log(MDD_LOG_INFO, "pid %d: already dumped through its client; no second dump",
		        (int)cred.pid);
		if (stream >= 0) {
			close(stream); /* the helper exits; the kernel's pipe breaks: no core */
			close(fd);
		} else {
			mdd_coredump_reject(d, fd);
		}
		return;
	}
	if (mdd_privsep_process_exe((uint32_t)cred.pid, -1, exe, sizeof(exe), &file_id) == 0 &&
	    mdd_loop_check(d->loops, exe, file_id, md_now_ms() / 1000.0, &e)) {
		d->counters.rate_limited++;
		mdd_log(
		    MDD_LOG_NOTICE,
		    "pid %d (%s) crashed, not dumped: %u crashes within %u s (%llu suppressed in "
		    "a row); no core either",
		    (int)cred.pid, exe, d->cfg->loop_max_crashes, d->cfg->loop_window_s,
		    (unsigned long long)e->suppressed);
		if (stream >= 0) {
			close(stream);
			close(fd);
		} else {
			mdd_coredump_reject(d, fd);
		}
		return;
	}
	job = calloc(1, sizeof(*job));
	if (job)
		job->core = calloc(1, sizeof(*job->core));
	if (!job || !job->core) {
		free(job);
		close(fd);
		if (stream >= 0)
			close(stream);
		return;
	}
	job->d = d;
	job->kind = MDD_JOB_COREDUMP;
	job->pid = (uint32_t)cred.pid;
	job->pidfd = -1;
	job->requester.pid = 0;                        /* the kernel */
	job->requester.user = md_principal_from_id(0); /* the kernel, as root */
	job->queued_ms = md_now_ms();
	job->core->fd = fd;
	job->core->stream_fd = stream;
	job->core->helper_dumpable = helper_dumpable;
	snprintf(job->core->mode, sizeof(job->core->mode), stream >= 0 ? "pipe" : "socket");
	process_name(job->pid, job->process_name, sizeof(job->process_name));
	uv_timer_init(d->loop, &job->budget);
	job->budget.data = job;
	d->counters.requests++;
	mdd_log(MDD_LOG_NOTICE, "pid %d (uid %u, '%s') crashed: the kernel's coredump %s",
	        (int)cred.pid, (unsigned)cred.uid, job->process_name,
	        stream >= 0 ? "pipe" : "socket");
	mdd_server_submit(d, job);
}

int mdd_coredump_start(struct mdd_daemon *d)
{
	const char *path = d->cfg->coredump_socket;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct mdd_coredump *cd;
	int r;

	if (mdd_listen_coredump_fd < 0 && (!path || !path[0]))
		return 0;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	if (mdd_listen_coredump_fd >= 0) {
		/* systemd's minidumpd-coredump.socket: made root-only by its unit */
		cd->fd = mdd_listen_coredump_fd;
		cd->inherited = true;
		fcntl(cd->fd, F_SETFL, fcntl(cd->fd, F_GETFL) | O_NONBLOCK);
		goto serve;
	}
	if (strlen(path) >= sizeof(a.sun_path)) {
		free(cd);
		return -ENAMETOOLONG;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	cd->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (cd->fd < 0) {
		r = -errno;
		free(cd);
		return r;
	}
	/* root's alone: the kernel connects whatever the mode; only root may pose as it */
	if (unlink(path) < 0 && errno != ENOENT) {
		r = -errno;
		goto fail;
	}
	if (bind(cd->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 ||
	    listen(cd->fd, 256) < 0) {
		r = -errno;
		goto fail;
	}
serve:
	r = uv_poll_init(d->loop, &cd->poll, cd->fd);
	if (r < 0)
		goto fail;
	cd->poll.data = d;
	d->coredump = cd;
	uv_poll_start(&cd->poll, UV_READABLE, on_kernel_connection);
	mdd_log(MDD_LOG_NOTICE, "coredump socket %s ready", cd->inherited ? "(inherited)" : path);
	return 0;
fail:
	close(cd->fd);
	free(cd);
	return r < 0 ? r : -EIO;
}

static void on_poll_closed(uv_handle_t *h)
{
	struct mdd_coredump *cd = h->data;

	close(cd->fd);
	free(cd);
}

void mdd_coredump_stop(struct mdd_daemon *d)
{
	struct mdd_coredump *cd = d->coredump;

	if (!cd || cd->closing)
		return;
	cd->closing = true;
	/* without the socket file, the kernel's connect fails at once and the task just dies */
	if (!cd->inherited && d->cfg->coredump_socket)
		unlink(d->cfg->coredump_socket);
	cd->poll.data = cd;
	uv_close((uv_handle_t *)&cd->poll, on_poll_closed);
	d->coredump = NULL;
}

const struct md_backend_ops *mdd_coredump_backend(void)
{
	return &md_platform_core_backend;
}
