/* SPDX-License-Identifier: MIT */
/*
 * Integration suite of minidumpd's configuration: config and policy files (with the position
 * of what is wrong) and the authorization policy as a real unprivileged user. What the config
 * sets about the store (crash-loop limits, store limits, the byte budget, the metrics file and
 * upload tickets) is check-config-store.c.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon-util.h"
#include "integration-util.h"

#define NOBODY "65534"

/* ---- config files ---- */

static struct it_result check_config(const char *json)
{
	char dir[] = "/tmp/check-config-XXXXXX", path[64];
	const char *argv[] = {it_env("MINIDUMPD"), "--check-config", "--config", path, NULL};
	struct it_result res;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.json", dir);
	write_text(path, json);
	ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
	it_rmtree(dir);
	return res;
}

START_TEST(check_config_accepts_a_good_file)
{
	struct it_result r =
	    check_config("{\n  \"max_concurrent_dumps\": 2,\n"
	                 "  \"store\": {\"max_dumps\": 100, \"max_age_days\": 30},\n"
	                 "  \"crash_loop\": {\"max_crashes\": 5, \"window_s\": 60}\n}\n");

	ck_assert_msg(r.exited && r.code == 0, "%s: %s", it_result_status(&r), r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "ok"));
	it_result_done(&r);
}
END_TEST

START_TEST(check_config_names_file_line_and_column)
{
	struct it_result r;

	/* an unknown key, nested, on line 3 */
	r = check_config("{\n  \"store\": {\n    \"max_dumpz\": 3\n  }\n}\n");
	ck_assert_msg(r.exited && r.code == 1, "%s", it_result_status(&r));
	ck_assert_msg(strstr(r.err, "c.json:3:5:") && strstr(r.err, "unknown key \"max_dumpz\""),
	              "got: %s", r.err);
	it_result_done(&r);
	/* a wrong type on line 2 */
	r = check_config("{\n  \"max_concurrent_dumps\": \"four\"\n}\n");
	ck_assert_msg(r.exited && r.code == 1 && strstr(r.err, "c.json:2:3:") &&
	                  strstr(r.err, "whole number"),
	              "got: %s", r.err);
	it_result_done(&r);
	/* a syntax error, as jansson places it */
	r = check_config("{\n  \"socket\": \"/run/x.sock\",,\n}\n");
	ck_assert_msg(r.exited && r.code == 1 && strstr(r.err, "c.json:2:"), "got: %s", r.err);
	it_result_done(&r);
	/* out of range */
	r = check_config("{\"max_concurrent_dumps\": 1000}");
	ck_assert_msg(r.exited && r.code == 1 && strstr(r.err, "between 0 and 64"), "got: %s",
	              r.err);
	it_result_done(&r);
}
END_TEST

START_TEST(check_config_validates_the_policy)
{
	char dir[] = "/tmp/check-config-XXXXXX", conf[64], pol[64], body[256];
	const char *argv[] = {it_env("MINIDUMPD"), "--check-config", "--config", conf, NULL};
	struct it_result r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/c.json", dir);
	snprintf(pol, sizeof(pol), "%s/policy.json", dir);
	snprintf(body, sizeof(body), "{\"policy\": \"%s\"}", pol);
	write_text(conf, body);
	write_text(
	    pol,
	    "{\"rules\": [\n  {\"users\": [\"no-such-user-xyz\"], \"may_dump\": \"any\"}\n]}\n");
	ck_assert_int_eq(it_run(argv, NULL, 10000, &r), 0);
	ck_assert_msg(r.exited && r.code == 1 && strstr(r.err, "policy.json:2:") &&
	                  strstr(r.err, "no user \"no-such-user-xyz\""),
	              "got: %s", r.err);
	it_result_done(&r);
	write_text(pol,
	           "{\"rules\": [{\"users\": \"*\", \"may_dump\": \"own\"},\n"
	           "  {\"groups\": [\"root\"], \"may_dump\": {\"users\": [0, \"nobody\"]}}]}\n");
	ck_assert_int_eq(it_run(argv, NULL, 10000, &r), 0);
	ck_assert_msg(r.exited && r.code == 0 && strstr(r.out, "2 policy rules"), "got: %s %s",
	              r.out, r.err);
	it_result_done(&r);
	it_rmtree(dir);
}
END_TEST

/* ---- policy, as a real unprivileged user ---- */

/* Starts tests/target-threads as nobody; returns its pid once it runs. */
static pid_t start_nobody_target(struct it_proc *p)
{
	const char *argv[] = {"setpriv",
	                      "--reuid=" NOBODY,
	                      "--regid=" NOBODY,
	                      "--clear-groups",
	                      it_env("TARGET_THREADS"),
	                      "--threads",
	                      "2",
	                      NULL};
	char path[64], exe[512];
	int64_t deadline = it_now_ms() + 10000;

	ck_assert_int_eq(it_spawn(argv, NULL, p), 0);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
	for (;;) {
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);

		if (n > 0) {
			exe[n] = '\0';
			if (strstr(exe, "target-threads"))
				break;
		}
		ck_assert(it_now_ms() < deadline);
		usleep(2000);
	}
	usleep(50000); /* let it get its threads going */
	return p->pid;
}

/* mdctl dump PID through the daemon, as nobody; returns the exit code. */
static int mdctl_as_nobody(pid_t pid)
{
	char pidbuf[16], sock[300];
	const char *argv[] = {"setpriv",
	                      "--reuid=" NOBODY,
	                      "--regid=" NOBODY,
	                      "--clear-groups",
	                      it_env("MDCTL"),
	                      "dump",
	                      pidbuf,
	                      sock,
	                      NULL};
	struct it_result r;
	int code;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	snprintf(sock, sizeof(sock), "--socket=%s", D.sock);
	ck_assert_int_eq(it_run(argv, NULL, APP_TIMEOUT_MS, &r), 0);
	ck_assert_msg(r.exited, "mdctl %s", it_result_status(&r));
	code = r.code;
	if (code == 4)
		ck_assert_ptr_nonnull(strstr(r.err, "may not dump"));
	it_result_done(&r);
	return code;
}

static void kill_proc(struct it_proc *p)
{
	struct it_result r;

	kill(p->pid, SIGKILL);
	it_wait(p, 10000, &r);
	it_result_done(&r);
}

START_TEST(default_policy_lets_users_dump_their_own_processes_only)
{
	struct it_proc mine, roots;
	struct it_target root_target;

	daemon_start_config("{}");
	start_nobody_target(&mine);
	ck_assert_int_eq(it_target_start(NULL, &root_target), 0);
	ck_assert_int_eq(mdctl_as_nobody(mine.pid), 0);
	ck_assert_int_eq(mdctl_as_nobody(root_target.pid), 4);
	(void)roots;
	it_target_kill(&root_target);
	kill_proc(&mine);
}
END_TEST

START_TEST(policy_file_grants_and_restricts)
{
	char pol[300], body[400];
	struct it_proc mine;
	struct it_target root_target;

	/* nobody may dump anything; others nothing but what is listed */
	snprintf(pol, sizeof(pol), "/tmp/check-config-policy-%d.json", (int)getpid());
	write_text(pol, "{\"rules\": [{\"users\": [\"nobody\"], \"may_dump\": \"any\"}]}");
	snprintf(body, sizeof(body), "{\"policy\": \"%s\"}", pol);
	daemon_start_config(body);
	ck_assert_int_eq(it_target_start(NULL, &root_target), 0);
	ck_assert_int_eq(mdctl_as_nobody(root_target.pid), 0);
	daemon_teardown();

	/* a policy that does not include "own": nobody may not even dump its own process */
	write_text(pol, "{\"rules\": [{\"users\": \"*\", \"may_dump\": {\"users\": [1234]}}]}");
	daemon_start_config(body);
	start_nobody_target(&mine);
	ck_assert_int_eq(mdctl_as_nobody(mine.pid), 4);
	ck_assert_int_eq(status_count("refused"), 1);
	kill_proc(&mine);
	it_target_kill(&root_target);
	unlink(pol);
}
END_TEST

static Suite *config_suite(void)
{
	const struct check_test files[] = {
	    CHECK_TEST(check_config_accepts_a_good_file),
	    CHECK_TEST(check_config_names_file_line_and_column),
	    CHECK_TEST(check_config_validates_the_policy),
	    CHECK_END,
	};
	const struct check_test policy[] = {
	    CHECK_TEST(default_policy_lets_users_dump_their_own_processes_only),
	    CHECK_TEST(policy_file_grants_and_restricts),
	    CHECK_END,
	};
	const struct check_tcase tcases[] = {
	    {.name = "files", .tests = files},
	    {.name = "daemon", .tests = policy, .teardown = daemon_teardown, .timeout = 300},
	    CHECK_END,
	};

	return check_suite_of("config", tcases);
}

CHECK_SUITE("config", config_suite);
