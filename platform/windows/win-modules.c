/* SPDX-License-Identifier: MIT */
/*
 * Modules of a Windows process: the toolhelp module snapshot gives each image's base, size and
 * path (the executable first); each image's CodeView record is read from the target's memory
 * through its PE headers (DOS header, NT headers, debug data directory, the CODEVIEW entry),
 * so that the dump carries the RSDS GUID, age and PDB name that symbol stores key on. Every
 * offset read from the target is checked against the image size: its headers may be corrupt.
 */
#include <windows.h>

#include <tlhelp32.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "win-internal.h"

#define MODULES_INITIAL   64u   /* first capacity of the module array */
#define DEBUG_DIRS_MAX    32u   /* debug directory entries looked at per image */
#define CV_NAME_MAX       1024u /* bytes of a PDB path kept */
#define CV_RSDS_HEADER    24u   /* "RSDS", GUID, age */
#define CV_RSDS_SIGNATURE 0x53445352u

static int read_exact(struct md_win_snapshot *ws, uint64_t addr, void *buf, size_t len)
{
	struct md_mem_range r = {.addr = addr, .len = len, .buf = buf};
	int e = md_win_read_ranges(&ws->pub, &r, 1);

	if (e < 0)
		return e;
	return r.got == len ? 0 : (r.err ? r.err : -EFAULT);
}

/* Fills m's PDB70 identifier from the image at m->base. -ENOENT: the image has none. */
static int read_codeview(struct md_win_snapshot *ws, struct md_module_info *m, char **ret_pdb)
{
	IMAGE_DOS_HEADER dos;
	IMAGE_NT_HEADERS64 nt;
	IMAGE_DATA_DIRECTORY dd;
	uint8_t rec[CV_RSDS_HEADER + CV_NAME_MAX + 1];
	uint32_t sig, n;
	int r;

	r = read_exact(ws, m->base, &dos, sizeof(dos));
	if (r < 0)
		return r;
	if (dos.e_magic != IMAGE_DOS_SIGNATURE || dos.e_lfanew <= 0 ||
	    (uint64_t)dos.e_lfanew + sizeof(nt) > m->size)
		return -ENOEXEC;
	r = read_exact(ws, m->base + (uint64_t)dos.e_lfanew, &nt, sizeof(nt));
	if (r < 0)
		return r;
	if (nt.Signature != IMAGE_NT_SIGNATURE)
		return -ENOEXEC;
	if (nt.OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR64_MAGIC)
		return -ENOTSUP; /* a 32-bit image in a 64-bit process: not ours to read */
	if (nt.OptionalHeader.NumberOfRvaAndSizes <= IMAGE_DIRECTORY_ENTRY_DEBUG)
		return -ENOENT;
	dd = nt.OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_DEBUG];
	if (dd.VirtualAddress == 0 || dd.Size < sizeof(IMAGE_DEBUG_DIRECTORY))
		return -ENOENT;
	if ((uint64_t)dd.VirtualAddress + dd.Size > m->size)
		return -ENOEXEC;
	n = dd.Size / (uint32_t)sizeof(IMAGE_DEBUG_DIRECTORY);
	if (n > DEBUG_DIRS_MAX)
		n = DEBUG_DIRS_MAX;
	for (uint32_t i = 0; i < n; i++) {
		IMAGE_DEBUG_DIRECTORY d;
		size_t len, name_len;

		r = read_exact(ws, m->base + dd.VirtualAddress + i * sizeof(d), &d, sizeof(d));
		if (r < 0)
			return r;
		if (d.Type != IMAGE_DEBUG_TYPE_CODEVIEW || d.AddressOfRawData == 0 ||
		    d.SizeOfData < CV_RSDS_HEADER + 1)
			continue;
		if ((uint64_t)d.AddressOfRawData + d.SizeOfData > m->size)
			return -ENOEXEC;
		len = d.SizeOfData < sizeof(rec) - 1 ? d.SizeOfData : sizeof(rec) - 1;
		r = read_exact(ws, m->base + d.AddressOfRawData, rec, len);
		if (r < 0)
			return r;
		rec[len] = '\0';
		memcpy(&sig, rec, 4);
		if (sig != CV_RSDS_SIGNATURE)
			continue; /* an old NB10 record: no GUID to carry */
		m->id_kind = MD_MODULE_ID_PDB70;
		m->id_len = 20;
		memcpy(m->id, rec + 4, 20);
		name_len = strnlen((const char *)rec + CV_RSDS_HEADER, len - CV_RSDS_HEADER);
		*ret_pdb = malloc(name_len + 1);
		if (!*ret_pdb)
			return -ENOMEM;
		memcpy(*ret_pdb, rec + CV_RSDS_HEADER, name_len);
		(*ret_pdb)[name_len] = '\0';
		return 0;
	}
	return -ENOENT;
}

int md_win_read_modules(struct md_win_snapshot *ws)
{
	struct md_snapshot *s = &ws->pub;
	MODULEENTRY32W me = {.dwSize = sizeof(me)};
	size_t cap = 0;
	HANDLE snap;
	int r = 0;

	snap = CreateToolhelp32Snapshot(TH32CS_SNAPMODULE, ws->pid);
	if (snap == INVALID_HANDLE_VALUE) {
		r = md_win_last_error();
		md_diag_add(&s->diag, MD_DIAG_PROCESS, ws->pid, r,
		            "cannot list the modules: error %lu", (unsigned long)GetLastError());
		return r == -ESRCH ? r : 0;
	}
	for (BOOL ok = Module32FirstW(snap, &me); ok; ok = Module32NextW(snap, &me)) {
		struct md_module_info *m;
		char path[MD_WIN_PATH_MAX], *pdb = NULL;

		if (s->n_modules == cap) {
			size_t ncap = cap ? cap * 2 : MODULES_INITIAL;
			struct md_module_info *n = realloc(s->modules, ncap * sizeof(*n));

			if (!n) {
				r = -ENOMEM;
				break;
			}
			s->modules = n;
			cap = ncap;
		}
		m = &s->modules[s->n_modules];
		memset(m, 0, sizeof(*m));
		m->base = (uint64_t)(uintptr_t)me.modBaseAddr;
		m->size = me.modBaseSize;
		if (md_win_utf8(me.szExePath, path, sizeof(path)) < 0)
			md_win_utf8(me.szModule, path, sizeof(path));
		m->path = strdup(path);
		if (!m->path) {
			r = -ENOMEM;
			break;
		}
		s->n_modules++;
		r = read_codeview(ws, m, &pdb);
		if (r == -ENOMEM)
			break;
		if (r < 0)
			md_diag_add(&s->diag, MD_DIAG_MODULE, m->base, r,
			            "%s: no CodeView record%s", m->path,
			            r == -ENOENT ? " (built without one)" : "");
		m->pdb_name = pdb;
		r = 0;
	}
	CloseHandle(snap);
	return r;
}

void md_win_modules_free(struct md_module_info *modules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(modules[i].path);
		free(modules[i].pdb_name);
	}
	free(modules);
}
