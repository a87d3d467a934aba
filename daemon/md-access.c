/* SPDX-License-Identifier: MIT */
/*
 * Whether a requester may have a process's memory, decided again at the time of the dump from
 * what the kernel says then, not only when the request was allowed: the process that
 * connected must still be the one pinned at accept, and the target must still be dumpable by
 * the requester (the expected uid, and gid for its own dumps, as real, effective and saved
 * ids; no capabilities the requester lacked unless it is root's; the kernel's dumpable flag). Root
 * may dump anything; its report then says the target was not dumpable. Linked by the daemon's
 * front end and by the capture worker (md-capture-worker.c), which applies it once the target
 * is stopped; runs on any thread; never logs (its callers do) and keeps no state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "md-access.h"
#include "md-os.h"
#include "md-peer.h"

int mdd_access_peer_pinned(int pidfd, uint32_t pid, char *why, size_t size)
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

/* Why a process with credentials t is not dumpable by the requester e describes, or NULL. */
static const char *not_dumpable(const struct mdd_access_expect *e, const struct md_process_creds *t,
                                char *buf, size_t size)
{
	if (!t->dumpable)
		return "it is not dumpable (it ran a set-uid, set-gid or file-capability program, "
		       "changed its credentials, or called prctl(PR_SET_DUMPABLE, 0))";
	if (t->uid[0] != t->uid[1] || t->uid[1] != t->uid[2] || t->gid[0] != t->gid[1] ||
	    t->gid[1] != t->gid[2])
		return "its real, effective and saved uids or gids differ (set-uid or set-gid)";
	if (t->uid[1] != e->uid) {
		snprintf(buf, size, "it runs as uid %u, not uid %u", t->uid[1], e->uid);
		return buf;
	}
	if (e->check_gid && t->gid[1] != e->gid) {
		snprintf(buf, size, "it runs as gid %u, not gid %u", t->gid[1], e->gid);
		return buf;
	}
	/* root's processes hold capabilities by being root's: the owner check covers them */
	if (t->uid[1] != 0 && (t->cap_prm | t->cap_eff) & ~e->caps) {
		snprintf(buf, size, "it holds capabilities the requester did not (CapPrm %llx)",
		         (unsigned long long)t->cap_prm);
		return buf;
	}
	return NULL;
}

int mdd_access_decide(const struct mdd_access_expect *e, uint32_t pid, int pidfd,
                      bool *ret_not_dumpable, struct md_process_creds *ret_creds, char *msg,
                      size_t size)
{
	struct md_process_creds t;
	const char *why;
	char buf[96];
	int r;

	r = mdd_access_peer_pinned(pidfd, pid, msg, size);
	if (r < 0)
		return r;
	r = md_platform_process_creds(pid, pidfd, &t);
	if (r == -ENOSYS)
		return 0;
	if (r < 0) {
		snprintf(msg, size, "process %u: %s", pid,
		         r == -ESRCH ? "it has exited" : md_os_strerror(-r));
		return r;
	}
	if (ret_creds)
		*ret_creds = t;
	why = not_dumpable(e, &t, buf, sizeof(buf));
	if (!why)
		return 0;
	if (e->requester_root) {
		*ret_not_dumpable = true;
		snprintf(msg, size,
		         "process %u is not dumpable by its own user: %s; dumped for root", pid,
		         why);
		return 0;
	}
	snprintf(msg, size, "uid %u may not dump process %u now: %s", e->requester_uid, pid, why);
	return -EPERM;
}
