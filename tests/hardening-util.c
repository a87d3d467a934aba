/* SPDX-License-Identifier: MIT */
/*
 * Shared by the hardening suites (hardening-util.h): fixtures, raw protocol, status, apps.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hardening-util.h"

/* The storm's 64 crashes of one executable are not a crash loop: the limiter is off there. */

bool mounted;   /* something is mounted on D.dumps */
bool sanitized; /* an ASan/UBSan build: RSS figures include the sanitizers' own memory */

/* ---- figures ---- */

/* One line per test for the closing table: case, outcome, requests, bytes, time, RSS. */
void figures(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FIGURES %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

long proc_status_number(pid_t pid, const char *field, int nth)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + n + 1;

		if (strncmp(line, field, n) != 0 || line[n] != ':')
			continue;
		for (int i = 0; i <= nth; i++) {
			char *end;

			v = strtol(p, &end, 10);
			if (end == p) {
				v = -1;
				break;
			}
			p = end;
		}
		break;
	}
	fclose(f);
	return v;
}

long proc_kib(pid_t pid, const char *field)
{
	return proc_status_number(pid, field, 0);
}

int proc_fds(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return it_dir_count(path);
}

/* ---- the daemon under test ---- */

/* A fresh folder, a config file (config: defaults only, whatever /etc has) and a daemon. */
void daemon_setup_with(bool activated, const char *config)
{
	sanitized = getenv("MD_SANITIZED") && strcmp(getenv("MD_SANITIZED"), "1") == 0;
	signal(SIGPIPE, SIG_IGN);
	daemon_start_opts(&(struct daemon_opts){.config = config, .activated = activated});
}

void daemon_setup(void)
{
	daemon_setup_with(false, CONFIG_DEFAULT);
}

void storm_setup(void)
{
	daemon_setup_with(false, CONFIG_NO_LOOP);
}

void activated_setup(void)
{
	daemon_setup_with(true, CONFIG_DEFAULT);
}

/* SIGTERM, then the exit status; the daemon must exit 0 (no leak report, no crash). */
void daemon_stop_clean(void)
{
	int st = 0;

	if (D.pid <= 0)
		return;
	ck_assert_msg(daemon_stop_within(DAEMON_STOP_MS, &st) == 0,
	              "minidumpd did not exit within %d ms of SIGTERM", DAEMON_STOP_MS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "minidumpd ended with status 0x%x (a sanitizer report?); log:\n%s", st,
	              log_tail());
}

void hardening_teardown(void)
{
	char *log;

	if (mounted) {
		umount2(D.dumps, MNT_DETACH);
		mounted = false;
	}
	daemon_stop_clean();
	log = log_read();
	ck_assert_msg(!strstr(log, "Sanitizer") && !strstr(log, "runtime error"),
	              "sanitizer report in the daemon log:\n%s", log);
	free(log);
	daemon_teardown();
}

/* Waits until the daemon holds at most max connections (the status request's own included)
 * and its descriptor count is stable; returns that count. */
int settle(int max)
{
	int64_t deadline = it_now_ms() + REPLY_MS;
	int fds = -1, last = -2;

	while (it_now_ms() < deadline) {
		if (status_int("connections") <= max) {
			usleep(50000);
			fds = proc_fds(D.pid);
			if (fds == last)
				return fds;
			last = fds;
			continue;
		}
		usleep(20000);
	}
	ck_abort_msg("the daemon still holds more than %d connections", max);
	return -1;
}

/* ---- apps and dumps ---- */

/* Runs crash-app MODE against the daemon, with one extra variable (may be NULL). */
struct app_run crash_app(const char *mode, const char *extra_env)
{
	return run_app_opts(
	    mode, "suite=hardening",
	    &(struct app_opts){.extra_env = extra_env, .timeout_ms = APP_LOADED_MS});
}

/* A crash-app crash is dumped, promptly, and the app dies by its own signal. */
void assert_crash_served(const char *what)
{
	struct app_run run = crash_app("segv", NULL);
	char *dump;

	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s: app ended with %s", what,
	              it_result_status(&run.res));
	dump = find_dump_any(run.pid, "dmp");
	ck_assert_msg(dump != NULL, "%s: no dump for pid %d; log:\n%s", what, (int)run.pid,
	              log_tail());
	free(dump);
	it_result_done(&run.res);
}

/* `mdctl inspect FILE` accepts the file: a complete minidump. */
bool dump_is_valid(const char *path)
{
	const char *argv[] = {it_env("MDCTL"), "inspect", path, NULL};
	struct it_result res;
	bool ok;

	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ok = res.exited && res.code == 0;
	it_result_done(&res);
	return ok;
}

/* Nothing half-written under a final name: every *.dmp is a valid dump with its *.json,
 * every *.json belongs to a dump, no temporary file is left. Returns the number of dumps. */
int assert_dump_dir_clean(void)
{
	DIR *d = opendir(D.dumps);
	struct dirent *e;
	int dumps = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		char path[1024], other[1024];

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, "reports.jsonl") == 0 || strcmp(n, "filler") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", D.dumps, n);
		ck_assert_msg(n[0] != '.', "temporary file left behind: %s", path);
		if (len > 4 && strcmp(n + len - 4, ".dmp") == 0) {
			snprintf(other, sizeof(other), "%s/%.*s.json", D.dumps, (int)(len - 4), n);
			ck_assert_msg(dump_is_valid(path), "not a valid minidump: %s", path);
			ck_assert_msg(access(other, F_OK) == 0, "dump without a report: %s", path);
			dumps++;
		} else if (len > 5 && strcmp(n + len - 5, ".json") == 0) {
			json_t *j;

			snprintf(other, sizeof(other), "%s/%.*s.dmp", D.dumps, (int)(len - 5), n);
			j = json_load_file(path, 0, NULL);
			ck_assert_msg(j != NULL, "unreadable report %s", path);
			/* a crash-loop-limited crash has a report and, on purpose, no dump */
			if (!json_is_true(json_object_get(j, "rate_limited")))
				ck_assert_msg(access(other, F_OK) == 0, "report without a dump: %s",
				              path);
			json_decref(j);
		} else {
			ck_abort_msg("unexpected file in the dump folder: %s", path);
		}
	}
	closedir(d);
	return dumps;
}

/* Waits until pid has path open (its crash-app is blocked on the FIFO). */
bool has_open(pid_t pid, const char *path, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;

	do {
		char dir[64];
		DIR *d;
		struct dirent *e;
		bool found = false;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
		d = opendir(dir);
		while (d && !found && (e = readdir(d))) {
			char link[600], target[600];
			ssize_t n;

			snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
			n = readlink(link, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				found = strcmp(target, path) == 0;
			}
		}
		if (d)
			closedir(d);
		if (found)
			return true;
		usleep(2000);
	} while (it_now_ms() < deadline);
	return false;
}
