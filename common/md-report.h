/* SPDX-License-Identifier: MIT */
/*
 * JSON reports (jansson) about a dump: what mdctl --json prints and, later, what the daemon
 * stores beside each dump. Key names are part of the interface: add, never rename.
 */
#pragma once

#include <jansson.h>

#include "md-diag.h"
#include "md-dump.h"
#include "md-snapshot.h"

/* Durations of one capture, in milliseconds. */
struct md_report_times {
	double duration_ms;  /* from the request until the file was complete */
	double suspended_ms; /* how long the target was stopped */
};

/* Builds the report of one dump. path may be NULL (no file kept). Returns a new reference or
 * NULL on allocation failure. */
json_t *md_report_dump(const struct md_snapshot *s, const struct md_dump_result *res,
		       const char *path, const struct md_report_times *times);

/* A JSON string of text a client or target supplied (a name, annotation, path): jansson
 * refuses invalid UTF-8, so such bytes are escaped as \xHH (md_escape) instead of losing the
 * value or the whole report. NULL only when out of memory. */
json_t *md_report_text(const char *text);

/* obj[key] = value, both such text. Returns 0 or -ENOMEM. */
int md_report_set_text(json_t *obj, const char *key, const char *value);

/* The problem list as a JSON array of {kind, id, errno, error, message}. */
json_t *md_diag_to_json(const struct md_diag *d);
