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
	uint32_t rva;
	int r;

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
	r = md_writer_append(c->w, &mi, sizeof(mi), &rva);
	if (r < 0)
		return r;
	*ret_loc = (md_location){.data_size = sizeof(mi), .rva = rva};
	*ret_status = MD_STREAM_OK;
	return 0;
}
