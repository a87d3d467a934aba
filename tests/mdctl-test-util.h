/* SPDX-License-Identifier: MIT */
/*
 * What the integration suites that run the real mdctl against tests/target-threads share
 * (mdctl-test-util.c): cleanup at exit of targets, folders and allocations, mdctl dump runs,
 * and checks of the dump and of the target.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "integration-util.h"

#define MDCTL_TIMEOUT_MS   60000  /* ms one mdctl run may take, 512 threads included */
#define TOOL_TIMEOUT_MS    120000 /* ms for minidump_stackwalk, minidump_dump and lldb */
#define PING_TIMEOUT_MS    5000   /* ms the target has to answer "ping" */
#define STOP_WAIT_MS       10000  /* ms to wait until mdctl has stopped the target */
#define STALL_EXIT_MS      1500   /* MDCTL_TEST_STALL_MS for the "target exits" test */
#define STALL_SIGNAL_MS    2000   /* MDCTL_TEST_STALL_MS for the signal tests */
#define INTO_STALL_MS      200    /* ms to wait after the stop before acting in the stall */
#define SIGNAL_EXIT_MAX_MS 1000   /* ms mdctl may take to exit after SIGINT/SIGTERM */
#define CHURN_RUNS         20     /* back-to-back dumps of the churning target */
#define DEFAULT_WORKERS    6      /* worker threads of the standard target */
#define LARGE_WORKERS      512    /* worker threads of the large target */
#define NOBODY_ID          65534  /* uid and gid of "nobody" on Debian */
#define EXIT_NO_PROCESS    3      /* mdctl exit codes, from the CLI contract */
#define EXIT_PERMISSION    4
#define EXIT_TARGET_EXITED 5
#define EXIT_OUTPUT        6

struct dumped {
	struct it_target target;
	char *dir;
	char *dump;
	json_t *json;
	pid_t *tids; /* /proc/PID/task right before the dump */
	int n_tids;
};

void cleanup_at_exit(void);

void register_cleanup(pid_t pid, char *dir);

/* Hands an allocation to the cleanup at exit and returns it. */
void *own(void *p);

char *tool_path(const char *name);

struct it_target start_target(const char *const *args);

char *tempdir(mode_t mode);

char *path_in(const char *dir, const char *name);

/* Runs `mdctl dump PID --direct -o OUT --json [extra]` with extra environment. */
void mdctl_dump(pid_t pid, const char *out, const char *extra, const char *const *env,
                struct it_result *ret);

struct it_proc mdctl_dump_spawn(pid_t pid, const char *out, const char *const *env);

json_t *parse_json(const struct it_result *res, const char *what);

json_int_t json_int_member(json_t *obj, const char *key);

/* Times may be integers or fractions of a millisecond. */
double json_number_member(json_t *obj, const char *key);

void assert_exit(const struct it_result *res, int code, const char *what);

/* The target must be running (no task stopped), keep all its worker threads and answer. */
void assert_target_healthy(struct it_target *t, unsigned workers, const char *when);

/* The park function a task of the target sits in, from its name: the main thread parks in
 * park_main, "worker-alpha" and "w12-epsilon" in park_alpha and park_epsilon. */
void expected_park(pid_t pid, pid_t tid, char *buf, size_t size);

/* A frame's function matches when it is the name itself or the name followed by "(". */
bool function_is(const char *func, size_t len, const char *want);

/* Checks with minidump_stackwalk (and symbols from dump_syms) that every thread of the target
 * has its known park function somewhere in its stack. */
void assert_stacks(pid_t pid, const char *dump, const char *symroot);

/* A dump of a fresh standard target, shared by the checks of test case 1. */
struct dumped dump_standard_target(void);
