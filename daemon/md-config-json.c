/* SPDX-License-Identifier: MIT */
/*
 * Reads a JSON config or policy file for the daemon (md-config-json.h) and places its errors
 * at a file, line and column. Never logs; the caller decides what a bad file means.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-config-json.h"
#include "md-os.h"

int mdd_config_json_open(struct mdd_config_json *j, const char *path)
{
	json_error_t je;
	size_t len;
	int r;

	j->path = path;
	j->text = NULL;
	j->root = NULL;
	r = md_os_read_file(path, MDD_CONFIG_MAX_BYTES, &j->text, &len);
	if (r < 0) {
		snprintf(j->err, j->err_size, "%s: %s", path, md_os_strerror(-r));
		return r;
	}
	j->root = json_loads(j->text, JSON_REJECT_DUPLICATES, &je);
	if (!j->root) {
		snprintf(j->err, j->err_size, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return -EINVAL;
	}
	if (!json_is_object(j->root)) {
		snprintf(j->err, j->err_size, "%s:1:1: the top level must be an object", path);
		return -EINVAL;
	}
	return 0;
}

void mdd_config_json_done(struct mdd_config_json *j)
{
	json_decref(j->root);
	j->root = NULL;
	free(j->text);
	j->text = NULL;
}

/* jansson keeps no positions in values, so a key is found again in the text. */
const char *mdd_config_json_locate(const struct mdd_config_json *j, const char *from,
                                   const char *key, int *ret_line, int *ret_col)
{
	char quoted[160];
	const char *at;

	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	at = strstr(from ? from : j->text, quoted);
	if (!at)
		at = strstr(j->text, quoted);
	*ret_line = 1;
	*ret_col = 1;
	if (!at)
		return from;
	for (const char *c = j->text; c < at; c++) {
		if (*c == '\n') {
			(*ret_line)++;
			*ret_col = 1;
		} else {
			(*ret_col)++;
		}
	}
	return at;
}

int mdd_config_json_fail(const struct mdd_config_json *j, const char *from, const char *key,
                         const char *fmt, ...)
{
	char what[256];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	mdd_config_json_locate(j, from, key, &line, &col);
	snprintf(j->err, j->err_size, "%s:%d:%d: %s", j->path, line, col, what);
	return -EINVAL;
}
