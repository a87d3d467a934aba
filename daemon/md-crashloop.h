/* SPDX-License-Identifier: MIT */
/*
 * Crash-loop limiting (see md-crashloop.c). Used on the event loop thread only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MDD_LOOP_PROGRAMS  256 /* programs remembered at once */
#define MDD_LOOP_TIMES_MAX 256 /* crashes remembered per program: caps max_crashes */
#define MDD_LOOP_EXE_MAX   512 /* bytes of an executable path kept */

struct mdd_loop_entry {
	bool used;
	uint64_t file_id;
	char exe[MDD_LOOP_EXE_MAX];
	double last_seen;
	size_t n_times;
	double times[MDD_LOOP_TIMES_MAX]; /* crashes dumped within the window, seconds */
	uint64_t suppressed;              /* crashes not dumped since the last one that was */
	uint64_t suppressed_total;
};

struct mdd_loop_table {
	unsigned max_crashes; /* 0: no limit */
	unsigned window_s;
	struct mdd_loop_entry entries[MDD_LOOP_PROGRAMS];
};

void mdd_loop_init(struct mdd_loop_table *t, unsigned max_crashes, unsigned window_s);

/* Records a crash of exe at now_s. Returns true when it must not be dumped (the program
 * crashed max_crashes times within the window already); *ret_entry says how often. */
bool mdd_loop_check(struct mdd_loop_table *t, const char *exe, uint64_t file_id, double now_s,
                    struct mdd_loop_entry **ret_entry);
