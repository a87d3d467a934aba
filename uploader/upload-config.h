/* SPDX-License-Identifier: MIT */
/*
 * mdupload's configuration: one JSON file (docs/upload.md documents every key). Loading
 * validates everything up front, rejecting unknown keys, wrong types and out-of-range values
 * with the file and the key's path, so the service never starts half-configured. Also parses
 * server URLs and derives the Sentry minidump endpoint from a DSN.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md-upload-state.h"

#define MD_UPLOAD_FIELDS_MAX      64                      /* extra form fields per server */
#define MD_UPLOAD_FIELD_KEY_MAX   128                     /* bytes of a form field name */
#define MD_UPLOAD_FIELD_VALUE_MAX 4096                    /* bytes of a form field value */
#define MD_UPLOAD_URL_MAX         2048                    /* bytes of a URL */
#define MD_UPLOAD_BODY_HARD_MAX   (1024ull * 1024 * 1024) /* bytes: largest body ever built */
#define MD_UPLOAD_TIMEOUT_MAX_MS  3600000                 /* ms: longest request timeout */

enum mdu_upload_kind {
	MD_UPLOAD_KIND_BREAKPAD, /* any server taking Breakpad/Crashpad multipart uploads */
	MD_UPLOAD_KIND_SENTRY,   /* Sentry's minidump endpoint, from a DSN */
};

struct mdu_upload_server {
	char *name;
	enum mdu_upload_kind kind;
	char *url; /* the endpoint POSTed to (derived from sentry_dsn for Sentry) */
	bool tls;  /* https */
	char *host;
	int port;
	char *path; /* path and query, at least "/" */
	bool gzip;
	uint64_t max_bytes;       /* bytes of the request body; 0 = MD_UPLOAD_BODY_HARD_MAX */
	unsigned rate_per_minute; /* requests started per minute; 0 = unlimited */
	unsigned timeout_ms;      /* whole request: connect, send, response */
	char *ca_file;            /* PEM bundle for https instead of the system's; may be NULL */
	size_t n_fields;
	char **field_keys;
	char **field_values;
};

struct mdu_upload_config {
	char *outbox;
	char *state_dir;
	char *metrics_file; /* NULL: no metrics file */
	bool consent;
	unsigned scan_interval_ms; /* how often the outbox is listed */
	unsigned retry_initial_ms;
	unsigned retry_max_ms;
	unsigned retry_max_attempts; /* per server and dump; 0 = retry forever */
	size_t n_servers;
	struct mdu_upload_server *servers;
};

/* Loads and validates path (NULL: defaults only). On failure returns -errno and writes a
 * one-line explanation ("FILE:LINE:COLUMN: ..." for syntax, "FILE: servers[0].kind: ..." for
 * values) into err. *ret_config is owned; free it with mdu_upload_config_free(). */
int mdu_upload_config_load(const char *path, struct mdu_upload_config **ret_config, char *err,
                           size_t err_size);

void mdu_upload_config_free(struct mdu_upload_config *c);

/* The wait in ms before retry number attempt (1 = the first) after a failure: exponential
 * backoff with "equal jitter", half of retry_initial_ms * 2^(attempt-1) (capped at
 * retry_max_ms) for sure and the other half scaled by rnd (0..UINT32_MAX), so that retries of
 * many dumps spread out instead of arriving together. Pure: the caller draws rnd. */
int64_t mdu_upload_backoff_ms(const struct mdu_upload_config *cfg, unsigned attempt, uint32_t rnd);

/* Parses an http:// or https:// URL into host, port and path (owned). Returns 0 or -EINVAL. */
int mdu_upload_url_parse(const char *url, bool *ret_tls, char **ret_host, int *ret_port,
                         char **ret_path);

/* Derives Sentry's minidump endpoint from a DSN: `SCHEME://KEY[:SECRET]@HOST[:PORT][/PREFIX]/
 * PROJECT` gives `SCHEME://HOST[:PORT][/PREFIX]/api/PROJECT/minidump/?sentry_key=KEY` (owned).
 * Returns 0 or -EINVAL. */
int mdu_upload_sentry_url(const char *dsn, char **ret_url);
