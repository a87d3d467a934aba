/* SPDX-License-Identifier: MIT */
/*
 * What the coredump suite's files share (check-coredump*.c): the crashes they cause, whether
 * this machine can run them, and minidumpd serving a coredump socket in a fresh folder with
 * kernel.core_pattern pointing at it only for the life of one app.
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
#include <unistd.h>

#include "coredump-daemon-util.h"

/* crash-app-plain's modes: what the kernel's core of each must become */
const struct crash_case cd_cases[] = {
    {"segv", SIGSEGV, {"SIGSEGV", "0x0", "crash_segv", true, 1}},
    {"abort", SIGABRT, {"SIGABRT", NULL, "crash_abort", false, 1}},
    {"fpe", SIGFPE, {"SIGFPE", NULL, "crash_fpe", true, 1}},
    {"stackoverflow", SIGSEGV, {"SIGSEGV", NULL, "crash_recurse", true, 1}},
    {"thread-segv", SIGSEGV, {"SIGSEGV", "0x0", "crash_in_thread", true, 21}},
};
_Static_assert(sizeof(cd_cases) / sizeof(cd_cases[0]) == CD_N_CASES, "CD_N_CASES is wrong");

bool socket_tests_possible(void)
{
	const char *required = getenv("MD_COREDUMP_REQUIRED");

	/* tests/run says this machine can run them: a skip would hide a failure */
	if (required && !strcmp(required, "1"))
		ck_assert_msg(
		    cd_can_set_pattern() && cd_have_socket_mode(),
		    "the core_pattern tests cannot run here, yet tests/run says they can");
	if (!cd_can_set_pattern()) {
		fprintf(stderr, "SKIP coredump: /proc/sys/kernel/core_pattern is not writable here "
		                "(run as root)\n");
		return false;
	}
	if (!cd_have_socket_mode()) {
		fprintf(stderr,
		        "SKIP coredump: this kernel has no coredump socket (Linux < 6.16)\n");
		return false;
	}
	return true;
}

int listen_at(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

char cd_sock[300];

/* minidumpd in a fresh D.dir, serving the coredump socket D.dir/coredump.sock; extra: more
 * top-level config members ("" for none). */
void coredump_daemon_start(const char *extra)
{
	char outbox[300], text[2048], *at;
	FILE *f;

	daemon_dirs_new(NULL);
	snprintf(cd_sock, sizeof(cd_sock), "%s/coredump.sock", D.dir);
	snprintf(outbox, sizeof(outbox), "%s/outbox", D.dir);
	ck_assert_int_eq(mkdir(outbox, 0700), 0);
	snprintf(D.conf, sizeof(D.conf), "%s/minidumpd.json", D.dir);
	/* "@DIR@" in extra stands for D.dir */
	snprintf(text, sizeof(text), "%s", extra);
	if ((at = strstr(text, "@DIR@"))) {
		char tail[2048];

		snprintf(tail, sizeof(tail), "%s", at + 5);
		snprintf(at, sizeof(text) - (size_t)(at - text), "%s%s", D.dir, tail);
	}
	f = fopen(D.conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"coredump_socket\": \"%s\"%s%s}\n", cd_sock, text[0] ? ", " : "", text);
	ck_assert_int_eq(fclose(f), 0);
	daemon_spawn(NULL);
	for (int i = 0; i < 500 && access(cd_sock, F_OK) < 0; i++)
		usleep(10000);
	ck_assert_msg(access(cd_sock, F_OK) == 0, "no coredump socket; log: %s", log_tail());
}

/* Runs argv (with env, NULL-ended, may be NULL) with core_pattern "@@" (request protocol) or
 * "@" on the daemon's coredump socket, fs.suid_dumpable set when >= 0, only for the life of
 * the program, and waits for it. */
/* kernel.core_pattern for mode, pointing at cd_sock */
static void pattern_for(enum cd_mode mode, char *buf, size_t size)
{
	if (mode == CD_PIPE)
		snprintf(buf, size, "|%s --socket %s %%P %%I %%s %%t %%d %%u %%g",
		         it_env("MD_COREDUMP_HELPER"), cd_sock);
	else
		snprintf(buf, size, "%s%s", mode == CD_REQUEST ? "@@" : "@", cd_sock);
}

struct app_run run_with(const char *const *argv, const char *const *env, enum cd_mode mode,
                        int suid_dumpable)
{
	char pattern[1024];
	struct cd_guard guard;
	struct app_run run;
	struct it_proc p;
	int r;

	pattern_for(mode, pattern, sizeof(pattern));
	ck_assert_int_eq(cd_pattern_set(pattern, mode == CD_PIPE ? 16 : -1, suid_dumpable, &guard),
	                 0);
	r = it_spawn(argv, env, &p);
	if (r == 0)
		r = it_wait(&p, APP_TIMEOUT_MS, &run.res);
	cd_pattern_restore(&guard);
	ck_assert_int_eq(r, 0);
	run.pid = p.pid;
	return run;
}

struct app_run run_when_ready(const char *const *argv, const char *env0, enum cd_mode mode,
                              int suid_dumpable)
{
	char pattern[1024], fifo[600], go[620];
	const char *env[] = {go, env0, NULL};
	struct cd_guard guard;
	struct app_run run;
	struct it_proc p;
	int r, fd = -1;

	pattern_for(mode, pattern, sizeof(pattern));
	snprintf(fifo, sizeof(fifo), "%s/go", D.dir);
	snprintf(go, sizeof(go), "CRASH_APP_GO=%s", fifo);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(it_spawn(argv, env, &p), 0);
	/* the app opens the FIFO once it is ready to fault (its heap touched) */
	for (int64_t end = it_now_ms() + APP_TIMEOUT_MS; fd < 0 && it_now_ms() < end;)
		if ((fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
			usleep(5000);
	r = fd >= 0 ? cd_pattern_set(pattern, mode == CD_PIPE ? 16 : -1, suid_dumpable, &guard)
	            : -ETIMEDOUT;
	if (fd >= 0)
		close(fd); /* the app reads its end: it faults now */
	if (r == 0) {
		r = it_wait(&p, APP_TIMEOUT_MS, &run.res);
		cd_pattern_restore(&guard);
	} else {
		kill(p.pid, SIGKILL);
		it_wait(&p, APP_TIMEOUT_MS, &run.res);
	}
	ck_assert_msg(r == 0, "the app never got ready to fault, or core_pattern: %s",
	              strerror(-r));
	run.pid = p.pid;
	return run;
}

struct app_run run_with_pattern(const char *const *argv, enum cd_mode mode)
{
	return run_with(argv, NULL, mode, -1);
}

/* Dumps (".dmp") in the store whose name holds ".PID." */
int dumps_of(pid_t pid)
{
	char pat[32], *names;
	int n = 0;

	snprintf(pat, sizeof(pat), ".%d.", (int)pid);
	names = NULL;
	{
		DIR *d = opendir(D.dumps);
		struct dirent *e;

		ck_assert_ptr_nonnull(d);
		while ((e = readdir(d)))
			if (strstr(e->d_name, pat) && strstr(e->d_name, ".dmp"))
				n++;
		closedir(d);
	}
	free(names);
	return n;
}

/* The daemon's dump or report for pid: the task is let go once its dump is written, so the
 * report may follow its death by a little. Waits up to 10 s. */
char *wait_dump(pid_t pid, const char *ext)
{
	char *path = NULL;

	for (int i = 0; i < 1000 && !(path = find_dump_any(pid, ext)); i++)
		usleep(10000);
	return path;
}

bool coredump_daemon_begin(const char *extra)
{
	if (!socket_tests_possible())
		return false;
	coredump_daemon_start(extra);
	return true;
}

void coredump_daemon_end(struct app_run *run, char *report)
{
	free(report);
	it_result_done(&run->res);
	daemon_teardown();
}
