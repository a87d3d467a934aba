/* SPDX-License-Identifier: MIT */
/*
 * Fairness between users: the pure decisions of md-fair.h. No I/O, no logging, no clock of its
 * own (the caller passes the time).
 */
#include "md-fair.h"

enum mdd_fair_verdict mdd_fair_admit(const struct mdd_fair_limits *l,
                                     const struct mdd_fair_usage *u, bool is_root, bool is_crash,
                                     unsigned running, unsigned max_workers, unsigned queued,
                                     unsigned queue_max)
{
	bool under_share = is_root || !l->max_running || u->running < l->max_running;

	/* a worker free with requests waiting means they all wait for their users' shares */
	if (running < max_workers && under_share)
		return MDD_FAIR_RUN;
	if (queued >= queue_max)
		return MDD_FAIR_REFUSE_QUEUE;
	if (!is_crash && !is_root && l->max_queued && u->queued >= l->max_queued)
		return MDD_FAIR_REFUSE_SHARE;
	return MDD_FAIR_QUEUE;
}

long mdd_fair_next(const struct mdd_fair_limits *l, const struct mdd_fair_waiting *w, size_t n)
{
	long other = -1;

	for (size_t i = 0; i < n; i++) {
		if (!w[i].is_root && l->max_running && w[i].user_running >= l->max_running)
			continue;
		if (w[i].is_crash)
			return (long)i;
		if (other < 0)
			other = (long)i;
	}
	return other;
}

static double refilled(const struct mdd_fair_limits *l, const struct mdd_fair_bucket *b,
                       double now_ms)
{
	double t;

	if (b->last_ms == 0)
		return l->requests_burst;
	t = b->tokens;
	if (now_ms > b->last_ms)
		t += (now_ms - b->last_ms) * l->requests_per_min / 60000.0;
	return t > l->requests_burst ? l->requests_burst : t;
}

bool mdd_fair_take(const struct mdd_fair_limits *l, struct mdd_fair_bucket *b, double now_ms)
{
	double t;

	if (!l->requests_burst)
		return true;
	t = refilled(l, b, now_ms);
	b->last_ms = now_ms;
	if (t < 1.0) {
		b->tokens = t;
		return false;
	}
	b->tokens = t - 1.0;
	return true;
}

bool mdd_fair_bucket_full(const struct mdd_fair_limits *l, const struct mdd_fair_bucket *b,
                          double now_ms)
{
	return !l->requests_burst || refilled(l, b, now_ms) >= l->requests_burst;
}
