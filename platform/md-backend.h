/* SPDX-License-Identifier: MIT */
/*
 * The snapshot backend: one implementation per OS under platform/<os>/, built by meson for the
 * host. A backend stops the target, fills an md_snapshot (common/md-snapshot.h) and resumes the
 * target on every path. It never logs.
 */
#pragma once

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "md-snapshot.h"

struct md_platform_options {
	/* Polled between steps; when it becomes non-zero the backend stops what it is doing,
	 * resumes the target and returns -ECANCELED. May be NULL. */
	volatile sig_atomic_t *cancel;
	/* Crash details sent by the client, copied into the snapshot; NULL for a live dump. */
	const struct md_crash_info *crash;
	/* For a broker: an fd that pins the target's identity (Linux pidfd); -1 if none. */
	int pidfd;
	/* CLOCK_MONOTONIC time in ns by which every thread must be stopped; 0 for none. No wait
	 * on the target lasts past it (Linux; the Windows backend suspends without waiting). A
	 * thread not stopped by then, or asleep in the kernel past a short wait (in vfork() until
	 * its child execs, in uninterruptible I/O), is left running and listed in the snapshot
	 * without registers, the reason in its diag; if no thread can be stopped, the snapshot
	 * fails with -ETIMEDOUT. */
	uint64_t deadline_ns;
};

/*
 * Stops every thread of pid and captures threads, registers, mappings, modules, system and
 * process info. On success the target stays stopped until md_platform_snapshot_resume() or
 * md_platform_snapshot_free(). Errors: -ESRCH no such process; -EPERM/-EACCES not allowed to
 * trace it; -ECANCELED cancelled; -ETIMEDOUT no thread stopped by opts->deadline_ns; others
 * -errno. The target is never left stopped on error.
 */
int md_platform_snapshot_new(uint32_t pid, const struct md_platform_options *opts,
			     struct md_snapshot **ret_snapshot);

/* Resumes every thread still stopped. Safe to call twice. Returns how long the target was
 * stopped, in microseconds. */
uint64_t md_platform_snapshot_resume(struct md_snapshot *s);

/* Resumes the target if needed and frees everything. Accepts NULL. */
void md_platform_snapshot_free(struct md_snapshot *s);

/* A sentence for the user about why pid cannot be traced, naming what is needed (root,
 * CAP_SYS_PTRACE, the ptrace_scope setting). Writes at most size bytes. */
void md_platform_explain_permission(uint32_t pid, char *buf, size_t size);

/* Converts registers a client sent (proto's md_proto_context_kind layout) into a minidump
 * context. -EPROTONOSUPPORT for a kind this build does not know, -EBADMSG for a bad size. */
int md_platform_client_context(uint32_t kind, const void *data, size_t len,
			       struct md_context *ret_ctx);
