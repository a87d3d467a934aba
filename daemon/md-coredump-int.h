/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of the coredump socket share: md-coredump.c (the loop's side: accept,
 * decide, queue) and md-coredump-job.c (the worker's side: the request protocol, the stream,
 * the close).
 */
#ifndef MDD_COREDUMP_INT_H
#define MDD_COREDUMP_INT_H

#include <stdbool.h>

#include "md-daemon.h"

#define CD_CGROUP_MAX 512
#define CD_PEEK_MS    2000 /* ms the kernel may leave its connection silent (SO_RCVTIMEO) */
#define CD_HELPER_MS  500  /* ms the pipe helper has to send its header */

struct mdd_coredump_job {
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

/* Answers the kernel's connection fd without a dump, on a worker, and closes it:
 * COREDUMP_REJECT in the request protocol (no core at all), else the close ends the core. */
void mdd_coredump_reject(struct mdd_daemon *d, int fd);

#endif
