/* SPDX-License-Identifier: MIT */
/*
 * The kernel's coredump socket (kernel.core_pattern "@PATH", Linux >= 6.16, or "@@PATH" with
 * the request protocol, >= 6.17),
 * served on the daemon's loop. A connection is the crashing task itself: the kernel connects
 * as it, so SO_PEERCRED names it, and it waits in the kernel until the connection is closed.
 * The decision is made here, on the loop thread, from what the kernel says about the peer:
 *   - a crash the client shim already had dumped (one crash, one dump), or a program past the
 *     crash-loop limit, is rejected: COREDUMP_REJECT in the request protocol (no core at all,
 *     anywhere), else the connection is closed;
 *   - anything else becomes a capture job (MD_JOB_COREDUMP) on the existing queue: on the
 *     worker, md_coredump_prepare() answers the request with COREDUMP_KERNEL|COREDUMP_WAIT,
 *     the core-stream backend reads the stream's head and the task's memory through
 *     /proc/<pid>/mem, and the connection is closed when the job is freed, which ends the
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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "md-coredump-proto.h"
#include "md-daemon.h"
#include "md-report.h"

#define CD_RECENT      64   /* client crashes remembered for one-crash-one-dump */
#define CD_RECENT_S    60.0 /* seconds a client crash is remembered */
#define CD_PEEK_MS     2000 /* ms the kernel (or the helper) has to send its first bytes */
#define CD_STATUS_MAX  (64 * 1024)
#define CD_CGROUP_MAX  512
#define CD_HELPER_MS   500 /* ms the pipe helper has to send its header */
#define CD_HELPER_NAME "md-coredump"

/* What the kernel's request protocol says (include/uapi/linux/coredump.h, Linux >= 6.17):
 * declared here because distribution headers predate it. */
struct cd_coredump_req {
	uint32_t size;     /* of this struct as the kernel knows it */
	uint32_t size_ack; /* of the ack it accepts */
	uint64_t mask;     /* the features it supports */
};
struct cd_coredump_ack {
	uint32_t size;
	uint32_t spare;
	uint64_t mask;
};
#define CD_COREDUMP_KERNEL (1ull << 0)
#define CD_COREDUMP_REJECT (1ull << 2)
#define CD_COREDUMP_WAIT   (1ull << 3)
#define CD_REQ_SIZE_VER0   16u
#define CD_REQ_SIZE_MAX    4095u
#define CD_MARK_REQACK     0u

struct md_coredump {
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

struct md_coredump_job {
	int helper_dumpable; /* the pipe helper's %d, -1 for the socket */
	int fd;              /* the connection; the kernel waits until it is closed */
	int stream_fd;       /* where the core stream is read: fd, or the helper's pipe */
	bool reject;         /* answer without a dump */
	char mode[8];        /* "socket" or "pipe" */
	char why[160];       /* why the dump is private, or why it was rejected */
	char nspid[64];      /* NSpid of the task, as /proc prints it */
	char cgroup[CD_CGROUP_MAX];
	char stream_error[160];
	struct md_core_source src;
};

/* ---- the worker's side ---- */

static int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int recv_all(int fd, void *buf, size_t len, int flags)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;
		int r = wait_readable(fd, CD_PEEK_MS);

		if (r < 0)
			return r;
		n = recv(fd, (char *)buf + done, len - done, flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (flags & MSG_PEEK) {
			if ((size_t)n >= len)
				return 0;
			continue; /* peek again once more has arrived */
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * The request protocol: reads the kernel's coredump_req (at most CD_REQ_SIZE_MAX bytes),
 * answers mask (REJECT, or KERNEL with WAIT where offered) and reads the kernel's mark.
 * Returns 0, -EPROTO when the kernel refused our ack, or -errno.
 */
static int answer_request(int fd, bool reject)
{
	struct cd_coredump_req req = {0};
	struct cd_coredump_ack ack = {0};
	uint8_t rest[CD_REQ_SIZE_MAX];
	uint32_t size, mark;
	int r;

	r = recv_all(fd, &size, sizeof(size), MSG_PEEK);
	if (r < 0)
		return r;
	if (size < CD_REQ_SIZE_VER0 || size > CD_REQ_SIZE_MAX)
		return -EPROTO;
	r = recv_all(fd, &req, sizeof(req), 0);
	if (r == 0 && size > sizeof(req))
		r = recv_all(fd, rest, size - sizeof(req), 0);
	if (r < 0)
		return r;
	if (req.size_ack < CD_REQ_SIZE_VER0)
		return -EPROTO;
	ack.size = sizeof(ack);
	if (reject)
		ack.mask = CD_COREDUMP_REJECT;
	else
		ack.mask = CD_COREDUMP_KERNEL | (req.mask & CD_COREDUMP_WAIT);
	if ((ack.mask & req.mask) != ack.mask)
		return -EPROTONOSUPPORT;
	if (send(fd, &ack, sizeof(ack), MSG_NOSIGNAL) != (ssize_t)sizeof(ack))
		return -errno;
	r = recv_all(fd, &mark, sizeof(mark), 0);
	if (r < 0)
		return reject && r == -EPIPE ? 0 : r; /* a rejected task may go at once */
	return mark == CD_MARK_REQACK ? 0 : -EPROTO;
}

static void read_task_facts(struct md_job *job)
{
	struct md_coredump_job *cj = job->core;
	char path[64], *text = NULL;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", job->pid);
	f = fopen(path, "re");
	if (f) {
		char line[256];
		long real_uid = -1;

		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "NSpid:", 6)) {
				char *p = line + 6;

				p += strspn(p, " \t");
				p[strcspn(p, "\n")] = '\0';
				snprintf(cj->nspid, sizeof(cj->nspid), "%s", p);
			} else if (!strncmp(line, "Uid:", 4)) {
				real_uid = strtol(line + 4, NULL, 10);
			}
		}
		fclose(f);
		/* The kernel makes a task that is not dumpable by its user (set-uid, file
		 * capabilities, PR_SET_DUMPABLE 0) own its /proc entries as root. */
		snprintf(path, sizeof(path), "/proc/%u", job->pid);
		if (cj->helper_dumpable >= 0
		        ? cj->helper_dumpable != 1
		        : stat(path, &st) == 0 && real_uid >= 0 && (long)st.st_uid != real_uid) {
			job->not_dumpable = true;
			snprintf(cj->why, sizeof(cj->why),
			         "not dumpable by its user (uid %ld): set-uid, capabilities or "
			         "PR_SET_DUMPABLE 0; the dump is root's alone",
			         real_uid);
		}
	}
	snprintf(path, sizeof(path), "/proc/%u/cgroup", job->pid);
	f = fopen(path, "re");
	if (f) {
		char line[CD_CGROUP_MAX];

		/* the unified hierarchy's line ("0::/..."), else the first */
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (!cj->cgroup[0] || !strncmp(line, "0::", 3))
				snprintf(cj->cgroup, sizeof(cj->cgroup), "%s", line);
		}
		fclose(f);
	}
	free(text);
}

int md_coredump_prepare(struct md_job *job, struct md_backend_options *opts)
{
	struct md_coredump_job *cj = job->core;
	uint8_t head[4];
	int r;

	if (cj->stream_fd >= 0)
		goto ready; /* the pipe helper's: the stream is its pipe */
	r = recv_all(cj->fd, head, sizeof(head), MSG_PEEK);
	if (r < 0) {
		snprintf(job->message, sizeof(job->message),
		         "pid %u: nothing came on the coredump connection: %s", job->pid,
		         md_os_strerror(-r));
		return r;
	}
	if (memcmp(head, "\177ELF", 4)) {
		r = answer_request(cj->fd, false);
		if (r < 0) {
			snprintf(job->message, sizeof(job->message),
			         "pid %u: the kernel's coredump request failed: %s", job->pid,
			         md_os_strerror(-r));
			return r;
		}
	}
ready:
	read_task_facts(job);
	cj->src.fd = cj->stream_fd >= 0 ? cj->stream_fd : cj->fd;
	cj->src.error = cj->stream_error;
	cj->src.error_size = sizeof(cj->stream_error);
	opts->source = &cj->src;
	return 0;
}

int md_coredump_report(const struct md_job *job, struct md_report *r)
{
	const struct md_coredump_job *cj = job->core;
	int e = 0;

	e |= md_report_set(&r->core_pattern_mode, cj->mode);
	if (cj->nspid[0])
		e |= md_report_set(&r->nspid, cj->nspid);
	if (cj->cgroup[0])
		e |= md_report_set(&r->cgroup, cj->cgroup);
	if (job->not_dumpable)
		e |= md_report_set(&r->private_because, cj->why);
	return e ? -ENOMEM : 0;
}

void md_coredump_release(struct md_job *job)
{
	struct md_coredump_job *cj = job->core;

	if (!cj)
		return;
	if (cj->stream_fd >= 0)
		close(cj->stream_fd);
	if (cj->fd >= 0)
		close(cj->fd); /* the kernel stops writing the core; the task dies */
	cj->stream_fd = cj->fd = -1;
}

void md_coredump_job_free(struct md_job *job)
{
	struct md_coredump_job *cj = job->core;

	if (!cj)
		return;
	if (cj->stream_fd >= 0)
		close(cj->stream_fd);
	if (cj->fd >= 0)
		close(cj->fd); /* the kernel stops writing the core; the task dies */
	free(cj);
	job->core = NULL;
}

/* ---- rejecting, on its own worker ---- */

struct reject {
	uv_work_t work;
	struct md_coredump_job cj;
};

static void reject_work(uv_work_t *req)
{
	struct reject *rj = req->data;
	uint8_t head[4];

	/* the request protocol answers REJECT: no core is written anywhere; otherwise closing
	 * the connection ends the core */
	if (recv_all(rj->cj.fd, head, sizeof(head), MSG_PEEK) == 0 && memcmp(head, "\177ELF", 4))
		answer_request(rj->cj.fd, true);
}

static void reject_done(uv_work_t *req, int status)
{
	struct reject *rj = req->data;

	close(rj->cj.fd);
	free(rj);
}

/* ---- the loop's side ---- */

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

static bool recent_client_crash(struct md_coredump *cd, uint32_t pid)
{
	double now = md_now_ms() / 1000.0;
	uint64_t start = start_time(pid);

	for (unsigned i = 0; i < CD_RECENT; i++)
		if (cd->recent[i].pid == pid && cd->recent[i].start == start &&
		    now - cd->recent[i].at_s < CD_RECENT_S)
			return true;
	return false;
}

void md_coredump_note_client_crash(struct md_daemon *d, uint32_t pid)
{
	struct md_coredump *cd = d->coredump;

	if (!cd)
		return;
	cd->recent[cd->next_recent].pid = pid;
	cd->recent[cd->next_recent].start = start_time(pid);
	cd->recent[cd->next_recent].at_s = md_now_ms() / 1000.0;
	cd->next_recent = (cd->next_recent + 1) % CD_RECENT;
}

static void start_reject(struct md_daemon *d, int fd)
{
	struct reject *rj = calloc(1, sizeof(*rj));

	if (!rj) {
		close(fd);
		return;
	}
	rj->cj.fd = fd;
	rj->cj.stream_fd = -1;
	rj->cj.helper_dumpable = -1;
	rj->work.data = rj;
	if (uv_queue_work(d->loop, &rj->work, reject_work, reject_done) < 0) {
		close(fd);
		free(rj);
	}
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
	char exe[MD_LOOP_EXE_MAX];
	const char *base;
	uint64_t id;

	if (cred->uid != 0 ||
	    md_privsep_process_exe((uint32_t)cred->pid, -1, exe, sizeof(exe), &id) < 0)
		return false;
	base = strrchr(exe, '/');
	return !strcmp(base ? base + 1 : exe, CD_HELPER_NAME);
}

/* The helper's header and the core pipe, sent right after it connected. */
static int receive_helper(int fd, struct md_cd_helper_msg *m, int *ret_stream)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = control,
	                    .msg_controllen = sizeof(control)};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct cmsghdr *cm;
	ssize_t n;

	*ret_stream = -1;
	if (poll(&p, 1, CD_HELPER_MS) != 1)
		return -ETIMEDOUT;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(ret_stream, CMSG_DATA(cm), sizeof(int));
	if ((size_t)n != sizeof(*m) || m->magic != MD_CD_HELPER_MAGIC ||
	    m->version != MD_CD_HELPER_VERSION || m->pid == 0 || m->pid > INT32_MAX ||
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
	struct md_daemon *d = h->data;
	struct md_coredump *cd = d->coredump;
	struct md_loop_entry *e;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char exe[MD_LOOP_EXE_MAX];
	uint64_t file_id;
	struct md_job *job;
	int fd, stream = -1, helper_dumpable = -1;

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
	if (is_helper(&cred)) {
		struct md_cd_helper_msg m;

		if (receive_helper(fd, &m, &stream) < 0) {
			md_log(MD_LOG_WARNING, "the pipe helper (pid %d) sent no usable header",
			       (int)cred.pid);
			close(fd);
			return;
		}
		cred.pid = (pid_t)m.pid;
		cred.uid = m.uid;
		helper_dumpable = (int)m.dumpable;
	}
	if (recent_client_crash(cd, (uint32_t)cred.pid)) {
		md_log(MD_LOG_INFO, "pid %d: already dumped through its client; no second dump",
		       (int)cred.pid);
		if (stream >= 0) {
			close(stream); /* the helper exits; the kernel's pipe breaks: no core */
			close(fd);
		} else {
			start_reject(d, fd);
		}
		return;
	}
	if (md_privsep_process_exe((uint32_t)cred.pid, -1, exe, sizeof(exe), &file_id) == 0 &&
	    md_loop_check(d->loops, exe, file_id, md_now_ms() / 1000.0, &e)) {
		d->counters.rate_limited++;
		md_log(
		    MD_LOG_NOTICE,
		    "pid %d (%s) crashed, not dumped: %u crashes within %u s (%llu suppressed in "
		    "a row); no core either",
		    (int)cred.pid, exe, d->cfg->loop_max_crashes, d->cfg->loop_window_s,
		    (unsigned long long)e->suppressed);
		if (stream >= 0) {
			close(stream);
			close(fd);
		} else {
			start_reject(d, fd);
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
	job->kind = MD_JOB_COREDUMP;
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
	md_log(MD_LOG_NOTICE, "pid %d (uid %u, '%s') crashed: the kernel's coredump %s",
	       (int)cred.pid, (unsigned)cred.uid, job->process_name,
	       stream >= 0 ? "pipe" : "socket");
	md_server_submit(d, job);
}

int md_coredump_start(struct md_daemon *d)
{
	const char *path = d->cfg->coredump_socket;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct md_coredump *cd;
	int r;

	if (md_listen_coredump_fd < 0 && (!path || !path[0]))
		return 0;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	if (md_listen_coredump_fd >= 0) {
		/* systemd's minidumpd-coredump.socket: made root-only by its unit */
		cd->fd = md_listen_coredump_fd;
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
	md_log(MD_LOG_NOTICE, "coredump socket %s ready", cd->inherited ? "(inherited)" : path);
	return 0;
fail:
	close(cd->fd);
	free(cd);
	return r < 0 ? r : -EIO;
}

static void on_poll_closed(uv_handle_t *h)
{
	struct md_coredump *cd = h->data;

	close(cd->fd);
	free(cd);
}

void md_coredump_stop(struct md_daemon *d)
{
	struct md_coredump *cd = d->coredump;

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

const struct md_backend_ops *md_coredump_backend(void)
{
	return &md_platform_core_backend;
}
