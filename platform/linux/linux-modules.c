/* SPDX-License-Identifier: MIT */
/*
 * Turns the target's mappings into the module list, naming and identifying modules the way
 * Breakpad's Linux writer does so they match what dump_syms writes: the module holding AT_ENTRY
 * goes first, the vDSO is called linux-gate.so, and a shared library's basename becomes its
 * DT_SONAME. A module's extent comes from its ELF program headers (every PT_LOAD, with the load
 * bias), read in the target's memory at the image's start, so that segments with holes between
 * them (node: a page between .plt and .text) all belong to it; without readable headers,
 * adjacent mappings of one file are merged. An executable mapping of a file at an offset no
 * module covers (code a program remapped, as V8 does with its builtins) becomes a module of its
 * own with the file's name and identifier, based so that its addresses match the symbol file.
 * Identifiers come from the GNU build-id note, read from the ELF image in the target's memory and,
 * failing that, from the file (through /proc/<pid>/map_files first); without one, the first page of
 * .text is XOR-folded. Only headers, notes and the dynamic section are read, never a whole mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linux-elf.h"
#include "linux-internal.h"
#include "md-os.h"

#define MD_LINUX_MODULE_MIN_SIZE 4096 /* bytes; smaller mappings are not modules */
#define MD_LINUX_VDSO_NAME       "linux-gate.so"

/* A run of mappings that may become one module. */
struct candidate {
	uint64_t start, end; /* end of the last merged mapping */
	uint64_t first_end;  /* end of the first mapping, for /proc/<pid>/map_files */
	uint64_t offset;
	uint64_t inode;
	bool exec; /* any merged mapping is executable */
	bool vdso;
	const char *path; /* the mapping's path (owned by the mapping) */
};

static bool is_path(const char *p)
{
	return p[0] == '/';
}

/* Opens the module's file: /proc/<pid>/map_files/<start>-<end> works for deleted files and
 * across mount namespaces; the path is the fallback. */
static int open_module_file(pid_t pid, const struct candidate *c)
{
	char path[MD_LINUX_PATH_MAX + 48];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
	         (unsigned long long)c->start, (unsigned long long)c->first_end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || c->vdso)
		return fd;
	return open(c->path, O_RDONLY | O_CLOEXEC);
}

/*
 * The module's name for the dump: the mapping path with its basename replaced by the soname,
 * as dump_syms names the symbol file. A " (deleted)" suffix is dropped from the name (not from
 * the mappings) for the same reason: the symbol file carries the original name.
 */
static char *module_name(const struct candidate *c, const char *soname)
{
	static const char deleted[] = " (deleted)";
	size_t len = strlen(c->path), dir;
	const char *slash;
	char *name;

	if (c->vdso)
		return strdup(MD_LINUX_VDSO_NAME);
	if (len > sizeof(deleted) - 1 && !strcmp(c->path + len - (sizeof(deleted) - 1), deleted))
		len -= sizeof(deleted) - 1;
	if (!soname[0])
		return strndup(c->path, len);
	slash = memrchr(c->path, '/', len);
	dir = slash ? (size_t)(slash - c->path) + 1 : 0;
	name = malloc(dir + strlen(soname) + 1);
	if (!name)
		return NULL;
	memcpy(name, c->path, dir);
	strcpy(name + dir, soname);
	return name;
}

/* Appends a module for c, identified from its image in memory (when c->start holds its ELF
 * header) or else from its file. */
static int add_module(struct md_linux_snapshot *ls, const struct candidate *c, bool elf_at_start,
                      struct md_module_info **mods, size_t *n, size_t *cap)
{
	struct md_snapshot *s = &ls->pub;
	struct md_linux_elf_ident id = {0};
	struct md_module_info *m;
	Elf64_Ehdr eh;

	if (elf_at_start && md_linux_read_exact(s, c->start, &eh, sizeof(eh)) == 0 &&
	    md_linux_elf_ehdr_ok(&eh))
		md_linux_elf_ident_from_memory(s, c->start, c->end, &eh, &id);
	if (id.kind == MD_MODULE_ID_NONE || (!id.soname[0] && !id.dynamic_read)) {
		int fd = open_module_file(ls->pid, c);

		if (fd >= 0) {
			md_linux_elf_ident_from_file(fd, &id);
			close(fd);
		}
	}
	if (id.kind == MD_MODULE_ID_NONE)
		md_diag_add(&s->diag, MD_DIAG_MODULE, c->start, -ENOENT,
		            "no build id and no readable .text for %.100s", c->path);

	if (*n == *cap) {
		size_t new_cap = *cap ? *cap * 2 : 64;
		struct md_module_info *v = realloc(*mods, new_cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*mods = v;
		*cap = new_cap;
	}
	m = &(*mods)[*n];
	memset(m, 0, sizeof(*m));
	m->base = c->start;
	m->size = c->end - c->start;
	m->path = module_name(c, id.soname);
	if (!m->path)
		return -ENOMEM;
	m->id_kind = id.kind;
	m->id_len = id.id_len;
	memcpy(m->id, id.id, id.id_len);
	(*n)++;
	return 0;
}

/* Emits the candidate as a module if Breakpad would, and it is an ELF image. */
static int emit(struct md_linux_snapshot *ls, const struct candidate *c,
                struct md_module_info **mods, size_t *n, size_t *cap)
{
	struct md_snapshot *s = &ls->pub;
	Elf64_Ehdr eh;

	if (!c->vdso && !is_path(c->path))
		return 0;
	if (c->offset != 0 && !c->exec)
		return 0;
	if (c->end - c->start < MD_LINUX_MODULE_MIN_SIZE)
		return 0;
	if (!strncmp(c->path, "/dev/", 5))
		return 0; /* device memory: reading it may have side effects */
	/* Fonts, locale archives and other data files are mapped too; only ELF is a module. */
	if (md_linux_read_exact(s, c->start, &eh, sizeof(eh)) < 0 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return 0;
	return add_module(ls, c, true, mods, n, cap);
}

/* Whether mapping m holds something other than the candidate's file (anonymous memory, such as
 * .bss or address space the loader reserved, does not). */
static bool other_file(const struct md_mapping *m, const struct candidate *c)
{
	return m->path[0] && (strcmp(m->path, c->path) != 0 || m->inode != c->inode);
}

/*
 * Sets the end of a candidate that starts at an ELF header to the end of its image, from its
 * program headers, and moves *i past the mappings inside it. The image stops short of a mapping
 * of another file. Leaves everything as it is when the headers cannot be read.
 */
static void extend_to_image(struct md_snapshot *s, struct candidate *c, size_t *i)
{
	uint64_t lo, span, end;
	Elf64_Phdr *ph;
	size_t n;

	if (c->offset != 0 || (!c->vdso && !is_path(c->path)) || !strncmp(c->path, "/dev/", 5))
		return;
	ph = md_linux_elf_read_loads(s, c->start, &n, &lo, &span);
	if (!ph)
		return;
	free(ph);
	end = c->start + span;
	for (; *i < s->n_mappings && s->mappings[*i].start < end; (*i)++) {
		const struct md_mapping *m = &s->mappings[*i];

		if (other_file(m, c)) {
			end = m->start;
			break;
		}
		c->exec |= (m->prot & MD_PROT_EXEC) != 0;
	}
	if (end > c->start)
		c->end = end;
}

/* The module that holds addr, or NULL. */
static const struct md_module_info *module_at(const struct md_module_info *mods, size_t n,
                                              uint64_t addr)
{
	for (size_t k = 0; k < n; k++)
		if (addr >= mods[k].base && addr - mods[k].base < mods[k].size)
			return &mods[k];
	return NULL;
}

static bool overlaps_module(const struct md_module_info *mods, size_t n, uint64_t start,
                            uint64_t end)
{
	for (size_t k = 0; k < n; k++)
		if (start < mods[k].base + mods[k].size && mods[k].base < end)
			return true;
	return false;
}

/*
 * Gives every executable mapping of a file that no module covers a module: the module of the
 * same file (same path and inode at its base) lends its name and identifier, and the base is
 * put where the file's image would start, so that addresses minus base are the file's own
 * (what the symbol file uses), unless that would overlap another module; then the mapping's
 * start is the base. A file with no module of its own is identified from the file.
 */
static int cover_exec_mappings(struct md_linux_snapshot *ls, struct md_module_info **mods,
                               size_t *n, size_t *cap)
{
	struct md_snapshot *s = &ls->pub;
	size_t first_added = *n;
	int r;

	for (size_t i = 0; i < s->n_mappings; i++) {
		const struct md_mapping *m = &s->mappings[i];
		const struct md_module_info *owner = NULL;
		struct md_module_info *last = *n > first_added ? &(*mods)[*n - 1] : NULL;
		uint64_t base = m->start, lo, span, rel;
		Elf64_Phdr *ph;
		size_t k, nph;

		if (!(m->prot & MD_PROT_EXEC) || !is_path(m->path) ||
		    !strncmp(m->path, "/dev/", 5) || module_at(*mods, *n, m->start))
			continue;
		for (k = 0; k < first_added && !owner; k++) {
			const struct md_mapping *b = md_snapshot_find_mapping(s, (*mods)[k].base);

			if (b && b->inode == m->inode && !strcmp(b->path, m->path))
				owner = &(*mods)[k];
		}
		if (!owner) {
			struct candidate c = {.start = m->start,
			                      .end = m->end,
			                      .first_end = m->end,
			                      .offset = m->offset,
			                      .inode = m->inode,
			                      .exec = true,
			                      .path = m->path};

			r = add_module(ls, &c, false, mods, n, cap);
			if (r < 0)
				return r;
			continue;
		}
		/* the previous piece of the same remapping: one module */
		if (last && last->base + last->size == m->start &&
		    !strcmp(last->path, owner->path) && last->id_len == owner->id_len &&
		    !memcmp(last->id, owner->id, owner->id_len)) {
			last->size = m->end - last->base;
			continue;
		}
		ph = md_linux_elf_read_loads(s, owner->base, &nph, &lo, &span);
		if (ph && md_linux_elf_offset_to_rel(ph, nph, lo, m->offset, &rel) == 0 &&
		    rel <= m->start && !overlaps_module(*mods, *n, m->start - rel, m->end))
			base = m->start - rel;
		free(ph);
		if (*n == *cap) {
			size_t new_cap = *cap * 2, at = (size_t)(owner - *mods);
			struct md_module_info *v = realloc(*mods, new_cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			*mods = v;
			*cap = new_cap;
			owner = &v[at];
		}
		(*mods)[*n] = *owner;
		(*mods)[*n].base = base;
		(*mods)[*n].size = m->end - base;
		(*mods)[*n].path = strdup(owner->path);
		if (!(*mods)[*n].path)
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

void md_linux_modules_free(struct md_module_info *modules, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(modules[i].path);
	free(modules);
}

int md_linux_read_modules(struct md_linux_snapshot *ls)
{
	struct md_snapshot *s = &ls->pub;
	struct md_module_info *mods = NULL;
	size_t n = 0, cap = 0, i;
	int r = 0;

	for (i = 0; i < s->n_mappings;) {
		const struct md_mapping *m = &s->mappings[i];
		bool vdso = !strcmp(m->path, "[vdso]");
		struct candidate cur = {
		    .start = m->start,
		    .end = m->end,
		    .first_end = m->end,
		    .offset = vdso ? 0 : m->offset,
		    .inode = m->inode,
		    .exec = (m->prot & MD_PROT_EXEC) != 0,
		    .vdso = vdso,
		    .path = m->path,
		};

		for (i++; i < s->n_mappings && s->mappings[i].start == cur.end; i++) {
			bool exec;

			m = &s->mappings[i];
			exec = m->prot & MD_PROT_EXEC;
			/* One file mapped by the loader in pieces: same file, and either the same
			 * +x flag or a non-executable piece followed by the executable one (lld).
			 */
			if (is_path(m->path) && !strcmp(m->path, cur.path) &&
			    m->inode == cur.inode && (exec == cur.exec || (!cur.exec && exec))) {
				cur.end = m->end;
				cur.exec |= exec;
				continue;
			}
			/* Address space the loader reserved but the library did not use. */
			if (!m->path[0] && cur.exec && is_path(cur.path) && m->offset == 0 &&
			    m->prot == 0) {
				cur.end = m->end;
				continue;
			}
			break;
		}
		/* The image's own extent, holes between segments included. */
		extend_to_image(s, &cur, &i);
		r = emit(ls, &cur, &mods, &n, &cap);
		if (r < 0)
			goto out;
	}
	r = cover_exec_mappings(ls, &mods, &n, &cap);
	if (r < 0)
		goto out;

	/* Breakpad's readers take the first module as the main executable. */
	for (i = 0; i < n && s->process.at_entry; i++) {
		if (s->process.at_entry >= mods[i].base &&
		    s->process.at_entry - mods[i].base < mods[i].size) {
			struct md_module_info main = mods[i];

			memmove(&mods[1], &mods[0], i * sizeof(*mods));
			mods[0] = main;
			break;
		}
	}
	s->modules = mods;
	s->n_modules = n;
	mods = NULL;
	n = 0;
out:
	md_linux_modules_free(mods, n);
	return r;
}
