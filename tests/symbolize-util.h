/* SPDX-License-Identifier: MIT */
/*
 * What the symbolize suites (check-symbolize*.c) share (symbolize-util.c): crash-app's crashes
 * through the real daemon, `mdctl stack` runs and reading their answer, and copies of the app
 * to strip, split or replace. Environment: that of daemon-util.h, plus MDCTL, CRASH_APP_O2.
 */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon-util.h"
#include "integration-util.h"

#define MDCTL_TIMEOUT_MS 60000 /* ms mdctl stack may take (the helper's budget is 10 s) */

/* What one mdctl stack run did (its output already parsed or dropped). */
struct mres {
	int code;
	int64_t duration;
	char err[4096];
};

/* `mdctl stack dump --json --all-threads [extra...]` with env; the answer, or NULL when mdctl
 * failed (then *ret_res holds why). mdctl must never die by a signal. */
json_t *mdctl_stack(const char *dump, const char *const *extra, const char *const *env,
                    struct mres *ret_res);

/* The thread of an answer that crashed, or NULL. */
json_t *crashed_thread(json_t *answer);
/* The frames of the crashed thread of an answer. */
json_t *crashed_frames(json_t *answer);

/* A string member of a frame, or NULL. */
const char *fstr(json_t *frame, const char *key);

/* Index of the first frame from `from` on whose function is fn, or -1. */
int index_of(json_t *frames, const char *fn, int from);

/* crash-app: variant 0 built -O0 with frame pointers, 1 -O2 without. */
const char *app_path(int variant);

/* Crashes the app (a crash-app binary) in mode against the daemon; returns the dump (owned) and
 * the app's pid in *ret_pid unless NULL. */
char *crash(const char *app, const char *mode, pid_t *ret_pid);

/* A copy of src in D.dir named name, mode 0755 (so the test may strip or replace it); owned. */
char *app_copy(const char *src, const char *name);

/* Runs argv, which must exit 0. */
void run_ok(const char *const *argv);

/* Moves the debug info of app into dbg (objcopy --only-keep-debug, then strip). */
void split_debug(const char *app, const char *dbg);

/* Writes len bytes to a new file at path with mode (replacing one that is there). */
void write_bytes(const char *path, const void *bytes, size_t len, mode_t mode);
