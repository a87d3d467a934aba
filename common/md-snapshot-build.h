/* SPDX-License-Identifier: MIT */
/*
 * The snapshot builder and the table of steps every snapshot backend is. A backend (the live
 * process of platform/<os>/, the fake process of the tests, later a core stream) only says how
 * to do each step; md_snapshot_build() runs the steps once, in one order, and owns what is the
 * same for every source: the crash record's copy, cancellation and the time budget between
 * steps, and freeing on error, where the target is resumed before anything else. It never logs.
 */
#pragma once

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "md-snapshot.h"

struct md_backend_options {
	/* Polled between steps (and by a stop step that takes rounds); when it becomes non-zero
	 * the build resumes the target and returns -ECANCELED. May be NULL. */
	volatile sig_atomic_t *cancel;
	/* md_now_ms() after which the build gives up as if cancelled; 0 for no time budget. */
	double deadline_ms;
	/* md_now_ms() by which a stop step that waits for threads must be done; 0 for none. No
	 * wait on the target lasts past it (Linux; the Windows backend suspends without waiting).
	 * A thread not stopped by then, or asleep in the kernel past a short wait (in vfork()
	 * until its child execs, in uninterruptible I/O), is left running and listed in the
	 * snapshot without registers, the reason in its diag; if no thread can be stopped, the
	 * stop step fails with -ETIMEDOUT. */
	double stop_deadline_ms;
	/* Crash details sent by the client, copied into the snapshot; NULL for a live dump. */
	const struct md_crash_info *crash;
	/* For a broker: an fd that pins the target's identity (Linux pidfd); -1 if none. */
	int pidfd;
	/* What a backend reads from besides the pid (a core stream's fd, the fake's options);
	 * NULL for a live process. */
	const void *source;
};

/*
 * A backend: the size of its snapshot (a struct whose first member is the md_snapshot) and one
 * function per step, called in this order on the thread that called md_snapshot_build(). A
 * step returns 0 or -errno; the first failure ends the build. A step that is NULL has nothing
 * to do for this source (a core stream has nothing to stop or resume). Every step records
 * lesser gaps in s->diag instead of failing.
 */
struct md_backend_ops {
	size_t snapshot_size; /* bytes the builder allocates, zeroed, for one snapshot */
	const struct md_snapshot_ops *snapshot_ops; /* memory and blob reads, for the writers */
	/* Takes hold of pid (opens handles) without stopping it. s->crash is already set when
	 * the client sent one, and s->crash_copy may be rewritten into this OS's terms. */
	int (*open)(struct md_snapshot *s, uint32_t pid, const struct md_backend_options *o);
	/* Stops every thread; from here on resume must undo it on every path. */
	int (*stop)(struct md_snapshot *s, const struct md_backend_options *o);
	/* The threads with their registers and names; sets s->requesting_tid if still 0. */
	int (*threads)(struct md_snapshot *s);
	int (*process)(struct md_snapshot *s);
	int (*system)(struct md_snapshot *s);
	int (*mappings)(struct md_snapshot *s);
	/* Modules, read from the mappings and the target's memory. */
	int (*modules)(struct md_snapshot *s);
	/* 0 while the target lives, -ESRCH if it died while it was read (s->target_gone, set by
	 * a memory read, counts as well without this step). */
	int (*alive)(struct md_snapshot *s);
	/* Resumes whatever stop stopped (nothing if it never ran or failed); returns how long
	 * the target was stopped, in microseconds. Called at most once per snapshot. */
	uint64_t (*resume)(struct md_snapshot *s);
	/* Releases what open and the steps allocated or opened; the target is already resumed.
	 * Never frees s itself, nor s->threads (malloc'd by the threads step): the builder does. */
	void (*free)(struct md_snapshot *s);
};

/*
 * The table of a backend whose snapshot is the struct TYPE and whose functions are named after
 * one PREFIX: PREFIX_ops (its md_snapshot_ops), PREFIX_open, PREFIX_threads, PREFIX_mappings,
 * PREFIX_modules and PREFIX_free, the steps every source has. The steps it has besides follow
 * as designated initializers, MD_LIVE_STEPS(PREFIX) for those of a live process:
 *   const struct md_backend_ops b = MD_BACKEND_OPS(struct fake, fake);
 */
#define MD_BACKEND_OPS(type, prefix, ...)                                                          \
	{                                                                                          \
		.snapshot_size = sizeof(type), .snapshot_ops = &prefix##_ops,                      \
		.open = prefix##_open, .threads = prefix##_threads, .mappings = prefix##_mappings, \
		.modules = prefix##_modules, .free = prefix##_free, __VA_ARGS__                    \
	}

/* A live process's steps: it is stopped and resumed, and has process and system facts. */
#define MD_LIVE_STEPS(prefix)                                                                      \
	.stop = prefix##_stop, .process = prefix##_process, .system = prefix##_system,             \
	.resume = prefix##_resume

/*
 * Builds a snapshot of pid through backend b. On success the target stays stopped until
 * md_snapshot_resume() or md_snapshot_free(). Errors: -ESRCH no such process (or it died);
 * -EPERM/-EACCES not allowed; -ECANCELED cancelled or over the time budget; others -errno.
 * On error the target has been resumed and everything freed.
 */
int md_snapshot_build(const struct md_backend_ops *b, uint32_t pid,
                      const struct md_backend_options *o, struct md_snapshot **ret_snapshot);

/* Resumes the target if it is still stopped. Safe to call twice. Returns how long the target
 * was stopped, in microseconds (the same figure on every call). */
uint64_t md_snapshot_resume(struct md_snapshot *s);

/* Resumes the target if needed and frees everything. Accepts NULL. */
void md_snapshot_free(struct md_snapshot *s);

/* Milliseconds on a monotonic clock: for durations and deadlines. */
double md_now_ms(void);
