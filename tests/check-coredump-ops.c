/* SPDX-License-Identifier: MIT */
/*
 * Operating minidumpd as the kernel's crash handler: mdctl coredump enable / status / disable
 * in both modes, a crash of a 1 GiB-heap app costing no core, and the two sockets systemd hands
 * over (minidumpd.socket and minidumpd-coredump.socket). Part of the coredump suite
 * (check-coredump.c).
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

START_TEST(mdctl_enable_disable)
{
	const bool pipe_mode = _i == 1;
	const char *app[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	char before[CD_PATTERN_MAX], limit_before[32], state[400], now[CD_PATTERN_MAX];
	char *limit_now;
	struct cd_guard guard;
	struct it_result res;
	struct it_proc p;
	char *dump;

	if (!coredump_daemon_begin(""))
		return;
	snprintf(state, sizeof(state), "%s/core_pattern.previous", D.dir);
	ck_assert_int_eq(cd_pattern_get(before, sizeof(before)), 0);
	{
		char *t = it_read_file("/proc/sys/kernel/core_pipe_limit", NULL);

		ck_assert_ptr_nonnull(t);
		snprintf(limit_before, sizeof(limit_before), "%s", t);
		limit_before[strcspn(limit_before, "\n")] = '\0';
		free(t);
	}
	/* the guard "sets" the values they have: it is there to put them back */
	ck_assert_int_eq(cd_pattern_set(before, atoi(limit_before), -1, &guard), 0);
	{
		const char *argv[] = {it_env("MDCTL"),
		                      "coredump",
		                      "enable",
		                      "--coredump-socket",
		                      cd_sock,
		                      "--state",
		                      state,
		                      "--helper",
		                      it_env("MD_COREDUMP_HELPER"),
		                      pipe_mode ? "--pipe" : NULL,
		                      NULL};

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "enable: %s %s", it_result_status(&res),
		              res.err);
		it_result_done(&res);
	}
	ck_assert_int_eq(cd_pattern_get(now, sizeof(now)), 0);
	if (pipe_mode) {
		ck_assert_msg(now[0] == '|' && strstr(now, it_env("MD_COREDUMP_HELPER")), "'%s'",
		              now);
		limit_now = it_read_file("/proc/sys/kernel/core_pipe_limit", NULL);
		ck_assert_msg(limit_now && atoi(limit_now) > 0, "core_pipe_limit %s", limit_now);
		free(limit_now);
	} else {
		ck_assert_msg(!strncmp(now, "@@", 2) && !strcmp(now + 2, cd_sock), "'%s'", now);
	}
	{
		const char *argv[] = {it_env("MDCTL"),
		                      "coredump",
		                      "status",
		                      "--coredump-socket",
		                      cd_sock,
		                      "--state",
		                      state,
		                      "--socket",
		                      D.sock,
		                      "--helper",
		                      it_env("MD_COREDUMP_HELPER"),
		                      NULL};
		char want[CD_PATTERN_MAX + 32];

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "status: %s", res.out);
		ck_assert_msg(strstr(res.out, pipe_mode ? "mode: pipe" : "mode: socket"), "%s",
		              res.out);
		ck_assert_msg(strstr(res.out, "minidumpd: answers"), "%s", res.out);
		snprintf(want, sizeof(want), "previous handler: %s", before);
		ck_assert_msg(strstr(res.out, want), "%s", res.out);
		it_result_done(&res);
	}
	ck_assert_int_eq(it_spawn(app, NULL, &p), 0);
	ck_assert_int_eq(it_wait(&p, APP_TIMEOUT_MS, &res), 0);
	ck_assert_int_eq(res.sig, SIGSEGV);
	it_result_done(&res);
	{
		const char *argv[] = {
		    it_env("MDCTL"), "coredump", "disable",  "--coredump-socket",          cd_sock,
		    "--state",       state,      "--helper", it_env("MD_COREDUMP_HELPER"), NULL};

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "disable: %s", res.err);
		it_result_done(&res);
	}
	ck_assert_int_eq(cd_pattern_get(now, sizeof(now)), 0);
	ck_assert_str_eq(now, before);
	limit_now = it_read_file("/proc/sys/kernel/core_pipe_limit", NULL);
	ck_assert_int_eq(atoi(limit_now), atoi(limit_before));
	free(limit_now);
	ck_assert_int_eq(access(state, F_OK), -1);
	cd_pattern_restore(&guard);
	dump = wait_dump(p.pid, "json");
	ck_assert_msg(dump, "no dump while enabled; log: %s", log_tail());
	{
		json_t *j = load_json(dump);

		ck_assert_str_eq(json_string_value(json_object_get(j, "core_pattern_mode")),
		                 pipe_mode ? "pipe" : "socket");
		json_decref(j);
	}
	free(dump);
	daemon_teardown();
}
END_TEST

/* A 1 GiB heap costs nothing more: the app dies promptly, the dump is small and the daemon's
 * peak memory stays under 8 MiB (not checked under sanitizers, whose quarantine keeps freed
 * memory). */
START_TEST(big_heap_is_cheap)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	const char *san = getenv("MD_SANITIZED");
	struct app_run run;
	char path[64], *report, *status;
	long hwm_kib = -1;
	json_t *j;

	if (!coredump_daemon_begin(""))
		return;
	/* core_pattern is ours only for the fault itself: the heap takes a while to fill, and
	 * other programs' crashes meanwhile would be dumped here too, all adding to the peak */
	run = run_when_ready(argv, "CRASH_APP_HEAP_MB=1024", CD_REQUEST, -1);
	ck_assert_msg(run.res.sig == SIGSEGV, "%s", it_result_status(&run.res));
	report = wait_dump(run.pid, "json");
	ck_assert_msg(report, "no dump; log: %s", log_tail());
	j = load_json(report);
	ck_assert_int_lt(json_integer_value(json_object_get(j, "bytes_on_disk")), 1 << 20);
	json_decref(j);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)D.pid);
	status = it_read_file(path, NULL);
	ck_assert_ptr_nonnull(status);
	if (strstr(status, "VmHWM:"))
		hwm_kib = strtol(strstr(status, "VmHWM:") + 6, NULL, 10);
	free(status);
	if (!(san && !strcmp(san, "1")))
		ck_assert_msg(hwm_kib > 0 && hwm_kib < 8 * 1024, "minidumpd peak RSS %ld KiB",
		              hwm_kib);
	coredump_daemon_end(&run, report);
}
END_TEST

/* Under systemd: minidumpd.socket and minidumpd-coredump.socket handed over together, the
 * second named "coredump" (LISTEN_FDNAMES); crashes reach the inherited one. */
START_TEST(socket_activation_two_sockets)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int main_fd, core_fd;
	struct app_run run;
	char *report;

	if (!socket_tests_possible())
		return;
	daemon_dirs_new(NULL);
	snprintf(cd_sock, sizeof(cd_sock), "%s/coredump.sock", D.dir);
	main_fd = listen_at(D.sock);
	core_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(core_fd, 0);
	memcpy(a.sun_path, cd_sock, strlen(cd_sock) + 1);
	ck_assert_int_eq(bind(core_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(chmod(cd_sock, 0600), 0);
	ck_assert_int_eq(listen(core_fd, 16), 0);
	D.pid = fork();
	ck_assert_int_ge(D.pid, 0);
	if (D.pid == 0) {
		char pidbuf[16];
		int log = open(D.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(log, 2);
		dup2(2, 1);
		/* the order systemd may use: the coredump one first (moved out of the way first:
		 * either may be 3 or 4 already) */
		core_fd = fcntl(core_fd, F_DUPFD, 20);
		main_fd = fcntl(main_fd, F_DUPFD, 20);
		dup2(core_fd, 3);
		dup2(main_fd, 4);
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
		setenv("LISTEN_PID", pidbuf, 1);
		setenv("LISTEN_FDS", "2", 1);
		setenv("LISTEN_FDNAMES", "coredump:minidumpd.socket", 1);
		execl(it_env("MINIDUMPD"), "minidumpd", "--foreground", "--dump-dir", D.dumps,
		      "--socket", "/nonexistent/ignored.sock", (char *)NULL);
		_exit(127);
	}
	close(core_fd);
	close(main_fd);
	for (int i = 0; i < 500 && !log_has("coredump socket (inherited) ready"); i++)
		usleep(10000);
	ck_assert_msg(log_has("coredump socket (inherited) ready"), "log: %s", log_tail());
	run = run_with_pattern(argv, CD_REQUEST);
	ck_assert_int_eq(run.res.sig, SIGSEGV);
	report = wait_dump(run.pid, "json");
	ck_assert_msg(report, "no dump through the inherited socket; log: %s", log_tail());
	coredump_daemon_end(&run, report);
}
END_TEST

/* No /proc and no going back: the kernel's whole stream of a 21-thread crash, kept in a file,
 * is fed through a pipe without its process. The stacks and module headers are kept from the
 * stream as it goes by (within the backend's bound), and Breakpad still finds the crash in
 * crash_in_thread and every thread. */

void coredump_ops_tests(TCase *tc)
{
	tcase_add_loop_test(tc, mdctl_enable_disable, 0, 2);
	tcase_add_test(tc, big_heap_is_cheap);
	tcase_add_test(tc, socket_activation_two_sockets);
}
