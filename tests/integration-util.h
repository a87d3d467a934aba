/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the integration suite: start the helper target and read its "ready PID" line,
 * run a command with a timeout while capturing its output, make and remove temporary folders,
 * read the kernel's view of a process (/proc), build a Breakpad symbol tree for a dump with
 * dump_syms. These helpers only report; the tests decide what is a failure. Nothing here may
 * leave a process behind: every spawned child is waited for or killed by its owner.
 * Implemented by integration-util.c, it-proc.c (a target's threads in /proc) and it-breakpad.c
 * (build ids, a dump's threads, symbol files).
 */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "check-main.h"

#define STATE_POLL_US 2000 /* us between the helpers' checks of a task's state */

#define IT_TARGET_READY_MS 30000                 /* ms a target may take to print "ready PID" */
#define IT_OUTPUT_MAX      (64u * 1024u * 1024u) /* bytes of stdout or stderr kept per command */

/* A command started with it_spawn(); its stdout and stderr go to pipes read by it_wait(). */
struct it_proc {
	pid_t pid;
	int out_fd;
	int err_fd;
	int64_t start_ms; /* monotonic */
};

/* What a command did. out and err are NUL-terminated (owned; free with it_result_done()). */
struct it_result {
	bool exited;    /* exited normally: see code */
	int code;       /* exit status when exited */
	int sig;        /* terminating signal when !exited and !timed_out */
	bool timed_out; /* killed by it_wait() at the deadline */
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
	int64_t end_ms;   /* monotonic time the exit was seen */
	int64_t duration; /* ms from start to exit */
};

/* The helper target (tests/target-threads), with its stdin and stdout kept as pipes. */
struct it_target {
	pid_t pid;
	int in_fd;  /* its stdin: write "ping\n"; closing it makes the target exit */
	int out_fd; /* its stdout: "ready PID", then "pong N" lines */
};

int64_t it_now_ms(void);

/* Returns the value of a required environment variable; the test fails without it. */
const char *it_env(const char *name);

/* Returns "$BREAKPAD_TOOLS/<name>" (owned by the caller). */
char *it_tool(const char *name);

/* Starts argv (argv[0] looked up in PATH) with extra "KEY=VALUE" variables env (NULL-terminated
 * list, may be NULL), stdin from /dev/null, stdout and stderr to pipes. Returns 0 or -errno. */
int it_spawn(const char *const *argv, const char *const *env, struct it_proc *ret_proc);

/* Collects a spawned command's output and waits for it to end; after timeout_ms (from its
 * start) it is killed with SIGKILL and reported as timed out. Returns 0 or -errno. */
int it_wait(struct it_proc *p, int timeout_ms, struct it_result *ret_result);

/* it_spawn() then it_wait(). */
int it_run(const char *const *argv, const char *const *env, int timeout_ms,
           struct it_result *ret_result);

void it_result_done(struct it_result *r);

/* Describes a result for failure messages ("exit 3", "signal 9", "timed out"); static buffer. */
const char *it_result_status(const struct it_result *r);

/* Starts TARGET_THREADS with the given arguments (NULL-terminated, may be NULL) and waits for
 * its "ready PID" line. Returns 0 or -errno (-ETIMEDOUT, -EPROTO for a wrong line). */
int it_target_start(const char *const *args, struct it_target *ret_target);

/* In a forked child: runs argv[0] (a path) with stdin from in and stdout to out; never returns
 * (exit 126 when the descriptors cannot be set, 127 when the exec fails). */
_Noreturn void it_exec_piped(int in, int out, const char *const *argv);

/* Sends "ping" and waits for "pong N"; returns N (worker threads alive) or -errno. */
int it_target_ping(struct it_target *t, int timeout_ms);

/* Kills (SIGKILL) and reaps the target, closes its pipes. Safe to call twice. */
void it_target_kill(struct it_target *t);

/* Makes the suite's root folder under $TMPDIR (or /tmp), mode 0755. The suite's parent process
 * exports it as IT_ROOT so that test folders and target records go inside. Returns 0 or
 * -errno. */
int it_suite_root_new(char **ret_root);

/* After all tests: kills any target a failed test left behind (recorded in the root, and only
 * while its /proc/PID/exe is still target_bin), then removes the root unless IT_KEEP=1. */
void it_suite_root_done(const char *root, const char *target_bin);

/* The suite-wide fixture (struct check_suite's setup and teardown) of a suite whose tests make
 * folders and targets: a root folder exported as IT_ROOT, then it_suite_root_done() with the
 * binary named by the environment variable cs->target_env. Setup returns 0 or -errno. */
int it_suite_setup(const struct check_suite *cs);
void it_suite_teardown(const struct check_suite *cs);

/* Defines check_suite for an integration suite: it_suite_setup/it_suite_teardown around its
 * tests, target_env naming the helper binary whose strays the teardown kills. */
#define CHECK_IT_SUITE(suite_name, suite_fn, target_env_name)                                      \
	const struct check_suite check_suite = {.name = (suite_name),                              \
	                                        .suite = (suite_fn),                               \
	                                        .setup = it_suite_setup,                           \
	                                        .teardown = it_suite_teardown,                     \
	                                        .target_env = (target_env_name)}

/* Makes a fresh folder inside $IT_ROOT (else $TMPDIR or /tmp) with the given mode; returns it
 * (owned). */
char *it_tempdir(mode_t mode);

/* Removes a folder tree. Returns 0 or -errno. */
int it_rmtree(const char *path);

/* Number of entries in a folder other than "." and "..", or -errno. */
int it_dir_count(const char *path);

/* The one-letter State of /proc/PID/task/TID/status (tid == pid for the main thread), or 0
 * when the task is gone. */
char it_task_state(pid_t pid, pid_t tid);

/* First task of pid in a stopped state ('t' or 'T'), or 0 when none is stopped. */
pid_t it_stopped_task(pid_t pid, char *ret_state);

/* The first task of pid in state D (asleep in the kernel), or 0 after timeout_ms. */
pid_t it_asleep_task(pid_t pid, int timeout_ms);

/* Sorted thread ids of /proc/PID/task. Returns the count or -errno; *ret_tids is owned. */
int it_tasks(pid_t pid, pid_t **ret_tids);

/* /proc/PID/task/TID/comm without the newline. Returns 0 or -errno. */
int it_task_comm(pid_t pid, pid_t tid, char *buf, size_t size);

/* Waits until task tid of pid is in a stopped state, up to timeout_ms. Returns 0 or
 * -ETIMEDOUT. */
int it_wait_stopped(pid_t pid, pid_t tid, int timeout_ms);

/* Reads a whole file; returns the bytes (owned, NUL-terminated) or NULL. */
char *it_read_file(const char *path, size_t *ret_len);

/* Waits until the file at path holds needle at least count times (the daemon writes its
 * journal, summaries and metrics after it has replied); returns its text (owned) or NULL after
 * timeout_ms. */
char *it_wait_file(const char *path, const char *needle, int count, int timeout_ms);

/* GNU build id of an ELF file as lowercase hex, read with `readelf -n`. Returns 0 or -errno. */
int it_build_id(const char *path, char *buf, size_t size);

/* Thread ids of a dump in thread-list order, as `minidump_dump` prints them. Returns the
 * count or -errno; *ret_tids is owned. */
int it_dump_tids(const char *dump, uint32_t **ret_tids);

/* Runs dump_syms on every module file the dump lists (as `minidump_dump` prints its code
 * files) that exists on disk and is not yet in symroot, storing each as
 * <symroot>/<name>/<debug-id>/<name>.sym per the MODULE line dump_syms prints. Returns the
 * number of symbol files added or -errno. */
int it_make_symbols(const char *dump, const char *symroot);
