/* SPDX-License-Identifier: MIT */
/*
 * The daemon's passes over its store (see md-prune.c): keeping it within the configured
 * limits, with the figures the metrics show. Safe to call from any thread.
 */
#pragma once

#include <stdint.h>

#include "md-config.h"

struct mdd_store_stats {
	uint64_t dumps;   /* dumps kept after the pass */
	uint64_t bytes;   /* the store's bytes: dumps, reports and crash-loop summaries */
	uint64_t removed; /* dumps and summaries removed by this pass */
	uint64_t removed_bytes;
	uint64_t free_bytes;    /* free space on the store's filesystem */
	uint64_t removed_total; /* since the daemon started */
};

/* Enforces the store's limits, oldest first, never removing keep_id (the dump just written;
 * may be NULL). Returns 0 or -errno. */
int mdd_store_prune(const struct mdd_config *cfg, const char *keep_id, struct mdd_store_stats *ret);

/* The figures of the last pass. */
void mdd_store_last(struct mdd_store_stats *ret);
