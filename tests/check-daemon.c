/* SPDX-License-Identifier: MIT */
/*
 * Integration suite of the crash broker: the real minidumpd on a temporary socket and dump
 * folder, real apps linked with libmdclient (tests/crash-app) crashing in known functions, and
 * Breakpad's tools judging the dumps. Checks what users see: the app still dies by its own
 * signal, promptly, with or without a daemon; a dump and its JSON report appear; the stack
 * names the crashing function; annotations reach both; the daemon obeys kernel credentials,
 * not claims. Every daemon and app started here is killed and reaped at the end of its test.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon-proto.h"
#include "daemon-util.h"
#include "integration-util.h"

#define ABSENT_DEATH_MS        1000 /* the issue: without a daemon the app dies within 1 s */
#define FROZEN_TIMEOUT_MS      1000 /* MINIDUMPD_TIMEOUT_MS for the frozen-daemon test */
#define FROZEN_SLACK_MS        1500 /* process start and exit on a loaded 2-core machine */
#define NOBODY_ID              65534
#define THREADS_DEFAULT_TARGET 6 /* worker threads of target-threads without --threads */

/* ---- crashes, one per mode ---- */

static const struct crash_case cases[] = {
    {"segv", SIGSEGV, {"SIGSEGV", "0x0", "crash_segv", true, 1}},
    {"abort", SIGABRT, {"SIGABRT", NULL, "crash_abort", false, 1}},
    {"fpe", SIGFPE, {"SIGFPE", NULL, "crash_fpe", true, 1}},
    {"ill", SIGILL, {"SIGILL", NULL, "crash_ill", true, 1}},
    {"stackoverflow", SIGSEGV, {"SIGSEGV", NULL, "crash_recurse", true, 1}},
    {"thread-segv", SIGSEGV, {"SIGSEGV", "0x0", "crash_in_thread", true, 21}},
};

START_TEST(crash_is_dumped_and_app_dies_by_its_signal)
{
	const struct crash_case *c = &cases[_i];
	char annotation[64], value[32];
	struct app_run run;
	char *dump, *report;
	json_t *j, *crash;

	snprintf(value, sizeof(value), "itest-%s", c->mode);
	snprintf(annotation, sizeof(annotation), "test.key=%s", value);
	run = run_app(c->mode, annotation, NULL, NULL);
	ck_assert_msg(!run.res.exited && !run.res.timed_out && run.res.sig == c->sig,
	              "%s: app ended with %s, want death by signal %d", c->mode,
	              it_result_status(&run.res), c->sig);

	dump = find_dump(run.pid, "dmp");
	report = find_dump(run.pid, "json");
	ck_assert_msg(dump && report, "%s: no dump/report for pid %d in %s; log: %s", c->mode,
	              (int)run.pid, D.dumps, it_read_file(D.log, NULL));
	{
		struct stat st;

		ck_assert_int_eq(stat(dump, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
	}

	/* the report */
	j = load_json(report);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), run.pid);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "crash");
	crash = json_object_get(j, "crash");
	ck_assert_int_eq(json_integer_value(json_object_get(crash, "code")), c->sig);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "annotations"), "test.key")),
	    value);
	ck_assert_str_eq(json_string_value(json_object_get(j, "path")), dump);
	json_decref(j);

	/* what Breakpad makes of the dump */
	assert_walk(dump, &c->walk, c->mode);
	ck_assert_msg(dump_has_annotation(dump, "test.key", value), "annotation not in the dump");
	free(dump);
	free(report);
	it_result_done(&run.res);
}
END_TEST

/* Issue 15, item 7: after a stack overflow the fault's stack pointer lies below the stack's
 * readable pages (an -O1 frame is allocated before it is touched), and the dump must still hold
 * the stack above it, so that Breakpad, with dump_syms's CFI and no frame pointers, walks the
 * recursion instead of stopping at frame 0. */
#define OVERFLOW_FRAMES_MIN 4 /* frames of crash_recurse the walk must show */

START_TEST(stack_overflow_keeps_the_recursion)
{
	struct app_run run;
	struct walk w;
	char *dump;

	run =
	    run_app_opts("stackoverflow", NULL, &(struct app_opts){.exe = it_env("CRASH_APP_O1")});
	ck_assert_msg(!run.res.exited && !run.res.timed_out && run.res.sig == SIGSEGV,
	              "app ended with %s, want SIGSEGV", it_result_status(&run.res));
	dump = find_dump_any(run.pid, "dmp");
	ck_assert_msg(dump, "no dump for pid %d; log: %s", (int)run.pid, log_tail());
	w = stackwalk(dump, "crash_recurse");
	ck_assert_str_eq(w.frame0, "crash_recurse");
	ck_assert_msg(w.want_frames >= OVERFLOW_FRAMES_MIN,
	              "stackwalk shows %d frames of crash_recurse, want at least %d", w.want_frames,
	              OVERFLOW_FRAMES_MIN);
	free(dump);
	it_result_done(&run.res);
}
END_TEST

START_TEST(no_daemon_app_still_dies_promptly)
{
	char sock[300];
	struct app_run run;

	snprintf(sock, sizeof(sock), "%s/nobody-listens.sock", D.dir);
	run = run_app("segv", "k=v", sock, NULL);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s", it_result_status(&run.res));
	ck_assert_msg(run.res.duration < ABSENT_DEATH_MS, "took %lld ms",
	              (long long)run.res.duration);
	it_result_done(&run.res);
}
END_TEST

START_TEST(frozen_daemon_app_dies_at_its_timeout)
{
	char timeout[64];
	struct app_run run;

	snprintf(timeout, sizeof(timeout), "MINIDUMPD_TIMEOUT_MS=%d", FROZEN_TIMEOUT_MS);
	ck_assert_int_eq(kill(D.pid, SIGSTOP), 0);
	run = run_app("segv", "k=v", NULL, timeout);
	kill(D.pid, SIGCONT);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s", it_result_status(&run.res));
	ck_assert_msg(run.res.duration >= FROZEN_TIMEOUT_MS - 100 &&
	                  run.res.duration < FROZEN_TIMEOUT_MS + FROZEN_SLACK_MS,
	              "took %lld ms with a %d ms timeout", (long long)run.res.duration,
	              FROZEN_TIMEOUT_MS);
	it_result_done(&run.res);
}
END_TEST

START_TEST(dump_now_keeps_the_app_running)
{
	struct app_run run = run_app("dump-now", "when=now", NULL, NULL);
	char *dump, *report;
	json_t *j;

	ck_assert_msg(run.res.exited && run.res.code == 0, "%s", it_result_status(&run.res));
	ck_assert_ptr_nonnull(strstr(run.res.out, "dump-now: 0"));
	dump = find_dump(run.pid, "dmp");
	report = find_dump(run.pid, "json");
	ck_assert_ptr_nonnull(dump);
	ck_assert_ptr_nonnull(report);
	j = load_json(report);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "dump-now");
	ck_assert(json_is_null(json_object_get(j, "crash")));
	json_decref(j);
	{
		struct walk w = stackwalk(dump, NULL);

		ck_assert_str_eq(w.reason, "DUMP_REQUESTED");
	}
	free(dump);
	free(report);
	it_result_done(&run.res);
}
END_TEST

START_TEST(two_apps_crashing_together_both_get_dumps)
{
	struct it_proc p[2];
	struct it_result r[2];

	p[0] = app_spawn("thread-segv", "pair=yes", NULL);
	p[1] = app_spawn("thread-segv", "pair=yes", NULL);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(it_wait(&p[i], APP_TIMEOUT_MS, &r[i]), 0);
		ck_assert_msg(!r[i].exited && r[i].sig == SIGSEGV, "app %d: %s", i,
		              it_result_status(&r[i]));
	}
	for (int i = 0; i < 2; i++) {
		char *dump = find_dump(p[i].pid, "dmp");
		struct walk w;

		ck_assert_msg(dump != NULL, "no dump for app %d", i);
		w = stackwalk(dump, NULL);
		ck_assert_str_eq(w.frame0, "crash_in_thread");
		ck_assert_int_eq(w.threads, 21);
		free(dump);
		it_result_done(&r[i]);
	}
}
END_TEST

START_TEST(mdctl_dump_goes_through_the_daemon_and_is_authorized)
{
	const char *mdctl = it_env("MDCTL");
	struct it_target t;
	char pid[16], sock[300];
	struct it_result res;
	json_t *j;

	ck_assert_int_eq(it_target_start(NULL, &t), 0);
	snprintf(pid, sizeof(pid), "%d", (int)t.pid);
	snprintf(sock, sizeof(sock), "--socket=%s", D.sock);
	{
		const char *argv[] = {mdctl, "dump", pid, sock, "--json", NULL};

		ck_assert_int_eq(it_run(argv, NULL, APP_TIMEOUT_MS, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "mdctl: %s %s", it_result_status(&res),
		              res.err);
		j = json_loads(res.out, 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), t.pid);
		ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "request");
		ck_assert_int_eq(access(json_string_value(json_object_get(j, "path")), F_OK), 0);
		json_decref(j);
		it_result_done(&res);
	}
	/* nobody may not have a dump of root's process: the daemon checks SO_PEERCRED */
	{
		char uid[32];
		const char *argv[] = {
		    "setpriv", uid, "--regid=65534", "--clear-groups", mdctl, "dump", pid,
		    sock,      NULL};

		snprintf(uid, sizeof(uid), "--reuid=%d", NOBODY_ID);
		ck_assert_int_eq(it_run(argv, NULL, APP_TIMEOUT_MS, &res), 0);
		ck_assert_msg(res.exited && res.code == 4, "nobody got %s: %s",
		              it_result_status(&res), res.err);
		ck_assert_ptr_nonnull(strstr(res.err, "may not dump"));
		it_result_done(&res);
	}
	ck_assert_int_eq(it_target_ping(&t, 5000), 6);
	it_target_kill(&t);
}
END_TEST

/* Issue 15, item 3: a thread asleep in vfork() (its child never execs) cannot be stopped. With a
 * single dump worker and a short budget, a dump request for such a process must come back
 * within the budget, leave no thread of it stopped, and leave the worker free for the next. */
#define STUCK_BUDGET_MS 2000 /* dump_timeout_ms of the daemon in this test */
#define STUCK_SLACK_MS  1500 /* process start, mdctl and a loaded 2-core machine */
#define STUCK_WAIT_MS   5000 /* how long the target's vfork thread may take to fall asleep */

START_TEST(thread_stuck_in_vfork_does_not_hold_a_worker)
{
	const char *mdctl = it_env("MDCTL");
	static const char *const stuck_args[] = {"--vfork-stuck", NULL};
	struct it_target stuck, plain;
	char pid[16], sock[300], state = 0;
	struct it_result res;
	int64_t t0, took;
	pid_t asleep;
	json_t *j;

	ck_assert_int_eq(it_target_start(stuck_args, &stuck), 0);
	asleep = it_asleep_task(stuck.pid, STUCK_WAIT_MS);
	ck_assert_msg(asleep > 0, "no thread of the target fell asleep in vfork()");
	snprintf(pid, sizeof(pid), "%d", (int)stuck.pid);
	snprintf(sock, sizeof(sock), "--socket=%s", D.sock);
	{
		const char *argv[] = {mdctl, "dump", pid, sock, "--json", NULL};

		t0 = it_now_ms();
		ck_assert_int_eq(it_run(argv, NULL, 4 * STUCK_BUDGET_MS, &res), 0);
		took = it_now_ms() - t0;
	}
	ck_assert_msg(!res.timed_out && took <= STUCK_BUDGET_MS + STUCK_SLACK_MS,
	              "the request took %lld ms (%s), budget %d ms; log: %s", (long long)took,
	              it_result_status(&res), STUCK_BUDGET_MS, log_tail());
	/* the dump is written, partial: every thread but the one asleep, and the reason */
	ck_assert_msg(res.exited && res.code == 0, "mdctl: %s %s", it_result_status(&res), res.err);
	j = json_loads(res.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(json_is_true(json_object_get(j, "partial")), "not partial: %s", res.out);
	{
		char *errors = json_dumps(json_object_get(j, "errors"), 0);
		uint32_t *tids;
		int n = it_dump_tids(json_string_value(json_object_get(j, "path")), &tids);

		ck_assert_msg(errors && strstr(errors, "vfork"), "no reason in the report: %s",
		              errors ? errors : "(none)");
		ck_assert_int_eq(n, THREADS_DEFAULT_TARGET + 1);
		for (int i = 0; i < n; i++)
			ck_assert_int_ne(tids[i], asleep);
		free(tids);
		free(errors);
	}
	json_decref(j);
	it_result_done(&res);
	/* nothing of the target is left stopped, and it still works */
	ck_assert_msg(it_stopped_task(stuck.pid, &state) == 0, "a thread is left in state %c",
	              state);
	ck_assert_int_eq(it_task_state(stuck.pid, asleep), 'D');
	ck_assert_int_eq(it_target_ping(&stuck, 5000), THREADS_DEFAULT_TARGET);

	/* the one worker is free: the next request is served */
	ck_assert_int_eq(it_target_start(NULL, &plain), 0);
	snprintf(pid, sizeof(pid), "%d", (int)plain.pid);
	{
		const char *argv[] = {mdctl, "dump", pid, sock, NULL};

		ck_assert_int_eq(it_run(argv, NULL, APP_TIMEOUT_MS, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "second request: %s %s",
		              it_result_status(&res), res.err);
		it_result_done(&res);
	}
	it_target_kill(&plain);
	it_target_kill(&stuck);
}
END_TEST

/* The same with nothing that can be stopped: the process's one thread is in vfork(). The
 * request fails within the budget, saying why, and leaves the process running. */
START_TEST(process_stuck_in_vfork_is_refused_in_time)
{
	const char *mdctl = it_env("MDCTL");
	char pid[16], sock[300];
	struct it_result res;
	int64_t t0, took;
	pid_t child;

	child = fork_vfork_sleeper();
	ck_assert_int_gt(child, 0);
	ck_assert_int_eq(it_asleep_task(child, STUCK_WAIT_MS), child);
	snprintf(pid, sizeof(pid), "%d", (int)child);
	snprintf(sock, sizeof(sock), "--socket=%s", D.sock);
	{
		const char *argv[] = {mdctl, "dump", pid, sock, NULL};

		t0 = it_now_ms();
		ck_assert_int_eq(it_run(argv, NULL, 4 * STUCK_BUDGET_MS, &res), 0);
		took = it_now_ms() - t0;
	}
	ck_assert_msg(!res.timed_out && took <= STUCK_BUDGET_MS + STUCK_SLACK_MS,
	              "the request took %lld ms (%s), budget %d ms", (long long)took,
	              it_result_status(&res), STUCK_BUDGET_MS);
	ck_assert_msg(res.exited && res.code != 0 && strstr(res.err, "no thread could be stopped"),
	              "mdctl: %s %s", it_result_status(&res), res.err);
	it_result_done(&res);
	ck_assert_int_eq(it_task_state(child, child), 'D');
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}
END_TEST

static void stuck_setup(void)
{
	char config[128];

	snprintf(config, sizeof(config), "{\"dump_timeout_ms\": %d, \"max_concurrent_dumps\": 1}",
	         STUCK_BUDGET_MS);
	daemon_start_opts(&(struct daemon_opts){.config = config});
}

START_TEST(garbage_gets_an_error_and_the_daemon_keeps_serving)
{
	struct md_proto_msg m;
	uint8_t junk[64];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	ck_assert_int_eq(daemon_request(junk, sizeof(junk), false, REPLY_MS, &m), 0);
	ck_assert_int_eq(m.type, MD_MSG_ERROR);
	ck_assert_int_eq(m.error, -EBADMSG);
	/* still serving */
	{
		struct app_run run = run_app("segv", "after=garbage", NULL, NULL);

		ck_assert_int_eq(run.res.sig, SIGSEGV);
		ck_assert(has_dump(run.pid, "dmp"));
		it_result_done(&run.res);
	}
	ck_assert_int_eq(status_event_count("bad_header"), 1);
}
END_TEST

START_TEST(claimed_identity_is_ignored)
{
	uint8_t msg[256];
	struct md_proto_enc e;
	struct md_proto_msg m;
	json_t *j;
	int n;

	/* we say we are pid 1 and crashed; the daemon must dump us, the real peer */
	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_CRASH);
	md_proto_put_u32(&e, MD_TAG_PID, 1);
	md_proto_put_u32(&e, MD_TAG_TID, 1);
	md_proto_put_u32(&e, MD_TAG_SIGNO, 11);
	md_proto_put_u32(&e, MD_TAG_SI_CODE, 1);
	md_proto_put_u64(&e, MD_TAG_FAULT_ADDR, 0);
	n = md_proto_finish(&e);
	ck_assert_int_eq(daemon_request(msg, (size_t)n, false, REPLY_MS, &m), 0);
	ck_assert_int_eq(m.type, MD_MSG_RESULT);
	j = json_loads(m.text, 0, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), getpid());
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(j, "crash"), "thread_id")),
	    getpid());
	json_decref(j);
	ck_assert_int_eq(status_event_count("foreign_pid"), 1);
}
END_TEST

START_TEST(sigterm_during_a_crash_still_delivers_the_dump)
{
	struct it_proc p = app_spawn("thread-segv", "k=v", NULL);
	struct it_result r;
	int64_t deadline;
	int st;

	/* as soon as the daemon has the crash, ask it to stop */
	deadline = it_now_ms() + APP_TIMEOUT_MS;
	for (;;) {
		char *log = it_read_file(D.log, NULL);
		bool seen = log && strstr(log, "crashed:");

		free(log);
		if (seen)
			break;
		ck_assert(it_now_ms() < deadline);
		usleep(500);
	}
	kill(D.pid, SIGTERM);
	ck_assert_int_eq(it_wait(&p, APP_TIMEOUT_MS, &r), 0);
	ck_assert_int_eq(r.sig, SIGSEGV);
	ck_assert(has_dump(p.pid, "dmp"));
	ck_assert_int_eq(waitpid(D.pid, &st, 0), D.pid);
	D.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "minidumpd status 0x%x", st);
	it_result_done(&r);
}
END_TEST

static void activated_setup(void)
{
	daemon_start_opts(&(struct daemon_opts){.activated = true});
}

START_TEST(socket_activation_is_served)
{
	struct app_run run = run_app("segv", "via=activation", NULL, NULL);

	ck_assert_int_eq(run.res.sig, SIGSEGV);
	ck_assert(has_dump(run.pid, "dmp"));
	ck_assert(status_flag("socket_inherited"));
	it_result_done(&run.res);
}
END_TEST

CHECK_SUITE_FN(daemon_suite, "daemon",
               CHECK_CASE("crashes", daemon_start, daemon_teardown, 300,
                          CHECK_LOOP_EACH(crash_is_dumped_and_app_dies_by_its_signal, cases),
                          CHECK_TEST(stack_overflow_keeps_the_recursion),
                          CHECK_TEST(no_daemon_app_still_dies_promptly),
                          CHECK_TEST(frozen_daemon_app_dies_at_its_timeout),
                          CHECK_TEST(dump_now_keeps_the_app_running),
                          CHECK_TEST(two_apps_crashing_together_both_get_dumps),
                          CHECK_TEST(mdctl_dump_goes_through_the_daemon_and_is_authorized),
                          CHECK_TEST(garbage_gets_an_error_and_the_daemon_keeps_serving),
                          CHECK_TEST(claimed_identity_is_ignored),
                          CHECK_TEST(sigterm_during_a_crash_still_delivers_the_dump)),
               CHECK_CASE("activation", activated_setup, daemon_teardown, 120,
                          CHECK_TEST(socket_activation_is_served)),
               CHECK_CASE("stuck", stuck_setup, daemon_teardown, 120,
                          CHECK_TEST(thread_stuck_in_vfork_does_not_hold_a_worker),
                          CHECK_TEST(process_stuck_in_vfork_is_refused_in_time)));

CHECK_SUITE("daemon", daemon_suite);
