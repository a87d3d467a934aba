/* SPDX-License-Identifier: MIT */
/*
 * LinuxDsoDebug writer: the dynamic linker's r_debug summary and its list of loaded objects,
 * followed by a copy of the main executable's dynamic section, read from the target's memory
 * through the auxiliary vector (AT_PHDR, AT_PHNUM). Breakpad's md2core turns this back into
 * a core file's link map. 64-bit ELF processes only; the walk of the target's list is
 * bounded, since its pointers may be corrupt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md-streams.h"

#define DSO_MAX      4096u         /* link_map entries followed */
#define DYNAMIC_MAX  (64u * 1024u) /* bytes of PT_DYNAMIC copied */
#define DSO_NAME_MAX 4096u         /* bytes of one l_name */
#define PHNUM_MAX    256u          /* program headers looked at */

/* ELF64 constants and layouts we need (our own definitions: common/ is OS-neutral). */
#define PT_DYNAMIC_ 2u
#define PT_PHDR_    6u
#define DT_NULL_    0
#define DT_DEBUG_   21

struct phdr64 {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
struct dyn64 {
	int64_t tag;
	uint64_t val;
};
struct r_debug64 { /* glibc's struct r_debug on LP64 */
	int32_t version;
	int32_t pad;
	uint64_t map, brk;
	int32_t state;
	int32_t pad2;
	uint64_t ldbase;
};
struct link_map64 { /* the public head of glibc's struct link_map */
	uint64_t addr, name, ld, next, prev;
};

static int read_exact(struct md_snapshot *s, uint64_t addr, void *buf, size_t len)
{
	int n = md_snapshot_read(s, addr, buf, len);

	if (n < 0)
		return n;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* Finds the main executable's dynamic section from its program headers. */
static int find_dynamic(struct md_snapshot *s, uint64_t *ret_addr, uint64_t *ret_size)
{
	const struct md_process_info *p = &s->process;
	uint64_t bias = 0, dyn = 0, dyn_size = 0;
	bool have_phdr = false;

	if (!p->at_phdr || !p->at_phnum || p->at_phnum > PHNUM_MAX)
		return -ENOENT;
	for (uint64_t i = 0; i < p->at_phnum; i++) {
		struct phdr64 ph;
		int r = read_exact(s, p->at_phdr + i * sizeof(ph), &ph, sizeof(ph));

		if (r < 0)
			return r;
		if (ph.type == PT_PHDR_) {
			bias = p->at_phdr - ph.vaddr;
			have_phdr = true;
		} else if (ph.type == PT_DYNAMIC_) {
			dyn = ph.vaddr;
			dyn_size = ph.memsz;
		}
	}
	if (!dyn)
		return -ENOENT; /* a static executable */
	if (!have_phdr)
		return -ENOENT;
	*ret_addr = dyn + bias;
	*ret_size = dyn_size > DYNAMIC_MAX ? DYNAMIC_MAX : dyn_size;
	return 0;
}

int md_stream_dso_debug(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                        enum md_stream_status *ret_status)
{
	struct md_snapshot *s = c->s;
	uint64_t dyn_addr, dyn_size, r_debug_addr = 0;
	struct r_debug64 rd;
	md_link_map64 *maps = NULL;
	uint8_t *dynamic = NULL;
	md_debug64 d;
	uint32_t count = 0, maps_rva = 0, rva;
	char *name = NULL;
	int r;

	if (s->system.platform_id != MD_OS_LINUX && s->system.platform_id != MD_OS_ANDROID)
		goto skip;
	r = find_dynamic(s, &dyn_addr, &dyn_size);
	if (r == -ENOENT)
		goto skip;
	if (r < 0)
		return r;
	dynamic = malloc(dyn_size ? dyn_size : 1);
	maps = calloc(DSO_MAX, sizeof(*maps));
	name = malloc(DSO_NAME_MAX + 1);
	if (!dynamic || !maps || !name) {
		r = -ENOMEM;
		goto out;
	}
	r = read_exact(s, dyn_addr, dynamic, dyn_size);
	if (r < 0)
		goto out;
	for (size_t off = 0; off + sizeof(struct dyn64) <= dyn_size; off += sizeof(struct dyn64)) {
		struct dyn64 e;

		memcpy(&e, dynamic + off, sizeof(e));
		if (e.tag == DT_NULL_)
			break;
		if (e.tag == DT_DEBUG_)
			r_debug_addr = e.val;
	}
	if (!r_debug_addr) {
		r = 0;
		goto skip; /* not filled in yet (very early) or no DT_DEBUG */
	}
	r = read_exact(s, r_debug_addr, &rd, sizeof(rd));
	if (r < 0)
		goto out;

	/* the loaded objects, with their names written as we go */
	for (uint64_t lm = rd.map; lm && count < DSO_MAX; count++) {
		struct link_map64 l;
		int n;

		r = read_exact(s, lm, &l, sizeof(l));
		if (r < 0)
			goto out;
		n = l.name ? md_snapshot_read(s, l.name, name, DSO_NAME_MAX) : 0;
		name[n > 0 ? n : 0] = '\0';
		maps[count].addr = l.addr;
		maps[count].ld = l.ld;
		r = md_writer_string(c->w, name, &maps[count].name);
		if (r < 0)
			goto out;
		lm = l.next;
	}
	if (count > 0) {
		r = md_writer_append(c->w, maps, count * sizeof(*maps), &maps_rva);
		if (r < 0)
			goto out;
	}
	memset(&d, 0, sizeof(d));
	d.version = (uint32_t)rd.version;
	d.map = count ? maps_rva : 0xFFFFFFFFu;
	d.dso_count = count;
	d.brk = rd.brk;
	d.ldbase = rd.ldbase;
	d.dynamic = dyn_addr;
	/* the header, then a copy of the dynamic section */
	r = md_writer_append(c->w, &d, sizeof(d), &rva);
	if (r >= 0)
		r = md_writer_put(c->w, dynamic, dyn_size);
	if (r >= 0) {
		*ret_loc = (md_location){.data_size = (uint32_t)(sizeof(d) + dyn_size), .rva = rva};
		*ret_status = MD_STREAM_OK;
		r = 0;
	}
out:
	free(name);
	free(maps);
	free(dynamic);
	return r;
skip:
	*ret_status = MD_STREAM_SKIPPED;
	return 0;
}
