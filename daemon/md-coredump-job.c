/* SPDX-License-Identifier: MIT */
/*
 * The worker's side of the kernel's coredump connections (md-coredump.c accepts them on the
 * loop): the request protocol of "@@" sockets (Linux >= 6.17) answered, what /proc says about
 * the task (NSpid, cgroup, dumpability) read while the kernel holds it, the stream handed to
 * the core-stream backend, and the connection closed as soon as the dump is written, which
 * ends the kernel's core there. A connection that gets no dump is answered here too, on its
 * own worker: COREDUMP_REJECT where the protocol offers it (no core anywhere), else a close.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md-coredump-int.h"
#include "md-report.h"

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

static int recv_all(int fd, void *buf, size_t len, int flags)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(fd, (char *)buf + done, len - done, flags);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT; /* the connection's receive timeout (md-coredump.c) */
		if (n <= 0 && !(n < 0 && errno == EINTR))
			return n < 0 ? -errno : -EPIPE; /* the kernel went away */
		if (n > 0 && !(flags & MSG_PEEK))
			done += (size_t)n;
		else if (n > 0 && (size_t)n >= len)
			return 0; /* peeked it all; otherwise peek again once more has arrived */
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

static void read_task_facts(struct mdd_job *job)
{
	struct mdd_coredump_job *cj = job->core;
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

int mdd_coredump_prepare(struct mdd_job *job, struct md_backend_options *opts)
{
	struct mdd_coredump_job *cj = job->core;
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

int mdd_coredump_report(const struct mdd_job *job, struct md_report *r)
{
	const struct mdd_coredump_job *cj = job->core;
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

void mdd_coredump_release(struct mdd_job *job)
{
	struct mdd_coredump_job *cj = job->core;

	if (!cj)
		return;
	if (cj->stream_fd >= 0)
		close(cj->stream_fd);
	if (cj->fd >= 0)
		close(cj->fd); /* the kernel stops writing the core; the task dies */
	cj->stream_fd = cj->fd = -1;
}

void mdd_coredump_job_free(struct mdd_job *job)
{
	if (!job->core)
		return;
	mdd_coredump_release(job);
	free(job->core);
	job->core = NULL;
}

/* ---- rejecting, on its own worker ---- */

struct reject {
	uv_work_t work;
	struct mdd_coredump_job cj;
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

void mdd_coredump_reject(struct mdd_daemon *d, int fd)
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
