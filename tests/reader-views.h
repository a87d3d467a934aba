/* SPDX-License-Identifier: MIT */
/*
 * Every view of the minidump reader, each called once (reader-views.c): what the reader suites
 * (reader-ref.c) and the reader's fuzz target (fuzz-reader.c) both walk. Plain C without
 * Check, so that the fuzz target can link it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "md-reader.h"

enum reader_view {
	VIEW_SYSTEM_INFO,
	VIEW_THREADS,
	VIEW_THREAD_NAMES,
	VIEW_MODULES,
	VIEW_MEMORY_LIST,
	VIEW_MEMORY_INFO,
	VIEW_EXCEPTION,
	VIEW_MISC_INFO,
	VIEW_BREAKPAD_INFO,
	VIEW_CRASHPAD_INFO,
	VIEW_PID,
	N_READER_VIEWS
};

/* What the views returned; a view's pointer is set when its ret is >= 0 and is valid until
 * md_reader_free. */
struct reader_views {
	const struct md_reader_system_info *si;
	const struct md_reader_thread_list *tl;
	const struct md_reader_thread_names *tn;
	const struct md_reader_module_list *ml;
	const struct md_reader_memory_list *mem;
	const struct md_reader_memory_info_list *mil;
	const struct md_reader_exception *ex;
	const struct md_reader_misc_info *misc;
	const md_breakpad_info *bpi;
	const struct md_reader_crashpad_info *cpi;
	uint32_t pid;
	int ret[N_READER_VIEWS];      /* each call's return value */
	bool message[N_READER_VIEWS]; /* a failed call left a message (md_reader_error) */
};

/* Calls one view of r into v (its pointer, ret and message) and returns its result; view must
 * be below N_READER_VIEWS. */
int reader_view(struct md_reader *r, enum reader_view view, struct reader_views *v);

/* Calls every view of r, in the order of enum reader_view, into v. */
void reader_views_read(struct md_reader *r, struct reader_views *v);
