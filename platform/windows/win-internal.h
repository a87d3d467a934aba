/* SPDX-License-Identifier: MIT */
/*
 * Shared declarations of the Windows backend: the private snapshot that wraps the public
 * md_snapshot (the process handle and the threads we suspended), and the helpers each win-*.c
 * file offers the others. Whoever suspends a thread records it here, and the backend's resume
 * step (win-snapshot.c) resumes every one of them; the snapshot builder runs it on every path.
 */
#pragma once

#include <windows.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md-snapshot.h"
#include "win-os.h"

/* One thread we suspended. */
struct md_win_thread {
	DWORD tid;
	HANDLE handle; /* THREAD_SUSPEND_RESUME | THREAD_GET_CONTEXT |
	                  THREAD_QUERY_LIMITED_INFORMATION */
	bool suspended;
};

/* The backend's snapshot; the public part comes first so the two convert freely. */
struct md_win_snapshot {
	struct md_snapshot pub;
	DWORD pid;
	HANDLE process; /* PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | SYNCHRONIZE */
	struct md_win_thread *threads;
	size_t n_threads, cap_threads;
	int64_t stop_ns; /* md_os_now_ns() when the first thread was suspended */
	bool stopped;
};

static inline struct md_win_snapshot *md_win_snapshot_from_pub(struct md_snapshot *s)
{
	return (struct md_win_snapshot *)s;
}

/* win-memory.c */
int md_win_read_ranges(struct md_snapshot *s, struct md_mem_range *ranges, size_t n);
/* Committed regions from VirtualQueryEx, as mappings sorted by address. */
int md_win_read_regions(struct md_win_snapshot *ws);
void md_win_regions_free(struct md_mapping *mappings, size_t n);

/* win-modules.c: modules from a toolhelp snapshot, the main executable first, each with its
 * CodeView (RSDS) record from the PE debug directory. Problems go to diag. */
int md_win_read_modules(struct md_win_snapshot *ws);
void md_win_modules_free(struct md_module_info *modules, size_t n);

/* win-system.c */
int md_win_read_system_info(struct md_system *ret);
int md_win_read_process_info(HANDLE process, DWORD pid, struct md_process_info *ret,
                             struct md_diag *diag);
/* The RID of the user SID of the process's token (our stand-in for a uid). */
int md_win_process_user_rid(HANDLE process, uint32_t *ret_rid);
