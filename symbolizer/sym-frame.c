/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize's frame naming: the function, file and line of an address, from DWARF (as
 * dump_syms names functions) where the module's DWARF is small enough, else from the symbol
 * table, and the JSON a frame is printed as. Lookups are cached, since the threads of a
 * process share most of their return addresses.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym.h"

static const char *const found_by_names[] = {
    [SYM_FOUND_CONTEXT] = "context",
    [SYM_FOUND_CFI] = "cfi",
    [SYM_FOUND_FP] = "fp",
    [SYM_FOUND_SCAN] = "scan",
};

/* Function lookups by address: libdwfl searches a symbol table linearly. */
#define NAME_CACHE_SIZE 8192 /* entries; a power of two */
struct name_entry {
	uint64_t addr;    /* lookup address + 1 (0: empty slot); bit 63 marks a DWARF lookup */
	const char *name; /* owned by libdwfl/libdw; NULL: no function there */
	uint64_t start;
};
static struct name_entry name_cache[NAME_CACHE_SIZE];

/* The outermost function holding addr, from DWARF (as dump_syms names functions), else from the
 * symbol table. Returns its name (owned by libdw) and start, or NULL. */
static const char *function_lookup(Dwfl_Module *mod, uint64_t addr, bool dwarf, uint64_t *ret_start)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu;
	GElf_Off off;
	GElf_Sym sym;
	const char *name;

	/* the symbol table first: it also makes libdwfl find the debug file (and its size) */
	name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
	if (name && GELF_ST_TYPE(sym.st_info) != STT_FUNC)
		name = NULL;
	cu = dwarf ? dwfl_module_addrdie(mod, addr, &bias) : NULL;
	if (cu) {
		Dwarf_Die *scopes = NULL;
		int n = dwarf_getscopes(cu, addr - bias, &scopes);

		for (int i = n - 1; i >= 0; i--) {
			Dwarf_Attribute attr;
			Dwarf_Addr low;

			if (dwarf_tag(&scopes[i]) != DW_TAG_subprogram)
				continue;
			name =
			    dwarf_formstring(dwarf_attr_integrate(&scopes[i], DW_AT_name, &attr));
			if (name && dwarf_lowpc(&scopes[i], &low) == 0) {
				*ret_start = low + bias;
				free(scopes);
				return name;
			}
			if (name) {
				/* non-contiguous: the entry pc names the start */
				if (dwarf_entrypc(&scopes[i], &low) == 0) {
					*ret_start = low + bias;
					free(scopes);
					return name;
				}
			}
			break;
		}
		free(scopes);
	}
	if (name)
		*ret_start = addr - off;
	return name;
}

const char *sym_function_at(Dwfl_Module *mod, uint64_t addr, bool dwarf, uint64_t *ret_start)
{
	uint64_t key = (addr + 1) ^ (dwarf ? 1ull << 63 : 0);
	struct name_entry *e = &name_cache[(key * 0x9e3779b97f4a7c15ull) >> 51];
	const char *name;

	if (e->addr == key) {
		*ret_start = e->start;
		return e->name;
	}
	name = function_lookup(mod, addr, dwarf, ret_start);
	e->addr = key;
	e->name = name;
	e->start = name ? *ret_start : 0;
	return name;
}

/* Adds "file" and "line" for lookup in m to f, when its DWARF has them. */
static void add_line(json_t *f, const struct sym_module *m, uint64_t lookup)
{
	Dwfl_Line *line = dwfl_module_getsrc(m->dwfl_mod, lookup);
	const char *file;
	int lineno = 0;

	if (!line)
		return;
	file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	if (file && lineno > 0) {
		json_object_set_new(f, "file", json_string(file));
		json_object_set_new(f, "line", json_integer(lineno));
	}
}

json_t *sym_frame_describe(const struct sym *s, size_t index, uint64_t pc, bool activation,
                           enum sym_found_by by)
{
	/* a caller's pc is a return address: look up the call instruction before it */
	uint64_t lookup = activation || pc == 0 ? pc : pc - 1;
	struct sym_module *m = sym_module_at(s, lookup);
	json_t *f = json_pack("{s:I, s:I, s:s}", "frame", (json_int_t)index, "pc", (json_int_t)pc,
	                      "found_by", found_by_names[by]);
	uint64_t start;
	const char *name = NULL;

	if (!m) {
		json_object_set_new(f, "missing", json_string("no module maps the address"));
		return f;
	}
	json_object_set_new(f, "module", json_string(sym_module_file_name(m)));
	json_object_set_new(f, "offset", json_integer((json_int_t)(pc - m->md->base)));
	if (m->has_elf && m->dwfl_mod)
		name = sym_function_at(m->dwfl_mod, lookup, false, &start);
	/* with the symbol table read, the debug file's size is known */
	if (name && sym_module_use_dwarf(s, m))
		name = sym_function_at(m->dwfl_mod, lookup, true, &start);
	if (name && !sym_module_use_dwarf(s, m) && !m->missing[0])
		snprintf(m->missing, sizeof(m->missing),
		         "file:line not read: %llu KiB of DWARF, over --dwarf-max-kib",
		         (unsigned long long)(m->dwarf_bytes >> 10));
	if (name) {
		/* symbol versions (__libc_start_main@@GLIBC_2.34) are not part of the name */
		const char *at = strchr(name, '@');

		json_object_set_new(f, "function",
		                    json_stringn(name, at ? (size_t)(at - name) : strlen(name)));
		json_object_set_new(f, "function_offset", json_integer((json_int_t)(pc - start)));
	}
	if (name && sym_module_use_dwarf(s, m))
		add_line(f, m, lookup);
	if (m->missing[0] && !name)
		json_object_set_new(f, "missing", json_string(m->missing));
	else if (!name)
		json_object_set_new(f, "missing", json_string("no symbol covers the address"));
	return f;
}
