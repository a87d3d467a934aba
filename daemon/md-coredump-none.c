/* SPDX-License-Identifier: MIT */
/*
 * The kernel's coredump socket where the OS has none (everything but Linux): nothing is served,
 * and a configured coredump_socket is refused at start.
 */

#include <errno.h>

#include "md-daemon.h"

int md_coredump_start(struct md_daemon *d)
{
	return d->cfg->coredump_socket && d->cfg->coredump_socket[0] ? -EOPNOTSUPP : 0;
}

void md_coredump_stop(struct md_daemon *d)
{
}

void md_coredump_note_client_crash(struct md_daemon *d, uint32_t pid)
{
}

int md_coredump_prepare(struct md_job *job, struct md_backend_options *opts)
{
	return -EOPNOTSUPP;
}

int md_coredump_report(const struct md_job *job, struct md_report *r)
{
	return 0;
}

void md_coredump_job_free(struct md_job *job)
{
}

void md_coredump_release(struct md_job *job)
{
}

const struct md_backend_ops *md_coredump_backend(void)
{
	return NULL;
}
