/* SPDX-License-Identifier: MIT */
/*
 * Exception writer. For a crash: the signal (or exception code), its code and fault address
 * as the client reported them, pointing at the client's context. For a live dump:
 * DUMP_REQUESTED (0xFFFFFFFF) on the requesting thread, at its instruction pointer, as
 * Breakpad writes it.
 */
#include <errno.h>
#include <string.h>

#include "md-streams.h"

int md_stream_exception(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                        enum md_stream_status *ret_status)
{
	struct md_snapshot *s = c->s;
	const struct md_crash_info *crash = s->crash;
	uint32_t tid = crash ? crash->tid : s->requesting_tid;
	md_exception_stream e;
	size_t idx = s->n_threads;
	uint32_t rva;
	int r;

	if (!c->thread_written)
		return -ENODATA;
	for (size_t i = 0; i < s->n_threads; i++)
		if (c->thread_written[i] && s->threads[i].tid == tid)
			idx = i;
	if (idx == s->n_threads)
		for (size_t i = 0; i < s->n_threads && idx == s->n_threads; i++)
			if (c->thread_written[i])
				idx = i; /* the requested thread is gone: fall back to the first */
	if (idx == s->n_threads)
		return -ENODATA;

	memset(&e, 0, sizeof(e));
	e.thread_id = s->threads[idx].tid;
	e.thread_context = c->context_loc[idx];
	if (crash) {
		e.exception_record.exception_code = crash->code;
		e.exception_record.exception_flags = crash->flags;
		e.exception_record.exception_address = crash->address;
		e.exception_record.number_parameters =
		    crash->number_parameters > MD_EXCEPTION_MAXIMUM_PARAMETERS
		        ? MD_EXCEPTION_MAXIMUM_PARAMETERS
		        : crash->number_parameters;
		memcpy(e.exception_record.exception_information, crash->parameters,
		       sizeof(crash->parameters));
		if (c->crash_context.data_size)
			e.thread_context = c->crash_context;
	} else {
		e.exception_record.exception_code = MD_EXCEPTION_CODE_LIN_DUMP_REQUESTED;
		e.exception_record.exception_address = s->threads[idx].pc;
	}
	r = md_writer_append(c->w, &e, sizeof(e), &rva);
	if (r < 0)
		return r;
	*ret_loc = (md_location){.data_size = sizeof(e), .rva = rva};
	*ret_status = s->threads[idx].tid == tid ? MD_STREAM_OK : MD_STREAM_PARTIAL;
	return 0;
}
