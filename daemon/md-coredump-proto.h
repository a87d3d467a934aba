/* SPDX-License-Identifier: MIT */
/*
 * What the pipe helper (md-coredump, kernel.core_pattern "|.../md-coredump ...") sends to
 * minidumpd's coredump socket: this header, with the core pipe (its stdin) as SCM_RIGHTS. It
 * then waits until minidumpd closes the connection: while the helper runs, the kernel keeps the
 * crashing task (with kernel.core_pipe_limit > 0), so its /proc/<pid> can still be read.
 */
#pragma once

#include <stdint.h>

#define MDD_CD_HELPER_MAGIC   0x5043444Du /* "MDCP" as the first four bytes */
#define MDD_CD_HELPER_VERSION 1u

struct mdd_cd_helper_msg {
	uint32_t magic;
	uint32_t version;
	uint32_t pid;      /* %P: the task's pid in the initial namespace */
	uint32_t tid;      /* %I: the thread that took the signal, same namespace */
	uint32_t signo;    /* %s */
	uint32_t dumpable; /* %d: 0 not dumpable, 1 by its user, 2 only by root (suid_dumpable) */
	uint32_t uid;      /* %u, %g: real ids of the task */
	uint32_t gid;
	uint64_t time; /* %t: seconds since the epoch */
};
