/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics writer (our user stream 0x6D640001, documented in docs/dumper.md): a UTF-8 JSON
 * document listing the status of every stream written before it and every thread, module,
 * memory range or stream that could not be captured, with the reason. It is the last stream,
 * so it sees everything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "md-os.h"
#include "md-report.h"
#include "md-streams.h"

json_t *md_diag_to_json(const struct md_diag *d)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < d->count; i++) {
		const struct md_diag_entry *e = &d->entries[i];

		json_array_append_new(a, json_pack("{s:s, s:I, s:i, s:s, s:o}", "kind",
		                                   md_diag_kind_to_string(e->kind), "id",
		                                   (json_int_t)e->id, "errno", -e->error, "error",
		                                   md_os_strerror(-e->error), "message",
		                                   md_report_text(e->message)));
	}
	return a;
}

int md_stream_diagnostics(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                          enum md_stream_status *ret_status)
{
	const struct md_dump_result *res = c->result;
	json_t *doc, *streams;
	char *text = NULL;
	size_t len;
	uint32_t rva;
	int r;

	streams = json_array();
	for (size_t i = 0; streams && i < res->n_streams; i++)
		json_array_append_new(
		    streams, json_pack("{s:s, s:I, s:s}", "name", res->streams[i].name, "type",
		                       (json_int_t)res->streams[i].type, "status",
		                       md_stream_status_to_string(res->streams[i].status)));
	doc = json_pack("{s:s, s:i, s:o*, s:o*, s:I, s:b}", "writer", "minidumpd", "version", 1,
	                "streams", streams, "problems", md_diag_to_json(&c->s->diag), "dropped",
	                (json_int_t)c->s->diag.dropped, "target_gone", c->s->target_gone);
	if (doc)
		text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	r = md_writer_append(c->w, text, len, &rva);
	free(text);
	if (r < 0)
		return r;
	*ret_loc = (md_location){.data_size = (uint32_t)len, .rva = rva};
	*ret_status = MD_STREAM_OK;
	return 0;
}
