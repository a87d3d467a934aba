/* SPDX-License-Identifier: MIT */
/*
 * Parses the head of an ELF core stream (linux-core.h): header, program headers, notes. The
 * stream is read strictly forward, as the coredump socket and a core_pattern pipe deliver it;
 * what is not kept is read into a scratch buffer and dropped. Every size taken from the stream
 * is checked against what is left of its container and against a limit before anything is
 * allocated or read for it.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "linux-core.h"

#define SCRATCH_SIZE        4096u
#define SIGINFO_ADDR_OFFSET 16u /* si_addr in the kernel's 64-bit siginfo */
#define SIGINFO_MIN         24u
#define PRSTATUS_REG_OFFSET offsetof(struct elf_prstatus, pr_reg)

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
#ifndef NT_SIGINFO
#define NT_SIGINFO 0x53494749
#endif
#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

struct stream {
	md_core_read_fn read;
	void *ctx;
	uint64_t pos;
	struct md_core *c;
	uint8_t scratch[SCRATCH_SIZE];
};

/* Says why the stream was refused (c->error) and gives err back. */
#define fail(c, err, ...) (snprintf((c)->error, sizeof((c)->error), __VA_ARGS__), (err))

/* Reads exactly len bytes. */
static int get(struct stream *st, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = st->read(st->ctx, (char *)buf + done, len - done);

		if (n == -EINTR)
			continue;
		if (n < 0)
			return fail(st->c, (int)n, "reading the core at byte %llu: %s",
			            (unsigned long long)st->pos, strerror((int)-n));
		if (n == 0)
			return fail(st->c, -EPIPE, "the core ends at byte %llu, %zu bytes short",
			            (unsigned long long)st->pos, len - done);
		if ((size_t)n > len - done)
			return fail(st->c, -EIO, "read returned more than asked");
		done += (size_t)n;
		st->pos += (uint64_t)n;
	}
	return 0;
}

/* Reads past len bytes. */
static int skip(struct stream *st, uint64_t len)
{
	while (len) {
		size_t k = len > SCRATCH_SIZE ? SCRATCH_SIZE : (size_t)len;
		int r = get(st, st->scratch, k);

		if (r < 0)
			return r;
		len -= k;
	}
	return 0;
}

/* Moves forward to offset; the stream cannot go back. */
static int seek_to(struct stream *st, uint64_t offset, const char *what)
{
	if (offset < st->pos)
		return fail(st->c, -EBADMSG, "%s at byte %llu lies before byte %llu, already read",
		            what, (unsigned long long)offset, (unsigned long long)st->pos);
	return skip(st, offset - st->pos);
}

static int read_header(struct stream *st, uint16_t *phnum, uint64_t *phoff)
{
	struct md_core *c = st->c;
	Elf64_Ehdr eh;
	int r;

	r = get(st, &eh, sizeof(eh));
	if (r < 0)
		return r;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return fail(c, -EBADMSG, "not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_ident[EI_VERSION] != EV_CURRENT)
		return fail(c, -EBADMSG, "not a 64-bit little-endian ELF file");
	if (eh.e_type != ET_CORE)
		return fail(c, -EBADMSG, "ELF type %u is not a core", eh.e_type);
	if (eh.e_machine != md_linux_arch_elf_machine())
		return fail(c, -EBADMSG, "ELF machine %u is not this build's (%u)", eh.e_machine,
		            md_linux_arch_elf_machine());
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return fail(c, -EBADMSG, "program header size %u", eh.e_phentsize);
	if (eh.e_phnum == 0 || eh.e_phnum > MD_CORE_PHNUM_MAX)
		return fail(c, eh.e_phnum ? -E2BIG : -EBADMSG,
		            "%u program headers (1 to %u are read)", eh.e_phnum, MD_CORE_PHNUM_MAX);
	if (eh.e_phoff < sizeof(eh) || eh.e_phoff > MD_CORE_PHOFF_MAX)
		return fail(c, -EBADMSG, "program headers at byte %llu",
		            (unsigned long long)eh.e_phoff);
	*phnum = eh.e_phnum;
	*phoff = eh.e_phoff;
	return 0;
}

/* Reads the program headers: keeps the PT_LOADs, returns the first PT_NOTE's place. */
static int read_phdrs(struct stream *st, uint16_t phnum, uint64_t phoff, uint64_t *ret_noff,
                      uint64_t *ret_nsize)
{
	struct md_core *c = st->c;
	bool have_note = false;
	Elf64_Phdr ph;
	int r;

	r = seek_to(st, phoff, "the program headers");
	if (r < 0)
		return r;
	c->loads = calloc(phnum, sizeof(*c->loads));
	if (!c->loads)
		return fail(c, -ENOMEM, "no memory for %u program headers", phnum);
	for (unsigned i = 0; i < phnum; i++) {
		r = get(st, &ph, sizeof(ph));
		if (r < 0)
			return r;
		if (ph.p_type == PT_NOTE && !have_note) {
			have_note = true;
			*ret_noff = ph.p_offset;
			*ret_nsize = ph.p_filesz;
		} else if (ph.p_type == PT_LOAD) {
			struct md_core_load *l = &c->loads[c->n_loads];

			if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr ||
			    ph.p_offset + ph.p_filesz < ph.p_offset || ph.p_filesz > ph.p_memsz)
				return fail(c, -EBADMSG, "PT_LOAD %u out of range", i);
			if (c->n_loads && ph.p_vaddr < c->loads[c->n_loads - 1].vaddr +
			                                   c->loads[c->n_loads - 1].memsz)
				return fail(c, -EBADMSG, "PT_LOAD %u overlaps or is out of order",
				            i);
			if (!ph.p_memsz)
				continue;
			l->vaddr = ph.p_vaddr;
			l->memsz = ph.p_memsz;
			l->offset = ph.p_offset;
			l->filesz = ph.p_filesz;
			l->flags = ph.p_flags;
			c->n_loads++;
		}
	}
	if (!have_note)
		return fail(c, -EBADMSG, "no PT_NOTE segment");
	if (*ret_nsize > MD_CORE_NOTES_MAX)
		return fail(c, -E2BIG, "notes of %llu bytes", (unsigned long long)*ret_nsize);
	return 0;
}

/* Reads len bytes of a note's description into buf (at most cap of them), skipping the rest. */
static int get_desc(struct stream *st, void *buf, size_t cap, uint64_t len, size_t *ret_got)
{
	size_t take = len < cap ? (size_t)len : cap;
	int r;

	r = get(st, buf, take);
	if (r == 0)
		r = skip(st, len - take);
	if (ret_got)
		*ret_got = take;
	return r;
}

static int on_prstatus(struct stream *st, uint64_t descsz)
{
	struct md_core *c = st->c;
	struct elf_prstatus ps;
	struct md_core_thread *t, *v;
	size_t got, regs_len;
	int r;

	if (descsz < PRSTATUS_REG_OFFSET + 8)
		return fail(c, -EBADMSG, "NT_PRSTATUS of %llu bytes", (unsigned long long)descsz);
	if (c->n_threads >= MD_CORE_THREADS_MAX)
		return fail(c, -E2BIG, "more than %u threads", MD_CORE_THREADS_MAX);
	memset(&ps, 0, sizeof(ps));
	r = get_desc(st, &ps, sizeof(ps), descsz, &got);
	if (r < 0)
		return r;
	/* grow by doubling: the count is only known at the end */
	if ((c->n_threads & (c->n_threads - 1)) == 0) {
		size_t cap = c->n_threads ? c->n_threads * 2 : 1;

		v = realloc(c->threads, cap * sizeof(*v));
		if (!v)
			return fail(c, -ENOMEM, "no memory for %zu threads", cap);
		c->threads = v;
	}
	t = &c->threads[c->n_threads++];
	memset(t, 0, sizeof(*t));
	t->tid = (uint32_t)ps.pr_pid;
	t->cursig = ps.pr_cursig;
	regs_len = got - PRSTATUS_REG_OFFSET;
	if (regs_len > sizeof(ps.pr_reg))
		regs_len = sizeof(ps.pr_reg);
	_Static_assert(sizeof(ps.pr_reg) <= MD_CORE_GREGS_MAX, "pr_reg fits");
	memcpy(t->gregs, &ps.pr_reg, regs_len);
	t->gregs_len = (uint32_t)regs_len;
	return 0;
}

/* NT_PRFPREG or NT_X86_XSTATE: both start with the FXSAVE image; xstate is preferred. */
static int on_fx(struct stream *st, uint64_t descsz, bool xstate)
{
	struct md_core_thread *t = st->c->n_threads ? &st->c->threads[st->c->n_threads - 1] : NULL;

	if (!t || descsz < MD_CORE_FXSAVE_SIZE || (t->has_fx && t->fx_from_xstate))
		return skip(st, descsz);
	t->has_fx = true;
	t->fx_from_xstate = xstate;
	return get_desc(st, t->fx, MD_CORE_FXSAVE_SIZE, descsz, NULL);
}

static int on_siginfo(struct stream *st, uint64_t descsz)
{
	struct md_core *c = st->c;
	uint8_t si[128] = {0};
	int32_t v[3];
	int r;

	if (c->has_siginfo || descsz < SIGINFO_MIN)
		return skip(st, descsz);
	r = get_desc(st, si, sizeof(si), descsz, NULL);
	if (r < 0)
		return r;
	memcpy(v, si, sizeof(v));
	c->sig_signo = v[0];
	c->sig_errno = v[1];
	c->sig_code = v[2];
	switch (c->sig_signo) {
	case 4:  /* SIGILL */
	case 5:  /* SIGTRAP */
	case 7:  /* SIGBUS */
	case 8:  /* SIGFPE */
	case 11: /* SIGSEGV */
		memcpy(&c->sig_addr, si + SIGINFO_ADDR_OFFSET, sizeof(c->sig_addr));
		break;
	}
	c->has_siginfo = true;
	return 0;
}

static int on_psinfo(struct stream *st, uint64_t descsz)
{
	struct md_core *c = st->c;
	struct elf_prpsinfo ps;
	int r;

	if (c->has_psinfo || descsz < sizeof(ps))
		return skip(st, descsz);
	r = get_desc(st, &ps, sizeof(ps), descsz, NULL);
	if (r < 0)
		return r;
	c->has_psinfo = true;
	c->ps_uid = ps.pr_uid;
	c->ps_gid = ps.pr_gid;
	c->ps_pid = ps.pr_pid;
	c->ps_ppid = ps.pr_ppid;
	memcpy(c->ps_fname, ps.pr_fname, sizeof(ps.pr_fname));
	c->ps_fname[sizeof(ps.pr_fname)] = '\0';
	memcpy(c->ps_args, ps.pr_psargs, sizeof(ps.pr_psargs));
	c->ps_args[sizeof(ps.pr_psargs)] = '\0';
	return 0;
}

static int on_auxv(struct stream *st, uint64_t descsz)
{
	struct md_core *c = st->c;

	if (c->auxv)
		return skip(st, descsz);
	c->auxv = calloc(1, MD_CORE_AUXV_MAX);
	if (!c->auxv)
		return fail(c, -ENOMEM, "no memory for the auxv");
	return get_desc(st, c->auxv, MD_CORE_AUXV_MAX, descsz, &c->auxv_len);
}

/* NT_FILE: count, page size, count (start, end, page offset) triples, then count paths. */
static int parse_file_note(struct md_core *c, size_t len)
{
	uint64_t count, page, at;
	const char *p, *end;

	if (len < 16)
		return fail(c, -EBADMSG, "NT_FILE of %zu bytes", len);
	memcpy(&count, c->file_note, 8);
	memcpy(&page, c->file_note + 8, 8);
	if (count > MD_CORE_FILES_MAX || count > (len - 16) / 24)
		return fail(c, -EBADMSG, "NT_FILE claims %llu files in %zu bytes",
		            (unsigned long long)count, len);
	if (page == 0 || page > (1u << 30) || (page & (page - 1)))
		return fail(c, -EBADMSG, "NT_FILE page size %llu", (unsigned long long)page);
	c->files = calloc(count ? count : 1, sizeof(*c->files));
	if (!c->files)
		return fail(c, -ENOMEM, "no memory for %llu files", (unsigned long long)count);
	p = c->file_note + 16 + count * 24;
	end = c->file_note + len;
	for (at = 0; at < count; at++) {
		struct md_core_file *f = &c->files[at];
		uint64_t v[3];
		const char *nul;

		memcpy(v, c->file_note + 16 + at * 24, sizeof(v));
		if (v[0] >= v[1] || v[2] > UINT64_MAX / page)
			return fail(c, -EBADMSG, "NT_FILE entry %llu out of range",
			            (unsigned long long)at);
		nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		if (!nul)
			return fail(c, -EBADMSG, "NT_FILE path %llu not terminated",
			            (unsigned long long)at);
		f->start = v[0];
		f->end = v[1];
		f->pgoff = v[2] * page;
		f->path = p;
		p = nul + 1;
	}
	c->n_files = (size_t)count;
	return 0;
}

static int on_file(struct stream *st, uint64_t descsz)
{
	struct md_core *c = st->c;
	int r;

	/* the file list is a convenience (/proc/<pid>/maps says the same): a huge one is
	 * skipped, not refused */
	if (c->file_note || descsz > MD_CORE_FILE_NOTE_MAX)
		return skip(st, descsz);
	c->file_note = malloc((size_t)descsz + 1);
	if (!c->file_note)
		return fail(c, -ENOMEM, "no memory for NT_FILE");
	r = get(st, c->file_note, (size_t)descsz);
	if (r < 0)
		return r;
	c->file_note[descsz] = '\0';
	return parse_file_note(c, (size_t)descsz);
}

static int read_notes(struct stream *st, uint64_t size)
{
	struct md_core *c = st->c;
	uint64_t left = size;
	int r;

	while (left >= sizeof(Elf64_Nhdr)) {
		char name[MD_CORE_NOTE_NAME_MAX + 1] = "";
		uint64_t name_pad, desc_pad;
		Elf64_Nhdr nh;
		bool core, linux_;

		r = get(st, &nh, sizeof(nh));
		if (r < 0)
			return r;
		left -= sizeof(nh);
		name_pad = ((uint64_t)nh.n_namesz + 3) & ~3ull;
		desc_pad = ((uint64_t)nh.n_descsz + 3) & ~3ull;
		if (name_pad > left || desc_pad > left - name_pad)
			return fail(c, -EBADMSG, "note type %#x of %u+%u bytes overruns PT_NOTE",
			            nh.n_type, nh.n_namesz, nh.n_descsz);
		left -= name_pad + desc_pad;
		if (name_pad <= MD_CORE_NOTE_NAME_MAX) {
			r = get(st, name, (size_t)name_pad);
			if (r < 0)
				return r;
			name[nh.n_namesz < MD_CORE_NOTE_NAME_MAX ? nh.n_namesz : 0] = '\0';
		} else {
			r = skip(st, name_pad);
			if (r < 0)
				return r;
		}
		core = nh.n_namesz == 5 && !memcmp(name, "CORE", 5);
		linux_ = nh.n_namesz == 6 && !memcmp(name, "LINUX", 6);
		if (core && nh.n_type == NT_PRSTATUS)
			r = on_prstatus(st, nh.n_descsz);
		else if (core && nh.n_type == NT_PRFPREG)
			r = on_fx(st, nh.n_descsz, false);
		else if (linux_ && nh.n_type == NT_X86_XSTATE)
			r = on_fx(st, nh.n_descsz, true);
		else if (core && nh.n_type == NT_SIGINFO)
			r = on_siginfo(st, nh.n_descsz);
		else if (core && nh.n_type == NT_PRPSINFO)
			r = on_psinfo(st, nh.n_descsz);
		else if (core && nh.n_type == NT_AUXV)
			r = on_auxv(st, nh.n_descsz);
		else if (core && nh.n_type == NT_FILE)
			r = on_file(st, nh.n_descsz);
		else
			r = skip(st, nh.n_descsz);
		if (r < 0)
			return r;
		r = skip(st, desc_pad - nh.n_descsz);
		if (r < 0)
			return r;
	}
	r = skip(st, left);
	if (r < 0)
		return r;
	if (!c->n_threads)
		return fail(c, -EBADMSG, "no NT_PRSTATUS note: no thread");
	return 0;
}

int md_core_parse(md_core_read_fn read, void *ctx, struct md_core *ret)
{
	struct stream *st;
	uint64_t phoff = 0, noff = 0, nsize = 0;
	uint16_t phnum = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	st = calloc(1, sizeof(*st));
	if (!st)
		return fail(ret, -ENOMEM, "no memory");
	st->read = read;
	st->ctx = ctx;
	st->c = ret;
	r = read_header(st, &phnum, &phoff);
	if (r == 0)
		r = read_phdrs(st, phnum, phoff, &noff, &nsize);
	if (r == 0)
		r = seek_to(st, noff, "the PT_NOTE segment");
	if (r == 0)
		r = read_notes(st, nsize);
	ret->consumed = st->pos;
	free(st);
	if (r < 0) {
		char why[MD_CORE_ERROR_MAX];

		memcpy(why, ret->error, sizeof(why));
		md_core_done(ret);
		memcpy(ret->error, why, sizeof(why));
	}
	return r;
}

static long read_fd(void *ctx, void *buf, size_t len)
{
	ssize_t n = read(*(int *)ctx, buf, len);

	return n < 0 ? -errno : (long)n;
}

int md_core_parse_fd(int fd, struct md_core *ret)
{
	return md_core_parse(read_fd, &fd, ret);
}

void md_core_done(struct md_core *c)
{
	if (!c)
		return;
	free(c->loads);
	free(c->threads);
	free(c->auxv);
	free(c->file_note);
	free(c->files);
	memset(c, 0, sizeof(*c));
}

uint64_t md_core_auxv(const struct md_core *c, uint64_t type)
{
	uint64_t kv[2];

	for (size_t i = 0; i + sizeof(kv) <= c->auxv_len; i += sizeof(kv)) {
		memcpy(kv, c->auxv + i, sizeof(kv));
		if (kv[0] == AT_NULL)
			break;
		if (kv[0] == type)
			return kv[1];
	}
	return 0;
}
