/* SPDX-License-Identifier: MIT */
/*
 * `mdctl info`'s pieces, shared by its files: mdctl-info.c finds the dump and drives,
 * mdctl-info-stack.c gets the crashing thread's stack, mdctl-info-print.c prints it all as text
 * or JSON. Internal to mdctl.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "md-reader.h"
#include "mdctl-store.h"

struct mdctl_info {
	const struct mdctl_store *store;
	const struct mdctl_entry *e;
	json_t *upload;      /* the uploader's state, or NULL */
	struct md_reader *r; /* NULL without a readable dump */
	char *dump_path;     /* what the tools read (a temporary copy for .zst) */
	char dump_error[MD_READER_ERROR_MAX];
	/* the crashing (or requesting) thread */
	bool has_thread;
	uint32_t tid;
	const char *thread_name;
	const struct md_reader_module_list *modules;
	/* the stack */
	const char *stack_source; /* "minidump_stackwalk" or "dump" */
	char stack_note[256];     /* why the fallback, or which tool */
	json_t *frames;           /* [{frame, module, function, file, line, offset, pc, sp}] */
	/* every thread, by md-symbolize (issue 12); NULL with the reason in symbolize_error */
	json_t *symbolized;
	char symbolize_error[512];
};

/* Fills in->frames, stack_source and stack_note: minidump_stackwalk's walk of the crashing
 * thread (unless raw), else frame 0 read from the dump. */
void mdctl_info_load_stack(struct mdctl_info *in, bool raw, const char *symbols);

/* The file name of a module's path. */
const char *mdctl_info_base_name(const char *path);

/* Prints in as text on stdout, times in UTC when utc. */
void mdctl_info_print(const struct mdctl_info *in, bool utc);

/* in as one JSON object: the report plus dump_file, upload, crashing_thread, module_list,
 * stack (and threads, symbolizer). Owned. */
json_t *mdctl_info_to_json(const struct mdctl_info *in);
