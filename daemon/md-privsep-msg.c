/* SPDX-License-Identifier: MIT */
/*
 * The checks of the privilege split's messages (md-privsep.h), shared by the capture worker,
 * which must not trust a request, and the front end, which must not trust a result from a
 * worker that may have been compromised through a hostile target. Pure; never logs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "md-capture.h"
#include "md-privsep.h"

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int bad(char *why, size_t size, const char *what)
{
	snprintf(why, size, "%s", what);
	return -EBADMSG;
}

int mdd_privsep_request_check(const struct mdd_privsep_request *q, size_t len, unsigned n_fds,
                              char *why, size_t size)
{
	unsigned want_fds = 1;

	if (len != sizeof(*q) || q->magic != MDD_PRIVSEP_MAGIC || q->size != sizeof(*q))
		return bad(why, size, "not a request of this worker (size or magic)");
	if (q->version != MDD_PRIVSEP_VERSION)
		return bad(why, size, "a request of another version");
	if (q->op != MDD_PRIVSEP_OP_LIVE && q->op != MDD_PRIVSEP_OP_CORE &&
	    q->op != MDD_PRIVSEP_OP_EXE)
		return bad(why, size, "an unknown operation");
	if (q->flags & ~MDD_PRIVSEP_FLAGS_KNOWN)
		return bad(why, size, "unknown flags");
	if (q->pid == 0 || q->pid > INT32_MAX)
		return bad(why, size, "no valid pid");
	if (q->flags & MDD_PRIVSEP_HAS_PIDFD)
		want_fds++;
	if (q->op == MDD_PRIVSEP_OP_CORE)
		want_fds++; /* the core stream */
	if (n_fds != want_fds)
		return bad(why, size, "not the descriptors the request names");
	if (q->op == MDD_PRIVSEP_OP_EXE)
		return 0; /* nothing else is read */
	if (q->op == MDD_PRIVSEP_OP_LIVE && !(q->flags & MDD_PRIVSEP_HAS_PIDFD))
		return bad(why, size, "a live dump without a pinned target");
	if (q->budget_ms == 0 || q->budget_ms > 3600000)
		return bad(why, size, "a time budget out of range");
	if (q->flags & MDD_PRIVSEP_HAS_CRASH) {
		if (q->crash.context.size > sizeof(q->crash.context.u) ||
		    q->crash.number_parameters > MD_EXCEPTION_MAXIMUM_PARAMETERS)
			return bad(why, size, "a crash record out of bounds");
	}
	if (!terminated(q->exe_hint, sizeof(q->exe_hint)) ||
	    q->n_annotations > MDD_PRIVSEP_ANNOTATIONS)
		return bad(why, size, "a name or annotation count out of bounds");
	for (uint32_t i = 0; i < q->n_annotations; i++)
		if (!terminated(q->keys[i], sizeof(q->keys[i])) ||
		    !terminated(q->values[i], sizeof(q->values[i])))
			return bad(why, size, "an annotation out of bounds");
	return 0;
}

int mdd_privsep_result_check(const struct mdd_privsep_result *res, size_t len)
{
	if (len != sizeof(*res) || res->magic != MDD_PRIVSEP_MAGIC ||
	    res->version != MDD_PRIVSEP_VERSION || res->size != sizeof(*res))
		return -EBADMSG;
	if (res->error > 0 || res->step > MD_CAPTURE_STEP_DONE || res->n_streams > MD_STREAMS_MAX ||
	    res->n_diag > MD_DIAG_MAX || !terminated(res->message, sizeof(res->message)) ||
	    !terminated(res->name, sizeof(res->name)) || !terminated(res->exe, sizeof(res->exe)))
		return -EBADMSG;
	for (uint32_t i = 0; i < res->n_streams; i++)
		if (!terminated(res->streams[i].name, sizeof(res->streams[i].name)))
			return -EBADMSG;
	for (uint32_t i = 0; i < res->n_diag; i++)
		if (!terminated(res->diag[i].message, sizeof(res->diag[i].message)) ||
		    res->diag[i].kind > MD_DIAG_PROCESS)
			return -EBADMSG;
	/* the file name is a bare name in the dump folder: no path, no dot files */
	if (res->error == 0 && (!res->name[0] || res->name[0] == '.' || strchr(res->name, '/')))
		return -EBADMSG;
	return 0;
}
