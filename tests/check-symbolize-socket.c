/* SPDX-License-Identifier: MIT */
/*
 * The symbolize suite's socket cases: md-symbolize as the service behind a socket with
 * Accept=yes (systemd/minidumpd-symbolize.socket), which is how minidumpd symbolizes under its
 * unit, where it cannot sandbox a helper itself. Here the test plays systemd's part: it listens,
 * and runs `md-symbolize --request-on-stdin` with each connection as stdin and stdout, as
 * systemd does (tests/systemd/run checks the real units). The daemon runs as under its unit,
 * without CAP_SETUID and CAP_SETGID: without symbolize.socket its reports get no stack, with it
 * they get the symbolized stack. Then the helper's side alone: requests that break the wire
 * format (common/md-symbolize-wire.h) or name descriptors it was not given are refused with the
 * reason, never acted on.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-symbolize.h"
#include "daemon-util.h"
#include "integration-util.h"
#include "md-symbolize-wire.h"

#define STACK_WAIT_MS  30000 /* ms the stacks may take to reach the report */
#define ANSWER_WAIT_MS 20000 /* ms the helper may take to answer one request */

static pid_t activator_pid; /* the test's stand-in for systemd's socket, or 0 */
static char *activator_dir;

static void socket_teardown(void)
{
	if (activator_pid > 0) {
		kill(activator_pid, SIGKILL);
		waitpid(activator_pid, NULL, 0);
		activator_pid = 0;
	}
	daemon_teardown();
	if (activator_dir) {
		it_rmtree(activator_dir);
		free(activator_dir);
		activator_dir = NULL;
	}
}

/* Starts the helper with sock as its stdin and stdout (stderr to err_path, or inherited), as an
 * Accept=yes service instance. Returns its pid. */
static pid_t helper_on(int sock, const char *err_path)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644) : 2;

		if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || err < 0 || dup2(err, 2) < 0)
			_exit(126);
		close_range(3, ~0u, 0);
		execl(it_env("MD_SYMBOLIZE"), "md-symbolize", "--request-on-stdin", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Listens on path and runs a helper per connection until killed; returns once listening. */
static void activator_start(const char *path, const char *err_path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(l, 0);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(listen(l, 16), 0);
	activator_pid = fork();
	ck_assert_int_ge(activator_pid, 0);
	if (activator_pid == 0) {
		signal(SIGCHLD, SIG_IGN); /* the instances reap themselves */
		for (;;) {
			int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			helper_on(c, err_path);
			close(c);
		}
	}
	close(l);
}

static json_t *report_with_symbolizer(pid_t pid)
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

/* The daemon without CAP_SETUID/CAP_SETGID (as under minidumpd.service): round 0 without
 * symbolize.socket, no stacks at all; round 1 with it, the symbolized stack and the log line. */
START_TEST(daemon_symbolizes_through_the_socket_service)
{
	static const char *const wrap[] = {"setpriv", "--bounding-set=-setuid,-setgid", NULL};
	char sock[512], config[1024], errlog[512], line[256];
	struct app_run run;
	json_t *j, *sym;

	activator_dir = it_tempdir(0755);
	snprintf(sock, sizeof(sock), "%s/symbolize.sock", activator_dir);
	snprintf(errlog, sizeof(errlog), "%s/helper.err", activator_dir);
	activator_start(sock, errlog);
	snprintf(config, sizeof(config), "{\"symbolize\": {\"socket\": \"%s\"}}", sock);
	daemon_start_opts(&(struct daemon_opts){.wrapper = wrap, .config = _i ? config : NULL});
	run = run_app("segv", NULL, NULL, NULL);
	ck_assert_msg(!run.res.exited, "crash-app did not crash: %s", it_result_status(&run.res));
	if (_i == 0) {
		/* the control: this daemon cannot sandbox a helper, so it does not run one */
		char *report;

		usleep(1500 * 1000);
		report = find_dump(run.pid, "json");
		ck_assert_ptr_nonnull(report);
		j = load_json(report);
		free(report);
		ck_assert_ptr_nonnull(j);
		ck_assert_msg(!json_object_get(j, "symbolizer") && !json_object_get(j, "stack"),
		              "a daemon without CAP_SETUID symbolized in its own sandbox");
		json_decref(j);
		it_result_done(&run.res);
		return;
	}
	j = report_with_symbolizer(run.pid);
	ck_assert_msg(j, "no stacks in the report; log:\n%s", log_tail());
	sym = json_object_get(j, "symbolizer");
	ck_assert_msg(!json_object_get(sym, "error"), "symbolizer error: %s",
	              json_string_value(json_object_get(sym, "error")));
	ck_assert_str_eq(json_string_value(json_object_get(sym, "version")), "0.1.0");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(j, "stack"), 0), "function")),
	                 "crash_segv");
	snprintf(line, sizeof(line), "pid %d (crash-app) crashed in crash_segv()", (int)run.pid);
	ck_assert_msg(log_has(line), "the log does not say '%s':\n%s", line, log_tail());
	json_decref(j);
	it_result_done(&run.res);
}
END_TEST

/* One request on a socketpair to a fresh helper: header (magic replaced unless NULL), fds in
 * batches as given, then args; returns the helper's answer (owned) and its exit status. */
struct batch {
	const int *fds;
	size_t n;
};

static char *ask(const char *magic, uint32_t n_fds, const struct batch *batches, size_t n_batches,
                 const char *args, size_t args_len, const char *trailer, int *ret_status)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(8 * sizeof(int))];
	} control;
	struct md_symbolize_wire_header h = {.n_fds = n_fds, .args_len = (uint32_t)args_len};
	int sv[2], status;
	char *out = calloc(1, 65536);
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = helper_on(sv[1], "/dev/null");
	close(sv[1]);
	memcpy(h.magic, magic ? magic : MD_SYMBOLIZE_WIRE_MAGIC, sizeof(h.magic));
	send(sv[0], &h, sizeof(h), MSG_NOSIGNAL);
	for (size_t i = 0; i < n_batches; i++) {
		char byte = MD_SYMBOLIZE_WIRE_FD_BYTE;
		struct iovec iov = {.iov_base = &byte, .iov_len = 1};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

		if (batches[i].n) {
			struct cmsghdr *c;

			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(batches[i].n * sizeof(int));
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(batches[i].n * sizeof(int));
			memcpy(CMSG_DATA(c), batches[i].fds, batches[i].n * sizeof(int));
		}
		sendmsg(sv[0], &msg, MSG_NOSIGNAL);
	}
	send(sv[0], args, args_len, MSG_NOSIGNAL);
	if (trailer)
		send(sv[0], trailer, strlen(trailer), MSG_NOSIGNAL);
	shutdown(sv[0], SHUT_WR);
	{
		struct timeval tv = {.tv_sec = ANSWER_WAIT_MS / 1000};

		setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	while (len < 65535 && (n = recv(sv[0], out + len, 65535 - len, 0)) > 0)
		len += (size_t)n;
	close(sv[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*ret_status = status;
	return out;
}

/* What the helper answered to a request it must refuse: an error naming why, exit 1. */
static void assert_refused(char *out, int status, const char *why)
{
	json_t *j = json_loads(out, 0, NULL);
	const char *err = json_string_value(json_object_get(j, "error"));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d: %s", status, out);
	ck_assert_msg(err && strstr(err, why), "want '%s', answered: %s", why, out);
	ck_assert_ptr_null(json_object_get(j, "threads"));
	json_decref(j);
	free(out);
}

START_TEST(helper_takes_only_a_well_formed_request)
{
	static const char good[] = "--dump-fd=3\0--all-threads";
	static const char other_fd[] = "--dump-fd=4";
	static const char module_fd[] = "--dump-fd=3\0--module=0:7:-1";
	static const char no_seccomp[] = "--dump-fd=3\0--no-seccomp";
	char *dump, *writable_path, *out;
	int fd, wfd, status;
	struct app_run run;
	json_t *j;

	daemon_start();
	run = run_app("segv", NULL, NULL, NULL);
	ck_assert_msg(!run.res.exited, "crash-app did not crash");
	dump = find_dump(run.pid, "dmp");
	ck_assert_ptr_nonnull(dump);
	it_result_done(&run.res);
	fd = open(dump, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(asprintf(&writable_path, "%s/writable.dmp", D.dir), 0);
	wfd = open(writable_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(wfd, 0);
	{
		struct batch one = {&fd, 1};

		/* the control: a well-formed request is answered with the stacks; given no
		 * module file, frame 0 is module + offset, and it says so */
		json_t *f0;

		out = ask(NULL, 1, &one, 1, good, sizeof(good), NULL, &status);
		j = json_loads(out, 0, NULL);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 && j, "%s", out);
		f0 = json_array_get(
		    json_object_get(json_array_get(json_object_get(j, "threads"), 0), "frames"), 0);
		ck_assert_str_eq(json_string_value(json_object_get(f0, "module")), "crash-app");
		ck_assert_str_eq(json_string_value(json_object_get(f0, "missing")),
		                 "no file at the module's path");
		json_decref(j);
		free(out);

		out = ask("MDSYMRQ0", 1, &one, 1, good, sizeof(good), NULL, &status);
		assert_refused(out, status, "not a minidumpd symbolize request");
		/* a descriptor number it was not given: its own stderr, say */
		out = ask(NULL, 1, &one, 1, other_fd, sizeof(other_fd), NULL, &status);
		assert_refused(out, status, "bad --dump-fd");
		out = ask(NULL, 1, &one, 1, module_fd, sizeof(module_fd), NULL, &status);
		assert_refused(out, status, "bad --module");
		out = ask(NULL, 1, &one, 1, no_seccomp, sizeof(no_seccomp), NULL, &status);
		assert_refused(out, status, "--no-seccomp is refused");
		out = ask(NULL, 1, &one, 1, good, sizeof(good), "more", &status);
		assert_refused(out, status, "bytes after the arguments");
		/* the last argument without its NUL */
		out = ask(NULL, 1, &one, 1, good, sizeof(good) - 1, NULL, &status);
		assert_refused(out, status, "not terminated");
	}
	{
		int two[2] = {fd, fd};
		struct batch more = {two, 2}, none = {NULL, 0}, w = {&wfd, 1};

		out = ask(NULL, 1, &more, 1, good, sizeof(good), NULL, &status);
		assert_refused(out, status, "did not have the descriptors");
		out = ask(NULL, 1, &none, 1, good, sizeof(good), NULL, &status);
		assert_refused(out, status, "did not have the descriptors");
		out = ask(NULL, 1, &w, 1, good, sizeof(good), NULL, &status);
		assert_refused(out, status, "open read-only");
		out = ask(NULL, 0, NULL, 0, good, sizeof(good), NULL, &status);
		assert_refused(out, status, "out of bounds");
	}
	close(wfd);
	close(fd);
	free(writable_path);
	free(dump);
}
END_TEST

void symbolize_socket_tcase(Suite *s)
{
	TCase *tc = tcase_create("socket");

	tcase_add_checked_fixture(tc, NULL, socket_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, daemon_symbolizes_through_the_socket_service, 0, 2);
	tcase_add_test(tc, helper_takes_only_a_well_formed_request);
	suite_add_tcase(s, tc);
}
