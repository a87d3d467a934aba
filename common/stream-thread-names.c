/* SPDX-License-Identifier: MIT */
/*
 * ThreadNames writer: one 12-byte entry per named thread, pointing at its name string through
 * a 64-bit RVA. Breakpad requires the stream to be exactly 4 + 12n bytes.
 */
#include <errno.h>
#include <stdlib.h>

#include "md-streams.h"

int md_stream_thread_names(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                           enum md_stream_status *ret_status)
{
	struct md_snapshot *s = c->s;
	md_thread_name *names;
	uint32_t count = 0, rva;
	int r = 0;

	names = calloc(s->n_threads ? s->n_threads : 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_threads; i++) {
		uint32_t name_rva;

		if (!s->threads[i].name[0])
			continue;
		r = md_writer_string(c->w, s->threads[i].name, &name_rva);
		if (r < 0)
			goto out;
		names[count].thread_id = s->threads[i].tid;
		names[count].thread_name_rva = name_rva;
		count++;
	}
	if (count == 0) {
		*ret_status = MD_STREAM_SKIPPED;
		goto out;
	}
	r = md_writer_append(c->w, &count, sizeof(count), &rva);
	if (r >= 0)
		r = md_writer_put(c->w, names, count * sizeof(*names));
	if (r < 0)
		goto out;
	*ret_loc = (md_location){.data_size = 4 + count * (uint32_t)sizeof(*names), .rva = rva};
	*ret_status = MD_STREAM_OK;
out:
	free(names);
	return r;
}
