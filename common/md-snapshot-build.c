/* SPDX-License-Identifier: MIT */
/*
 * The snapshot builder: runs a backend's steps (md-snapshot-build.h) in their one order over
 * one snapshot. It alone decides when to stop early (a step failed, the cancel flag is set, the
 * time budget is spent) and it alone frees, resuming the target first: a backend never drives
 * the sequence and never has to remember a cleanup path.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "md-os.h"
#include "md-snapshot-build.h"

double md_now_ms(void)
{
	return (double)md_os_now_ns() / 1e6;
}

static bool stop_early(const struct md_backend_options *o)
{
	if (o->cancel && *o->cancel)
		return true;
	return o->deadline_ms > 0 && md_now_ms() >= o->deadline_ms;
}

/* Runs the steps after open, in order, checking cancellation and the budget before each. */
static int run_steps(const struct md_backend_ops *b, struct md_snapshot *s,
                     const struct md_backend_options *o)
{
	int (*const steps[])(struct md_snapshot *) = {
	    b->threads, b->process, b->system, b->mappings, b->modules,
	};
	int r;

	if (stop_early(o))
		return -ECANCELED;
	if (b->stop && (r = b->stop(s, o)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (stop_early(o))
			return -ECANCELED;
		if (steps[i] && (r = steps[i](s)) < 0)
			return r;
	}
	/* a memory read during the steps may have found the target gone already */
	if (s->target_gone)
		return -ESRCH;
	if (b->alive && (r = b->alive(s)) < 0) {
		s->target_gone = r == -ESRCH;
		return r;
	}
	return stop_early(o) ? -ECANCELED : 0;
}

int md_snapshot_build(const struct md_backend_ops *b, uint32_t pid,
                      const struct md_backend_options *o, struct md_snapshot **ret_snapshot)
{
	static const struct md_backend_options no_options = {.pidfd = -1};
	struct md_snapshot *s;
	int r;

	if (!b || !ret_snapshot || b->snapshot_size < sizeof(*s))
		return -EINVAL;
	if (!o)
		o = &no_options;
	s = calloc(1, b->snapshot_size);
	if (!s)
		return -ENOMEM;
	s->backend = b;
	s->ops = b->snapshot_ops;
	if (o->crash) {
		s->crash_copy = *o->crash;
		s->crash = &s->crash_copy;
		s->requesting_tid = o->crash->tid;
	}
	r = b->open ? b->open(s, pid, o) : 0;
	if (r >= 0)
		r = run_steps(b, s, o);
	if (r < 0) {
		md_snapshot_free(s);
		return r;
	}
	*ret_snapshot = s;
	return 0;
}

uint64_t md_snapshot_resume(struct md_snapshot *s)
{
	if (!s || !s->backend)
		return 0;
	if (!s->resumed) {
		s->stopped_us = s->backend->resume ? s->backend->resume(s) : 0;
		s->resumed = true;
	}
	return s->stopped_us;
}

void md_snapshot_free(struct md_snapshot *s)
{
	if (!s)
		return;
	md_snapshot_resume(s);
	if (s->backend && s->backend->free)
		s->backend->free(s);
	free(s->threads);
	md_diag_done(&s->diag);
	free(s);
}
