/* SPDX-License-Identifier: MIT */
/*
 * Stacks of Windows minidumps, without a PE unwinder: frame 0 from the thread's context, then
 * every stack word above its stack pointer that points into a module's code, found by scan (as
 * Breakpad's stackwalker labels frames it found that way). Module + offset only: no PE or PDB
 * file is read. Reads the dump through the defensive reader only.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "md-reader.h"

#define SYM_SCAN_MISSING "Windows module: PE and PDB files are not read"

struct sym_scan;

/* Whether md-symbolize walks this dump's threads with the scan: a dump whose SystemInfo says
 * Windows (libdwfl has nothing to unwind its modules with). */
bool sym_scan_wanted(struct md_reader *r);

/* The module index for r's module list. Returns 0, or -ENOMEM. Free with sym_scan_free(). */
int sym_scan_new(struct md_reader *r, struct sym_scan **ret_scan);
void sym_scan_free(struct sym_scan *sc);

/* The frames of thread t, whose registers are the context at ctx (the thread's own, or for the
 * crashing thread the exception's): a new array of frame objects in md-symbolize's format
 * (frame, pc, found_by "context" or "scan", module, offset, missing). NULL with *ret_err set
 * when the context cannot be read or is not x86_64; *ret_err NULL otherwise. */
json_t *sym_scan_thread(struct sym_scan *sc, const struct md_reader_thread *t, md_location ctx,
                        const char **ret_err);
