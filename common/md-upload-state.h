/* SPDX-License-Identifier: MIT */
/*
 * The uploader's per-dump state files, `<state_dir>/<id>.json`: what mdupload did with the dump
 * `<id>` (pending, uploaded with the server's report id, failed or skipped with a reason), per
 * server and summed up. mdupload writes them; mdctl reads them to show the upload state beside
 * the daemon's report, which the unprivileged uploader cannot modify. Library code in common/
 * (mdctl reads the states without linking uploader code): it never logs and never aborts; it
 * allocates nothing the caller must free but md_upload_state_to_json()'s object.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "md-store.h"

#define MD_UPLOAD_ID_MAX         (MD_STORE_ID_MAX + 1) /* bytes of a dump id, NUL included */
#define MD_UPLOAD_NAME_MAX       64                    /* bytes of a server name, NUL included */
#define MD_UPLOAD_SERVER_ID_MAX  256   /* bytes of a server's report id, NUL included */
#define MD_UPLOAD_REASON_MAX     512   /* bytes of a reason, NUL included */
#define MD_UPLOAD_TIME_MAX       32    /* bytes of an ISO 8601 UTC time, NUL included */
#define MD_UPLOAD_SERVERS_MAX    8     /* servers one dump can be sent to */
#define MD_UPLOAD_STATE_FILE_MAX 65536 /* bytes of a state file; larger ones are rejected */

enum md_upload_status {
	MD_UPLOAD_PENDING,  /* not (yet) delivered; will be tried (again) */
	MD_UPLOAD_UPLOADED, /* the server accepted it; server_id holds its report id */
	MD_UPLOAD_FAILED,   /* given up for good; reason says why */
	MD_UPLOAD_SKIPPED,  /* deliberately not sent (too large); reason says why */
};

/* What happened with one dump at one server. */
struct md_upload_server_state {
	char name[MD_UPLOAD_NAME_MAX];
	enum md_upload_status state;
	char server_id[MD_UPLOAD_SERVER_ID_MAX]; /* "" unless uploaded (and the server said) */
	char reason[MD_UPLOAD_REASON_MAX];       /* last failure, "" if none */
	unsigned attempts;                       /* HTTP requests made so far */
	char time[MD_UPLOAD_TIME_MAX];           /* of the last change, ISO 8601 UTC */
};

/* One state file. The top-level fields summarize the servers (see
 * md_upload_state_summarize()): that is what `mdctl list` shows. */
struct md_upload_state {
	char id[MD_UPLOAD_ID_MAX];
	enum md_upload_status state;
	char server_id[MD_UPLOAD_SERVER_ID_MAX];
	char reason[MD_UPLOAD_REASON_MAX];
	unsigned attempts;
	char time[MD_UPLOAD_TIME_MAX];
	size_t n_servers;
	struct md_upload_server_state servers[MD_UPLOAD_SERVERS_MAX];
};

/* "pending", "uploaded", "failed", "skipped"; "unknown" for anything else. */
const char *md_upload_status_to_string(enum md_upload_status s);

/* Parses one of the names above. Returns 0 or -EINVAL. */
int md_upload_status_from_string(const char *s, enum md_upload_status *ret_status);

/* Reads `<state_dir>/<id>.json` into *ret_state (written only on success). Returns 0,
 * -ENOENT when mdupload has no state for that dump (it has not seen the ticket yet, or the
 * uploader is not in use), -EINVAL for an invalid id or a malformed file, -EFBIG for a file over
 * MD_UPLOAD_STATE_FILE_MAX, or another -errno from reading. Thread-safe; no allocation the
 * caller must free. */
int md_upload_state_read(const char *state_dir, const char *id, struct md_upload_state *ret_state);

/* Recomputes the top-level fields of s from its servers: pending while any server is pending;
 * otherwise uploaded if any server took it, failed if any failed, else skipped. server_id is the
 * first server's report id, reason the first reason of a server that did not take it (prefixed
 * with the server's name when there are several), attempts the sum, time the latest. */
void md_upload_state_summarize(struct md_upload_state *s);

/* s as the JSON object of its state file (what md_upload_state_write() writes and mdctl
 * shows): id, state, server_id and reason (null when ""), attempts, time, servers. Owned by
 * the caller; NULL when out of memory. */
json_t *md_upload_state_to_json(const struct md_upload_state *s);

/* Writes s as `<state_dir>/<id>.json` (mode 0644), atomically and durably: a temporary file,
 * fsync, rename, fsync of the folder. When it returns 0 the state survives a power cut.
 * Returns 0 or -errno. */
int md_upload_state_write(const char *state_dir, const struct md_upload_state *s);

/* Writes len bytes as dir/name with mode, through a temporary file in dir that is fsynced and
 * renamed over name; then fsyncs dir. Readers see the old or the new content, never a mix.
 * Returns 0 or -errno. */
int md_upload_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                           mode_t mode);

/* The current time as ISO 8601 UTC ("2026-11-28T09:56:51Z") into buf (MD_UPLOAD_TIME_MAX). */
void md_upload_time_now(char buf[MD_UPLOAD_TIME_MAX]);
