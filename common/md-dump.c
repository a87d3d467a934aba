/* SPDX-License-Identifier: MIT */
/*
 * Drives the stream writers of md-streams.c over one snapshot and one file. It owns the
 * bookkeeping: directory slots, per-stream results, cancellation and the final header. An
 * optional stream that fails leaves its slot unused (type 0, size 0, rva 0) and a
 * diagnostics entry; a required one fails the whole dump.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "md-dump.h"
#include "md-streams.h"

const char *md_stream_status_to_string(enum md_stream_status status)
{
	switch (status) {
	case MD_STREAM_OK:
		return "ok";
	case MD_STREAM_PARTIAL:
		return "partial";
	case MD_STREAM_SKIPPED:
		return "skipped";
	case MD_STREAM_FAILED:
		return "failed";
	}
	return "unknown";
}

int md_dump_write(struct md_snapshot *s, int fd, const struct md_dump_options *opts,
                  struct md_dump_result *ret_result)
{
	static const struct md_dump_options no_opts;
	struct md_dump_result result;
	struct md_writer w;
	struct md_dump_ctx c;
	int r;

	if (!opts)
		opts = &no_opts;
	memset(&result, 0, sizeof(result));
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.w = &w;
	c.opts = opts;
	c.result = &result;
	c.stack_max = opts->stack_max ? opts->stack_max : MD_STACK_MAX_DEFAULT;
	if (c.stack_max > MD_READ_BATCH_BYTES)
		c.stack_max = MD_READ_BATCH_BYTES;

	r = md_writer_init(&w, fd, (uint32_t)md_stream_table_size);
	if (r < 0)
		goto out_writer;
	c.scratch = malloc(MD_READ_BATCH_BYTES);
	if (!c.scratch) {
		r = -ENOMEM;
		goto out;
	}

	md_dump_plan(&c);
	for (size_t i = 0; i < md_stream_table_size; i++) {
		const struct md_stream_writer *sw = &md_stream_table[i];
		struct md_stream_result *sr = &result.streams[result.n_streams++];
		enum md_stream_status status = MD_STREAM_OK;
		md_location loc = {0, 0};

		if (opts->cancel && *opts->cancel) {
			r = -ECANCELED;
			goto out;
		}
		sr->type = sw->type;
		sr->name = md_stream_type_to_string(sw->type);
		/* the budget binds optional streams; a required one is never refused for it */
		w.limit = sw->required || sw->type == MD_STREAM_MINIDUMPD_DIAGNOSTICS
		              ? 0
		              : opts->max_bytes;
		r = sw->write(&c, sw->arg, &loc, &status);
		if (r < 0 && (w.error < 0 || sw->required)) {
			/* the file itself failed, or a stream no reader can do without */
			sr->status = MD_STREAM_FAILED;
			sr->error = r;
			goto out;
		}
		if (r < 0) {
			if (r == -EFBIG && opts->max_bytes)
				result.budget_cut = true;
			md_diag_add(&s->diag, MD_DIAG_STREAM, sw->type, r, "%s stream left out%s",
			            sr->name,
			            r == -EFBIG && opts->max_bytes ? " (byte budget)" : "");
			status = MD_STREAM_FAILED;
			sr->error = r;
		}
		sr->status = status;
		if (status == MD_STREAM_FAILED || status == MD_STREAM_SKIPPED)
			continue; /* the slot stays unused: type 0, size 0, rva 0 */
		sr->bytes = loc.data_size;
		r = md_writer_set_stream(&w, (uint32_t)i, sw->type, loc);
		if (r < 0)
			goto out;
		if (status == MD_STREAM_PARTIAL)
			result.partial = true;
	}
	w.limit = 0;
	r = md_writer_finish(&w, (uint32_t)time(NULL));
	if (r < 0)
		goto out;
	result.bytes = w.size;
	if (s->target_gone)
		result.partial = true;
	r = 0;
out:
	free(c.scratch);
	free(c.thread_written);
	free(c.context_loc);
	free(c.stack);
	md_writer_done(&w);
out_writer:
	if (ret_result)
		*ret_result = result;
	return r;
}
