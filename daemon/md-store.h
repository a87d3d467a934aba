/* SPDX-License-Identifier: MIT */
/*
 * The report store's limits (see md-store.c). Safe to call from any thread.
 */
#pragma once

#include <stdint.h>

#include "md-config.h"

#define MD_STORE_SCAN_MAX 100000 /* dumps looked at in one pass; more are left for the next */

struct md_store_stats {
	uint64_t dumps;         /* dumps kept after the pass */
	uint64_t bytes;         /* their size, reports included */
	uint64_t removed;       /* dumps removed by this pass */
	uint64_t removed_bytes;
	uint64_t free_bytes;    /* free space on the store's filesystem */
	uint64_t removed_total; /* since the daemon started */
};

/* Enforces the store's limits, oldest dumps first, never removing keep_id (the dump just
 * written; may be NULL) or anything still being written. Returns 0 or -errno. */
int md_store_prune(const struct md_config *cfg, const char *keep_id, struct md_store_stats *ret);

/* The figures of the last pass. */
void md_store_last(struct md_store_stats *ret);
