/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize's modules: reports the dump's module list to libdwfl and finds each module's
 * ELF (the file at its path, the separate debug file found by build id, or debuginfod's), using
 * a file only when its GNU build id equals the one the dump recorded, and says for each module
 * why symbols are missing. It opens no file itself: the caller handed over the descriptors.
 */
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym.h"

static void hex(const uint8_t *b, size_t n, char *out, size_t out_size)
{
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < out_size; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[2 * i] = 0;
}

const char *sym_module_file_name(const struct sym_module *m)
{
	const char *path = m->md->name;
	const char *s = path ? strrchr(path, '/') : NULL, *b = path ? strrchr(path, '\\') : NULL;

	if (b && (!s || b > s))
		s = b;
	return s ? s + 1 : (path ? path : "");
}

/* bsearch: where the module *elem lies from the address key. */
static int module_holds(const void *key, const void *elem)
{
	uint64_t addr = *(const uint64_t *)key;
	const struct sym_module *m = *(struct sym_module *const *)elem;

	if (addr < m->md->base)
		return -1;
	return addr - m->md->base < m->md->size ? 0 : 1;
}

struct sym_module *sym_module_at(const struct sym *s, uint64_t addr)
{
	struct sym_module **m;

	if (!s->n_modules)
		return NULL; /* by_base may be NULL, which bsearch must not get */
	m = bsearch(&addr, s->by_base, s->n_modules, sizeof(*s->by_base), module_holds);
	return m ? *m : NULL;
}

static int module_cmp(const void *a, const void *b)
{
	const struct sym_module *x = *(struct sym_module *const *)a;
	const struct sym_module *y = *(struct sym_module *const *)b;

	return x->md->base < y->md->base ? -1 : x->md->base > y->md->base;
}

/* Whether the ELF in fd has the GNU build id the dump recorded for m. Sets m->missing when not. */
static bool build_id_matches(struct sym_module *m, int fd, const char *what)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *bits = NULL;
	char have[2 * MD_BUILD_ID_MAX + 1];
	ssize_t n;
	bool ok = false;

	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(m->missing, sizeof(m->missing), "%s is not an ELF file", what);
		goto out;
	}
	n = dwelf_elf_gnu_build_id(elf, &bits);
	if (n <= 0) {
		snprintf(m->missing, sizeof(m->missing), "%s has no build id", what);
		goto out;
	}
	if (m->md->build_id_len == 0) {
		snprintf(m->missing, sizeof(m->missing), "the dump has no build id for the module");
		goto out;
	}
	if ((size_t)n != m->md->build_id_len || memcmp(bits, m->md->build_id, (size_t)n) != 0) {
		hex(bits, (size_t)n, have, sizeof(have));
		snprintf(m->missing, sizeof(m->missing),
		         "build id mismatch: %s has %s, the dump %s", what, have, m->md->code_id);
		goto out;
	}
	ok = true;
out:
	if (elf)
		elf_end(elf);
	return ok;
}

/* Bytes of .debug_* sections in the ELF file in fd, as stored (compressed or not). */
static uint64_t dwarf_size(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	uint64_t n = 0;

	if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0) {
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
				continue;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (name && strncmp(name, ".debug_", 7) == 0)
				n += sh.sh_size;
		}
	}
	if (elf)
		elf_end(elf);
	return n;
}

bool sym_module_use_dwarf(const struct sym *s, const struct sym_module *m)
{
	return s->dwarf_max == 0 || m->dwarf_bytes <= s->dwarf_max;
}

/* debuginfod's debug file for m when its build id matches, else -1 (m->missing says why). */
static int debuginfod_file(struct sym_module *m)
{
	char *path = NULL;
	int dfd;

	if (!m->dclient || !m->md->build_id_len)
		return -1;
	dfd =
	    debuginfod_find_debuginfo(m->dclient, m->md->build_id, (int)m->md->build_id_len, &path);
	free(path);
	if (dfd >= 0 && !build_id_matches(m, dfd, "debuginfod's file")) {
		close(dfd);
		dfd = -1;
	}
	return dfd < 0 ? -1 : dfd;
}

/* libdwfl's find_elf: the module's own file, else its debug file, else debuginfod's. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                    char **file_name, Elf **elfp)
{
	struct sym_module *m = *userdata;
	char saved[sizeof(m->missing)] = "";
	int fd = -1;

	(void)mod;
	(void)modname;
	(void)base;
	(void)file_name;
	*elfp = NULL;
	if (!m)
		return -1;
	if (m->fd >= 0 && build_id_matches(m, m->fd, "the module's file")) {
		fd = dup(m->fd);
		m->source = "file";
	} else {
		if (m->fd < 0)
			snprintf(m->missing, sizeof(m->missing), "no file at the module's path");
		memcpy(saved, m->missing, sizeof(saved));
		if (m->debug_fd >= 0 && build_id_matches(m, m->debug_fd, "the debug file")) {
			fd = dup(m->debug_fd);
			m->source = "debug-file";
		} else if ((fd = debuginfod_file(m)) >= 0) {
			m->source = "debuginfod";
		}
		/* the first reason is the one that matters: the module's own file */
		if (fd >= 0) {
			snprintf(m->missing, sizeof(m->missing), "%s; symbols from %s", saved,
			         m->source);
		} else {
			memcpy(m->missing, saved, sizeof(saved));
		}
	}
	if (fd < 0)
		return -1;
	*elfp = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!*elfp) {
		close(fd);
		return -1;
	}
	m->has_elf = true;
	m->dwarf_bytes = dwarf_size(fd);
	return fd;
}

/* libdwfl's find_debuginfo: the separate debug file found by build id, else debuginfod's. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct sym_module *m = *userdata;
	char saved[sizeof(m->missing)];
	int fd = -1;

	(void)mod;
	(void)modname;
	(void)base;
	(void)file_name;
	(void)debuglink_file;
	(void)debuglink_crc;
	(void)debuginfo_file_name;
	if (!m || !m->source || strcmp(m->source, "file") != 0)
		return -1;
	memcpy(saved, m->missing, sizeof(saved));
	if (m->debug_fd >= 0 && build_id_matches(m, m->debug_fd, "the debug file"))
		fd = dup(m->debug_fd);
	else
		fd = debuginfod_file(m);
	if (fd < 0) {
		memcpy(m->missing, saved, sizeof(saved));
		return -1;
	}
	uint64_t n = dwarf_size(fd);
	if (n > m->dwarf_bytes)
		m->dwarf_bytes = n;
	m->missing[0] = 0;
	return fd;
}

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = find_elf,
    .find_debuginfo = find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

/* Reports the modules in base order; overlapping ones (a hostile dump) are named, not reported. */
static void report(struct sym *s)
{
	dwfl_report_begin(s->dwfl);
	for (size_t i = 0; i < s->n_modules; i++) {
		struct sym_module *m = s->by_base[i];
		void **ud = NULL;

		if (i > 0 &&
		    s->by_base[i - 1]->md->base + s->by_base[i - 1]->md->size > m->md->base)
			continue;
		m->dwfl_mod = dwfl_report_module(s->dwfl, m->md->name, m->md->base,
		                                 m->md->base + m->md->size);
		if (m->dwfl_mod &&
		    dwfl_module_info(m->dwfl_mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL))
			*ud = m;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
}

/* Loads every module's ELF now, so "missing" is complete. */
static void load(struct sym *s)
{
	for (size_t i = 0; i < s->n_modules; i++) {
		struct sym_module *m = s->by_base[i];
		Dwarf_Addr bias;

		if (m->dwfl_mod)
			dwfl_module_getelf(m->dwfl_mod, &bias);
		/* a matching debug file counts before libdwfl asks for it */
		if (m->has_elf && m->debug_fd >= 0 && !m->dwarf_bytes) {
			uint64_t bytes = dwarf_size(m->debug_fd);

			if (bytes && build_id_matches(m, m->debug_fd, "the debug file"))
				m->dwarf_bytes = bytes;
		}
		if (m->has_elf && !m->dwarf_bytes && !m->missing[0] && !s->dclient)
			snprintf(m->missing, sizeof(m->missing), "no debug info");
	}
}

int sym_modules_load(struct sym *s, const struct sym_module_arg *args, size_t n_args,
                     const char *no_elf)
{
	const struct md_reader_module_list *mods = NULL;

	s->dwfl = dwfl_begin(&dwfl_callbacks);
	if (!s->dwfl)
		return -EIO;
	if (md_reader_modules(s->r, &mods) != 0 || !mods->count)
		return 0;

	size_t n = mods->count < SYM_MODULES_MAX ? mods->count : SYM_MODULES_MAX;
	s->modules = calloc(n, sizeof(*s->modules));
	s->by_base = calloc(n, sizeof(*s->by_base));
	if (!s->modules || !s->by_base)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sym_module *m = &s->modules[i];

		m->md = &mods->modules[i];
		m->fd = m->debug_fd = -1;
		m->dclient = s->dclient;
		for (size_t k = 0; k < n_args; k++) {
			if ((size_t)args[k].index == i) {
				m->fd = args[k].fd;
				m->debug_fd = args[k].debug_fd;
			}
		}
		if (m->md->size)
			s->by_base[s->n_modules++] = m;
	}
	qsort(s->by_base, s->n_modules, sizeof(*s->by_base), module_cmp);
	if (no_elf) {
		/* nothing for libdwfl: module + offset only, and why */
		for (size_t i = 0; i < s->n_modules; i++)
			snprintf(s->by_base[i]->missing, sizeof(s->by_base[i]->missing), "%s",
			         no_elf);
		return 0;
	}
	report(s);
	load(s);
	return 0;
}

json_t *sym_modules_missing(const struct sym *s)
{
	json_t *missing = json_array();

	for (size_t i = 0; i < s->n_modules; i++) {
		const struct sym_module *m = s->by_base[i];

		if (m->missing[0])
			json_array_append_new(
			    missing, json_pack("{s:s, s:s, s:s}", "module", sym_module_file_name(m),
			                       "code_id", m->md->code_id, "reason", m->missing));
	}
	return missing;
}
