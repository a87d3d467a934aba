/* SPDX-License-Identifier: MIT */
/*
 * What an ELF image of the target says about itself, for the module list: the GNU build-id
 * note, DT_SONAME, the first page of .text folded when there is no build id, and the PT_LOAD
 * program headers that give a module its extent.
 *
 * Program headers are read from memory rather than from the file because memory is what the
 * loader actually mapped for this process (the file may have been replaced or deleted since),
 * and it is read anyway for the build id. Both are the target's to forge, so every count, offset
 * and size is bounded and checked for overflow, and an extent never reaches over a mapping of
 * another file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linux-elf.h"
#include "md-os.h"

#define MD_LINUX_PAGE_SIZE       4096         /* bytes; the smallest page, for rounding vaddrs */
#define MD_LINUX_ELF_PHNUM_MAX   512          /* program headers we read per module */
#define MD_LINUX_NOTE_MAX        (64 * 1024)  /* bytes of one note segment or section we parse */
#define MD_LINUX_DYNAMIC_MAX     (64 * 1024)  /* bytes of a dynamic section we parse */
#define MD_LINUX_TEXT_HASH_BYTES 4096         /* bytes of .text folded when there is no build id */
#define MD_LINUX_TEXT_HASH_LEN   16           /* bytes of the folded identifier (a GUID) */
#define MD_LINUX_IMAGE_SPAN_MAX  (1ull << 40) /* bytes from an image's first to last PT_LOAD */

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Reads exactly len bytes of the target's memory. */
int md_linux_read_exact(struct md_snapshot *s, uint64_t addr, void *buf, size_t len)
{
	int r = md_snapshot_read(s, addr, buf, len);

	if (r < 0)
		return r;
	return (size_t)r == len ? 0 : -EFAULT;
}

bool md_linux_elf_ehdr_ok(const Elf64_Ehdr *eh)
{
	return !memcmp(eh->e_ident, ELFMAG, SELFMAG) && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh->e_ident[EI_DATA] == ELFDATA2LSB && eh->e_phentsize == sizeof(Elf64_Phdr);
}

/* Finds the NT_GNU_BUILD_ID note with name "GNU" in a note area. */
static bool find_build_id(const uint8_t *p, size_t len, size_t align,
                          struct md_linux_elf_ident *ret)
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
Elf64_Phdr *md_linux_elf_read_loads(struct md_snapshot *s, uint64_t start, size_t *ret_n,
                                    uint64_t *ret_lo, uint64_t *ret_span)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	Elf64_Phdr *ph = NULL;
	Elf64_Ehdr eh;
	size_t i, n;

	if (md_linux_read_exact(s, start, &eh, sizeof(eh)) < 0 || !md_linux_elf_ehdr_ok(&eh))
		return NULL;
	n = eh.e_phnum;
	if (!n || n > MD_LINUX_ELF_PHNUM_MAX || eh.e_phoff > UINT64_MAX - start)
		return NULL;
	ph = calloc(n, sizeof(*ph));
	if (!ph || md_linux_read_exact(s, start + eh.e_phoff, ph, n * sizeof(*ph)) < 0)
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
int md_linux_elf_offset_to_rel(const Elf64_Phdr *ph, size_t n, uint64_t lo, uint64_t off,
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

/* A copy of a segment of the image loaded at bias, at most max bytes of it (*ret_len); NULL
 * when it cannot be allocated or read. */
static uint8_t *read_segment(struct md_snapshot *s, uint64_t bias, const Elf64_Phdr *ph, size_t max,
                             size_t *ret_len)
{
	size_t len = ph->p_memsz < max ? (size_t)ph->p_memsz : max;
	uint8_t *buf = malloc(len);

	if (buf && md_linux_read_exact(s, bias + ph->p_vaddr, buf, len) < 0) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

/* Build id and soname from the image mapped at start in the target. */
void md_linux_elf_ident_from_memory(struct md_snapshot *s, uint64_t start, uint64_t end,
                                    const Elf64_Ehdr *eh, struct md_linux_elf_ident *ret)
{
	Elf64_Phdr *ph = NULL;
	uint64_t min_vaddr = UINT64_MAX, bias;
	size_t i, n = eh->e_phnum;
	uint8_t *buf = NULL;

	if (!n || n > MD_LINUX_ELF_PHNUM_MAX)
		return;
	ph = calloc(n, sizeof(*ph));
	if (!ph || md_linux_read_exact(s, start + eh->e_phoff, ph, n * sizeof(*ph)) < 0)
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
	bias = start - (min_vaddr & ~(uint64_t)(MD_LINUX_PAGE_SIZE - 1));

	for (i = 0; i < n && ret->kind == MD_MODULE_ID_NONE; i++) {
		size_t len;

		if (ph[i].p_type != PT_NOTE || !ph[i].p_memsz)
			continue;
		free(buf);
		buf = read_segment(s, bias, &ph[i], MD_LINUX_NOTE_MAX, &len);
		if (buf)
			find_build_id(buf, len, ph[i].p_align, ret);
	}

	for (i = 0; i < n; i++) {
		uint64_t strtab = 0, soname = UINT64_MAX;
		const Elf64_Dyn *dyn;
		size_t len, k;

		if (ph[i].p_type != PT_DYNAMIC || !ph[i].p_memsz)
			continue;
		free(buf);
		buf = read_segment(s, bias, &ph[i], MD_LINUX_DYNAMIC_MAX, &len);
		if (!buf) {
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
		if (strtab < start || strtab >= end)
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
void md_linux_elf_ident_from_file(int fd, struct md_linux_elf_ident *ret)
{
	Elf64_Shdr *sh = NULL;
	Elf64_Phdr *ph = NULL;
	char *shstr = NULL;
	size_t shstr_len = 0, i, len;
	const Elf64_Shdr *text = NULL, *dynamic = NULL;
	uint8_t *buf;
	Elf64_Ehdr eh;

	if (pread_all(fd, &eh, sizeof(eh), 0) < 0 || !md_linux_elf_ehdr_ok(&eh))
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
