/* SPDX-License-Identifier: MIT */
/*
 * What the config and the policy readers share (md-config.c, md-policy.c): a JSON file read
 * under MDD_CONFIG_MAX_BYTES, and errors that say "FILE:LINE:COLUMN: what" although jansson
 * keeps no positions in values. Daemon-internal; nothing here logs.
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

#include "md-config.h"

#define MDD_CONFIG_U32_MAX 0xFFFFFFFFull /* the largest uid, gid or count a file may give */

/* One file being read: its text, where errors go, and the config that keeps its strings. */
struct mdd_config_json {
	const char *path;
	char *text; /* the file's text (owned), to find where a key stands */
	json_t *root;
	char *err;
	size_t err_size;
	struct mdd_config *cfg;
};

/* Reads path (at most MDD_CONFIG_MAX_BYTES) and parses it as a JSON object into j, which the
 * caller sets up with err, err_size and cfg; mdd_config_json_done() frees it. Returns 0, or
 * -errno with j->err set (a syntax error with its line and column: -EINVAL). */
int mdd_config_json_open(struct mdd_config_json *j, const char *path);

void mdd_config_json_done(struct mdd_config_json *j);

/* Where the first "key" after from stands in the text (from NULL: the start), with its line
 * and column; from when the key is not in the text. */
const char *mdd_config_json_locate(const struct mdd_config_json *j, const char *from,
                                   const char *key, int *ret_line, int *ret_col);

/* Sets j->err to "FILE:LINE:COLUMN: message", at the first "key" after from. Returns -EINVAL. */
int mdd_config_json_fail(const struct mdd_config_json *j, const char *from, const char *key,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
