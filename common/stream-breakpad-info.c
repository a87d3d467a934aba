/* SPDX-License-Identifier: MIT */
/*
 * BreakpadInfo writer: names the thread the dump is about. There is no dump thread to hide:
 * the dumper runs in another process, so only the requesting thread id is marked valid.
 */
#include "md-streams.h"

int md_stream_breakpad_info(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                            enum md_stream_status *ret_status)
{
	md_breakpad_info bi = {
	    .validity = MD_BREAKPAD_INFO_VALID_REQUESTING_THREAD_ID,
	    .requesting_thread_id = c->s->crash ? c->s->crash->tid : c->s->requesting_tid,
	};

	return md_stream_put_whole(c, &bi, sizeof(bi), ret_loc, ret_status);
}
