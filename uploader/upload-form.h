/* SPDX-License-Identifier: MIT */
/*
 * The request body Breakpad and Crashpad clients send, built from a dump and its report: a
 * multipart/form-data body with the annotations as form fields and the minidump in the field
 * `upload_file_minidump`, optionally gzip-compressed as a whole (Content-Encoding: gzip); and
 * the parsers for what servers answer (their report id, Retry-After). Pure functions: no I/O,
 * no logging.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "md-report.h"
#include "upload-config.h"

#define MD_UPLOAD_BOUNDARY_HEX    32    /* random hex digits in a multipart boundary */
#define MD_UPLOAD_RETRY_AFTER_MAX 86400 /* s: longest Retry-After honoured as given */

struct mdu_upload_body {
	unsigned char *data; /* owned; free with mdu_upload_body_done() */
	size_t len;
	size_t raw_len; /* the multipart body's size before compression */
	bool gzip;      /* data is gzip-compressed: send Content-Encoding: gzip */
	char content_type[96];
	size_t n_fields;  /* form fields besides the minidump */
	size_t n_dropped; /* annotations left out: names that cannot be form field names */
};

/* The form fields sent with a dump, in order, as a JSON object of strings (owned): the built-in
 * fields (prod from the process name, ver from a "version" annotation, minidumpd_id,
 * minidumpd_kind, minidumpd_signal), then the report's annotations, then the server's
 * configured fields; a later source replaces an earlier field of the same name. Returns NULL
 * when out of memory. *ret_dropped counts annotations whose names cannot be field names. */
json_t *mdu_upload_form_fields(const struct mdu_upload_server *srv, const struct md_report *report,
                               size_t *ret_dropped);

/* Builds the body for srv (gzip if srv->gzip) from report and the dump's bytes. Returns 0,
 * -ENOMEM, or -EFBIG when it would exceed MD_UPLOAD_BODY_HARD_MAX. */
int mdu_upload_form_build(const struct mdu_upload_server *srv, const struct md_report *report,
                          const void *dump, size_t dump_len, struct mdu_upload_body *ret_body);

void mdu_upload_body_done(struct mdu_upload_body *b);

/* The server's report id from a response body: JSON {"id": ...} (Sentry) or {"_rxid": ...}
 * (Backtrace), text "CrashID=bp-..." (Socorro, Breakpad's servers), else the first line when it
 * is a short printable token (Crashpad's servers). Written to buf (printable ASCII); "" when
 * there is none. */
void mdu_upload_response_id(const char *body, size_t len, char *buf, size_t size);

/* Parses a Retry-After value (delta-seconds or an HTTP-date) into seconds from now, clamped to
 * 0..MD_UPLOAD_RETRY_AFTER_MAX. Returns 0 or -EINVAL. */
int mdu_upload_retry_after(const char *value, time_t now, long *ret_seconds);
