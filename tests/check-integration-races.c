/* SPDX-License-Identifier: MIT */
/*
 * Integration suite, races: mdctl dump against a target that loses threads, exits or is
 * signalled while it is stopped, and against a 512-thread target. See check-integration.c.
 */
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

/* Starts `mdctl dump` of t to out, held in its stall hook for stall_ms once it has stopped the
 * target, and returns once it is INTO_STALL_MS into that stall. */
static struct it_proc mdctl_dump_stalled(struct it_target *t, const char *out, int stall_ms)
{
	char stall[64];
	const char *env[] = {stall, NULL};
	struct it_proc p;

	snprintf(stall, sizeof(stall), "MDCTL_TEST_STALL_MS=%d", stall_ms);
	p = mdctl_dump_spawn(t->pid, out, env);
	ck_assert_msg(it_wait_stopped(t->pid, t->pid, STOP_WAIT_MS) == 0,
	              "mdctl never stopped the target");
	usleep(INTO_STALL_MS * 1000);
	return p;
}

START_TEST(test_target_exits)
{
	struct it_target t = start_target(NULL);
	char *dir = tempdir(0700);
	char *out = path_in(dir, "partial.dmp");
	char *tool = tool_path("minidump_dump");
	const char *argv[] = {tool, out, NULL};
	struct it_result res, dump;
	struct it_proc p;
	json_t *j;

	p = mdctl_dump_stalled(&t, out, STALL_EXIT_MS);
	ck_assert_int_eq(kill(t.pid, SIGKILL), 0);
	ck_assert_int_eq(it_wait(&p, MDCTL_TIMEOUT_MS, &res), 0);
	it_target_kill(&t);
	assert_exit(&res, EXIT_TARGET_EXITED, "mdctl dump of a target killed in the stall");
	j = parse_json(&res, "mdctl dump --json (target exited)");
	ck_assert_msg(json_is_true(json_object_get(j, "partial")),
	              "the dump is not marked partial");
	ck_assert_str_eq(json_string_value(json_object_get(j, "path")), out);
	ck_assert_msg(access(out, F_OK) == 0, "no partial dump was written");
	ck_assert_int_eq(it_dir_count(dir), 1);

	/* "Readable": minidump_dump gets through the header and directory (it may still count
	 * streams the vanished target could not provide). */
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &dump), 0);
	ck_assert_msg(dump.exited, "minidump_dump %s on the partial dump", it_result_status(&dump));
	ck_assert_msg(strstr(dump.out, "MDRawHeader") && !strstr(dump.err, "Read() failed"),
	              "minidump_dump cannot read the partial dump: [%s]", dump.err);
	it_result_done(&dump);
	json_decref(j);
	it_result_done(&res);
}
END_TEST

/* 5. Threads come and go during every dump. */
START_TEST(test_thread_churn)
{
	static const char *const args[] = {"--churn", "--threads", "4", NULL};
	struct it_target t = start_target(args);
	char *dir = tempdir(0700);
	char *tool = tool_path("minidump_stackwalk");

	for (int run = 0; run < CHURN_RUNS; run++) {
		char name[32], *out;
		struct it_result res, walk;
		char state = 0;
		pid_t stopped;
		json_t *j;

		snprintf(name, sizeof(name), "churn-%02d.dmp", run);
		out = path_in(dir, name);
		mdctl_dump(t.pid, out, NULL, NULL, &res);
		stopped = it_stopped_task(t.pid, &state);
		ck_assert_msg(stopped == 0, "run %d: task %d left stopped (State %c)", run,
		              (int)stopped, state);
		assert_exit(&res, 0, "mdctl dump of a churning target");
		j = parse_json(&res, "mdctl dump --json (churn)");
		ck_assert_int_ge(json_int_member(j, "threads"), 1 + 4 + 1);
		json_decref(j);
		it_result_done(&res);

		const char *argv[] = {tool, out, NULL};

		ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &walk), 0);
		ck_assert_msg(walk.exited && walk.code == 0, "run %d: minidump_stackwalk %s: [%s]",
		              run, it_result_status(&walk), walk.err);
		ck_assert_msg(strstr(walk.out, "Thread 0"), "run %d: stackwalk shows no threads",
		              run);
		it_result_done(&walk);
		unlink(out);
	}
	assert_target_healthy(&t, 4, "after the churn dumps");
}
END_TEST

/* 6. nobody may not dump a root process: exit 4 and a message naming what is needed. */
static void signal_during_dump(int sig)
{
	struct it_target t = start_target(NULL);
	char *dir = tempdir(0700);
	char *out = path_in(dir, "interrupted.dmp");
	struct it_result res;
	struct it_proc p = mdctl_dump_stalled(&t, out, STALL_SIGNAL_MS);
	int64_t sent;

	ck_assert_int_eq(kill(p.pid, sig), 0);
	sent = it_now_ms();
	ck_assert_int_eq(it_wait(&p, MDCTL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(!res.timed_out && !(res.exited && res.code == 0),
	              "mdctl %s after signal %d; want a failure", it_result_status(&res), sig);
	ck_assert_msg(res.end_ms - sent <= SIGNAL_EXIT_MAX_MS,
	              "mdctl took %lld ms to stop after signal %d", (long long)(res.end_ms - sent),
	              sig);
	ck_assert_msg(it_dir_count(dir) == 0, "%d files left behind after signal %d",
	              it_dir_count(dir), sig);
	assert_target_healthy(&t, DEFAULT_WORKERS, "after the interrupted dump");
	it_result_done(&res);
}

START_TEST(test_sigint)
{
	signal_during_dump(SIGINT);
}
END_TEST

START_TEST(test_sigterm)
{
	signal_during_dump(SIGTERM);
}
END_TEST

/* 8. A large target: 512 workers, each in its park function. */
START_TEST(test_large_target)
{
	static const char *const args[] = {"--threads", "512", NULL};
	struct it_target t = start_target(args);
	char *dir = tempdir(0700);
	char *out = path_in(dir, "large.dmp");
	char *symroot = path_in(dir, "symbols");
	char *tool = tool_path("minidump_stackwalk");
	const char *argv[] = {tool, out, NULL};
	struct it_result res;
	const char *p;
	int listed = 0;
	json_t *j;

	mdctl_dump(t.pid, out, NULL, NULL, &res);
	assert_exit(&res, 0, "mdctl dump of 512 threads");
	j = parse_json(&res, "mdctl dump --json (512 threads)");
	ck_assert_int_eq(json_int_member(j, "threads"), LARGE_WORKERS + 1);
	json_decref(j);
	it_result_done(&res);

	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, 0, "minidump_stackwalk (512 threads)");
	for (p = res.out; (p = strstr(p, "\nThread ")); p++)
		listed++;
	ck_assert_int_eq(listed, LARGE_WORKERS + 1);
	it_result_done(&res);

	assert_stacks(t.pid, out, symroot);
	assert_target_healthy(&t, LARGE_WORKERS, "after the large dump");
}
END_TEST

static Suite *integration_races_suite(void)
{
	const struct check_test races[] = {
	    CHECK_TEST(test_thread_churn),
	    /* these hold mdctl in its stall hook, which only a -Dtest_hooks=true build has */
	    CHECK_TEST(test_target_exits),
	    CHECK_TEST(test_sigint),
	    CHECK_TEST(test_sigterm),
	    CHECK_END,
	};
	const struct check_test races_without_hooks[] = {CHECK_TEST(test_thread_churn), CHECK_END};

	if (!MD_TEST_HOOKS)
		fprintf(stderr,
		        "integration-races: built without -Dtest_hooks=true (tests/run sets "
		        "it): test_target_exits, test_sigint and test_sigterm not run\n");
	return CHECK_SUITE_OF(
	    "integration-races",
	    {.name = "races", .tests = MD_TEST_HOOKS ? races : races_without_hooks},
	    CHECK_CASE_PLAIN("large", CHECK_TEST(test_large_target)));
}

CHECK_IT_SUITE("integration-races", integration_races_suite, "TARGET_THREADS");
