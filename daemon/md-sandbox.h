/* SPDX-License-Identifier: MIT */
/*
 * The sandbox runner: runs a helper program that parses hostile input (md-symbolize) as an
 * unprivileged user with no capabilities, under rlimits, without network, in its own mount
 * namespace where the kernel allows, with only the file descriptors it is given, and reads its
 * answer from a pipe with a size cap and a time budget. Used by mdctl and minidumpd. Whatever the
 * helper does (crash, hang, flood, garbage), the caller gets an error with the reason and goes
 * on; the runner never logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MDD_SANDBOX_FDS_MAX    1024               /* descriptors handed to the helper */
#define MDD_SANDBOX_OUT_MAX    (8u * 1024 * 1024) /* bytes of stdout read; more is an error */
#define MDD_SANDBOX_ERR_MAX    1024               /* bytes of stderr kept for the reason */
#define MDD_SANDBOX_NICE       10 /* the helper runs below the captures (a crash storm) */
#define MDD_SANDBOX_AS_MAX     (1024ull << 20) /* bytes of address space (RLIMIT_AS) */
#define MDD_SANDBOX_BUDGET_MS  10000           /* default wall-clock budget, ms */
#define MDD_SANDBOX_REASON_MAX 512             /* bytes of a failure reason, NUL included */
#define MDD_SANDBOX_USER       "nobody"        /* who the helper runs as when we are root */

struct mdd_sandbox {
	const char *program; /* absolute path of the helper */
	char *const *argv;   /* argv[0] included; NULL-terminated */
	const int *fds; /* handed over as fds 3, 4, ... in this order (read-only by contract) */
	size_t n_fds;
	unsigned budget_ms; /* killed with SIGKILL past this; 0: MDD_SANDBOX_BUDGET_MS */
	const char *user;   /* when root: run as this user; NULL: MDD_SANDBOX_USER */
	bool network;       /* keep network access (debuginfod); else a new net namespace */
	const char *const
	    *env; /* "NAME=value" entries for the helper, NULL-terminated; may be NULL */
};

struct mdd_sandbox_result {
	char *out; /* the helper's stdout, NUL-terminated; caller frees; NULL on failure */
	size_t out_len;
	double elapsed_ms;
	char reason[MDD_SANDBOX_REASON_MAX]; /* on failure: what happened ("killed after 10000 ms")
	                                      */
};

/* Runs the helper and waits for it. Returns 0 when it exited 0 with its output in ret->out;
 * else -errno with ret->reason saying why: -ETIMEDOUT (budget), -EFBIG (output over
 * MDD_SANDBOX_OUT_MAX), -ECHILD (the helper died by a signal or exited non-zero: the reason holds
 * the signal or its stderr), or the error of a failed pipe/fork. */
int mdd_sandbox_run(const struct mdd_sandbox *sb, struct mdd_sandbox_result *ret);

/* Runs the helper as a socket-activated service instead (md-sandbox-socket.c): connects to
 * socket_path (a systemd socket with Accept=yes, whose service is the sandbox), sends sb's
 * arguments from argv[1] on and its descriptors (common/md-symbolize-wire.h; sb->program, user,
 * network and env are the unit's business and not used), and reads the answer up to EOF within
 * the budget. Returns 0 with ret->out as mdd_sandbox_run() does; else -errno with ret->reason:
 * the errors of connect(), -ETIMEDOUT, -EFBIG, or -ECHILD (the connection closed without an
 * answer). */
int mdd_sandbox_request(const char *socket_path, const struct mdd_sandbox *sb,
                        struct mdd_sandbox_result *ret);

/* Whether a helper run by this process can be given a user of its own: either we are not root
 * and may make a user namespace (it runs as us, in one; minidumpd's front end after its
 * privilege drop), or we hold CAP_SETUID and CAP_SETGID and may set its resource limits. A root
 * daemon without them (a unit's CapabilityBoundingSet) cannot sandbox a helper and must not run
 * one. */
bool mdd_sandbox_available(void);
