/* SPDX-License-Identifier: MIT */
/*
 * The kernel's coredump socket where the OS has none (everything but Linux): nothing is served,
 * and a configured coredump_socket is refused at start.
 */

#include <errno.h>

#include "md-daemon.h"

int mdd_coredump_start(struct mdd_daemon *d)
{
	return d->cfg->coredump_socket && d->cfg->coredump_socket[0] ? -EOPNOTSUPP : 0;
}

void mdd_coredump_stop(struct mdd_daemon *d)
{
}

void mdd_coredump_note_client_crash(struct mdd_daemon *d, uint32_t pid)
{
}

int mdd_coredump_prepare(struct mdd_job *job, struct md_backend_options *opts)
{
	return -EOPNOTSUPP;
}

int mdd_coredump_report(const struct mdd_job *job, struct md_report *r)
{
	return 0;
}

void mdd_coredump_job_free(struct mdd_job *job)
{
}

void mdd_coredump_release(struct mdd_job *job)
{
}

const struct md_backend_ops *mdd_coredump_backend(void)
{
	return NULL;
}
