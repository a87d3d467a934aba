/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the suites that run the real minidumpd (see daemon-util.c). One daemon at a time,
 * in the global D. Environment: MINIDUMPD, CRASH_APP, BREAKPAD_TOOLS (as tests/meson.build sets).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "integration-util.h"

#define APP_TIMEOUT_MS    30000  /* ms a crashing app may take to die (a dump included) */
#define TOOL_TIMEOUT_MS   120000 /* ms for Breakpad's tools */
#define DAEMON_READY_MS   10000  /* ms minidumpd may take to accept connections */

struct daemon {
	pid_t pid;
	char *dir;  /* temporary folder: socket, dumps/, daemon.log */
	char sock[256];
	char dumps[256];
	char log[256];
};

extern struct daemon D;

struct app_run {
	struct it_result res;
	pid_t pid;
};

struct walk {
	char reason[128];
	char address[128];
	int crash_thread;
	int threads;
	char frame0[128];      /* function of frame 0 of the crashing thread */
	bool in_stack;         /* the wanted function is somewhere in the crashing thread */
};

/* Starts minidumpd with its stderr in D.log; listen_fd -1: it creates D.sock; -2: the test
 * creates D.sock and passes it by socket activation. extra: more arguments (NULL-ended). */
void daemon_start_with(int listen_fd);
void daemon_start_args(int listen_fd, const char *const *extra);
void daemon_start(void);
/* SIGTERM (after SIGCONT), then waits; returns the wait status. */
int daemon_stop(void);
void daemon_teardown(void);

/* Runs crash-app MODE --annotate annotation with the daemon's socket (or sock) and one extra
 * KEY=VALUE (or NULL) in its environment, and waits for it. */
struct app_run run_app(const char *mode, const char *annotation, const char *sock,
		       const char *extra_env);

/* The crash-app dump ("dmp") or report ("json") the daemon wrote for pid, or NULL. */
char *find_dump(pid_t pid, const char *ext);

/* minidumpd_stackwalk -m with symbols from dump_syms; want_fn: looked for in the crashing
 * thread's stack. */
struct walk stackwalk(const char *dump, const char *want_fn);

/* Breakpad's minidump_dump shows CrashpadInfo annotation key = value. */
bool dump_has_annotation(const char *dump, const char *key, const char *value);

json_t *load_json(const char *path);

/* Whether the daemon wrote a dump ("dmp") or report ("json") for pid. */
bool has_dump(pid_t pid, const char *ext);

/* Whether the daemon's log so far contains text. */
bool log_has(const char *text);
