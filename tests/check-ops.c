/* SPDX-License-Identifier: MIT */
/*
 * Operations suite: minidumpd as a service manager runs it (mdctl as an operator uses it is
 * check-ops-store.c). A harness acting like systemd hands the daemon a listening socket
 * (LISTEN_FDS/LISTEN_PID) and a notify socket (NOTIFY_SOCKET, as a path and in the abstract
 * namespace) and checks READY=1 from the daemon's own pid, a crash served through the
 * inherited socket, and STOPPING=1 and exit 0 on SIGTERM. The daemon also runs under the
 * capability bounding set of systemd/minidumpd.service.in and must still dump another user's
 * crash (and must not without CAP_SYS_PTRACE, so that the check can fail). Every process
 * started here is reaped by the test that started it.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "daemon-util.h"
#include "integration-util.h"
#include "ops-util.h"

#define DAEMON_STOP_MS 10000 /* ms minidumpd may take to stop after SIGTERM */
#define NOTIFY_MAX     4096  /* bytes of one notification datagram */
#define NOBODY_ID      65534

/* Our end of NOTIFY_SOCKET, or -1, and its address ("@name": abstract). */
static int notify_fd = -1;
static char notify_addr[128];

/* ---- the daemon ---- */

/* The notify socket: a datagram socket with SO_PASSCRED, at a path or (abstract) "@name". */
static void notify_socket(bool abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int one = 1;

	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(notify_fd, 0);
	ck_assert_int_eq(setsockopt(notify_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	if (abstract) {
		snprintf(notify_addr, sizeof(notify_addr), "@minidumpd-test-%d-%lld", (int)getpid(),
		         (long long)it_now_ms());
		memcpy(sa.sun_path + 1, notify_addr + 1, strlen(notify_addr) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(notify_addr));
	} else {
		snprintf(notify_addr, sizeof(notify_addr), "%.100s/notify", D.dir);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", notify_addr);
		len = sizeof(sa);
	}
	ck_assert_int_eq(bind(notify_fd, (struct sockaddr *)&sa, len), 0);
}

static void teardown(void)
{
	daemon_teardown();
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}

/* Waits for one notification; returns its text (static) and the sender's pid, or NULL. */
static const char *notify_recv(int timeout_ms, pid_t *ret_pid)
{
	static char buf[NOTIFY_MAX + 1];
	char control[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {.iov_base = buf, .iov_len = NOTIFY_MAX};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = control,
	                    .msg_controllen = sizeof(control)};
	struct pollfd p = {.fd = notify_fd, .events = POLLIN};
	struct cmsghdr *c;
	ssize_t n;

	*ret_pid = 0;
	if (poll(&p, 1, timeout_ms) != 1)
		return NULL;
	n = recvmsg(notify_fd, &mh, 0);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			*ret_pid = cred.pid;
		}
	}
	return buf;
}

/* True if the newline-separated assignments in msg include line. */
static bool has_line(const char *msg, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = msg; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* ---- the harness that acts like systemd ---- */

START_TEST(notify_and_activation_like_systemd)
{
	bool abstract = _i == 1;
	char notify_env[200];
	const char *env[] = {notify_env, NULL};
	const char *msg;
	struct app_run run;
	pid_t sender;
	char *dump;
	int st;

	daemon_dirs_new(NULL);
	notify_socket(abstract);
	snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=%s", notify_addr);
	daemon_listen();
	daemon_spawn(&(struct daemon_opts){.env = env, .no_wait = true});

	/* READY=1, from the daemon's own pid (what NotifyAccess=main checks) */
	msg = notify_recv(DAEMON_READY_MS, &sender);
	ck_assert_msg(msg != NULL, "no notification in %d ms; log: %s", DAEMON_READY_MS,
	              it_read_file(D.log, NULL));
	ck_assert_msg(has_line(msg, "READY=1"), "first notification: '%s'", msg);
	ck_assert_msg(strstr(msg, "STATUS=") != NULL, "no STATUS in '%s'", msg);
	ck_assert_int_eq(sender, D.pid);
	/* the daemon serves the socket it inherited: a crash through it is dumped */
	ck_assert_msg(can_connect(D.sock), "READY=1 sent before the socket is served");
	run = run_app("segv", "via=activation", NULL, NULL);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "app: %s",
	              it_result_status(&run.res));
	dump = find_dump(run.pid, "dmp");
	ck_assert_msg(dump != NULL, "no dump; log: %s", it_read_file(D.log, NULL));
	ck_assert(status_flag("socket_inherited"));

	/* SIGTERM: STOPPING=1, then exit 0 */
	ck_assert_int_eq(kill(D.pid, SIGTERM), 0);
	msg = notify_recv(DAEMON_STOP_MS, &sender);
	ck_assert_msg(msg && has_line(msg, "STOPPING=1"), "after SIGTERM: '%s'",
	              msg ? msg : "nothing");
	ck_assert_int_eq(sender, D.pid);
	ck_assert_int_eq(waitpid(D.pid, &st, 0), D.pid);
	D.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "minidumpd status 0x%x", st);
	free(dump);
	it_result_done(&run.res);
}
END_TEST

START_TEST(no_notify_socket_no_notification)
{
	/* without NOTIFY_SOCKET the daemon runs as before and nothing reaches our socket */
	const char *msg;
	pid_t sender;

	daemon_dirs_new(NULL);
	notify_socket(false);
	daemon_spawn(NULL); /* NOTIFY_SOCKET not passed */
	msg = notify_recv(500, &sender);
	ck_assert_msg(msg == NULL, "unexpected notification '%s'", msg);
	ck_assert_int_eq(WEXITSTATUS(daemon_stop()), 0);
}
END_TEST

/* "CapabilityBoundingSet=CAP_A CAP_B" of the service unit as setpriv's "-all,+a,+b",
 * without the capability named drop (or NULL). */
static char *unit_bounding_set(const char *drop)
{
	char path[1024], *unit, *line, *save = NULL, *out;
	size_t len;

	snprintf(path, sizeof(path), "%s/systemd/minidumpd.service.in", it_env("SOURCE_ROOT"));
	unit = it_read_file(path, NULL);
	ck_assert_ptr_nonnull(unit);
	line = strstr(unit, "\nCapabilityBoundingSet=");
	ck_assert_ptr_nonnull(line);
	line += strlen("\nCapabilityBoundingSet=");
	*strchrnul(line, '\n') = '\0';
	out = calloc(1, strlen(line) * 2 + 16);
	strcpy(out, "-all");
	for (char *cap = strtok_r(line, " ", &save); cap; cap = strtok_r(NULL, " ", &save)) {
		ck_assert_msg(strncmp(cap, "CAP_", 4) == 0, "odd capability '%s'", cap);
		if (drop && strcmp(cap, drop) == 0)
			continue;
		len = strlen(out);
		out[len] = ',';
		out[len + 1] = '+';
		for (size_t i = 0; cap[4 + i]; i++)
			out[len + 2 + i] = (char)tolower((unsigned char)cap[4 + i]);
	}
	free(unit);
	return out;
}

START_TEST(unit_capabilities_suffice_for_another_users_crash)
{
	/* _i == 0: the unit's set; 1: the same without CAP_SYS_PTRACE, which must fail */
	char *caps = unit_bounding_set(_i == 0 ? NULL : "CAP_SYS_PTRACE");
	const char *daemon_wrap[] = {"setpriv", "--bounding-set", caps, "--inh-caps=-all", "--",
	                             NULL};
	const char *app_wrap[] = {"setpriv", "--reuid",        "65534", "--regid",
	                          "65534",   "--clear-groups", "--",    NULL};
	struct app_run run;
	char *dump, *report;

	ck_assert_msg(geteuid() == 0, "this test needs root");
	daemon_start_opts(&(struct daemon_opts){.wrapper = daemon_wrap});
	run = run_app_opts("segv", "who=nobody", &(struct app_opts){.wrapper = app_wrap});
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "app: %s; %s",
	              it_result_status(&run.res), run.res.err);
	dump = find_dump(run.pid, "dmp");
	report = find_dump(run.pid, "json");
	if (_i == 0) {
		json_t *j;

		ck_assert_msg(dump && report, "bounding set %s: no dump; log: %s", caps,
		              it_read_file(D.log, NULL));
		j = json_load_file(report, 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "uid")), NOBODY_ID);
		ck_assert_msg(json_array_size(json_object_get(j, "errors")) == 0,
		              "errors with the unit's capabilities: %s",
		              json_dumps(json_object_get(j, "errors"), 0));
		ck_assert(json_is_false(json_object_get(j, "partial")));
		ck_assert_int_ge(json_integer_value(json_object_get(j, "modules")), 3);
		json_decref(j);
	} else {
		ck_assert_msg(dump == NULL, "dumped another user's process without CAP_SYS_PTRACE");
	}
	ck_assert_int_eq(WEXITSTATUS(daemon_stop()), 0);
	free(dump);
	free(report);
	free(caps);
	it_result_done(&run.res);
}
END_TEST

/* ---- mdctl's command line ---- */

START_TEST(help_and_usage_exit_codes)
{
	static const char *const cmds[] = {"list", "info", "rm"};

	for (size_t i = 0; i < 3; i++) {
		struct it_result r = MDCTL(cmds[i], "--help");

		ck_assert_int_eq(r.code, 0);
		ck_assert_ptr_nonnull(strstr(r.out, "Usage: mdctl"));
		ck_assert_ptr_nonnull(strstr(r.out, "Exit codes"));
		it_result_done(&r);
		r = MDCTL(cmds[i], "--no-such-option");
		ck_assert_int_eq(r.code, 2);
		it_result_done(&r);
	}
}
END_TEST

/* The verb table: the help names every verb, and an unknown verb or a wrong number of
 * arguments is a usage error (2) that says what is wrong, before anything is done. */
START_TEST(verb_table_help_and_argument_counts)
{
	static const char *const verbs[] = {"dump", "status", "inspect", "list",
	                                    "info", "rm",     "help",    "version"};
	static const struct {
		const char *argv[4];
		const char *says;
	} bad[] = {
	    {{"no-such-verb"}, "unknown command 'no-such-verb'"},
	    {{"info"}, "mdctl info: takes 1 argument"},
	    {{"info", "a", "b"}, "mdctl info: takes 1 argument"},
	    {{"inspect"}, "mdctl inspect: takes 1 argument"},
	    {{"dump", "1", "2"}, "mdctl dump: takes 1 argument"},
	    {{"rm"}, "mdctl rm: takes at least 1 argument"},
	    {{"list", "extra"}, "mdctl list: takes no arguments"},
	    {{"status", "extra"}, "mdctl status: takes no arguments"},
	    {{"version", "extra"}, "mdctl version: takes no arguments"},
	};
	struct it_result r = MDCTL("--help");

	ck_assert_int_eq(r.code, 0);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		char line[32];

		snprintf(line, sizeof(line), "\n  %s ", verbs[i]);
		ck_assert_msg(strstr(r.out, line), "--help lacks %s:\n%s", verbs[i], r.out);
	}
	it_result_done(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = mdctl(NULL, bad[i].argv);
		ck_assert_msg(r.code == 2, "%s: %s", bad[i].argv[0], it_result_status(&r));
		ck_assert_msg(strstr(r.err, bad[i].says), "%s: stderr: %s", bad[i].argv[0], r.err);
		it_result_done(&r);
	}
}
END_TEST

CHECK_SUITE_FN(ops_suite, "ops",
               CHECK_CASE("service", NULL, teardown, 120,
                          CHECK_LOOP(notify_and_activation_like_systemd, 2),
                          CHECK_TEST(no_notify_socket_no_notification),
                          CHECK_LOOP(unit_capabilities_suffice_for_another_users_crash, 2)),
               CHECK_CASE_PLAIN("cli", CHECK_TEST(help_and_usage_exit_codes),
                                CHECK_TEST(verb_table_help_and_argument_counts)));

CHECK_IT_SUITE("ops", ops_suite, "CRASH_APP");
