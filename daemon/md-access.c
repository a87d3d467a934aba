/* SPDX-License-Identifier: MIT */
/*
 * Whether a requester may have a process's memory, decided again at the time of the dump from
 * what the kernel says then, not only when the request was allowed: the process that
 * connected must still be the one pinned at accept, and the target must still be dumpable by
 * the requester (the expected uid, and gid for its own dumps, as real, effective and saved
 * ids; no capabilities the requester lacked unless it is root's; the kernel's dumpable flag). Root
 * may dump anything; its report then says the target was not dumpable. Runs on the loop thread and
 * on workers; never logs (its callers do) and keeps no state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "md-daemon.h"

int md_access_peer_pinned(int pidfd, uint32_t pid, char *why, size_t size)
{
	int r;

	if (pidfd == -ENOSYS)
		return 0; /* an OS without pidfds: the pid is all there is */
	r = pidfd < 0 ? -ESRCH : md_platform_pinned(pidfd, pid);
	if (r < 0)
		snprintf(why, size,
		         "process %u, which connected, has exited (or was gone before its "
		         "connection was accepted): nothing is dumped for this connection",
		         pid);
	return r;
}

/* Why a process with credentials t is not dumpable by job's requester, or NULL. */
static const char *not_dumpable(const struct md_job *job, const struct md_process_creds *t,
                                char *buf, size_t size)
{
	const struct md_peer *rq = &job->requester;
	/* whose process it must be: the peer's own, or the owner a request was allowed for */
	uint32_t uid = job->kind == MD_JOB_REQUEST ? job->owner.id : rq->user.id;

	if (!t->dumpable)
		return "it is not dumpable (it ran a set-uid, set-gid or file-capability program, "
		       "changed its credentials, or called prctl(PR_SET_DUMPABLE, 0))";
	if (t->uid[0] != t->uid[1] || t->uid[1] != t->uid[2] || t->gid[0] != t->gid[1] ||
	    t->gid[1] != t->gid[2])
		return "its real, effective and saved uids or gids differ (set-uid or set-gid)";
	if (t->uid[1] != uid) {
		snprintf(buf, size, "it runs as uid %u, not uid %u", t->uid[1], uid);
		return buf;
	}
	if (job->kind != MD_JOB_REQUEST && t->gid[1] != rq->group.id) {
		snprintf(buf, size, "it runs as gid %u, not gid %u", t->gid[1], rq->group.id);
		return buf;
	}
	/* root's processes hold capabilities by being root's: the owner check covers them */
	if (t->uid[1] != 0 && (t->cap_prm | t->cap_eff) & ~rq->caps) {
		snprintf(buf, size, "it holds capabilities the requester did not (CapPrm %llx)",
		         (unsigned long long)t->cap_prm);
		return buf;
	}
	return NULL;
}

int md_access_check(struct md_job *job)
{
	struct md_process_creds t;
	const char *why;
	char buf[96];
	int r;

	r = md_access_peer_pinned(job->pidfd, job->pid, job->message, sizeof(job->message));
	if (r < 0)
		goto fail;
	r = md_platform_process_creds(job->pid, job->pidfd, &t);
	if (r == -ENOSYS)
		return 0;
	if (r < 0) {
		snprintf(job->message, sizeof(job->message), "process %u: %s", job->pid,
		         r == -ESRCH ? "it has exited" : md_os_strerror(-r));
		goto fail;
	}
	why = not_dumpable(job, &t, buf, sizeof(buf));
	if (!why)
		return 0;
	if (md_principal_is_root(&job->requester.user)) {
		job->not_dumpable = true;
		snprintf(job->message, sizeof(job->message),
		         "process %u is not dumpable by its own user: %s; dumped for root",
		         job->pid, why);
		return 0;
	}
	r = -EPERM;
	snprintf(job->message, sizeof(job->message), "uid %u may not dump process %u now: %s",
	         job->requester.user.id, job->pid, why);
fail:
	job->error = r;
	return r;
}
