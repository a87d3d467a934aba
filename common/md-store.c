/* SPDX-License-Identifier: MIT */
/*
 * The dump store's contract (see md-store.h): ids, file names, scanning, pruning decisions,
 * removal and opening a compressed dump. Files are named by path under the folder and looked
 * at with md_os_stat_nofollow, so a symbolic link planted in the folder is never followed; names
 * are built only from checked ids, so nothing read from the folder can name a file outside it. It
 * never logs and never aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md-os.h"
#include "md-store.h"
#include "md-zstd.h"

#define PATH_BYTES (4096 + MD_STORE_NAME_MAX + 2) /* a folder's path, a slash and a name */

static const char *const suffixes[MD_STORE_KIND_COUNT] = {
    [MD_STORE_DUMP] = ".dmp",
    [MD_STORE_DUMP_ZSTD] = ".dmp.zst",
    [MD_STORE_REPORT] = ".json",
};

const char *md_store_kind_suffix(enum md_store_kind kind)
{
	return (unsigned)kind < MD_STORE_KIND_COUNT ? suffixes[kind] : NULL;
}

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool md_store_id_valid(const char *id)
{
	size_t n;

	if (!id || id[0] == '\0' || id[0] == '.')
		return false;
	for (n = 0; id[n]; n++)
		if (n >= MD_STORE_ID_MAX || !id_char(id[n]))
			return false;
	return true;
}

int md_store_name(const char *id, enum md_store_kind kind, char buf[MD_STORE_NAME_MAX])
{
	const char *suffix = md_store_kind_suffix(kind);

	if (!suffix || !md_store_id_valid(id))
		return -EINVAL;
	snprintf(buf, MD_STORE_NAME_MAX, "%s%s", id, suffix);
	return 0;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && memcmp(s + len - n, suffix, n) == 0;
}

int md_store_parse_name(const char *name, char ret_id[MD_STORE_ID_MAX + 1],
                        enum md_store_kind *ret_kind)
{
	size_t len = strlen(name);
	/* the longest suffix first: "x.dmp.zst" is a compressed dump, not a ".zst" file */
	static const enum md_store_kind order[] = {MD_STORE_DUMP_ZSTD, MD_STORE_DUMP,
	                                           MD_STORE_REPORT};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *suffix = suffixes[order[i]];
		size_t id_len = len - strlen(suffix);
		char id[MD_STORE_ID_MAX + 1];

		if (!ends_with(name, len, suffix))
			continue;
		if (id_len > MD_STORE_ID_MAX)
			return -EINVAL;
		memcpy(id, name, id_len);
		id[id_len] = '\0';
		if (!md_store_id_valid(id))
			return -EINVAL;
		memcpy(ret_id, id, id_len + 1);
		*ret_kind = order[i];
		return 0;
	}
	return -EINVAL;
}

/* The executable's basename as an id part: [A-Za-z0-9._-] only, never starting with '.'. */
static void id_base(const char *exe, char out[MD_STORE_ID_BASE_MAX + 1])
{
	const char *base = exe ? exe : "";
	size_t n = 0;

	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	if (!*base)
		base = "process";
	for (; *base && n < MD_STORE_ID_BASE_MAX; base++)
		out[n++] = id_char(*base) ? *base : '_';
	if (out[0] == '.')
		out[0] = '_';
	out[n] = '\0';
}

int md_store_make_id(const char *exe, uint32_t pid, time_t when, uint32_t tid, unsigned attempt,
                     char ret_id[MD_STORE_ID_MAX + 1])
{
	char base[MD_STORE_ID_BASE_MAX + 1], stamp[32];
	struct tm tm;

	id_base(exe, base);
	if (!gmtime_r(&when, &tm))
		return -EINVAL;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (attempt)
		snprintf(ret_id, MD_STORE_ID_MAX + 1, "%s.%u.%s.%u-%u", base, pid, stamp, tid,
		         attempt);
	else
		snprintf(ret_id, MD_STORE_ID_MAX + 1, "%s.%u.%s.%u", base, pid, stamp, tid);
	return 0;
}

int md_store_make_loop_id(const char *exe, uint64_t file_id, char ret_id[MD_STORE_ID_MAX + 1])
{
	char base[MD_STORE_ID_BASE_MAX + 1];

	id_base(exe, base);
	snprintf(ret_id, MD_STORE_ID_MAX + 1, "%s.%016llx%s", base, (unsigned long long)file_id,
	         MD_STORE_LOOP_SUFFIX);
	return 0;
}

/* dir/name itself, never what a symbolic link there points to: 0 or -errno (a name too long
 * for a path is not there). */
static int stat_in(const char *dir, const char *name, struct md_os_stat *sb)
{
	char path[PATH_BYTES];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return md_os_stat_nofollow(path, sb);
}

static int unlink_in(const char *dir, const char *name)
{
	char path[PATH_BYTES];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return unlink(path) < 0 ? -errno : 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct md_store_item *)a)->id, ((const struct md_store_item *)b)->id);
}

int md_store_scan(const char *dir, bool remove_stale, struct md_store_item **ret_items,
                  size_t *ret_count)
{
	struct md_store_item *list = NULL;
	size_t n = 0, cap = 0, out = 0;
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < MD_STORE_SCAN_MAX) {
		enum md_store_kind kind;
		struct md_store_item *it;
		struct md_os_stat sb;

		if (de->d_name[0] == '.') {
			/* an abandoned temporary file from a daemon that died mid-dump */
			if (remove_stale && strncmp(de->d_name, ".md-", 4) == 0 &&
			    stat_in(dir, de->d_name, &sb) == 0 && sb.is_file &&
			    now - sb.mtime_s > MD_STORE_STALE_TMP_S)
				unlink_in(dir, de->d_name);
			continue;
		}
		if (n == cap) {
			struct md_store_item *grown;

			cap = cap ? cap * 2 : 256;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			list = grown;
		}
		it = &list[n];
		memset(it, 0, sizeof(*it));
		if (md_store_parse_name(de->d_name, it->id, &kind) < 0)
			continue;
		if (stat_in(dir, de->d_name, &sb) < 0 || !sb.is_file)
			continue;
		if (kind == MD_STORE_REPORT) {
			it->has_report = true;
			it->report_bytes = sb.size;
			it->report_mtime_ns = sb.mtime_ns;
		} else {
			it->has_dump = true;
			it->dump_kind = kind;
			it->dump_bytes = sb.size;
			it->dump_mtime_ns = sb.mtime_ns;
		}
		n++;
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), by_id);
	/* one item per id: a dump and its report are merged */
	for (size_t i = 0; i < n; i++) {
		struct md_store_item *o;

		if (out > 0 && strcmp(list[out - 1].id, list[i].id) == 0) {
			o = &list[out - 1];
			if (list[i].has_report) {
				o->has_report = true;
				o->report_bytes = list[i].report_bytes;
				o->report_mtime_ns = list[i].report_mtime_ns;
			} else if (!o->has_dump || list[i].dump_kind == MD_STORE_DUMP) {
				/* both a plain and a compressed dump: the plain one is the dump */
				o->has_dump = true;
				o->dump_kind = list[i].dump_kind;
				o->dump_bytes = list[i].dump_bytes;
				o->dump_mtime_ns = list[i].dump_mtime_ns;
			}
			continue;
		}
		if (out != i)
			list[out] = list[i];
		out++;
	}
out:
	closedir(d);
	if (r < 0) {
		free(list);
		return r;
	}
	if (out == 0) {
		free(list);
		list = NULL;
	}
	*ret_items = list;
	*ret_count = out;
	return 0;
}

int md_store_remove(const char *dir, const char *id)
{
	int removed = 0, r = 0;

	if (!md_store_id_valid(id))
		return -EINVAL;
	for (int k = 0; k < MD_STORE_KIND_COUNT; k++) {
		char name[MD_STORE_NAME_MAX];
		int u;

		md_store_name(id, (enum md_store_kind)k, name);
		u = unlink_in(dir, name);
		if (u == 0)
			removed++;
		else if (u != -ENOENT && r == 0)
			r = u;
	}
	return r < 0 ? r : removed;
}

static int64_t item_time_ns(const struct md_store_item *it)
{
	return it->has_dump ? it->dump_mtime_ns : it->report_mtime_ns;
}

static int by_age(const void *a, const void *b)
{
	const struct md_store_item *x = a, *y = b;
	int64_t tx = item_time_ns(x), ty = item_time_ns(y);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* One owner's figures in md_store_select(): what is left of it, and its oldest item left (any, and
 * with a dump), as indexes into the items sorted by age; count when there is none. */
struct owner_sum {
	bool has;
	uint32_t id;
	uint64_t dumps, bytes;
	size_t oldest, oldest_dump;
};

static size_t owner_index(struct owner_sum *o, size_t *n, const struct md_store_item *it)
{
	size_t k;

	for (k = 0; k < *n; k++)
		if (o[k].has == it->has_owner && (!it->has_owner || o[k].id == it->owner))
			return k;
	o[k] = (struct owner_sum){.has = it->has_owner, .id = it->owner};
	(*n)++;
	return k;
}

/* Moves owner k's cursors past items that are removed, kept, or (for oldest_dump) no dump. */
static void owner_advance(struct owner_sum *o, size_t k, const size_t *owner_of,
                          const struct md_store_item *items, size_t count, const bool *removed,
                          const char *keep_id)
{
	while (o[k].oldest < count && (owner_of[o[k].oldest] != k || removed[o[k].oldest] ||
	                               (keep_id && strcmp(items[o[k].oldest].id, keep_id) == 0)))
		o[k].oldest++;
	if (o[k].oldest_dump < o[k].oldest)
		o[k].oldest_dump = o[k].oldest;
	while (o[k].oldest_dump < count &&
	       (owner_of[o[k].oldest_dump] != k || removed[o[k].oldest_dump] ||
	        !items[o[k].oldest_dump].has_dump ||
	        (keep_id && strcmp(items[o[k].oldest_dump].id, keep_id) == 0)))
		o[k].oldest_dump++;
}

/* Whether owner a is a worse offender than b on dumps (by_bytes false) or bytes. */
static bool owner_worse(const struct owner_sum *a, const struct owner_sum *b, bool by_bytes)
{
	uint64_t x = by_bytes ? a->bytes : a->dumps, y = by_bytes ? b->bytes : b->dumps;
	size_t ax = by_bytes ? a->oldest : a->oldest_dump,
	       bx = by_bytes ? b->oldest : b->oldest_dump;

	return x != y ? x > y : ax < bx;
}

size_t md_store_select(struct md_store_item *items, size_t count,
                       const struct md_store_limits *limits, time_t now, uint64_t free_bytes,
                       const char *keep_id, bool *ret_remove)
{
	struct owner_sum *o = NULL;
	size_t *owner_of = NULL, n_owners = 0, marked = 0;
	uint64_t dumps = 0, bytes = 0;

	for (size_t i = 0; i < count; i++) {
		dumps += items[i].has_dump;
		bytes += items[i].dump_bytes + items[i].report_bytes;
		ret_remove[i] = false;
	}
	if (count > 1)
		qsort(items, count, sizeof(*items), by_age);
	if (count) {
		o = calloc(count, sizeof(*o));
		owner_of = calloc(count, sizeof(*owner_of));
	}
	for (size_t i = 0; o && owner_of && i < count; i++) {
		const struct md_store_item *it = &items[i];
		int64_t age_s = (int64_t)now - item_time_ns(it) / 1000000000;
		size_t k = owner_index(o, &n_owners, it);

		owner_of[i] = k;
		if (limits->max_age_s && age_s > 0 && (uint64_t)age_s > limits->max_age_s &&
		    !(keep_id && strcmp(it->id, keep_id) == 0)) {
			ret_remove[i] = true;
			marked++;
			dumps -= it->has_dump;
			bytes -= it->dump_bytes + it->report_bytes;
			if (free_bytes != UINT64_MAX)
				free_bytes += it->dump_bytes + it->report_bytes;
			continue;
		}
		o[k].dumps += it->has_dump;
		o[k].bytes += it->dump_bytes + it->report_bytes;
	}
	if (!o || !owner_of) {
		/* no memory for the owners: everything is one owner's, oldest first (below) */
		free(o);
		free(owner_of);
		o = NULL;
		owner_of = NULL;
	}
	for (size_t k = 0; owner_of && k < n_owners; k++)
		owner_advance(o, k, owner_of, items, count, ret_remove, keep_id);
	while (owner_of) {
		bool too_many = limits->max_dumps && dumps > limits->max_dumps;
		bool too_big = limits->max_total_bytes && bytes > limits->max_total_bytes;
		bool too_full = limits->min_free_bytes && free_bytes < limits->min_free_bytes;
		size_t pick = n_owners, at = count;
		bool by_bytes = false;

		/* first an owner over its own quota, then the biggest owner while the store is over
		 */
		for (size_t k = 0; k < n_owners && pick == n_owners; k++) {
			if (limits->max_bytes_per_user && o[k].bytes > limits->max_bytes_per_user &&
			    o[k].oldest < count)
				pick = k, by_bytes = true;
			else if (limits->max_dumps_per_user &&
			         o[k].dumps > limits->max_dumps_per_user &&
			         o[k].oldest_dump < count)
				pick = k, by_bytes = false;
		}
		if (pick == n_owners && (too_big || too_full || too_many)) {
			by_bytes = too_big || too_full;
			for (size_t k = 0; k < n_owners; k++) {
				if ((by_bytes ? o[k].oldest : o[k].oldest_dump) >= count)
					continue; /* nothing of it may go */
				if (pick == n_owners || owner_worse(&o[k], &o[pick], by_bytes))
					pick = k;
			}
		}
		if (pick == n_owners)
			break;
		at = by_bytes ? o[pick].oldest : o[pick].oldest_dump;
		ret_remove[at] = true;
		marked++;
		dumps -= items[at].has_dump;
		bytes -= items[at].dump_bytes + items[at].report_bytes;
		o[pick].dumps -= items[at].has_dump;
		o[pick].bytes -= items[at].dump_bytes + items[at].report_bytes;
		if (free_bytes != UINT64_MAX)
			free_bytes += items[at].dump_bytes + items[at].report_bytes;
		owner_advance(o, pick, owner_of, items, count, ret_remove, keep_id);
	}
	if (!owner_of) {
		/* the former rule: oldest first while a limit is exceeded */
		for (size_t i = 0; i < count; i++) {
			const struct md_store_item *it = &items[i];
			uint64_t size = it->dump_bytes + it->report_bytes;
			int64_t age_s = (int64_t)now - item_time_ns(it) / 1000000000;
			bool too_old =
			    limits->max_age_s && age_s > 0 && (uint64_t)age_s > limits->max_age_s;
			bool too_many = limits->max_dumps && dumps > limits->max_dumps;
			bool too_big = limits->max_total_bytes && bytes > limits->max_total_bytes;
			bool too_full =
			    limits->min_free_bytes && free_bytes < limits->min_free_bytes;

			if (!too_old && !too_many && !too_big && !too_full)
				break;
			if ((keep_id && strcmp(it->id, keep_id) == 0) ||
			    (!too_old && !too_big && !too_full && !it->has_dump))
				continue;
			ret_remove[i] = true;
			marked++;
			dumps -= it->has_dump;
			bytes -= size;
			if (free_bytes != UINT64_MAX)
				free_bytes += size;
		}
	}
	free(o);
	free(owner_of);
	return marked;
}

int md_store_expand(const char *path, char **ret_plain, char *why, size_t why_size)
{
	const char *tmpdir = getenv("TMPDIR");
	char head[4], *tmp = NULL;
	int in, out = -1, r;
	ssize_t n;

	*ret_plain = NULL;
	in = md_os_open_read(path);
	if (in < 0) {
		r = in;
		snprintf(why, why_size, "%s", md_os_strerror(-r));
		return r;
	}
	n = read(in, head, sizeof(head));
	if (n < 0 || !md_zstd_is_compressed(head, (size_t)n)) {
		close(in);
		return 0;
	}
	if (!md_zstd_available()) {
		snprintf(why, why_size, "zstd-compressed, and this build has no zstd support");
		r = -EOPNOTSUPP;
		goto out;
	}
	tmp = malloc(PATH_BYTES);
	if (!tmp) {
		r = -ENOMEM;
		snprintf(why, why_size, "out of memory");
		goto out;
	}
	snprintf(tmp, PATH_BYTES, "%s/md-dump-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	out = mkstemp(tmp);
	if (out < 0) {
		r = -errno;
		snprintf(why, why_size, "cannot create %s: %s", tmp, md_os_strerror(-r));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (lseek(in, 0, SEEK_SET) < 0) {
		r = -errno;
		snprintf(why, why_size, "%s", md_os_strerror(-r));
		goto out;
	}
	r = md_zstd_decompress_fd(in, out, MD_STORE_UNZSTD_MAX);
	if (r < 0) {
		snprintf(why, why_size, "cannot decompress: %s",
		         r == -EBADMSG ? "corrupt zstd data"
		         : r == -EFBIG ? "it expands past the size limit"
		                       : md_os_strerror(-r));
		goto out;
	}
	*ret_plain = tmp;
	tmp = NULL;
	r = 1;
out:
	close(in);
	if (out >= 0)
		close(out);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return r;
}
