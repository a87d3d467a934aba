/* SPDX-License-Identifier: MIT */
/*
 * Integration suite of minidumpd's configuration: config and policy files (with the position
 * of what is wrong), the authorization policy as a real unprivileged user, crash-loop limits,
 * store limits, the byte budget, the metrics file and upload tickets. Each test starts the real
 * daemon with its own config file and judges what lands on disk.
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

#define NOBODY       "65534"
#define LOOP_FAST_MS 1000 /* a rate-limited crash is released at once: well within this */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Starts the daemon with a config file made of the given JSON body. */
static void start_with_config(const char *json)
{
	daemon_start_opts(&(struct daemon_opts){.config = json});
}

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), sl = strlen(suffix);

		if (de->d_name[0] != '.' && len > sl && strcmp(de->d_name + len - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

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

	start_with_config("{}");
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
	start_with_config(body);
	ck_assert_int_eq(it_target_start(NULL, &root_target), 0);
	ck_assert_int_eq(mdctl_as_nobody(root_target.pid), 0);
	daemon_teardown();

	/* a policy that does not include "own": nobody may not even dump its own process */
	write_text(pol, "{\"rules\": [{\"users\": \"*\", \"may_dump\": {\"users\": [1234]}}]}");
	start_with_config(body);
	start_nobody_target(&mine);
	ck_assert_int_eq(mdctl_as_nobody(mine.pid), 4);
	ck_assert_int_eq(status_count("refused"), 1);
	kill_proc(&mine);
	it_target_kill(&root_target);
	unlink(pol);
}
END_TEST

/* ---- crash loops and the store ---- */

START_TEST(crash_loop_limits_dumps_and_releases_apps_at_once)
{
	pid_t pids[5];
	char *log, *summary_glob;
	int rate_limited = 0;

	start_with_config("{\"crash_loop\": {\"max_crashes\": 2, \"window_s\": 600}}");
	for (int i = 0; i < 5; i++) {
		struct app_run run = run_app("segv", "loop=yes", NULL, NULL);

		ck_assert_int_eq(run.res.sig, SIGSEGV);
		pids[i] = run.pid;
		if (i >= 2)
			ck_assert_msg(run.res.duration < LOOP_FAST_MS,
			              "rate-limited crash took %lld ms",
			              (long long)run.res.duration);
		it_result_done(&run.res);
	}
	/* the first two are dumped, the rest are counted */
	ck_assert_int_eq(count_files(D.dumps, ".dmp"), 2);
	ck_assert(has_dump(pids[0], "dmp"));
	ck_assert(has_dump(pids[1], "dmp"));
	ck_assert(!has_dump(pids[4], "dmp"));
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/reports.jsonl", D.dumps);
		/* the journal is written after the apps are released: give it a moment */
		log = it_wait_file(path, "\"rate_limited\":true", 3, 10000);
		ck_assert_ptr_nonnull(log);
		for (char *p = log; (p = strstr(p, "\"rate_limited\":true")); p++)
			rate_limited++;
		ck_assert_int_eq(rate_limited, 3);
	}
	/* the program's summary holds the latest suppressed crash */
	ck_assert_int_eq(count_files(D.dumps, ".crashloop.json"), 1);
	summary_glob = NULL;
	{
		DIR *d = opendir(D.dumps);
		struct dirent *de;

		while ((de = readdir(d)))
			if (strstr(de->d_name, ".crashloop.json"))
				asprintf(&summary_glob, "%s/%s", D.dumps, de->d_name);
		closedir(d);
	}
	{
		json_t *j;

		free(it_wait_file(summary_glob, "\"suppressed_total\":3", 1, 10000));
		j = load_json(summary_glob);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), pids[4]);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "suppressed_total")), 3);
		json_decref(j);
	}
	free(summary_glob);
	free(log);
}
END_TEST

START_TEST(store_keeps_at_most_max_dumps_newest_first)
{
	pid_t pids[4];

	start_with_config("{\"store\": {\"max_dumps\": 2}, \"crash_loop\": {\"max_crashes\": 0}}");
	for (int i = 0; i < 4; i++) {
		struct app_run run = run_app("segv", "store=yes", NULL, NULL);

		ck_assert_int_eq(run.res.sig, SIGSEGV);
		pids[i] = run.pid;
		it_result_done(&run.res);
		usleep(1100 *
		       1000); /* file times have a resolution of a second on some filesystems */
	}
	ck_assert_int_eq(count_files(D.dumps, ".dmp"), 2);
	ck_assert(!has_dump(pids[0], "dmp"));
	ck_assert(!has_dump(pids[1], "json"));
	ck_assert(has_dump(pids[2], "dmp"));
	ck_assert(has_dump(pids[3], "dmp"));
	ck_assert(has_dump(pids[3], "json"));
}
END_TEST

/* Bytes of dumps and reports in the store. */
static uint64_t store_bytes(void)
{
	DIR *d = opendir(D.dumps);
	struct dirent *de;
	uint64_t total = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char path[600];
		struct stat st;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "reports.jsonl") == 0 ||
		    !((len > 4 && strcmp(de->d_name + len - 4, ".dmp") == 0) ||
		      (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", D.dumps, de->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

START_TEST(store_total_bytes_limit_removes_oldest)
{
	uint64_t one, limit;
	pid_t pids[5];
	char body[200];

	/* measure one dump with its report first, then allow about two and a half */
	start_with_config("{\"crash_loop\": {\"max_crashes\": 0}}");
	{
		struct app_run run = run_app("segv", "size=probe", NULL, NULL);

		it_result_done(&run.res);
	}
	one = store_bytes();
	ck_assert_uint_gt(one, 0);
	daemon_teardown();
	limit = one * 5 / 2;
	snprintf(body, sizeof(body),
	         "{\"store\": {\"max_total_bytes\": %llu}, \"crash_loop\": {\"max_crashes\": 0}}",
	         (unsigned long long)limit);
	start_with_config(body);
	for (int i = 0; i < 5; i++) {
		struct app_run run = run_app("segv", "size=yes", NULL, NULL);

		pids[i] = run.pid;
		it_result_done(&run.res);
		usleep(1100 * 1000);
	}
	ck_assert_uint_le(store_bytes(), limit);
	ck_assert_int_lt(count_files(D.dumps, ".dmp"), 5);
	ck_assert(!has_dump(pids[0], "dmp"));
	ck_assert(has_dump(pids[4], "dmp"));
	ck_assert(has_dump(pids[3], "dmp"));
}
END_TEST

/* The files the daemon writes besides dumps are bounded: the journal is rotated, and crash-loop
 * summaries are store items that age out with the dumps. */
START_TEST(journal_is_rotated_and_summaries_age_out)
{
	static char lines[1024 * 1024];
	char journal[300], old[300], summary[600], *text;
	struct timeval two_days_ago[2];
	struct app_run run;
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd;

	start_with_config("{\"crash_loop\": {\"max_crashes\": 1, \"window_s\": 600}}");
	/* a journal just under its 16 MiB limit */
	snprintf(journal, sizeof(journal), "%s/reports.jsonl", D.dumps);
	snprintf(old, sizeof(old), "%s/reports.jsonl.1", D.dumps);
	fd = open(journal, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	memset(lines, 'x', sizeof(lines));
	for (size_t i = 1023; i < sizeof(lines); i += 1024)
		lines[i] = '\n';
	for (int i = 0; i < 16; i++) /* text lines, 100 bytes short of 16 MiB */
		ck_assert_int_eq(write(fd, lines, sizeof(lines) - (i == 15 ? 100 : 0)),
		                 (ssize_t)(sizeof(lines) - (i == 15 ? 100 : 0)));
	close(fd);
	run = run_app("segv", "rotate=yes", NULL, NULL);
	ck_assert_int_eq(run.res.sig, SIGSEGV);
	it_result_done(&run.res);
	text = it_wait_file(journal, "rotate", 1, 10000);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(stat(old, &st), 0);
	ck_assert_int_eq(st.st_size, 16 * 1024 * 1024 - 100); /* the old one, whole */
	ck_assert_int_eq(stat(journal, &st), 0);
	ck_assert_int_lt(st.st_size, 64 * 1024); /* the new one: this report only */
	free(text);
	/* a second crash of the same program is summarized, not dumped */
	run = run_app("segv", "rotate=again", NULL, NULL);
	it_result_done(&run.res);
	free(it_wait_file(journal, "rate_limited", 1, 10000));
	ck_assert_int_eq(count_files(D.dumps, ".crashloop.json"), 1);
	ck_assert_int_eq(WEXITSTATUS(daemon_stop()), 0);
	/* two days later, with a one-day age limit, the store pass at start removes it */
	summary[0] = '\0';
	d = opendir(D.dumps);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".crashloop.json"))
			snprintf(summary, sizeof(summary), "%s/%s", D.dumps, de->d_name);
	closedir(d);
	ck_assert(summary[0]);
	gettimeofday(&two_days_ago[0], NULL);
	two_days_ago[0].tv_sec -= 2 * 86400;
	two_days_ago[1] = two_days_ago[0];
	ck_assert_int_eq(utimes(summary, two_days_ago), 0);
	write_text(D.conf, "{\"store\": {\"max_age_days\": 1}}");
	daemon_spawn(NULL); /* same folder, new config */
	for (int i = 0; i < 100 && access(summary, F_OK) == 0; i++)
		usleep(50 * 1000);
	ck_assert_msg(access(summary, F_OK) != 0, "%s was not removed", summary);
	ck_assert_int_eq(count_files(D.dumps, ".dmp"), 1); /* the day-old dump stays */
}
END_TEST

START_TEST(byte_budget_keeps_the_crash_readable)
{
	const int budget = 120000;
	char body[160], *dump, *report;
	struct app_run run;
	struct stat st;
	struct walk w;
	json_t *j;

	snprintf(body, sizeof(body), "{\"dump_max_bytes\": %d}", budget);
	start_with_config(body);
	run = run_app("thread-segv", "budget=yes", NULL, NULL);
	ck_assert_int_eq(run.res.sig, SIGSEGV);
	dump = find_dump(run.pid, "dmp");
	report = find_dump(run.pid, "json");
	ck_assert_ptr_nonnull(dump);
	ck_assert_int_eq(stat(dump, &st), 0);
	ck_assert_int_le(st.st_size, budget);
	j = load_json(report);
	ck_assert(json_is_true(json_object_get(j, "budget_cut")));
	json_decref(j);
	/* still a crash Breakpad can explain, with every thread */
	w = stackwalk(dump, NULL);
	ck_assert_str_eq(w.frame0, "crash_in_thread");
	ck_assert_int_eq(w.threads, 21);
	free(dump);
	free(report);
	it_result_done(&run.res);
}
END_TEST

START_TEST(metrics_file_and_upload_ticket)
{
	char body[800], metrics[200], outbox[200], ticket[600], *text;
	struct app_run run;
	struct stat st;
	json_t *j;

	snprintf(metrics, sizeof(metrics), "/tmp/check-config-metrics-%d.prom", (int)getpid());
	snprintf(outbox, sizeof(outbox), "/tmp/check-config-outbox-%d", (int)getpid());
	ck_assert_int_eq(mkdir(outbox, 0770), 0);
	snprintf(body, sizeof(body),
	         "{\"metrics_file\": \"%s\", \"upload\": {\"enabled\": true, \"outbox\": \"%s\"}}",
	         metrics, outbox);
	start_with_config(body);
	run = run_app("segv", "upload=yes", NULL, NULL);
	ck_assert_int_eq(run.res.sig, SIGSEGV);
	/* written after the app was released */
	text = it_wait_file(metrics, "minidumpd_dumps_total{result=\"ok\"} 1\n", 1, 10000);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "minidumpd_dumps_by_kind_total{kind=\"crash\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE minidumpd_dump_bytes_total counter"));
	free(text);
	/* the ticket is the report, complete, under the dump's id */
	{
		char *report = find_dump(run.pid, "json");
		const char *base = strrchr(report, '/') + 1;

		snprintf(ticket, sizeof(ticket), "%s/%s", outbox, base);
		j = load_json(ticket);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), run.pid);
		ck_assert_int_eq(access(json_string_value(json_object_get(j, "path")), R_OK), 0);
		json_decref(j);
		free(report);
	}
	ck_assert_int_eq(stat(ticket, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600); /* the outbox is root's group here */
	it_result_done(&run.res);
	unlink(metrics);
	it_rmtree(outbox);
}
END_TEST

START_TEST(compressed_store_is_read_by_mdctl)
{
	struct app_run run;
	char *path, pattern[400];
	struct it_result r;
	json_t *j;

	start_with_config("{\"store\": {\"compress\": true}}");
	run = run_app("thread-segv", "zstd=yes", NULL, NULL);
	ck_assert_int_eq(run.res.sig, SIGSEGV);
	ck_assert_int_eq(count_files(D.dumps, ".dmp.zst"), 1);
	ck_assert_int_eq(count_files(D.dumps, ".dmp"), 0);
	{
		char *report = find_dump(run.pid, "json");

		ck_assert_ptr_nonnull(report);
		snprintf(pattern, sizeof(pattern), "%s", report);
		free(report);
	}
	j = load_json(pattern);
	ck_assert(json_is_true(json_object_get(j, "compressed")));
	path = strdup(json_string_value(json_object_get(j, "path")));
	ck_assert_int_lt(json_integer_value(json_object_get(j, "bytes_on_disk")),
	                 json_integer_value(json_object_get(j, "bytes")));
	json_decref(j);
	{
		const char *argv[] = {it_env("MDCTL"), "inspect", "--json", path, NULL};

		ck_assert_int_eq(it_run(argv, NULL, 30000, &r), 0);
		ck_assert_msg(r.exited && r.code == 0, "inspect: %s %s", it_result_status(&r),
		              r.err);
		j = json_loads(r.out, 0, NULL);
		ck_assert_int_eq(json_array_size(json_object_get(j, "threads")), 21);
		ck_assert_str_eq(json_string_value(
		                     json_object_get(json_object_get(j, "exception"), "code_name")),
		                 "SIGSEGV");
		json_decref(j);
		it_result_done(&r);
	}
	free(path);
	it_result_done(&run.res);
}
END_TEST

CHECK_SUITE_FN(config_suite, "config",
               CHECK_CASE_PLAIN("files", CHECK_TEST(check_config_accepts_a_good_file),
                                CHECK_TEST(check_config_names_file_line_and_column),
                                CHECK_TEST(check_config_validates_the_policy)),
               CHECK_CASE("daemon", NULL, daemon_teardown, 300,
                          CHECK_TEST(default_policy_lets_users_dump_their_own_processes_only),
                          CHECK_TEST(policy_file_grants_and_restricts),
                          CHECK_TEST(crash_loop_limits_dumps_and_releases_apps_at_once),
                          CHECK_TEST(store_keeps_at_most_max_dumps_newest_first),
                          CHECK_TEST(store_total_bytes_limit_removes_oldest),
                          CHECK_TEST(journal_is_rotated_and_summaries_age_out),
                          CHECK_TEST(byte_budget_keeps_the_crash_readable),
                          CHECK_TEST(metrics_file_and_upload_ticket),
                          CHECK_TEST(compressed_store_is_read_by_mdctl)));

CHECK_SUITE("config", config_suite);
