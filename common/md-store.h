/* SPDX-License-Identifier: MIT */
/*
 * The dump store: a folder of `<id>.dmp` (or `<id>.dmp.zst` when compressed at rest) with the
 * JSON report `<id>.json` beside it, crash-loop summaries (`<id>.json` alone, ids ending in
 * ".crashloop"), the journal `reports.jsonl` (+ `reports.jsonl.1`) and hidden temporary files.
 * This module owns that contract: what an id may be, how a file of each kind is named, how the
 * folder is scanned, pruned and emptied of an id, and how a dump, plain or compressed, is
 * opened. The daemon, mdctl and the uploader all go through it. Library code: it never logs and
 * never aborts; everything it reads from the folder is treated as untrusted. Thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MD_STORE_ID_MAX      200                    /* bytes of an id, NUL excluded */
#define MD_STORE_NAME_MAX    (MD_STORE_ID_MAX + 16) /* bytes of a store file name, NUL incl. */
#define MD_STORE_ID_BASE_MAX 64 /* bytes of the executable's name at the start of an id */
#define MD_STORE_REPORT_MAX  (1024u * 1024u) /* bytes of one report file read */
#define MD_STORE_SCAN_MAX    100000          /* ids looked at in one scan; more are left out */
#define MD_STORE_UNZSTD_MAX  (8ull << 30)    /* bytes a compressed dump may expand to */
#define MD_STORE_STALE_TMP_S 3600 /* a temporary file this old belongs to no dump in flight */
#define MD_STORE_JOURNAL     "reports.jsonl"       /* one JSON line per capture */
#define MD_STORE_JOURNAL_OLD "reports.jsonl.1"     /* the journal before its last rotation */
#define MD_STORE_JOURNAL_MAX (16u * 1024u * 1024u) /* bytes of the journal before rotation */
#define MD_STORE_LOOP_SUFFIX ".crashloop"          /* the end of a crash-loop summary's id */

/* The kinds of files an id has. */
enum md_store_kind {
	MD_STORE_DUMP,      /* "<id>.dmp" */
	MD_STORE_DUMP_ZSTD, /* "<id>.dmp.zst" */
	MD_STORE_REPORT,    /* "<id>.json" */
	MD_STORE_KIND_COUNT,
};

/* ".dmp", ".dmp.zst", ".json"; NULL for anything else. */
const char *md_store_kind_suffix(enum md_store_kind kind);

/* True if id can name files of the store: 1 to MD_STORE_ID_MAX bytes of [A-Za-z0-9._-], not
 * starting with '.' (so it never names a hidden, temporary or parent entry). */
bool md_store_id_valid(const char *id);

/* The file name of id's file of kind into buf (MD_STORE_NAME_MAX bytes). Returns 0 or -EINVAL
 * (invalid id or kind). */
int md_store_name(const char *id, enum md_store_kind kind, char buf[MD_STORE_NAME_MAX]);

/* Splits a file name of the store into its id and kind. Returns 0, or -EINVAL when name is not
 * a store file (other suffix, invalid id: hidden files, reports.jsonl...). */
int md_store_parse_name(const char *name, char ret_id[MD_STORE_ID_MAX + 1],
                        enum md_store_kind *ret_kind);

/* The id of a dump: "<exe's basename>.<pid>.<UTC time>.<tid>", then "-<attempt>" when attempt is
 * not 0. The basename (split at '/' and '\\') is cut to MD_STORE_ID_BASE_MAX bytes with every
 * byte outside [A-Za-z0-9._-] made '_'. Returns 0 or -EINVAL. */
int md_store_make_id(const char *exe, uint32_t pid, time_t when, uint32_t tid, unsigned attempt,
                     char ret_id[MD_STORE_ID_MAX + 1]);

/* The id of the crash-loop summary of a program: "<basename>.<file_id as 16 hex>.crashloop". */
int md_store_make_loop_id(const char *exe, uint64_t file_id, char ret_id[MD_STORE_ID_MAX + 1]);

/* One id of the folder with what it has. */
struct md_store_item {
	char id[MD_STORE_ID_MAX + 1];
	bool has_dump;
	enum md_store_kind dump_kind; /* MD_STORE_DUMP or MD_STORE_DUMP_ZSTD */
	uint64_t dump_bytes;
	int64_t dump_mtime_ns;
	bool has_report;
	uint64_t report_bytes;
	int64_t report_mtime_ns;
	/* who the store's quotas count it for (docs/config.md): set by the caller from the report
	 * (md_store_scan leaves it unset); items without one are counted together */
	bool has_owner;
	uint32_t owner;
};

/* Lists the ids of dir (regular files only, symbolic links are not followed), sorted by id, at
 * most MD_STORE_SCAN_MAX. Temporary files of a daemon that died over MD_STORE_STALE_TMP_S ago
 * are removed when remove_stale is set. *ret_items is owned (free()); NULL when none. Returns 0
 * or -errno. */
int md_store_scan(const char *dir, bool remove_stale, struct md_store_item **ret_items,
                  size_t *ret_count);

/* Removes id's dump and report (a symbolic link itself, never what it points to). Returns the
 * number of files removed (0: none there) or -errno (invalid id: -EINVAL). */
int md_store_remove(const char *dir, const char *id);

/* The store's limits; 0 means no limit. */
struct md_store_limits {
	uint64_t max_total_bytes;    /* bytes of dumps and reports */
	uint64_t max_dumps;          /* ids with a dump */
	uint64_t max_age_s;          /* s since the dump (or summary) was written */
	uint64_t min_free_bytes;     /* bytes left free on the folder's filesystem */
	uint64_t max_dumps_per_user; /* ids with a dump of one owner */
	uint64_t max_bytes_per_user; /* bytes of one owner's dumps, reports and summaries */
};

/* Decides what a prune removes: marks ret_remove[i] for the items to remove, and returns how
 * many. Items older than max_age_s go. Then, while an owner is over its own quota
 * (max_*_per_user), that owner's oldest items go; and while the store is over max_dumps,
 * max_total_bytes or min_free_bytes, the oldest items of the owner with the most dumps (for
 * max_dumps) or bytes (for the others) go, ties to the owner of the oldest item: one owner's
 * dumps make room only by evicting that owner's own until it has no more than the others.
 * free_bytes is the filesystem's free space now (UINT64_MAX: unknown); each removal is taken to
 * free its bytes. Items without a dump (crash-loop summaries) count in bytes and age, not in
 * dump counts. keep_id (may be NULL) is never removed. items is reordered oldest first (dump
 * time, else report time). Without memory for the owners' figures every item counts as one
 * owner's (oldest first). */
size_t md_store_select(struct md_store_item *items, size_t count,
                       const struct md_store_limits *limits, time_t now, uint64_t free_bytes,
                       const char *keep_id, bool *ret_remove);

/* Makes the dump at path readable as a plain file: a plain dump is left as it is (returns 0,
 * *ret_plain NULL); a zstd-compressed one (by its magic bytes, whatever its name) is expanded,
 * streaming, into a new temporary file under $TMPDIR (else /tmp), at most MD_STORE_UNZSTD_MAX
 * bytes, whose path is returned in *ret_plain (returns 1; the caller unlinks and frees it).
 * why (why_size bytes) receives the reason on failure, without the path. Returns 0, 1 or -errno
 * (-EOPNOTSUPP: built without zstd, -EBADMSG: corrupt data, -EFBIG: over the cap). */
int md_store_expand(const char *path, char **ret_plain, char *why, size_t why_size);
