/* SPDX-License-Identifier: MIT */
/*
 * Keeps the dump folder within its limits (total bytes, number of dumps, age, free space on
 * the filesystem), removing the oldest dumps with their reports, and crash-loop summaries,
 * first. What a store item is, and which ones go, is common/md-store.c's; this file adds the
 * daemon's configuration, each item's owner (from its report), the filesystem's free space and
 * the figures for the metrics. It only
 * ever removes complete items: temporary files of dumps in flight are hidden names, removed
 * only when abandoned for over an hour by a daemon that died. One pass at a time, whichever
 * thread asks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "md-os.h"
#include "md-prune.h"
#include "md-store.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The owner the store's quotas count an item for: the user who asked for it ("requested_by":
 * the peer of a crash or dump-now, mdctl's user for a dump request), else the dumped process's
 * user ("uid"). A report that cannot be read leaves the item without an owner. */
static void read_owner(const char *dir, struct md_store_item *it)
{
	char name[MD_STORE_NAME_MAX], *path = NULL, *text = NULL;
	json_t *j = NULL, *by, *uid;
	size_t len;

	if (!it->has_report || md_store_name(it->id, MD_STORE_REPORT, name) < 0)
		goto out;
	path = malloc(strlen(dir) + 1 + sizeof(name));
	if (!path)
		goto out;
	snprintf(path, strlen(dir) + 1 + sizeof(name), "%s/%s", dir, name);
	if (md_os_read_file(path, MD_STORE_REPORT_MAX, &text, &len) < 0)
		goto out;
	j = json_loadb(text, len, 0, NULL);
	by = json_object_get(j, "requested_by");
	uid = json_object_get(by ? by : j, "uid");
	if (json_is_integer(uid) && json_integer_value(uid) >= 0 &&
	    json_integer_value(uid) <= UINT32_MAX) {
		it->has_owner = true;
		it->owner = (uint32_t)json_integer_value(uid);
	}
out:
	json_decref(j);
	free(text);
	free(path);
}
static struct mdd_store_stats last;

int mdd_store_prune(const struct mdd_config *cfg, const char *keep_id, struct mdd_store_stats *ret)
{
	const struct md_store_limits limits = {
	    .max_total_bytes = cfg->store_max_total_bytes,
	    .max_dumps = cfg->store_max_dumps,
	    .max_age_s = cfg->store_max_age_s,
	    .min_free_bytes = cfg->store_min_free_bytes,
	    .max_dumps_per_user = cfg->store_max_dumps_per_user,
	    .max_bytes_per_user = cfg->store_max_bytes_per_user,
	};
	bool by_owner = limits.max_total_bytes || limits.max_dumps || limits.min_free_bytes ||
	                limits.max_dumps_per_user || limits.max_bytes_per_user;
	struct mdd_store_stats st = {0};
	struct md_store_item *items = NULL;
	bool *remove = NULL;
	size_t n = 0;
	uint64_t free_bytes;
	int r;

	pthread_mutex_lock(&lock);
	r = md_store_scan(cfg->dump_dir, true, &items, &n);
	if (r < 0)
		goto out;
	remove = calloc(n ? n : 1, sizeof(*remove));
	if (!remove) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; by_owner && i < n; i++)
		read_owner(cfg->dump_dir, &items[i]);
	if (md_platform_free_space(cfg->dump_dir, &free_bytes) < 0)
		free_bytes = UINT64_MAX;
	md_store_select(items, n, &limits, time(NULL), free_bytes, keep_id, remove);
	for (size_t i = 0; i < n; i++) {
		uint64_t bytes = items[i].dump_bytes + items[i].report_bytes;

		if (remove[i] && md_store_remove(cfg->dump_dir, items[i].id) >= 0) {
			st.removed++;
			st.removed_bytes += bytes;
			continue;
		}
		st.dumps += items[i].has_dump;
		st.bytes += bytes;
	}
	if (md_platform_free_space(cfg->dump_dir, &st.free_bytes) < 0)
		st.free_bytes = UINT64_MAX;
	st.removed_total = last.removed_total + st.removed;
	last = st;
out:
	pthread_mutex_unlock(&lock);
	free(remove);
	free(items);
	if (r == 0 && ret)
		*ret = st;
	return r;
}

void mdd_store_last(struct mdd_store_stats *ret)
{
	pthread_mutex_lock(&lock);
	*ret = last;
	pthread_mutex_unlock(&lock);
}
