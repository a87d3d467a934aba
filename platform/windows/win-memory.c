/* SPDX-License-Identifier: MIT */
/*
 * The target's memory on Windows: ranges read with ReadProcessMemory (page by page once a
 * whole read fails, so that a range that runs into an unreadable page still yields the bytes
 * before it), and the committed regions from VirtualQueryEx, which become the snapshot's
 * mappings (stack capture and the MemoryInfoList stream use them).
 */
#include <windows.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "win-internal.h"

#define PAGE_BYTES      4096u    /* granularity of the fallback reads */
#define REGIONS_INITIAL 256u     /* first capacity of the region array */
#define REGIONS_MAX     1000000u /* regions kept; a larger address space is cut and reported */

static int read_range(HANDLE process, struct md_mem_range *m)
{
	SIZE_T n = 0;

	m->got = 0;
	m->err = 0;
	if (m->len == 0)
		return 0;
	if (ReadProcessMemory(process, (LPCVOID)(uintptr_t)m->addr, m->buf, m->len, &n) &&
	    n == m->len) {
		m->got = m->len;
		return 0;
	}
	/* some page in the range is not readable: take what comes before it */
	while (m->got < m->len) {
		uint64_t addr = m->addr + m->got;
		size_t chunk = PAGE_BYTES - (size_t)(addr % PAGE_BYTES);

		if (chunk > m->len - m->got)
			chunk = m->len - m->got;
		if (!ReadProcessMemory(process, (LPCVOID)(uintptr_t)addr,
		                       (uint8_t *)m->buf + m->got, chunk, &n) ||
		    n != chunk) {
			m->err = md_win_last_error();
			if (m->err == 0)
				m->err = -EFAULT;
			break;
		}
		m->got += chunk;
	}
	return 0;
}

int md_win_read_ranges(struct md_snapshot *s, struct md_mem_range *ranges, size_t n)
{
	struct md_win_snapshot *ws = md_win_snapshot_from_pub(s);
	DWORD code;

	if (!GetExitCodeProcess(ws->process, &code) || code != STILL_ACTIVE) {
		s->target_gone = true;
		return -ESRCH;
	}
	for (size_t i = 0; i < n; i++)
		read_range(ws->process, &ranges[i]);
	return 0;
}

static uint32_t prot_from_page(DWORD protect)
{
	uint32_t p = 0;

	if (protect & (PAGE_GUARD | PAGE_NOACCESS))
		return 0; /* a guard page is not to be touched, and is not read */
	switch (protect & 0xFF) {
	case PAGE_READONLY:
		p = MD_PROT_READ;
		break;
	case PAGE_READWRITE:
	case PAGE_WRITECOPY:
		p = MD_PROT_READ | MD_PROT_WRITE;
		break;
	case PAGE_EXECUTE:
		p = MD_PROT_EXEC;
		break;
	case PAGE_EXECUTE_READ:
		p = MD_PROT_READ | MD_PROT_EXEC;
		break;
	case PAGE_EXECUTE_READWRITE:
	case PAGE_EXECUTE_WRITECOPY:
		p = MD_PROT_READ | MD_PROT_WRITE | MD_PROT_EXEC;
		break;
	default:
		break;
	}
	return p;
}

int md_win_read_regions(struct md_win_snapshot *ws)
{
	struct md_snapshot *s = &ws->pub;
	SYSTEM_INFO si;
	uint64_t addr, top;
	size_t cap = 0;

	GetNativeSystemInfo(&si);
	addr = (uint64_t)(uintptr_t)si.lpMinimumApplicationAddress;
	top = (uint64_t)(uintptr_t)si.lpMaximumApplicationAddress;
	while (addr < top) {
		MEMORY_BASIC_INFORMATION mbi;
		struct md_mapping *m;
		uint64_t end;

		if (VirtualQueryEx(ws->process, (LPCVOID)(uintptr_t)addr, &mbi, sizeof(mbi)) !=
		    sizeof(mbi))
			break; /* past the last region */
		end = (uint64_t)(uintptr_t)mbi.BaseAddress + mbi.RegionSize;
		if (end <= addr)
			break;
		addr = end;
		if (mbi.State != MEM_COMMIT)
			continue;
		if (s->n_mappings == REGIONS_MAX) {
			md_diag_add(&s->diag, MD_DIAG_PROCESS, ws->pid, -E2BIG,
			            "more than %u memory regions; the rest are left out",
			            REGIONS_MAX);
			break;
		}
		if (s->n_mappings == cap) {
			size_t ncap = cap ? cap * 2 : REGIONS_INITIAL;
			struct md_mapping *n = realloc(s->mappings, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			s->mappings = n;
			cap = ncap;
		}
		m = &s->mappings[s->n_mappings++];
		memset(m, 0, sizeof(*m));
		m->start = (uint64_t)(uintptr_t)mbi.BaseAddress;
		m->end = end;
		m->prot = prot_from_page(mbi.Protect);
		if (mbi.Type == MEM_MAPPED)
			m->prot |= MD_PROT_SHARED;
		m->path = "";
	}
	return 0;
}

void md_win_regions_free(struct md_mapping *mappings, size_t n)
{
	free(mappings); /* paths are static strings */
}
