/* SPDX-License-Identifier: MIT */
/*
 * minidumpd as the kernel's crash handler (docs/coredump.md), end to end: crash-app-plain's
 * crashes through the coredump socket ("@@" and "@") and the pipe helper, each dump judged by
 * minidump_stackwalk and lldb and listed by mdctl; a shim-linked app stored once; a crash loop
 * rejected; a set-uid-root app's dump kept private; a task in its own pid namespace; minidumpd
 * stopped. Part of the coredump suite (check-coredump.c); kernel.core_pattern is changed only
 * under a guard (coredump-util.h).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coredump-daemon-util.h"

static void check_daemon_case(const struct crash_case *c, enum cd_mode mode)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), c->mode, NULL};
	struct app_run run;
	char *dump, *report;
	struct stat st;
	json_t *j;

	if (!coredump_daemon_begin(""))
		return;
	run = run_with_pattern(argv, mode);
	ck_assert_msg(!run.res.exited && !run.res.timed_out && run.res.sig == c->sig,
	              "%s: app ended with %s", c->mode, it_result_status(&run.res));
	ck_assert_msg(run.res.duration < APP_TIMEOUT_MS / 3, "%s: took %lld ms to die", c->mode,
	              (long long)run.res.duration);
	dump = wait_dump(run.pid, "dmp");
	report = wait_dump(run.pid, "json");
	ck_assert_msg(dump && report, "%s: no dump/report for pid %d; log: %s", c->mode,
	              (int)run.pid, log_tail());
	ck_assert_int_eq(stat(dump, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	j = load_json(report);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "coredump");
	ck_assert_str_eq(json_string_value(json_object_get(j, "core_pattern_mode")),
	                 mode == CD_PIPE ? "pipe" : "socket");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), run.pid);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "crash"), "code")),
	                 c->sig);
	ck_assert(json_is_true(json_object_get(j, "dumpable")));
	{
		/* every thread of the core was found under /proc (named, host tids) */
		json_t *errors = json_object_get(j, "errors"), *e;
		size_t k;

		json_array_foreach(errors, k, e)
		{
			const char *m = json_string_value(json_object_get(e, "message"));

			ck_assert_msg(!m || !strstr(m, "not found under /proc"), "%s: %s", c->mode,
			              m);
		}
	}
	json_decref(j);

	assert_walk(dump, &c->walk, c->mode);
	{
		/* lldb reads it too and lists every thread */
		const char *largv[] = {"lldb", "--batch", "-c", dump, "-o", "thread list", NULL};
		struct it_result res;

		ck_assert_int_eq(it_run(largv, NULL, 120000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "lldb: %s", it_result_status(&res));
		ck_assert_msg(strstr(res.out, "stop reason"), "lldb: [%s]", res.out);
		if (c->walk.threads > 1) {
			int n = 0;

			for (const char *p = res.out; (p = strstr(p, "thread #")); p++)
				n++;
			ck_assert_int_eq(n, c->walk.threads);
		}
		it_result_done(&res);
	}
	{
		/* the store's tools see it like any other dump */
		char pidbuf[16];
		const char *largv[] = {it_env("MDCTL"), "list",  "--dump-dir", D.dumps,  "--kind",
		                       "coredump",      "--pid", pidbuf,       "--json", NULL};
		struct it_result res;

		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)run.pid);
		ck_assert_int_eq(it_run(largv, NULL, 30000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "mdctl list: %s %s",
		              it_result_status(&res), res.err);
		ck_assert_msg(strstr(res.out, "\"coredump\"") && strstr(res.out, pidbuf),
		              "mdctl list: [%s]", res.out);
		it_result_done(&res);
	}
	free(dump);
	coredump_daemon_end(&run, report);
}

START_TEST(daemon_request_protocol)
{
	check_daemon_case(&cd_cases[_i], CD_REQUEST);
}
END_TEST

START_TEST(daemon_plain_socket)
{
	check_daemon_case(&cd_cases[0], CD_SOCKET);
}
END_TEST

/* The pipe helper (kernels before 6.16): the same dumps, core_pattern_mode "pipe". */
START_TEST(daemon_pipe_helper)
{
	check_daemon_case(&cd_cases[_i], CD_PIPE);
}
END_TEST

/* An app linked with libmdclient is dumped by its shim; when it then dies by its signal the
 * kernel calls the coredump socket too, and is turned away: one crash, one dump. */
START_TEST(shim_app_dumped_once)
{
	const char *argv[] = {it_env("CRASH_APP"), "segv", NULL};
	char sockenv[300];
	const char *env[] = {sockenv, NULL};
	struct app_run run;
	char *report;
	json_t *j;

	if (!coredump_daemon_begin(""))
		return;
	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", D.sock);
	run = run_with(argv, env, CD_REQUEST, -1);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s", it_result_status(&run.res));
	/* the kernel's call is answered on a worker: give it a moment to be logged */
	for (int i = 0; i < 200 && !log_has("already dumped through its client"); i++)
		usleep(10000);
	ck_assert_msg(log_has("already dumped through its client"), "log: %s", log_tail());
	ck_assert_int_eq(dumps_of(run.pid), 1);
	report = wait_dump(run.pid, "json");
	ck_assert_ptr_nonnull(report);
	j = load_json(report);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "crash");
	json_decref(j);
	coredump_daemon_end(&run, report);
}
END_TEST

/* Past the crash-loop limit the kernel is answered COREDUMP_REJECT: no dump, and no core
 * written anywhere (the app's folder stays empty). */
START_TEST(crash_loop_rejected)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	struct app_run first, second;

	if (!coredump_daemon_begin("\"crash_loop\": {\"max_crashes\": 1, \"window_s\": 3600}"))
		return;
	first = run_with_pattern(argv, CD_REQUEST);
	ck_assert_int_eq(first.res.sig, SIGSEGV);
	free(wait_dump(first.pid, "json"));
	ck_assert_int_eq(dumps_of(first.pid), 1);
	second = run_with_pattern(argv, CD_REQUEST);
	ck_assert_msg(!second.res.exited && second.res.sig == SIGSEGV, "%s",
	              it_result_status(&second.res));
	ck_assert_msg(second.res.duration < 2000, "the rejected app took %lld ms to die",
	              (long long)second.res.duration);
	for (int i = 0; i < 200 && !log_has("no core either"); i++)
		usleep(10000);
	ck_assert_msg(log_has("no core either"), "log: %s", log_tail());
	ck_assert_int_eq(dumps_of(second.pid), 0);
	ck_assert_msg(access("core", F_OK) < 0, "a core file was written");
	it_result_done(&first.res);
	it_result_done(&second.res);
	daemon_teardown();
}
END_TEST

/* A set-uid-root program crashing as nobody with fs.suid_dumpable=2: dumped, but the dump is
 * root's alone (0600, not the dump group's) and not handed to the uploader; the report says
 * why. */
START_TEST(setuid_dump_is_private)
{
	const char *plain = it_env("CRASH_APP_PLAIN");
	char copy[512], outbox[512];
	const char *argv[] = {
	    "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copy, "segv", NULL};
	struct app_run run;
	char *dump, *report, *data;
	struct stat st;
	size_t len;
	json_t *j;
	int fd;

	if (!coredump_daemon_begin("\"dump_group\": \"nogroup\", \"upload\": {\"enabled\": true, "
	                           "\"outbox\": \"@DIR@/outbox\"}"))
		return;
	snprintf(outbox, sizeof(outbox), "%s/outbox", D.dir);
	/* a set-uid root copy of the plain app, where nobody may run it */
	snprintf(copy, sizeof(copy), "%s/crash-app-suid", D.dir);
	data = it_read_file(plain, &len);
	ck_assert_ptr_nonnull(data);
	fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, 04755), 0);
	close(fd);
	free(data);
	ck_assert_int_eq(chmod(D.dir, 0755), 0);

	/* fs.suid_dumpable counts when the app is exec'd: the pattern is set from before */
	run = run_with(argv, NULL, CD_REQUEST, 2);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s: %s",
	              it_result_status(&run.res), run.res.err);
	/* setpriv execs the app: same pid */
	dump = wait_dump(run.pid, "dmp");
	report = wait_dump(run.pid, "json");
	ck_assert_msg(dump && report, "no dump for the set-uid app; log: %s", log_tail());
	ck_assert_int_eq(stat(dump, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_uint_eq(st.st_gid, 0);
	j = load_json(report);
	ck_assert(json_is_false(json_object_get(j, "dumpable")));
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "private_because")), "not dumpable"));
	json_decref(j);
	{
		/* no upload ticket for it (another program's crash on this machine meanwhile may
		 * have left one: only ours counts) */
		char pat[32];
		struct dirent *e;
		DIR *d = opendir(outbox);

		snprintf(pat, sizeof(pat), ".%d.", (int)run.pid);
		ck_assert_ptr_nonnull(d);
		while ((e = readdir(d)))
			ck_assert_msg(!strstr(e->d_name, pat), "an upload ticket: %s", e->d_name);
		closedir(d);
	}
	free(dump);
	coredump_daemon_end(&run, report);
}
END_TEST

/* A process in its own pid namespace: the report gives its pid there (NSpid) and its
 * cgroup; the dump carries the host's thread ids. */
START_TEST(pid_namespace)
{
	const char *argv[] = {"unshare", "--pid", "--fork", it_env("CRASH_APP_PLAIN"),
	                      "segv",    NULL};
	struct app_run run;
	char name[256] = "", report_path[600], dump_path[600];
	const char *nspid;
	struct dirent *e;
	struct walk w;
	json_t *j;
	DIR *d;

	if (!coredump_daemon_begin(""))
		return;
	run = run_with_pattern(argv, CD_REQUEST);
	/* unshare reports its child's death by the signal as its own exit status */
	ck_assert_msg(run.res.sig == SIGSEGV || (run.res.exited && run.res.code == 128 + SIGSEGV),
	              "%s", it_result_status(&run.res));
	for (int i = 0; i < 1000 && !name[0]; i++) {
		d = opendir(D.dumps);
		ck_assert_ptr_nonnull(d);
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, "crash-app-plain.", 16) &&
			    strstr(e->d_name, ".json"))
				snprintf(name, sizeof(name), "%s", e->d_name);
		closedir(d);
		if (!name[0])
			usleep(10000);
	}
	ck_assert_msg(name[0], "no report; log: %s", log_tail());
	snprintf(report_path, sizeof(report_path), "%s/%s", D.dumps, name);
	j = load_json(report_path);
	nspid = json_string_value(json_object_get(j, "nspid"));
	ck_assert_ptr_nonnull(nspid);
	/* two levels: the host's pid, then 1 (the namespace's first process) */
	ck_assert_msg(strchr(nspid, '\t') && !strcmp(strrchr(nspid, '\t') + 1, "1"), "NSpid '%s'",
	              nspid);
	ck_assert_int_eq(strtol(nspid, NULL, 10), json_integer_value(json_object_get(j, "pid")));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "cgroup")));
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(j, "crash"), "thread_id")),
	    strtol(nspid, NULL, 10));
	snprintf(dump_path, sizeof(dump_path), "%s", json_string_value(json_object_get(j, "path")));
	json_decref(j);
	w = stackwalk(dump_path, "crash_segv");
	ck_assert_str_eq(w.frame0, "crash_segv");
	it_result_done(&run.res);
	daemon_teardown();
}
END_TEST

/* With minidumpd stopped, the kernel finds no socket: the app dies at once, nothing hangs. */
START_TEST(daemon_stopped_app_dies_at_once)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	struct app_run run;

	if (!coredump_daemon_begin(""))
		return;
	daemon_stop();
	run = run_with_pattern(argv, _i ? CD_PIPE : CD_REQUEST);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s", it_result_status(&run.res));
	ck_assert_msg(run.res.duration < 1000, "took %lld ms", (long long)run.res.duration);
	ck_assert_int_eq(dumps_of(run.pid), 0);
	it_result_done(&run.res);
	daemon_teardown();
}
END_TEST

/* mdctl coredump enable / status / disable: the pattern it sets works, and the previous
 * handler comes back. Under a guard that restores the values of before, whatever happens. */

void coredump_daemon_tests(TCase *tc)
{
	tcase_add_loop_test(tc, daemon_request_protocol, 0, CD_N_CASES);
	tcase_add_test(tc, daemon_plain_socket);
	tcase_add_test(tc, shim_app_dumped_once);
	tcase_add_test(tc, crash_loop_rejected);
	tcase_add_test(tc, setuid_dump_is_private);
	tcase_add_test(tc, pid_namespace);
	tcase_add_loop_test(tc, daemon_stopped_app_dies_at_once, 0, 2);
	tcase_add_loop_test(tc, daemon_pipe_helper, 0, CD_N_CASES);
}
