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
 *
 * Program headers are read from memory rather than from the file because memory is what the
 * loader actually mapped for this process (the file may have been replaced or deleted since),
 * and it is read anyway for the build id. Both are the target's to forge, so every count, offset
 * and size is bounded and checked for overflow, and an extent never reaches over a mapping of
 * another file.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linux-internal.h"
#include "md-os.h"

#define MD_LINUX_MODULE_MIN_SIZE 4096        /* bytes; smaller mappings are not modules */
#define MD_LINUX_PAGE_SIZE       4096        /* bytes; the smallest page, for rounding vaddrs */
#define MD_LINUX_ELF_PHNUM_MAX   512         /* program headers we read per module */
#define MD_LINUX_NOTE_MAX        (64 * 1024) /* bytes of one note segment or section we parse */
#define MD_LINUX_DYNAMIC_MAX     (64 * 1024) /* bytes of a dynamic section we parse */
#define MD_LINUX_SONAME_MAX      256         /* bytes of a DT_SONAME, NUL included */
#define MD_LINUX_TEXT_HASH_BYTES 4096        /* bytes of .text folded when there is no build id */
#define MD_LINUX_TEXT_HASH_LEN   16          /* bytes of the folded identifier (a GUID) */
#define MD_LINUX_VDSO_NAME       "linux-gate.so"
#define MD_LINUX_IMAGE_SPAN_MAX  (1ull << 40) /* bytes from an image's first to last PT_LOAD */

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

/* What one ELF image told us. */
struct elf_ident {
	enum md_module_id_kind kind;
	uint32_t id_len;
	uint8_t id[MD_BUILD_ID_MAX];
	char soname[MD_LINUX_SONAME_MAX];
	bool dynamic_read; /* the dynamic section was read (so a missing soname is final) */
};

static bool is_path(const char *p)
{
	return p[0] == '/';
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Reads exactly len bytes of the target's memory. */
static int mem_read(struct md_snapshot *s, uint64_t addr, void *buf, size_t len)
{
	int r = md_snapshot_read(s, addr, buf, len);

	if (r < 0)
		return r;
	return (size_t)r == len ? 0 : -EFAULT;
}

static bool ehdr_ok(const Elf64_Ehdr *eh)
{
	return !memcmp(eh->e_ident, ELFMAG, SELFMAG) && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh->e_ident[EI_DATA] == ELFDATA2LSB && eh->e_phentsize == sizeof(Elf64_Phdr);
}

/* Finds the NT_GNU_BUILD_ID note with name "GNU" in a note area. */
static bool find_build_id(const uint8_t *p, size_t len, size_t align, struct elf_ident *ret)
{
	size_t off = 0;

	if (align != 8)
		align = 4;
	while (off + sizeof(Elf64_Nhdr) <= len) {
		Elf64_Nhdr nh;
		size_t name_off, desc_off, next;

		memcpy(&nh, p + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + align_up(nh.n_namesz, align);
		next = desc_off + align_up(nh.n_descsz, align);
		if (desc_off > len || nh.n_descsz > len - desc_off || next <= off)
			return false;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp(p + name_off, "GNU", 4) && nh.n_descsz > 0 &&
		    nh.n_descsz <= MD_BUILD_ID_MAX) {
			ret->kind = MD_MODULE_ID_BUILD_ID;
			ret->id_len = nh.n_descsz;
			memcpy(ret->id, p + desc_off, nh.n_descsz);
			return true;
		}
		off = next;
	}
	return false;
}

/* Reads the string at offset in a string table that lies at addr in the target. */
static void read_mem_string(struct md_snapshot *s, uint64_t addr, char *buf, size_t size)
{
	int got = md_snapshot_read(s, addr, buf, size - 1);

	buf[got > 0 ? got : 0] = '\0';
	if (got <= 0 || !memchr(buf, '\0', (size_t)got))
		buf[0] = '\0'; /* unterminated within our limit: not a name we can use */
}

/* The image's PT_LOAD program headers, read in the target's memory at start (where its ELF
 * header is); NULL if they cannot be read or make no sense. *ret_lo is the lowest PT_LOAD's
 * page, *ret_span the bytes from there to the end of the highest, page-rounded. */
static Elf64_Phdr *read_loads(struct md_snapshot *s, uint64_t start, size_t *ret_n,
                              uint64_t *ret_lo, uint64_t *ret_span)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	Elf64_Phdr *ph = NULL;
	Elf64_Ehdr eh;
	size_t i, n;

	if (mem_read(s, start, &eh, sizeof(eh)) < 0 || !ehdr_ok(&eh))
		return NULL;
	n = eh.e_phnum;
	if (!n || n > MD_LINUX_ELF_PHNUM_MAX || eh.e_phoff > UINT64_MAX - start)
		return NULL;
	ph = calloc(n, sizeof(*ph));
	if (!ph || mem_read(s, start + eh.e_phoff, ph, n * sizeof(*ph)) < 0)
		goto bad;
	for (i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_memsz > UINT64_MAX - MD_LINUX_PAGE_SIZE - ph[i].p_vaddr)
			goto bad;
		if (ph[i].p_vaddr < lo)
			lo = ph[i].p_vaddr;
		if (ph[i].p_vaddr + ph[i].p_memsz > hi)
			hi = ph[i].p_vaddr + ph[i].p_memsz;
	}
	lo &= ~(uint64_t)(MD_LINUX_PAGE_SIZE - 1);
	hi = (hi + MD_LINUX_PAGE_SIZE - 1) & ~(uint64_t)(MD_LINUX_PAGE_SIZE - 1);
	if (lo == UINT64_MAX || hi <= lo || hi - lo > MD_LINUX_IMAGE_SPAN_MAX ||
	    hi - lo > UINT64_MAX - start)
		goto bad;
	*ret_n = n;
	*ret_lo = lo;
	*ret_span = hi - lo;
	return ph;
bad:
	free(ph);
	return NULL;
}

/* Where file offset off of the image based at lo lies, relative to lo, from the PT_LOAD that
 * maps it; -ENOENT if none does. */
static int offset_to_rel(const Elf64_Phdr *ph, size_t n, uint64_t lo, uint64_t off,
                         uint64_t *ret_rel)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t page_off = ph[i].p_offset & ~(uint64_t)(MD_LINUX_PAGE_SIZE - 1);
		uint64_t page_vaddr = ph[i].p_vaddr & ~(uint64_t)(MD_LINUX_PAGE_SIZE - 1);

		if (ph[i].p_type != PT_LOAD || off < page_off ||
		    ph[i].p_filesz > UINT64_MAX - MD_LINUX_PAGE_SIZE ||
		    off - page_off >= ph[i].p_filesz + (ph[i].p_offset - page_off))
			continue;
		if (page_vaddr < lo)
			return -ENOENT;
		*ret_rel = page_vaddr - lo + (off - page_off);
		return 0;
	}
	return -ENOENT;
}

/* Build id and soname from the image mapped at c->start in the target. */
static void ident_from_memory(struct md_snapshot *s, const struct candidate *c,
                              const Elf64_Ehdr *eh, struct elf_ident *ret)
{
	Elf64_Phdr *ph = NULL;
	uint64_t min_vaddr = UINT64_MAX, bias;
	size_t i, n = eh->e_phnum;
	uint8_t *buf = NULL;

	if (!n || n > MD_LINUX_ELF_PHNUM_MAX)
		return;
	ph = calloc(n, sizeof(*ph));
	if (!ph || mem_read(s, c->start + eh->e_phoff, ph, n * sizeof(*ph)) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < min_vaddr)
			min_vaddr = ph[i].p_vaddr;
	if (min_vaddr == UINT64_MAX)
		goto out;
	/* Without a PT_DYNAMIC there is no soname to look for; with one, this is cleared if it
	 * cannot be read. */
	ret->dynamic_read = true;
	/* The mapping at file offset 0 holds the lowest PT_LOAD, rounded down to a page. */
	bias = c->start - (min_vaddr & ~(uint64_t)(MD_LINUX_PAGE_SIZE - 1));

	for (i = 0; i < n && ret->kind == MD_MODULE_ID_NONE; i++) {
		size_t len = ph[i].p_memsz;

		if (ph[i].p_type != PT_NOTE || !len)
			continue;
		if (len > MD_LINUX_NOTE_MAX)
			len = MD_LINUX_NOTE_MAX;
		free(buf);
		buf = malloc(len);
		if (buf && mem_read(s, bias + ph[i].p_vaddr, buf, len) == 0)
			find_build_id(buf, len, ph[i].p_align, ret);
	}

	for (i = 0; i < n; i++) {
		uint64_t strtab = 0, soname = UINT64_MAX;
		size_t len = ph[i].p_memsz, k;
		const Elf64_Dyn *dyn;

		if (ph[i].p_type != PT_DYNAMIC || !len)
			continue;
		if (len > MD_LINUX_DYNAMIC_MAX)
			len = MD_LINUX_DYNAMIC_MAX;
		free(buf);
		buf = malloc(len);
		if (!buf || mem_read(s, bias + ph[i].p_vaddr, buf, len) < 0) {
			ret->dynamic_read = false;
			break;
		}
		dyn = (const Elf64_Dyn *)buf;
		for (k = 0; k < len / sizeof(*dyn) && dyn[k].d_tag != DT_NULL; k++) {
			if (dyn[k].d_tag == DT_STRTAB)
				strtab = dyn[k].d_un.d_ptr;
			else if (dyn[k].d_tag == DT_SONAME)
				soname = dyn[k].d_un.d_val;
		}
		if (!strtab || soname == UINT64_MAX)
			break;
		/* ld.so relocates DT_STRTAB in place for most objects but not for the vDSO or a
		 * read-only dynamic section: take it as an address if it lies in the module. */
		if (strtab < c->start || strtab >= c->end)
			strtab += bias;
		read_mem_string(s, strtab + soname, ret->soname, sizeof(ret->soname));
		break;
	}
out:
	free(buf);
	free(ph);
}

/* All len bytes at off: 0, -EIO when the file ends first, or -errno. */
static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	int64_t n = md_os_pread_full(fd, buf, len, off);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

/* Reads a region of the file into a new buffer of at most limit bytes. */
static uint8_t *file_region(int fd, uint64_t off, uint64_t size, size_t limit, size_t *ret_len)
{
	size_t len = size > limit ? limit : (size_t)size;
	uint8_t *buf;

	if (!len)
		return NULL;
	buf = malloc(len);
	if (buf && pread_all(fd, buf, len, off) < 0) {
		free(buf);
		buf = NULL;
	}
	*ret_len = len;
	return buf;
}

/* Build id (section .note.gnu.build-id, else PT_NOTE), DT_SONAME and, when there is no build
 * id, the .text fold, from the ELF file. Fills only what ret still lacks. */
static void ident_from_file(int fd, struct elf_ident *ret)
{
	Elf64_Shdr *sh = NULL;
	Elf64_Phdr *ph = NULL;
	char *shstr = NULL;
	size_t shstr_len = 0, i, len;
	const Elf64_Shdr *text = NULL, *dynamic = NULL;
	uint8_t *buf;
	Elf64_Ehdr eh;

	if (pread_all(fd, &eh, sizeof(eh), 0) < 0 || !ehdr_ok(&eh))
		return;
	/* e_shnum is 16 bits, so at most 64 K headers (4 MiB); 0 means none or the extended
	 * numbering that only relocatable objects use. */
	if (eh.e_shnum && eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shstrndx < eh.e_shnum) {
		sh = calloc(eh.e_shnum, sizeof(*sh));
		if (sh && pread_all(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff) < 0) {
			free(sh);
			sh = NULL;
		}
	}
	if (sh)
		shstr =
		    (char *)file_region(fd, sh[eh.e_shstrndx].sh_offset, sh[eh.e_shstrndx].sh_size,
		                        MD_LINUX_DYNAMIC_MAX, &shstr_len);
	for (i = 0; shstr && i < eh.e_shnum; i++) {
		const char *name;

		if (sh[i].sh_name >= shstr_len ||
		    !memchr(shstr + sh[i].sh_name, '\0', shstr_len - sh[i].sh_name))
			continue;
		name = shstr + sh[i].sh_name;
		if (!strcmp(name, ".text") && sh[i].sh_type == SHT_PROGBITS)
			text = &sh[i];
		else if (sh[i].sh_type == SHT_DYNAMIC)
			dynamic = &sh[i];
		else if (!strcmp(name, ".note.gnu.build-id") && sh[i].sh_type == SHT_NOTE &&
		         ret->kind == MD_MODULE_ID_NONE) {
			buf = file_region(fd, sh[i].sh_offset, sh[i].sh_size, MD_LINUX_NOTE_MAX,
			                  &len);
			if (buf)
				find_build_id(buf, len, sh[i].sh_addralign, ret);
			free(buf);
		}
	}

	if (ret->kind == MD_MODULE_ID_NONE && eh.e_phnum && eh.e_phnum <= MD_LINUX_ELF_PHNUM_MAX) {
		ph = calloc(eh.e_phnum, sizeof(*ph));
		if (ph && pread_all(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff) == 0)
			for (i = 0; i < eh.e_phnum && ret->kind == MD_MODULE_ID_NONE; i++) {
				if (ph[i].p_type != PT_NOTE)
					continue;
				buf = file_region(fd, ph[i].p_offset, ph[i].p_filesz,
				                  MD_LINUX_NOTE_MAX, &len);
				if (buf)
					find_build_id(buf, len, ph[i].p_align, ret);
				free(buf);
			}
	}

	/* DT_SONAME: the dynamic section's sh_link names its string table. */
	if (!ret->soname[0] && dynamic && dynamic->sh_link < eh.e_shnum) {
		const Elf64_Shdr *strtab = &sh[dynamic->sh_link];

		buf = file_region(fd, dynamic->sh_offset, dynamic->sh_size, MD_LINUX_DYNAMIC_MAX,
		                  &len);
		for (i = 0; buf && i < len / sizeof(Elf64_Dyn); i++) {
			Elf64_Dyn d;

			memcpy(&d, buf + i * sizeof(d), sizeof(d));
			if (d.d_tag == DT_NULL)
				break;
			if (d.d_tag != DT_SONAME || d.d_un.d_val >= strtab->sh_size)
				continue;
			if (pread(fd, ret->soname, sizeof(ret->soname) - 1,
			          (off_t)(strtab->sh_offset + d.d_un.d_val)) <= 0 ||
			    !memchr(ret->soname, '\0', sizeof(ret->soname) - 1))
				ret->soname[0] = '\0';
			break;
		}
		free(buf);
	}

	/* Breakpad's fallback: XOR the first page of .text into 16 bytes. Its loop works in
	 * whole 16-byte steps and so reads up to 15 bytes past a short .text; dump_syms does
	 * the same, so we read those bytes too (zeros past the end of the file) to match. */
	if (ret->kind == MD_MODULE_ID_NONE && text && text->sh_size) {
		size_t n = text->sh_size < MD_LINUX_TEXT_HASH_BYTES ? (size_t)text->sh_size
		                                                    : MD_LINUX_TEXT_HASH_BYTES;
		uint8_t page[MD_LINUX_TEXT_HASH_BYTES + MD_LINUX_TEXT_HASH_LEN] = {0};
		ssize_t got;

		n = align_up(n, MD_LINUX_TEXT_HASH_LEN);
		got = pread(fd, page, n, (off_t)text->sh_offset);
		if (got > 0) {
			memset(ret->id, 0, MD_LINUX_TEXT_HASH_LEN);
			for (i = 0; i < n; i++)
				ret->id[i % MD_LINUX_TEXT_HASH_LEN] ^= page[i];
			ret->kind = MD_MODULE_ID_TEXT_HASH;
			ret->id_len = MD_LINUX_TEXT_HASH_LEN;
		}
	}
	free(ph);
	free(shstr);
	free(sh);
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
	struct elf_ident id = {0};
	struct md_module_info *m;
	Elf64_Ehdr eh;

	if (elf_at_start && mem_read(s, c->start, &eh, sizeof(eh)) == 0 && ehdr_ok(&eh))
		ident_from_memory(s, c, &eh, &id);
	if (id.kind == MD_MODULE_ID_NONE || (!id.soname[0] && !id.dynamic_read)) {
		int fd = open_module_file(ls->pid, c);

		if (fd >= 0) {
			ident_from_file(fd, &id);
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
	if (mem_read(s, c->start, &eh, sizeof(eh)) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG))
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
	ph = read_loads(s, c->start, &n, &lo, &span);
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
		ph = read_loads(s, owner->base, &nph, &lo, &span);
		if (ph && offset_to_rel(ph, nph, lo, m->offset, &rel) == 0 && rel <= m->start &&
		    !overlaps_module(*mods, *n, m->start - rel, m->end))
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
		free((char *)modules[i].path);
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
