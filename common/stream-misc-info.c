/* SPDX-License-Identifier: MIT */
/*
 * MiscInfo writer (version 1, 24 bytes): the process id, which LLDB reads, and the process
 * start and CPU times, from which Breakpad derives the process uptime.
 */
#include <string.h>

#include "md-streams.h"

int md_stream_misc_info(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                        enum md_stream_status *ret_status)
{
	const struct md_process_info *p = &c->s->process;
	md_misc_info mi;

	memset(&mi, 0, sizeof(mi));
	mi.size_of_info = sizeof(mi);
	mi.flags1 = MD_MISCINFO_FLAGS1_PROCESS_ID;
	mi.process_id = p->pid;
	if (p->start_time > 0) {
		mi.flags1 |= MD_MISCINFO_FLAGS1_PROCESS_TIMES;
		mi.process_create_time = (uint32_t)p->start_time;
		mi.process_user_time = p->user_time;
		mi.process_kernel_time = p->kernel_time;
	}
	return md_stream_put_whole(c, &mi, sizeof(mi), ret_loc, ret_status);
}
