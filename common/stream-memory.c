/* SPDX-License-Identifier: MIT */
/*
 * MemoryList writer: every thread stack the ThreadList writer stored (listed again, bytes
 * stored once) plus MD_IP_CONTEXT bytes on each side of every thread's instruction pointer,
 * clipped to the readable mapping that holds it. Ranges never overlap: Breakpad's reader
 * refuses overlapping regions, and 500 threads parked in the same libc function share one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md-streams.h"

struct range {
	uint64_t start, end;
};

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool overlaps_stack(const struct md_dump_ctx *c, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < c->s->n_threads; i++) {
		const md_memory_descriptor *d = &c->stack[i];
		uint64_t s0 = d->start_of_memory_range, s1 = s0 + d->memory.data_size;

		if (c->thread_written[i] && d->memory.data_size && start < s1 && s0 < end)
			return true;
	}
	return false;
}

int md_stream_memory_list(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                          enum md_stream_status *ret_status)
{
	struct md_snapshot *s = c->s;
	struct range *ip = NULL;
	uint64_t *starts = NULL, *lens = NULL;
	md_memory_descriptor *desc = NULL;
	size_t n_ip = 0, n_merged = 0, n_stacks = 0;
	uint32_t list_rva, count = 0, list_size;
	bool partial = false;
	int r;

	if (!c->thread_written)
		return -ENODATA; /* ThreadList failed, nothing to list */
	ip = calloc(s->n_threads + 1, sizeof(*ip));
	starts = calloc(s->n_threads + 1, sizeof(*starts));
	lens = calloc(s->n_threads + 1, sizeof(*lens));
	desc = calloc(s->n_threads + 1, sizeof(*desc));
	if (!ip || !starts || !lens || !desc) {
		r = -ENOMEM;
		goto out;
	}

	/* the region around each pc, clipped to its mapping (unless the budget forbids) */
	for (size_t i = 0; !c->drop_ip_regions && i < s->n_threads; i++) {
		uint64_t pc = s->threads[i].pc, sp;
		const struct md_mapping *m;

		if (!c->thread_written[i])
			continue;
		if (s->crash && s->crash->tid == s->threads[i].tid && s->crash->context.size)
			md_context_sp_pc(&s->crash->context, &sp, &pc);
		m = md_snapshot_find_mapping(s, pc);
		if (!m || !(m->prot & MD_PROT_READ))
			continue; /* a wild pc: nothing to show around it */
		ip[n_ip].start = pc - m->start > MD_IP_CONTEXT ? pc - MD_IP_CONTEXT : m->start;
		ip[n_ip].end = m->end - pc > MD_IP_CONTEXT ? pc + MD_IP_CONTEXT : m->end;
		n_ip++;
	}
	qsort(ip, n_ip, sizeof(*ip), cmp_range);
	for (size_t i = 0; i < n_ip; i++) {
		if (n_merged > 0 && ip[i].start <= ip[n_merged - 1].end) {
			if (ip[i].end > ip[n_merged - 1].end)
				ip[n_merged - 1].end = ip[i].end;
			continue;
		}
		ip[n_merged++] = ip[i];
	}
	{
		size_t k = 0;

		for (size_t i = 0; i < n_merged; i++) {
			if (overlaps_stack(c, ip[i].start, ip[i].end))
				continue;
			starts[k] = ip[i].start;
			lens[k] = ip[i].end - ip[i].start;
			k++;
		}
		n_merged = k;
	}
	r = md_dump_copy_ranges(c, starts, lens, n_merged, desc);
	if (r < 0)
		goto out;

	for (size_t i = 0; i < s->n_threads; i++)
		if (c->thread_written[i] && c->stack[i].memory.data_size)
			n_stacks++;
	for (size_t i = 0; i < n_merged; i++)
		if (desc[i].memory.data_size)
			count++;
		else
			partial = true;
	count += (uint32_t)n_stacks;
	list_size = 4 + count * (uint32_t)sizeof(md_memory_descriptor);
	r = md_writer_begin(c->w, &list_rva);
	if (r < 0)
		goto out;
	r = md_writer_put(c->w, &count, sizeof(count));
	for (size_t i = 0; r >= 0 && i < s->n_threads; i++)
		if (c->thread_written[i] && c->stack[i].memory.data_size)
			r = md_writer_put(c->w, &c->stack[i], sizeof(c->stack[i]));
	for (size_t i = 0; r >= 0 && i < n_merged; i++)
		if (desc[i].memory.data_size)
			r = md_writer_put(c->w, &desc[i], sizeof(desc[i]));
	if (r < 0)
		goto out;
	*ret_loc = (md_location){.data_size = list_size, .rva = list_rva};
	*ret_status = partial ? MD_STREAM_PARTIAL : MD_STREAM_OK;
	r = 0;
out:
	free(desc);
	free(lens);
	free(starts);
	free(ip);
	return r;
}
