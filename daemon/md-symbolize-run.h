/* SPDX-License-Identifier: MIT */
/*
 * Symbolizing a stored minidump: finds the module files and their debug files for the dump's
 * module list (opening them read-only, parsing nothing but the dump), runs md-symbolize on them
 * in the sandbox (md-sandbox.h), and checks its JSON answer. Shared by mdctl (stack, info) and
 * minidumpd (the report's stack, after the app is released; never on the crash path).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define MDD_SYMBOLIZE_BUDGET_MS  10000            /* ms the helper may take for one dump */
#define MDD_SYMBOLIZE_REASON_MAX 512              /* bytes of a failure reason, NUL included */
#define MDD_SYMBOLIZE_ZSTD_MAX   (4ull << 30)     /* bytes a compressed dump may expand to */
#define MDD_SYMBOLIZE_DEBUG_DIR  "/usr/lib/debug" /* where .build-id/xx/rest.debug files are */

struct mdd_symbolize_opts {
	bool all_threads;            /* every thread; else only the crashing (or first) one */
	unsigned budget_ms;          /* 0: MDD_SYMBOLIZE_BUDGET_MS */
	const char *helper;          /* NULL: $MD_SYMBOLIZE, else the installed md-symbolize */
	const char *debug_dir;       /* NULL: MDD_SYMBOLIZE_DEBUG_DIR */
	const char *debuginfod_urls; /* NULL or "": no debuginfod, and no network */
	const char *user;            /* NULL: the sandbox's default user */
	bool full_debug;             /* read every module's DWARF for file:line, however large */
	const char *socket; /* NULL: run the helper in our own sandbox; else ask the service on this
	                     * socket (minidumpd-symbolize.socket), which is the sandbox */
};

/* The helper's path: opt, else $MD_SYMBOLIZE, else the installed one. */
const char *mdd_symbolize_helper(const char *opt);

/* Symbolizes the dump at path (plain or zstd-compressed). On success returns 0 and the helper's
 * answer (an object with "threads" and "symbolizer"; see docs/symbolizer.md), which the caller
 * frees with json_decref(). On failure returns -errno and says why in reason (a dump that
 * cannot be read, a helper that crashed, hung past its budget or answered garbage). */
int mdd_symbolize_dump(const char *path, const struct mdd_symbolize_opts *opts, json_t **ret_json,
                       char *reason, size_t reason_size);

/* For minidumpd's report: runs mdd_symbolize_dump() on every thread and returns the report's
 * three objects: "stack" (the crashing thread's frames), "threads" (the other threads, each with
 * its frames) and "symbolizer" (version, time taken, what was missing; on failure the error and
 * no stack). *ret_crashed_in receives a one-line "crash_segv() at crash-app.c:102" (or
 * "crash-app + 0x11bb") for the log, caller frees; NULL when there is no frame. Always returns
 * a new object; never fails the report. */
json_t *mdd_symbolize_report(const char *path, const struct mdd_symbolize_opts *opts,
                             char **ret_crashed_in);

/* "function() at file:line", "function()+0x1f", or "module + 0x11bb" for one frame of the
 * helper's answer, into buf. */
void mdd_symbolize_frame_text(json_t *frame, char *buf, size_t size);
