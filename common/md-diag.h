/* SPDX-License-Identifier: MIT */
/*
 * A bounded list of what could not be captured and why (a thread that vanished, a module
 * without a build id, an unreadable stack, a stream that failed). It feeds the diagnostics
 * stream and the JSON report. It never allocates more than MD_DIAG_MAX entries.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define MD_DIAG_MAX     512 /* entries kept; later ones are counted in dropped */
#define MD_DIAG_MSG_MAX 160 /* bytes per message, NUL included */

enum md_diag_kind {
	MD_DIAG_THREAD,
	MD_DIAG_MODULE,
	MD_DIAG_MEMORY,
	MD_DIAG_STREAM,
	MD_DIAG_PROCESS,
};

struct md_diag_entry {
	enum md_diag_kind kind;
	uint64_t id; /* tid, module base, address or stream type */
	int error;   /* -errno */
	char message[MD_DIAG_MSG_MAX];
};

struct md_diag {
	struct md_diag_entry *entries;
	size_t count;
	size_t dropped;
};

/* Records one problem. Never fails: on allocation failure or past MD_DIAG_MAX it counts it in
 * dropped. */
void md_diag_add(struct md_diag *d, enum md_diag_kind kind, uint64_t id, int error, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));

void md_diag_done(struct md_diag *d);

const char *md_diag_kind_to_string(enum md_diag_kind kind);
