/* SPDX-License-Identifier: MIT */
/*
 * MemoryInfoList writer: one entry per mapping, with its protection and whether it is
 * private, shared or an image, so readers know which addresses are valid and executable.
 */
#include <errno.h>
#include <string.h>

#include "md-streams.h"

static uint32_t protection(uint32_t prot)
{
	bool r = prot & MD_PROT_READ, w = prot & MD_PROT_WRITE, x = prot & MD_PROT_EXEC;

	if (x)
		return w ? MD_MEMORY_PROTECT_EXECUTE_READWRITE
		         : (r ? MD_MEMORY_PROTECT_EXECUTE_READ : MD_MEMORY_PROTECT_EXECUTE);
	if (w)
		return MD_MEMORY_PROTECT_READWRITE;
	return r ? MD_MEMORY_PROTECT_READONLY : MD_MEMORY_PROTECT_NOACCESS;
}

int md_stream_memory_info_list(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                               enum md_stream_status *ret_status)
{
	struct md_snapshot *s = c->s;
	md_memory_info_list h = {
	    .size_of_header = sizeof(md_memory_info_list),
	    .size_of_entry = sizeof(md_memory_info),
	    .number_of_entries = s->n_mappings,
	};
	uint64_t size = sizeof(h) + (uint64_t)s->n_mappings * sizeof(md_memory_info);
	uint32_t rva;
	int r;

	if (s->n_mappings == 0) {
		*ret_status = MD_STREAM_SKIPPED;
		return 0;
	}
	if (size > MD_RVA_MAX)
		return -EFBIG;
	r = md_writer_append(c->w, &h, sizeof(h), &rva);
	for (size_t i = 0; r >= 0 && i < s->n_mappings; i++) {
		const struct md_mapping *m = &s->mappings[i];
		md_memory_info e;

		memset(&e, 0, sizeof(e));
		e.base_address = e.allocation_base = m->start;
		e.region_size = m->end - m->start;
		e.state = MD_MEMORY_STATE_COMMIT;
		e.protection = e.allocation_protection = protection(m->prot);
		e.type =
		    (m->prot & MD_PROT_SHARED) ? MD_MEMORY_TYPE_MAPPED : MD_MEMORY_TYPE_PRIVATE;
		r = md_writer_put(c->w, &e, sizeof(e));
	}
	if (r < 0)
		return r;
	*ret_loc = (md_location){.data_size = (uint32_t)size, .rva = rva};
	*ret_status = MD_STREAM_OK;
	return 0;
}
