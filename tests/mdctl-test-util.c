/* SPDX-License-Identifier: MIT */
/* The mdctl integration suites' helpers (mdctl-test-util.h). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdctl-test-util.h"

#define MAX_CLEANUPS 16  /* targets or folders one test registers for cleanup */
#define MAX_OWNED    128 /* allocations one test hands to the cleanup at exit */

/* Cleanup at exit: Check (fork mode) ends a failing test with exit(), so this is the one place
 * that runs on every path. A target is killed (SIGKILL works on a stopped one too). */
static pid_t cleanup_pids[MAX_CLEANUPS];
static char *cleanup_dirs[MAX_CLEANUPS];
static void *owned[MAX_OWNED]; /* freed at exit, so a failing test leaks nothing either */
static bool cleanup_registered;

void cleanup_at_exit(void)
{
	const char *keep = getenv("IT_KEEP");

	for (size_t i = 0; i < MAX_CLEANUPS; i++) {
		if (cleanup_pids[i] > 0) {
			kill(cleanup_pids[i], SIGKILL);
			waitpid(cleanup_pids[i], NULL, 0);
		}
		if (cleanup_dirs[i] && !(keep && *keep == '1'))
			it_rmtree(cleanup_dirs[i]);
		free(cleanup_dirs[i]);
	}
	for (size_t i = 0; i < MAX_OWNED; i++)
		free(owned[i]);
}

void register_cleanup(pid_t pid, char *dir)
{
	if (!cleanup_registered) {
		atexit(cleanup_at_exit);
		cleanup_registered = true;
	}
	if (!pid && !dir)
		return;
	for (size_t i = 0; i < MAX_CLEANUPS; i++) {
		if (pid && !cleanup_pids[i]) {
			cleanup_pids[i] = pid;
			return;
		}
		if (dir && !cleanup_dirs[i]) {
			cleanup_dirs[i] = dir;
			return;
		}
	}
	ck_abort_msg("too many cleanups registered");
}

/* Hands an allocation to the cleanup at exit and returns it. */
void *own(void *p)
{
	register_cleanup(0, NULL);
	for (size_t i = 0; i < MAX_OWNED; i++) {
		if (!owned[i]) {
			owned[i] = p;
			return p;
		}
	}
	ck_abort_msg("too many allocations owned by one test");
	return NULL;
}

char *tool_path(const char *name)
{
	return own(it_tool(name));
}

struct it_target start_target(const char *const *args)
{
	struct it_target t;
	int r = it_target_start(args, &t);

	ck_assert_msg(r == 0, "target-threads did not start: %s", strerror(-r));
	register_cleanup(t.pid, NULL);
	return t;
}

char *tempdir(mode_t mode)
{
	char *dir = it_tempdir(mode);

	register_cleanup(0, dir);
	return dir;
}

char *path_in(const char *dir, const char *name)
{
	char *p;

	ck_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	return own(p);
}

/* Runs `mdctl dump PID --direct -o OUT --json [extra]` with extra environment. */
void mdctl_dump(pid_t pid, const char *out, const char *extra, const char *const *env,
                struct it_result *ret)
{
	char pidbuf[16];
	const char *argv[] = {it_env("MDCTL"), "dump", pidbuf, "--direct", "-o", out,
	                      "--json",        extra,  NULL};
	int r;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	r = it_run(argv, env, MDCTL_TIMEOUT_MS, ret);
	ck_assert_msg(r == 0, "cannot run mdctl: %s", strerror(-r));
}

struct it_proc mdctl_dump_spawn(pid_t pid, const char *out, const char *const *env)
{
	static char pidbuf[16];
	const char *argv[] = {it_env("MDCTL"), "dump", pidbuf, "--direct", "-o", out,
	                      "--json",        NULL};
	struct it_proc p;
	int r;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	r = it_spawn(argv, env, &p);
	ck_assert_msg(r == 0, "cannot run mdctl: %s", strerror(-r));
	return p;
}

json_t *parse_json(const struct it_result *res, const char *what)
{
	json_error_t err;
	json_t *j = json_loads(res->out, 0, &err);

	ck_assert_msg(j && json_is_object(j), "%s: stdout is not one JSON object (%s): [%s]", what,
	              err.text, res->out);
	return j;
}

json_int_t json_int_member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	ck_assert_msg(json_is_integer(v), "JSON member %s is missing or not an integer", key);
	return json_integer_value(v);
}

/* Times may be integers or fractions of a millisecond. */
double json_number_member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	ck_assert_msg(json_is_number(v), "JSON member %s is missing or not a number", key);
	return json_number_value(v);
}

void assert_exit(const struct it_result *res, int code, const char *what)
{
	ck_assert_msg(res->exited && res->code == code,
	              "%s: expected exit %d, got %s; stderr: [%s]", what, code,
	              it_result_status(res), res->err);
}

/* The target must be running (no task stopped), keep all its worker threads and answer. */
void assert_target_healthy(struct it_target *t, unsigned workers, const char *when)
{
	char state = 0;
	pid_t stopped = it_stopped_task(t->pid, &state);
	int alive;

	ck_assert_msg(stopped == 0, "%s: task %d of the target is left stopped (State %c)", when,
	              (int)stopped, state);
	alive = it_target_ping(t, PING_TIMEOUT_MS);
	ck_assert_msg(alive >= 0, "%s: the target does not answer: %s", when, strerror(-alive));
	ck_assert_msg((unsigned)alive == workers, "%s: %d of %u worker threads alive", when, alive,
	              workers);
}

/* The park function a task of the target sits in, from its name: the main thread parks in
 * park_main, "worker-alpha" and "w12-epsilon" in park_alpha and park_epsilon. */
void expected_park(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char comm[32];
	const char *dash;

	if (tid == pid) {
		snprintf(buf, size, "park_main");
		return;
	}
	ck_assert_msg(it_task_comm(pid, tid, comm, sizeof(comm)) == 0, "no comm for task %d",
	              (int)tid);
	dash = strrchr(comm, '-');
	ck_assert_msg(dash, "task %d has an unexpected name \"%s\"", (int)tid, comm);
	snprintf(buf, size, "park_%s", dash + 1);
}

/* A frame's function matches when it is the name itself or the name followed by "(". */
bool function_is(const char *func, size_t len, const char *want)
{
	size_t n = strlen(want);

	return len >= n && strncmp(func, want, n) == 0 && (len == n || func[n] == '(');
}

/* Checks with minidump_stackwalk (and symbols from dump_syms) that every thread of the target
 * has its known park function somewhere in its stack. */
void assert_stacks(pid_t pid, const char *dump, const char *symroot)
{
	char *tool = tool_path("minidump_stackwalk");
	const char *argv[] = {tool, "-m", dump, symroot, NULL};
	uint32_t *dump_tids = NULL;
	pid_t *tids = NULL;
	struct it_result res;
	int n_dump, n_tasks, added;
	bool *found;

	added = it_make_symbols(dump, symroot);
	ck_assert_msg(added >= 2, "dump_syms gave symbols for %d modules; want the target and libc",
	              added);
	n_dump = it_dump_tids(dump, &dump_tids);
	n_tasks = it_tasks(pid, &tids);
	ck_assert_msg(n_dump == n_tasks, "minidump_dump lists %d threads, /proc %d", n_dump,
	              n_tasks);
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, 0, "minidump_stackwalk -m");
	found = calloc((size_t)n_dump, sizeof(*found));
	ck_assert(found);

	/* Frame lines: thread-index|frame|module|function|file|line|offset. */
	for (char *line = strtok(res.out, "\n"); line; line = strtok(NULL, "\n")) {
		char want[64], *func, *end;
		int idx, frame;

		if (sscanf(line, "%d|%d|", &idx, &frame) != 2 || idx < 0 || idx >= n_dump)
			continue;
		func = strchr(line, '|');
		func = func ? strchr(func + 1, '|') : NULL;
		func = func ? strchr(func + 1, '|') : NULL;
		if (!func)
			continue;
		func++;
		end = strchr(func, '|');
		expected_park(pid, (pid_t)dump_tids[idx], want, sizeof(want));
		if (function_is(func, end ? (size_t)(end - func) : strlen(func), want))
			found[idx] = true;
	}
	for (int i = 0; i < n_dump; i++) {
		char want[64];

		expected_park(pid, (pid_t)dump_tids[i], want, sizeof(want));
		ck_assert_msg(found[i], "thread %d (tid %u): %s not in its stack", i, dump_tids[i],
		              want);
	}
	free(found);
	free(tids);
	free(dump_tids);
	it_result_done(&res);
}

/* A dump of a fresh standard target, shared by the checks of test case 1. */
struct dumped dump_standard_target(void)
{
	struct dumped d = {0};
	struct it_result res;

	d.target = start_target(NULL);
	d.dir = tempdir(0700);
	d.dump = path_in(d.dir, "target.dmp");
	d.n_tids = it_tasks(d.target.pid, &d.tids);
	own(d.tids);
	ck_assert_int_eq(d.n_tids, DEFAULT_WORKERS + 1);
	mdctl_dump(d.target.pid, d.dump, NULL, NULL, &res);
	assert_exit(&res, 0, "mdctl dump");
	d.json = parse_json(&res, "mdctl dump --json");
	it_result_done(&res);
	return d;
}
