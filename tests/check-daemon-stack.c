/* SPDX-License-Identifier: MIT */
/*
 * Integration suite of the daemon's symbolized stacks (issue 12): the real minidumpd with the
 * built md-symbolize ($MD_SYMBOLIZE), real apps linked with libmdclient crashing in known
 * functions. After the app has been released, the report beside the dump gains "stack" (frame 0
 * is the crashing function), "thread_stacks" (every other thread) and "symbolizer", and the log
 * names the crashing function. A symbolizer that cannot run leaves the report with the reason, and
 * the daemon goes on serving. Every daemon and app started here is stopped at the end.
 */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "daemon-util.h"
#include "integration-util.h"

#define STACK_WAIT_MS 30000 /* how long the stacks may take to reach the report (loaded CI) */

/* The report of pid once it has its "symbolizer" object, or NULL after STACK_WAIT_MS. */
static json_t *report_with_stacks(pid_t pid)
{
	int64_t deadline = it_now_ms() + STACK_WAIT_MS;

	while (it_now_ms() < deadline) {
		char *path = find_dump(pid, "json");
		json_t *j = path ? load_json(path) : NULL;

		free(path);
		if (j && json_is_object(json_object_get(j, "symbolizer")))
			return j;
		json_decref(j);
		usleep(50000);
	}
	return NULL;
}

static const char *frame0_function(json_t *report)
{
	json_t *frames = json_object_get(report, "stack");

	return json_string_value(json_object_get(json_array_get(frames, 0), "function"));
}

static const struct {
	const char *mode;
	const char *function; /* frame 0 of the crashing thread */
	size_t other_threads;
} cases[] = {
    {"segv", "crash_segv", 0},
    {"thread-segv", "crash_in_thread", 20},
};

START_TEST(report_gains_the_symbolized_stack)
{
	struct app_run run = run_app(cases[_i].mode, NULL, NULL, NULL);
	char line[256];
	json_t *j;

	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s: app ended with %s",
	              cases[_i].mode, it_result_status(&run.res));
	j = report_with_stacks(run.pid);
	ck_assert_msg(j, "%s: no stacks in the report of pid %d; log:\n%s", cases[_i].mode,
	              (int)run.pid, log_tail());
	ck_assert_msg(
	    !json_object_get(json_object_get(j, "symbolizer"), "error"), "%s: symbolizer error %s",
	    cases[_i].mode,
	    json_string_value(json_object_get(json_object_get(j, "symbolizer"), "error")));
	ck_assert_msg(frame0_function(j) && strcmp(frame0_function(j), cases[_i].function) == 0,
	              "%s: frame 0 is %s, want %s", cases[_i].mode,
	              frame0_function(j) ? frame0_function(j) : "(none)", cases[_i].function);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "thread_stacks")),
	                  cases[_i].other_threads);
	/* the dump's figures are still there: the report was added to, not replaced */
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), run.pid);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "threads")),
	                 (json_int_t)cases[_i].other_threads + 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "signal")), "SIGSEGV");
	json_decref(j);
	snprintf(line, sizeof(line), "pid %d (crash-app) crashed in %s()", (int)run.pid,
	         cases[_i].function);
	ck_assert_msg(log_has(line), "%s: the log does not say '%s':\n%s", cases[_i].mode, line,
	              log_tail());
	it_result_done(&run.res);
}
END_TEST

/* A helper that is not a symbolizer: the report says why and has no stack; the next crash is
 * dumped as ever. */
START_TEST(failing_symbolizer_leaves_the_reason)
{
	struct app_run run;
	json_t *j;

	for (int i = 0; i < 2; i++) {
		run = run_app("segv", NULL, NULL, NULL);
		ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "app ended with %s",
		              it_result_status(&run.res));
		j = report_with_stacks(run.pid);
		ck_assert_msg(j, "no symbolizer object in the report; log:\n%s", log_tail());
		ck_assert_msg(
		    json_string_value(json_object_get(json_object_get(j, "symbolizer"), "error")),
		    "a failing helper left no error");
		ck_assert_ptr_null(json_object_get(j, "stack"));
		json_decref(j);
		it_result_done(&run.res);
	}
}
END_TEST

static void failing_setup(void)
{
	daemon_start_opts(&(struct daemon_opts){
	    .config = "{\"symbolize\": {\"enabled\": true, \"helper\": \"/bin/false\"}}"});
}

CHECK_SUITE_FN(stack_suite, "daemon-stack",
               CHECK_CASE("stacks", daemon_start, daemon_teardown, 120,
                          CHECK_LOOP_EACH(report_gains_the_symbolized_stack, cases)),
               CHECK_CASE("failing", failing_setup, daemon_teardown, 120,
                          CHECK_TEST(failing_symbolizer_leaves_the_reason)));

const struct check_suite check_suite = {
    .name = "daemon-stack",
    .suite = stack_suite,
};
