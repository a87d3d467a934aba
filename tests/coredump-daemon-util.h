/* SPDX-License-Identifier: MIT */
/*
 * What the coredump suite's files share (check-coredump.c: the backend on real cores;
 * check-coredump-daemon.c: minidumpd on the coredump socket and the pipe; check-coredump-ops.c:
 * mdctl coredump, the big heap, socket activation).
 */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <sys/types.h>

#include "coredump-util.h"
#include "daemon-util.h"

/* crash-app-plain's crashes, as Breakpad should see their dumps */
extern const struct crash_case cd_cases[];
#define CD_N_CASES 5

/* minidumpd's coredump socket (coredump_daemon_start) */
extern char cd_sock[300];

/* How the kernel reaches minidumpd: "@" (plain socket), "@@" (request protocol) or the pipe
 * helper. */
enum cd_mode { CD_SOCKET, CD_REQUEST, CD_PIPE };

/* Whether this machine can run the core_pattern tests: root, a writable core_pattern, a kernel
 * with the coredump socket. Says SKIP when not; fails when tests/run says it can
 * (MD_COREDUMP_REQUIRED=1). */
bool socket_tests_possible(void);

/* A Unix stream socket listening at path. */
int listen_at(const char *path);

/* minidumpd in a fresh D.dir, serving the coredump socket D.dir/coredump.sock (cd_sock);
 * extra: more top-level config members ("" for none; "@DIR@" stands for D.dir). */
void coredump_daemon_start(const char *extra);

/* socket_tests_possible(), then coredump_daemon_start(extra) when it is: whether the test
 * goes on. */
bool coredump_daemon_begin(const char *extra);

/* The end of such a test: frees report (may be NULL) and run's output, stops minidumpd and
 * removes D.dir. */
void coredump_daemon_end(struct app_run *run, char *report);

/* Runs argv (with env, NULL-ended, may be NULL) with core_pattern pointing at cd_sock in mode,
 * fs.suid_dumpable set when >= 0, only for the life of the program, and waits for it. */
struct app_run run_with(const char *const *argv, const char *const *env, enum cd_mode mode,
                        int suid_dumpable);
struct app_run run_with_pattern(const char *const *argv, enum cd_mode mode);

/* As run_with, for crash-app(-plain) with env0 (may be NULL) in its environment, but with
 * core_pattern set only once the app is ready to fault (CRASH_APP_GO): the setting is global,
 * and whatever else crashes on the machine meanwhile would reach minidumpd too. */
struct app_run run_when_ready(const char *const *argv, const char *env0, enum cd_mode mode,
                              int suid_dumpable);

/* Dumps (".dmp") in the store whose name holds ".PID." */
int dumps_of(pid_t pid);

/* The daemon's dump (ext "dmp") or report ("json") for pid, waiting up to 10 s: the task is
 * let go once its dump is written, so the report may follow its death by a little. */
char *wait_dump(pid_t pid, const char *ext);

/* The tests of check-coredump-daemon.c and check-coredump-ops.c, added to tc. */
void coredump_daemon_tests(TCase *tc);
void coredump_ops_tests(TCase *tc);
