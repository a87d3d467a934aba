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
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
static char *activator_dir; /* its folder (the socket, the helpers' stderr) */

#define MD_FRONT_END_USER "minidumpd" /* who minidumpd's front end runs as, by default */

/* Stops the stand-in for systemd (and the instances it started are its children, killed by
 * their own budget or by the end of their connection) and removes its folder. */
static void activator_stop(void)
{
	if (activator_pid <= 0)
		return;
	kill(-activator_pid, SIGKILL); /* its process group: the instances too */
	waitpid(activator_pid, NULL, 0);
	activator_pid = 0;
	it_rmtree(activator_dir);
	free(activator_dir);
	activator_dir = NULL;
}

static void socket_teardown(void)
{
	daemon_teardown(); /* first: it may be connected */
	activator_stop();
}

/* Starts program (NULL: $MD_SYMBOLIZE) with sock as its stdin and stdout and stderr to err_path,
 * as an Accept=yes service instance. Returns its pid. */
static pid_t helper_on(int sock, const char *err_path, const char *program)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644) : 2;

		if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || err < 0 || dup2(err, 2) < 0)
			_exit(126);
		close_range(3, ~0u, 0);
		execl(program ? program : it_env("MD_SYMBOLIZE"), "md-symbolize",
		      "--request-on-stdin", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Listens on path and runs program (NULL: md-symbolize) per connection until killed, in a
 * process group of its own; returns once listening. */
static void activator_start(const char *path, const char *err_path, const char *program)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(l, 0);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(chmod(path, 0600), 0);
	{
		/* as minidumpd-symbolize.socket: only the daemon's front end's user may connect */
		const struct passwd *pw = getpwnam(MD_FRONT_END_USER);

		ck_assert_msg(pw, "no user %s (tests/setup-tools makes it)", MD_FRONT_END_USER);
		ck_assert_int_eq(chown(path, pw->pw_uid, pw->pw_gid), 0);
	}
	ck_assert_int_eq(listen(l, 16), 0);
	activator_pid = fork();
	ck_assert_int_ge(activator_pid, 0);
	if (activator_pid == 0) {
		/* it holds the test's output: it must not outlive a test that failed before its
		 * teardown (meson would wait for that output for ever) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		signal(SIGCHLD, SIG_IGN); /* the instances reap themselves */
		for (;;) {
			int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			helper_on(c, err_path, program);
			close(c);
		}
	}
	setpgid(activator_pid, activator_pid); /* as the child does: whichever runs first */
	close(l);
}

/* The daemon without CAP_SETUID/CAP_SETGID (as under minidumpd.service): round 0 without
 * symbolize.socket, no stacks at all; round 1 with it, the symbolized stack and the log line. */
START_TEST(daemon_symbolizes_through_the_socket_service)
{
	/* the control: a daemon without the privilege split ("user": "root") and without
	 * CAP_SETUID/CAP_SETGID cannot sandbox a helper itself */
	static const char *const wrap[] = {"setpriv", "--bounding-set=-setuid,-setgid", NULL};
	static const char control[] = "{\"user\": \"root\"}";
	char sock[512], config[1024], errlog[512], line[256], *report;
	struct app_run run;
	json_t *j, *sym;

	activator_dir = it_tempdir(0755);
	snprintf(sock, sizeof(sock), "%s/symbolize.sock", activator_dir);
	snprintf(errlog, sizeof(errlog), "%s/helper.err", activator_dir);
	activator_start(sock, errlog, NULL);
	snprintf(config, sizeof(config), "{\"symbolize\": {\"socket\": \"%s\"}}", sock);
	/* else the daemon as its unit runs it: its front end, unprivileged, asks the service */
	daemon_start_opts(
	    &(struct daemon_opts){.wrapper = _i ? NULL : wrap, .config = _i ? config : control});
	run = run_app("segv", NULL, NULL, NULL);
	ck_assert_msg(!run.res.exited, "crash-app did not crash: %s", it_result_status(&run.res));
	if (_i == 0) {
		/* the control: this daemon cannot sandbox a helper, so it does not run one */
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
	/* the log names the function once the report has its stacks */
	snprintf(line, sizeof(line), "pid %d (crash-app) crashed in crash_segv()", (int)run.pid);
	for (int64_t until = it_now_ms() + STACK_WAIT_MS; !log_has(line) && it_now_ms() < until;)
		usleep(50000);
	ck_assert_msg(log_has(line), "the log does not say '%s':\n%s", line, log_tail());
	report = find_dump(run.pid, "json");
	ck_assert_ptr_nonnull(report);
	j = load_json(report);
	free(report);
	ck_assert_ptr_nonnull(j);
	sym = json_object_get(j, "symbolizer");
	ck_assert_msg(!json_object_get(sym, "error"), "symbolizer error: %s",
	              json_string_value(json_object_get(sym, "error")));
	ck_assert_str_eq(json_string_value(json_object_get(sym, "version")), "0.1.0");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(j, "stack"), 0), "function")),
	                 "crash_segv");
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
	pid = helper_on(sv[1], "/dev/null", NULL);
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

enum fds { FDS_ONE, FDS_TWO, FDS_NONE, FDS_WRITABLE };

#define ARGS(s) s, sizeof(s)
static const char good[] = "--dump-fd=3\0--all-threads";
/* Requests that break the wire format or ask for what they may not, and why each is refused. */
static const struct {
	const char *magic; /* NULL: the right one */
	bool no_batch;     /* the header says 0 descriptors, and none are sent */
	enum fds fds;      /* else the one batch sent */
	const char *args;  /* NULL: good */
	size_t args_len;
	bool unterminated; /* the last argument without its NUL */
	const char *trailer;
	const char *why;
} refused[] = {
    {.magic = "MDSYMRQ0", .why = "not a minidumpd symbolize request"},
    /* a descriptor number it was not given (its own stderr, say) */
    {.args = ARGS("--dump-fd=4"), .why = "bad --dump-fd"},
    {.args = ARGS("--dump-fd=3\0--module=0:7:-1"), .why = "bad --module"},
    {.args = ARGS("--dump-fd=3\0--no-seccomp"), .why = "--no-seccomp is refused"},
    {.trailer = "more", .why = "bytes after the arguments"},
    {.unterminated = true, .why = "not terminated"},
    {.fds = FDS_TWO, .why = "did not have the descriptors"},
    {.fds = FDS_NONE, .why = "did not have the descriptors"},
    {.fds = FDS_WRITABLE, .why = "open read-only"},
    {.no_batch = true, .why = "out of bounds"},
};

START_TEST(helper_takes_only_a_well_formed_request)
{
	char *dump, *writable_path, *out;
	int fd, wfd, status;
	struct app_run run;
	json_t *j, *f0;

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
	/* the control: a well-formed request is answered with the stacks; given no module file,
	 * frame 0 is module + offset, and it says so */
	out = ask(NULL, 1, &(struct batch){&fd, 1}, 1, good, sizeof(good), NULL, &status);
	j = json_loads(out, 0, NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 && j, "%s", out);
	f0 = json_array_get(
	    json_object_get(json_array_get(json_object_get(j, "threads"), 0), "frames"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(f0, "module")), "crash-app");
	ck_assert_str_eq(json_string_value(json_object_get(f0, "missing")),
	                 "no file at the module's path");
	json_decref(j);
	free(out);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int two[2] = {fd, fd};
		const struct batch batches[] = {
		    [FDS_ONE] = {&fd, 1},
		    [FDS_TWO] = {two, 2},
		    [FDS_NONE] = {NULL, 0},
		    [FDS_WRITABLE] = {&wfd, 1},
		};
		const char *args = refused[i].args ? refused[i].args : good;
		size_t args_len = refused[i].args ? refused[i].args_len : sizeof(good);

		if (refused[i].unterminated)
			args_len--;
		out = ask(refused[i].magic, refused[i].no_batch ? 0 : 1, &batches[refused[i].fds],
		          refused[i].no_batch ? 0 : 1, args, args_len, refused[i].trailer, &status);
		assert_refused(out, status, refused[i].why);
	}
	close(wfd);
	close(fd);
	free(writable_path);
	free(dump);
}
END_TEST

/* Services that misbehave, and what the report must say then. */
static const struct {
	const char *what;
	const char *script;
	const char *reason;
} services[] = {
    {"hangs past the budget (1500 ms)", "#!/bin/sh\nexec sleep 20\n",
     "gave no answer within its budget of 1500 ms"},
    {"closes without a word", "#!/bin/sh\nexit 3\n", "closed the connection without an answer"},
    {"answers an error", "#!/bin/sh\necho '{\"error\": \"no room\"}'\n",
     "md-symbolize failed: no room"},
};
#define N_SERVICES (int)(sizeof(services) / sizeof(services[0]))

START_TEST(misbehaving_service_leaves_the_reason)
{
	char sock[512], config[1024], script[512], *report;
	const char *why;
	struct app_run run;
	json_t *j = NULL;
	FILE *f;

	activator_dir = it_tempdir(0755);
	snprintf(sock, sizeof(sock), "%s/symbolize.sock", activator_dir);
	snprintf(script, sizeof(script), "%s/service", activator_dir);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fputs(services[_i].script, f);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
	activator_start(sock, "/dev/null", script);
	snprintf(config, sizeof(config),
	         "{\"symbolize\": {\"socket\": \"%s\", \"budget_ms\": 1500}}", sock);
	daemon_start_opts(&(struct daemon_opts){.config = config});
	run = run_app("segv", NULL, NULL, NULL);
	ck_assert_msg(!run.res.exited, "crash-app did not crash");
	for (int64_t until = it_now_ms() + STACK_WAIT_MS; it_now_ms() < until; usleep(50000)) {
		report = find_dump(run.pid, "json");
		j = report ? load_json(report) : NULL;
		free(report);
		if (json_object_get(j, "symbolizer"))
			break;
		json_decref(j);
		j = NULL;
	}
	ck_assert_msg(j, "no symbolizer object in the report; log:\n%s", log_tail());
	why = json_string_value(json_object_get(json_object_get(j, "symbolizer"), "error"));
	ck_assert_msg(why && strstr(why, services[_i].reason), "a service that %s: %s",
	              services[_i].what, why ? why : "(none)");
	ck_assert_ptr_null(json_object_get(j, "stack"));
	/* the daemon goes on: the next crash is dumped */
	json_decref(j);
	it_result_done(&run.res);
	run = run_app("abort", NULL, NULL, NULL);
	ck_assert_msg(has_dump(run.pid, "dmp"), "the next crash was not dumped");
	it_result_done(&run.res);
}
END_TEST

void symbolize_socket_tcase(Suite *s)
{
	TCase *tc = tcase_create("socket");

	/* each test stops its daemon and the stand-in for systemd, whatever happened */
	tcase_add_checked_fixture(tc, NULL, socket_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, daemon_symbolizes_through_the_socket_service, 0, 2);
	tcase_add_test(tc, helper_takes_only_a_well_formed_request);
	tcase_add_loop_test(tc, misbehaving_service_leaves_the_reason, 0, N_SERVICES);
	suite_add_tcase(s, tc);
}
