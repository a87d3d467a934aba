/* SPDX-License-Identifier: MIT */
/*
 * Crash-loop limiting: per program (executable path and file identity), more than
 * max_crashes crashes within window_s seconds means later ones are counted and summarized
 * instead of dumped, until the window has room again. The app is released at once either way.
 * The table is bounded (MDD_LOOP_PROGRAMS); the least recently seen program is forgotten.
 */
#include <stdlib.h>
#include <string.h>

#include "md-crashloop.h"

void mdd_loop_init(struct mdd_loop_table *t, unsigned max_crashes, unsigned window_s)
{
	memset(t, 0, sizeof(*t));
	t->max_crashes = max_crashes > MDD_LOOP_TIMES_MAX ? MDD_LOOP_TIMES_MAX : max_crashes;
	t->window_s = window_s;
}

static struct mdd_loop_entry *find(struct mdd_loop_table *t, const char *exe, uint64_t file_id,
                                   double now)
{
	struct mdd_loop_entry *victim = NULL;

	for (size_t i = 0; i < MDD_LOOP_PROGRAMS; i++) {
		struct mdd_loop_entry *e = &t->entries[i];

		if (e->used && e->file_id == file_id && strcmp(e->exe, exe) == 0)
			return e;
		/* a free slot, else the least recently seen program */
		if (!e->used) {
			if (!victim || victim->used)
				victim = e;
		} else if (!victim || (victim->used && e->last_seen < victim->last_seen)) {
			victim = e;
		}
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->file_id = file_id;
	strncpy(victim->exe, exe, sizeof(victim->exe) - 1);
	victim->last_seen = now;
	return victim;
}

bool mdd_loop_check(struct mdd_loop_table *t, const char *exe, uint64_t file_id, double now_s,
                    struct mdd_loop_entry **ret_entry)
{
	struct mdd_loop_entry *e;
	size_t kept = 0;

	if (t->max_crashes == 0)
		return false;
	e = find(t, exe, file_id, now_s);
	e->last_seen = now_s;
	/* forget crashes that left the window */
	for (size_t i = 0; i < e->n_times; i++)
		if (now_s - e->times[i] < (double)t->window_s)
			e->times[kept++] = e->times[i];
	e->n_times = kept;
	*ret_entry = e;
	if (e->n_times >= t->max_crashes) {
		e->suppressed++;
		e->suppressed_total++;
		return true;
	}
	e->times[e->n_times++] = now_s;
	e->suppressed = 0;
	return false;
}
