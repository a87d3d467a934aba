/* SPDX-License-Identifier: MIT */
/*
 * Fairness between users (docs/security.md, "Per-user limits"): which request runs, waits or is
 * refused, and which waiting one starts next, so that one user cannot hold all the workers and
 * the queue or delay another user's crash. Pure decisions on plain figures, no I/O: the daemon
 * keeps the figures (md-jobs.c) and the unit tests state cases (tests/check-fairness.c). Root
 * is not limited here: it can dump anything anyway, and its services must not be starved.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One user's share; 0 in a field means no limit. */
struct mdd_fair_limits {
	unsigned max_running;      /* dumps of one user on the workers at once */
	unsigned max_queued;       /* requested dumps of one user waiting (crashes not counted) */
	unsigned requests_burst;   /* dump-now and dump requests at once (the bucket's size) */
	unsigned requests_per_min; /* tokens added to the bucket per minute */
};

/* What one user has now. */
struct mdd_fair_usage {
	unsigned running;
	unsigned queued; /* requested dumps waiting (not crashes) */
};

enum mdd_fair_verdict {
	MDD_FAIR_RUN,          /* start it now */
	MDD_FAIR_QUEUE,        /* wait for a worker */
	MDD_FAIR_REFUSE_QUEUE, /* the queue is full: refuse with -EBUSY */
	MDD_FAIR_REFUSE_SHARE, /* this user's share of the queue is full: refuse with -EBUSY */
};

/* A new request of a user with usage u: run, queue or refuse. A crash is never refused for the
 * user's share of the queue (its dump would be lost; the crash-loop limit bounds crashes), only
 * when the whole queue (queue_max) is full. Workers (max_workers) are shared: a user at its
 * running share waits even when a worker is free, so that another user's crash finds one. */
enum mdd_fair_verdict mdd_fair_admit(const struct mdd_fair_limits *l,
                                     const struct mdd_fair_usage *u, bool is_root, bool is_crash,
                                     unsigned running, unsigned max_workers, unsigned queued,
                                     unsigned queue_max);

/* A request waiting in the queue, as mdd_fair_next() sees it. */
struct mdd_fair_waiting {
	bool is_crash;
	bool is_root;
	unsigned user_running; /* dumps of its user running now */
};

/* Which of n waiting requests (oldest first) starts on a free worker: the oldest crash whose
 * user is under its running share, else the oldest other request whose user is. Returns its
 * index, or -1 when none may start. */
long mdd_fair_next(const struct mdd_fair_limits *l, const struct mdd_fair_waiting *w, size_t n);

/* A token bucket for one user's dump-now and dump requests. */
struct mdd_fair_bucket {
	double tokens;
	double last_ms; /* when tokens was computed; 0: never (a full bucket) */
};

/* Takes a token at now_ms if there is one: true (allowed) or false (refuse with -EBUSY). With
 * requests_burst 0 every request is allowed. */
bool mdd_fair_take(const struct mdd_fair_limits *l, struct mdd_fair_bucket *b, double now_ms);

/* Whether a bucket left alone since b->last_ms is full again at now_ms (its user can be
 * forgotten). */
bool mdd_fair_bucket_full(const struct mdd_fair_limits *l, const struct mdd_fair_bucket *b,
                          double now_ms);
