/* SPDX-License-Identifier: MIT */
/*
 * Small helpers over the snapshot interface shared by every writer and backend.
 */
#include <errno.h>

#include "md-snapshot.h"

int md_snapshot_read(struct md_snapshot *s, uint64_t addr, void *buf, size_t len)
{
	struct md_mem_range r = {.addr = addr, .len = len, .buf = buf};
	int ret;

	ret = s->ops->read_ranges(s, &r, 1);
	if (ret < 0)
		return ret;
	if (r.got == 0 && r.err < 0)
		return r.err;
	return (int)r.got;
}

size_t md_snapshot_mappings_upto(const struct md_snapshot *s, uint64_t addr)
{
	size_t lo = 0, n = s->n_mappings;

	/* the first mapping that starts above addr is one of the n from lo */
	while (n > 0) {
		size_t half = n / 2;

		if (s->mappings[lo + half].start <= addr) {
			lo += half + 1;
			n -= half + 1;
		} else {
			n = half;
		}
	}
	return lo;
}

const struct md_mapping *md_snapshot_find_mapping(const struct md_snapshot *s, uint64_t addr)
{
	size_t n = md_snapshot_mappings_upto(s, addr);

	return n > 0 && addr < s->mappings[n - 1].end ? &s->mappings[n - 1] : NULL;
}
