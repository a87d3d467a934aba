/* SPDX-License-Identifier: MIT */
/*
 * The core-stream backend's memory when /proc/<pid>/mem cannot be read (or there is no pid):
 * from a core file, read back at each PT_LOAD's offset; from a socket or a pipe, which cannot
 * go back, the pieces a minidump needs are kept as the stream goes by (md_core_prefetch) and
 * everything else is left out.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linux-arch.h"
#include "linux-core-snapshot.h"
#include "linux-internal.h"

#define MD_CORE_PREFETCH_MAX (4u << 20)   /* bytes of PT_LOAD data kept from a stream */
#define MD_CORE_STACK_MAX    (256u << 10) /* bytes of stack kept per thread (the writer's) */
#define MD_CORE_PC_AROUND    128u         /* bytes kept either side of a pc (the writer's) */
#define MD_CORE_HEAD_BYTES   4096u        /* bytes kept at the start of a file mapping */

/* One range from the stream's PT_LOAD data. */
static void read_range_from_file(struct md_core_snapshot *cs, struct md_mem_range *r)
{
	const struct md_core *c = &cs->core;

	while (r->got < r->len) {
		uint64_t at = r->addr + r->got, in, avail;
		size_t lo = 0, hi = c->n_loads, want;
		const struct md_core_load *l = NULL;
		ssize_t n;

		while (lo < hi) { /* loads are sorted and disjoint (the parser checked) */
			size_t mid = lo + (hi - lo) / 2;

			if (at < c->loads[mid].vaddr) {
				hi = mid;
			} else if (at - c->loads[mid].vaddr >= c->loads[mid].memsz) {
				lo = mid + 1;
			} else {
				l = &c->loads[mid];
				break;
			}
		}
		in = l ? at - l->vaddr : 0;
		if (!l || in >= l->filesz || !cs->seekable) {
			r->err = -EFAULT; /* unmapped, or not in the core */
			return;
		}
		avail = l->filesz - in;
		want = r->len - r->got;
		if (want > avail)
			want = (size_t)avail;
		if (l->offset + in > (uint64_t)INT64_MAX) {
			r->err = -EFAULT;
			return;
		}
		n = pread(cs->fd, (char *)r->buf + r->got, want, (off_t)(l->offset + in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->err =
			    n < 0 ? -errno : -EIO; /* the file is shorter than its headers say */
			return;
		}
		r->got += (size_t)n;
	}
}

/* One range from the pieces kept from a stream; what was not kept is -EFAULT. */
static void read_range_from_pieces(struct md_core_snapshot *cs, struct md_mem_range *r)
{
	while (r->got < r->len) {
		uint64_t at = r->addr + r->got;
		const struct md_core_piece *p = NULL;
		size_t take;

		for (size_t i = 0; i < cs->n_pieces && !p; i++)
			if (at >= cs->pieces[i].addr && at - cs->pieces[i].addr < cs->pieces[i].len)
				p = &cs->pieces[i];
		if (!p) {
			r->err = -EFAULT;
			return;
		}
		take = (size_t)(p->addr + p->len - at);
		if (take > r->len - r->got)
			take = r->len - r->got;
		memcpy((char *)r->buf + r->got, p->data + (at - p->addr), take);
		r->got += take;
	}
}

int md_core_read_ranges(struct md_snapshot *s, struct md_mem_range *ranges, size_t n)
{
	struct md_core_snapshot *cs = md_core_from_pub(s);

	if (cs->live) {
		int r = md_linux_read_ranges(s, ranges, n);

		if (r != -ESRCH || !cs->seekable)
			return r;
		/* the task is gone or its memory unreadable: the core file has it too */
		s->target_gone = false;
		cs->live = false;
	}
	for (size_t i = 0; i < n; i++) {
		ranges[i].got = 0;
		ranges[i].err = 0;
		if (cs->seekable)
			read_range_from_file(cs, &ranges[i]);
		else
			read_range_from_pieces(cs, &ranges[i]);
	}
	return 0;
}

static const struct md_core_load *load_at(const struct md_core *c, uint64_t addr)
{
	for (size_t i = 0; i < c->n_loads; i++)
		if (addr >= c->loads[i].vaddr && addr - c->loads[i].vaddr < c->loads[i].memsz)
			return &c->loads[i];
	return NULL;
}

/* Adds [addr, addr + len) clipped to the dumped part of its PT_LOAD; 0 or -ENOMEM. */
static int want(struct md_core_snapshot *cs, uint64_t addr, uint64_t len, size_t *cap)
{
	const struct md_core_load *l = load_at(&cs->core, addr);
	struct md_core_piece *v;
	uint64_t in;

	if (!l || (in = addr - l->vaddr) >= l->filesz)
		return 0;
	if (len > l->filesz - in)
		len = l->filesz - in;
	if (cs->n_pieces == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		v = realloc(cs->pieces, *cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		cs->pieces = v;
	}
	cs->pieces[cs->n_pieces++] =
	    (struct md_core_piece){.addr = addr, .offset = l->offset + in, .len = (size_t)len};
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct md_core_piece *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Reads forward to offset (from *pos), then len bytes into buf. */
static int stream_read_at(int fd, uint64_t *pos, uint64_t offset, uint8_t *buf, size_t len)
{
	uint8_t scratch[4096];

	while (*pos < offset || len) {
		bool skipping = *pos < offset;
		size_t want_n = skipping
		                    ? (offset - *pos < sizeof(scratch) ? (size_t)(offset - *pos)
		                                                       : sizeof(scratch))
		                    : len;
		ssize_t n = read(fd, skipping ? scratch : buf, want_n);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		*pos += (uint64_t)n;
		if (!skipping) {
			buf += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

/*
 * Without /proc/<pid>/mem and without a file to read back, the memory a minidump needs is
 * taken from the stream's PT_LOAD data as it goes by: each thread's stack from its sp (at
 * most what the writer keeps) and the bytes around its pc, and the first page of every file
 * mapping (ELF headers, build ids). At most MD_CORE_PREFETCH_MAX bytes; the stream is read
 * up to the last piece, never further.
 */
int md_core_prefetch(struct md_core_snapshot *cs)
{
	struct md_snapshot *s = &cs->lin.pub;
	const struct md_core *c = &cs->core;
	uint64_t pos = c->consumed, total = 0;
	size_t cap = 0, kept = 0;
	int r = 0;

	for (size_t i = 0; i < c->n_threads && r == 0; i++) {
		struct md_context ctx;
		uint64_t sp, pc;

		if (md_linux_arch_core_context(&c->threads[i], &ctx, &sp, &pc) < 0)
			continue;
		r = want(cs, (sp - MD_CORE_PC_AROUND) & ~15ull, MD_CORE_STACK_MAX, &cap);
		if (r == 0 && pc > MD_CORE_PC_AROUND)
			r = want(cs, pc - MD_CORE_PC_AROUND, 2 * MD_CORE_PC_AROUND, &cap);
	}
	for (size_t i = 0; i < c->n_files && r == 0; i++)
		if (c->files[i].pgoff == 0)
			r = want(cs, c->files[i].start, MD_CORE_HEAD_BYTES, &cap);
	if (r < 0)
		return r;
	/* merge what overlaps, then keep within the budget */
	qsort(cs->pieces, cs->n_pieces, sizeof(*cs->pieces), by_addr);
	for (size_t i = 0; i < cs->n_pieces; i++) {
		struct md_core_piece *p = &cs->pieces[i],
		                     *last = kept ? &cs->pieces[kept - 1] : NULL;

		if (last && p->addr <= last->addr + last->len &&
		    p->offset - p->addr == last->offset - last->addr) {
			uint64_t end = p->addr + p->len;

			if (end > last->addr + last->len)
				last->len = (size_t)(end - last->addr);
			continue;
		}
		cs->pieces[kept++] = *p;
	}
	cs->n_pieces = kept;
	for (size_t i = 0; i < cs->n_pieces; i++) {
		struct md_core_piece *p = &cs->pieces[i];

		if (total + p->len > MD_CORE_PREFETCH_MAX || p->offset < pos) {
			md_diag_add(&s->diag, MD_DIAG_MEMORY, p->addr, -E2BIG,
			            "%zu bytes not kept from the core stream", p->len);
			p->len = 0;
			continue;
		}
		p->data = malloc(p->len);
		if (!p->data)
			return -ENOMEM;
		r = stream_read_at(cs->fd, &pos, p->offset, p->data, p->len);
		if (r < 0) {
			md_diag_add(&s->diag, MD_DIAG_MEMORY, p->addr, r,
			            "the core stream ended before its memory");
			p->len = 0;
			break;
		}
		total += p->len;
	}
	return 0;
}

void md_core_pieces_free(struct md_core_snapshot *cs)
{
	for (size_t i = 0; i < cs->n_pieces; i++)
		free(cs->pieces[i].data);
	free(cs->pieces);
	cs->pieces = NULL;
	cs->n_pieces = 0;
}
