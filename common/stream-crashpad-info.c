/* SPDX-License-Identifier: MIT */
/*
 * CrashpadInfo writer, used for the application's annotations: Crashpad's simple annotations
 * dictionary (UTF-8 key/value pairs), which Breakpad's and Sentry's processors display. Left
 * out when there are no annotations.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md-streams.h"

#define ANNOTATIONS_MAX 256u /* key/value pairs written */

int md_stream_crashpad_info(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                            enum md_stream_status *ret_status)
{
	const struct md_dump_options *o = c->opts;
	md_simple_string_dictionary_entry *e;
	uint32_t n, dict_rva, rva;
	md_crashpad_info ci;
	int r = 0;

	if (!o || o->n_annotations == 0) {
		*ret_status = MD_STREAM_SKIPPED;
		return 0;
	}
	n = o->n_annotations > ANNOTATIONS_MAX ? ANNOTATIONS_MAX : (uint32_t)o->n_annotations;
	e = calloc(n, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (uint32_t i = 0; r >= 0 && i < n; i++) {
		uint32_t key = 0, value = 0;

		r = md_writer_utf8(c->w, o->annotation_keys[i], &key);
		if (r >= 0)
			r = md_writer_utf8(c->w, o->annotation_values[i], &value);
		e[i].key = key;
		e[i].value = value;
	}
	if (r >= 0)
		r = md_writer_append(c->w, &n, sizeof(n), &dict_rva);
	if (r >= 0)
		r = md_writer_put(c->w, e, n * sizeof(*e));
	if (r < 0)
		goto out;
	memset(&ci, 0, sizeof(ci));
	ci.version = 1;
	ci.simple_annotations.rva = dict_rva;
	ci.simple_annotations.data_size = 4 + n * (uint32_t)sizeof(*e);
	r = md_writer_append(c->w, &ci, sizeof(ci), &rva);
	if (r < 0)
		goto out;
	*ret_loc = (md_location){.data_size = sizeof(ci), .rva = rva};
	*ret_status = n < o->n_annotations ? MD_STREAM_PARTIAL : MD_STREAM_OK;
out:
	free(e);
	return r;
}
