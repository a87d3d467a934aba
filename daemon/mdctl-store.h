/* SPDX-License-Identifier: MIT */
/*
 * mdctl's view of minidumpd's store, shared by `list`, `info` and `rm`. What the store holds,
 * how its files are named and how ids are checked is common/md-store.h's; reports are read
 * with common/md-report.h. The folder is found through the daemon's
 * status reply, else given with --dump-dir, else the default. Everything in the folder is
 * treated as untrusted input: ids are checked before they become file names, so no id can
 * name a file outside the folder, and report files are read with a size limit.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "md-cmdline.h"
#include "md-defaults.h"
#include "md-reader.h"
#include "md-report.h"
#include "md-store.h"
#include "md-upload-state.h"

#define MDCTL_STORE_ENTRIES_MAX 1000000 /* reports one listing holds */
#define MDCTL_STORE_STATUS_MS   2000    /* ms to wait for the daemon's status */

/* Where the store is, and how it was found. */
struct mdctl_store {
	char dir[PATH_MAX];
	const char *source; /* "--dump-dir", "daemon" or "default" */
};

/* One report of the store. */
struct mdctl_entry {
	char id[MD_STORE_ID_MAX + 1];
	json_t *report;       /* the report as it is in the file, for --json (owned) */
	struct md_report rep; /* the same, typed (owned) */
	time_t time;          /* from the report's "time", else the report file's mtime */
	int64_t written_ns;   /* the report file's mtime in ns: orders dumps within a second */
	char dump_name[MD_STORE_NAME_MAX]; /* "<id>.dmp" or "<id>.dmp.zst"; "" if none */
	uint64_t dump_bytes;               /* size of that file on disk */
};

/* The options every store command takes (MDCTL_STORE_OPTS). */
struct mdctl_store_opts {
	const char *dump_dir;     /* --dump-dir */
	const char *socket_path;  /* --socket */
	const char *upload_state; /* --upload-state */
};

/* md_cmdline_opt entries for the options above, setting them in *so. */
#define MDCTL_STORE_OPTS(so)                                                                       \
	MD_CMDLINE_STRING("dump-dir", 0, &(so)->dump_dir),                                         \
	    MD_CMDLINE_STRING("socket", 0, &(so)->socket_path),                                    \
	    MD_CMDLINE_STRING("upload-state", 0, &(so)->upload_state)
/* The options' help lines. */
extern const char mdctl_store_options_help[];

/* Finds the store: opts->dump_dir, else what the daemon reports, else the default. */
void mdctl_store_locate(const struct mdctl_store_opts *opts, struct mdctl_store *ret_store);

/* Reads every report of the store, sorted by time then id. Unreadable or malformed report
 * files are skipped with a warning on stderr. Returns 0 or -errno (of opening the folder). */
int mdctl_store_load(const struct mdctl_store *s, struct mdctl_entry **ret_entries,
                     size_t *ret_count);
void mdctl_store_free(struct mdctl_entry *entries, size_t count);

/* Says on stderr that `mdctl verb` cannot read the store s (err: a -errno) and returns the
 * exit code for that: MDCTL_EXIT_PERMISSION for -EACCES/-EPERM, else MDCTL_EXIT_FAILURE. */
int mdctl_store_fail(const char *verb, const struct mdctl_store *s, int err);

/* Finds the store (mdctl_store_locate()) and reads it (mdctl_store_load()). Returns
 * MDCTL_EXIT_OK, or the exit code of mdctl_store_fail() after saying why. */
int mdctl_store_open(const char *verb, const struct mdctl_store_opts *opts,
                     struct mdctl_store *ret_store, struct mdctl_entry **ret_entries,
                     size_t *ret_count);

/* Finds query among entries: an exact id, else the one id it is a prefix of. Returns the
 * index, -ENOENT, or -ENOTUNIQ when several ids start with it. */
int mdctl_store_find(const struct mdctl_entry *entries, size_t count, const char *query);

/* Opens the entry's dump with the reader. A compressed dump (.zst) is expanded by
 * md_store_expand() into a temporary file, whose path is returned in ret_tmp (caller unlinks and
 * frees it); otherwise *ret_tmp is NULL. ret_path receives the path to hand to other tools (owned).
 * Returns 0, -ENOENT (no dump), or -errno with err filled. */
int mdctl_store_open_dump(const struct mdctl_store *s, const struct mdctl_entry *e,
                          struct md_reader_error *err, struct md_reader **ret_reader,
                          char **ret_path, char **ret_tmp);

/* The uploader's state of id (dir/<id>.json), or NULL when there is none. Owned. */
json_t *mdctl_upload_state(const char *dir, const char *id);

/* Parses a time for --since/--until: "YYYY-MM-DD[ HH:MM[:SS]]" or with 'T' between, local
 * time unless it ends in 'Z' (or utc is set); or "now", "today", "yesterday"; or an age such
 * as "30s", "15m", "2h", "7d" (that long before now). Returns 0 or -EINVAL. */
int mdctl_parse_time(const char *s, bool utc, time_t now, time_t *ret_time);

/* Writes s escaped by md_escape (control characters and invalid UTF-8 as \n, \xHH): text
 * from a report or dump is untrusted and must not drive the terminal or fake a line. */
void mdctl_put_safe(FILE *f, const char *s);

/* The first executable name in $PATH, as a path (owned), or NULL. */
char *mdctl_find_program(const char *name);

/* Runs argv (argv[0] a path) with stdin and stderr on /dev/null and collects its stdout, up
 * to max bytes, killing it after timeout_ms. Returns its exit status (>= 0), or -errno
 * (-ETIMEDOUT). *ret_out is owned and NUL-terminated. */
int mdctl_run_capture(const char *const *argv, int timeout_ms, size_t max, char **ret_out);
