/* SPDX-License-Identifier: MIT */
/*
 * Keeps the dump folder within its limits (total bytes, number of dumps, age, free space on
 * the filesystem), removing the oldest dumps and their reports first. It only ever removes
 * complete dumps (`<id>.dmp` with its `<id>.json`): temporary files of dumps in flight are
 * hidden names it does not touch, except ones abandoned for over an hour by a daemon that died.
 * One pass at a time, whichever thread asks. Files are named by path under the folder (the same
 * code runs on Windows) and looked at with md_os_stat_nofollow: a symbolic link is never
 * followed.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "md-store.h"
#include "md-os.h"

#define STALE_TMP_S 3600 /* a temporary file this old belongs to no dump in flight */
#define PATH_BYTES (4096 + 320) /* bytes of a folder's path, a slash and a name in it */

struct entry {
	char id[256];
	uint64_t bytes;
	time_t mtime;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct md_store_stats last;

static int by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->id, y->id);
}

static uint64_t free_space(const char *dir)
{
	uint64_t bytes;

	return md_platform_free_space(dir, &bytes) < 0 ? UINT64_MAX : bytes;
}

/* dir/name itself, never what a symbolic link there points to: 0 or -errno (a name too long
 * for a path is not there). */
static int stat_in(const char *dir, const char *name, struct md_os_stat *sb)
{
	char path[PATH_BYTES];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENOENT;
	return md_os_stat_nofollow(path, sb);
}

/* Removes dir/name if it is there (a symbolic link itself, never what it points to). */
static void unlink_in(const char *dir, const char *name)
{
	char path[PATH_BYTES];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path))
		unlink(path);
}

static void remove_dump(const char *dir, const char *id)
{
	char name[300];

	snprintf(name, sizeof(name), "%s.dmp", id);
	unlink_in(dir, name);
	snprintf(name, sizeof(name), "%s.dmp.zst", id);
	unlink_in(dir, name);
	snprintf(name, sizeof(name), "%s.json", id);
	unlink_in(dir, name);
}

int md_store_prune(const struct md_config *cfg, const char *keep_id, struct md_store_stats *ret)
{
	struct md_store_stats st = {0};
	struct entry *list = NULL;
	size_t n = 0, cap = 0, first = 0;
	time_t now = time(NULL);
	struct dirent *de;
	DIR *dir;
	int r = 0;

	pthread_mutex_lock(&lock);
	dir = opendir(cfg->dump_dir);
	if (!dir) {
		r = -errno;
		goto out;
	}
	while ((de = readdir(dir)) && n < MD_STORE_SCAN_MAX) {
		size_t len = strlen(de->d_name), ext;
		struct md_os_stat sb, rb;
		char report[300];

		if (de->d_name[0] == '.') {
			/* an abandoned temporary file from a daemon that died mid-dump */
			if (strncmp(de->d_name, ".md-", 4) == 0 &&
			    stat_in(cfg->dump_dir, de->d_name, &sb) == 0 && sb.is_file &&
			    now - sb.mtime_s > STALE_TMP_S)
				unlink_in(cfg->dump_dir, de->d_name);
			continue;
		}
		if (len > 8 && strcmp(de->d_name + len - 8, ".dmp.zst") == 0)
			ext = 8;
		else if (len > 4 && strcmp(de->d_name + len - 4, ".dmp") == 0)
			ext = 4;
		else
			continue;
		if (len >= sizeof(list->id) + ext)
			continue;
		if (stat_in(cfg->dump_dir, de->d_name, &sb) < 0 || !sb.is_file)
			continue;
		if (n == cap) {
			struct entry *grown;

			cap = cap ? cap * 2 : 256;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				r = -ENOMEM;
				closedir(dir);
				goto out;
			}
			list = grown;
		}
		memcpy(list[n].id, de->d_name, len - ext);
		list[n].id[len - ext] = '\0';
		list[n].bytes = sb.size;
		list[n].mtime = (time_t)sb.mtime_s;
		snprintf(report, sizeof(report), "%s.json", list[n].id);
		if (stat_in(cfg->dump_dir, report, &rb) == 0)
			list[n].bytes += rb.size;
		st.bytes += list[n].bytes;
		n++;
	}
	if (n > 1) /* list is NULL when the folder holds no dump */
		qsort(list, n, sizeof(*list), by_age);
	st.dumps = n;
	st.free_bytes = free_space(cfg->dump_dir);
	/* oldest first, while any limit is exceeded */
	for (first = 0; first < n; first++) {
		const struct entry *e = &list[first];
		bool too_old = cfg->store_max_age_s && (uint64_t)(now - e->mtime) > cfg->store_max_age_s;
		bool too_many = cfg->store_max_dumps && st.dumps > cfg->store_max_dumps;
		bool too_big = cfg->store_max_total_bytes && st.bytes > cfg->store_max_total_bytes;
		bool too_full = cfg->store_min_free_bytes && st.free_bytes < cfg->store_min_free_bytes;

		if (!too_old && !too_many && !too_big && !too_full)
			break;
		if (keep_id && strcmp(e->id, keep_id) == 0)
			continue;
		remove_dump(cfg->dump_dir, e->id);
		st.dumps--;
		st.bytes -= e->bytes;
		st.removed++;
		st.removed_bytes += e->bytes;
		if (too_full)
			st.free_bytes = free_space(cfg->dump_dir);
	}
	closedir(dir);
	st.removed_total = last.removed_total + st.removed;
	last = st;
out:
	pthread_mutex_unlock(&lock);
	free(list);
	if (r == 0 && ret)
		*ret = st;
	return r;
}

void md_store_last(struct md_store_stats *ret)
{
	pthread_mutex_lock(&lock);
	*ret = last;
	pthread_mutex_unlock(&lock);
}
