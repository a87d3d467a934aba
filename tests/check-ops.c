/* SPDX-License-Identifier: MIT */
/*
 * Operations suite: minidumpd as a service manager runs it, and mdctl as an operator uses it.
 * A harness acting like systemd hands the daemon a listening socket (LISTEN_FDS/LISTEN_PID)
 * and a notify socket (NOTIFY_SOCKET, as a path and in the abstract namespace) and checks
 * READY=1 from the daemon's own pid, a crash served through the inherited socket, and
 * STOPPING=1 and exit 0 on SIGTERM. The daemon also runs under the capability bounding set
 * of systemd/minidumpd.service.in and must still dump another user's crash (and must not
 * without CAP_SYS_PTRACE, so that the check can fail). mdctl list, info and rm are run
 * against a store made by the real daemon from real crashes of tests/crash-app, and judged
 * against the files, the reports, nm and Breakpad's tools. Every process started here is
 * reaped by the test that started it.
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

#define DAEMON_STOP_MS    10000  /* ms minidumpd may take to stop after SIGTERM */
#define MDCTL_TIMEOUT_MS  120000 /* ms for one mdctl command (info runs minidump_stackwalk) */
#define NOTIFY_MAX        4096   /* bytes of one notification datagram */
#define NOBODY_ID         65534

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
		snprintf(notify_addr, sizeof(notify_addr), "@minidumpd-test-%d-%lld",
			 (int)getpid(), (long long)it_now_ms());
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
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
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

/* ---- dumps ---- */

/* The id of pid's dump (the report's file name without .json). */
static char *dump_id(pid_t pid)
{
	char *report = find_dump(pid, "json"), *slash, *id;

	ck_assert_msg(report != NULL, "no report for pid %d; log: %s", (int)pid,
		      it_read_file(D.log, NULL));
	slash = strrchr(report, '/');
	id = strndup(slash + 1, strlen(slash + 1) - 5);
	free(report);
	return id;
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
	ck_assert_msg(msg && has_line(msg, "STOPPING=1"), "after SIGTERM: '%s'", msg ? msg : "nothing");
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
	const char *app_wrap[] = {"setpriv", "--reuid", "65534", "--regid", "65534",
				  "--clear-groups", "--", NULL};
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

/* ---- mdctl against a store made by the daemon ---- */

static pid_t P_SEGV, P_ABORT, P_NOW;

static void store_setup(void)
{
	struct app_run run;

	daemon_start();
	run = run_app("segv", "test.key=ops-segv", NULL, NULL);
	ck_assert_int_eq(run.res.sig, SIGSEGV);
	P_SEGV = run.pid;
	it_result_done(&run.res);
	run = run_app_opts("abort", NULL, NULL);
	ck_assert_int_eq(run.res.sig, SIGABRT);
	P_ABORT = run.pid;
	it_result_done(&run.res);
	run = run_app_opts("dump-now", NULL, NULL);
	ck_assert_msg(run.res.exited && run.res.code == 0, "dump-now: %s",
		      it_result_status(&run.res));
	P_NOW = run.pid;
	it_result_done(&run.res);
}

/* Runs mdctl with args (NULL-terminated) and extra env (NULL-terminated, may be NULL). */
static struct it_result mdctl(const char *const *env, const char *const *args)
{
	const char *argv[40] = {it_env("MDCTL")};
	struct it_result res;
	int n = 1;

	for (; args[n - 1]; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	ck_assert_int_eq(it_run(argv, env, MDCTL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited, "mdctl %s: %s", args[0], it_result_status(&res));
	return res;
}

#define MDCTL(...) mdctl(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define MDCTL_ENV(env, ...) mdctl(env, (const char *const[]){__VA_ARGS__, NULL})

/* Rows of a tab-separated table (header first); returns the count, fields in ret. */
#define MAX_ROWS 64
static int table(char *out, char *ret[MAX_ROWS][7])
{
	char *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(out, "\n", &save); line && n < MAX_ROWS;
	     line = strtok_r(NULL, "\n", &save), n++) {
		char *f, *fsave = NULL;
		int k = 0;

		for (f = strtok_r(line, "\t", &fsave); f && k < 7; f = strtok_r(NULL, "\t", &fsave))
			ret[n][k++] = f;
		ck_assert_msg(k == 7 && !f, "row %d has %d fields", n, k);
	}
	return n;
}

static int row_of(char *rows[MAX_ROWS][7], int n, pid_t pid)
{
	char want[16];

	snprintf(want, sizeof(want), "%d", (int)pid);
	for (int i = 1; i < n; i++)
		if (strcmp(rows[i][1], want) == 0)
			return i;
	return -1;
}

START_TEST(list_shows_every_dump_through_the_daemon)
{
	/* no --dump-dir: mdctl asks the daemon where the store is */
	struct it_result r = MDCTL("list", "--socket", D.sock);
	char *rows[MAX_ROWS][7];
	const struct {
		pid_t pid;
		const char *sig;
	} want[] = {{P_SEGV, "SIGSEGV"}, {P_ABORT, "SIGABRT"}, {P_NOW, "-"}};
	int n;

	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	n = table(r.out, rows);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(rows[0][0], "TIME");
	ck_assert_str_eq(rows[0][6], "ID");
	for (size_t i = 0; i < 3; i++) {
		int k = row_of(rows, n, want[i].pid);
		char uid[16], *dmp = find_dump(want[i].pid, "dmp"), *id = dump_id(want[i].pid),
			      size[32];
		struct stat st;

		ck_assert_msg(k > 0, "pid %d not listed", (int)want[i].pid);
		snprintf(uid, sizeof(uid), "%d", (int)getuid());
		ck_assert_str_eq(rows[k][2], uid);
		ck_assert_str_eq(rows[k][3], want[i].sig);
		ck_assert_str_eq(rows[k][4], it_env("CRASH_APP"));
		ck_assert_int_eq(stat(dmp, &st), 0);
		snprintf(size, sizeof(size), "%lld", (long long)st.st_size);
		ck_assert_str_eq(rows[k][5], size);
		ck_assert_str_eq(rows[k][6], id);
		free(dmp);
		free(id);
	}
	/* oldest first */
	ck_assert_int_lt(row_of(rows, n, P_SEGV), row_of(rows, n, P_NOW));
	it_result_done(&r);
}
END_TEST

START_TEST(list_filters_and_json)
{
	char pid[16];
	struct it_result r;
	char *rows[MAX_ROWS][7];
	json_t *j;

	snprintf(pid, sizeof(pid), "%d", (int)P_ABORT);
	r = MDCTL("list", "--dump-dir", D.dumps, "--pid", pid, "--no-legend");
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(table(r.out, rows), 1);
	ck_assert_str_eq(rows[0][1], pid);
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "--exe", "crash-app", "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 3);
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--exe", it_env("CRASH_APP"), "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 3);
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--exe", "/usr/bin/true", "--no-legend");
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.out, "");
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "--since", "1h", "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 3);
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--since", "2099-01-01", "--no-legend");
	ck_assert_str_eq(r.out, "");
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--until", "2000-01-01T00:00Z", "--no-legend");
	ck_assert_str_eq(r.out, "");
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--since", "yesterday-ish");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "--kind", "dump-now", "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 1);
	snprintf(pid, sizeof(pid), "%d", (int)P_NOW);
	ck_assert_str_eq(rows[0][1], pid);
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "-n", "1", "-r", "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 1);
	ck_assert_str_eq(rows[0][1], pid); /* the newest */
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "--json");
	ck_assert_int_eq(r.code, 0);
	j = json_loads(r.out, 0, NULL);
	ck_assert_msg(json_is_array(j), "not a JSON array: %s", r.out);
	ck_assert_int_eq(json_array_size(j), 3);
	{
		json_t *e = json_array_get(j, 0);
		char *id = dump_id(P_SEGV), *dmp = find_dump(P_SEGV, "dmp");

		ck_assert_str_eq(json_string_value(json_object_get(e, "id")), id);
		ck_assert_int_eq(json_integer_value(json_object_get(e, "pid")), P_SEGV);
		ck_assert_str_eq(json_string_value(json_object_get(e, "signal")), "SIGSEGV");
		ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), "crash");
		ck_assert_str_eq(json_string_value(json_object_get(e, "dump")), dmp);
		ck_assert(json_is_null(json_object_get(e, "upload")));
		free(id);
		free(dmp);
	}
	json_decref(j);
	it_result_done(&r);

	r = MDCTL("list", "--pid", "abc");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);
}
END_TEST

START_TEST(list_survives_junk_and_shows_records_without_dumps)
{
	char path[512], *rows[MAX_ROWS][7];
	struct it_result r;
	FILE *f;
	int n, k = -1;

	/* a broken report, a temporary file, and a crash-loop record with no dump */
	snprintf(path, sizeof(path), "%s/broken.json", D.dumps);
	f = fopen(path, "w");
	fputs("{\"pid\": ", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/.md-1-0000.tmp", D.dumps);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/loop.77.20261128T000000Z.77.json", D.dumps);
	f = fopen(path, "w");
	fputs("{\"id\": \"loop.77.20261128T000000Z.77\", \"kind\": \"crash\", \"rate_limited\": true,"
	      " \"pid\": 77, \"uid\": 0, \"signal\": \"SIGSEGV\", \"time\": \"2026-11-28T00:00:00Z\","
	      " \"executable\": \"/opt/x\\u001b[31mred\"}",
	      f);
	fclose(f);

	r = MDCTL("list", "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "broken.json"));
	ck_assert_ptr_null(strchr(r.out, '\x1b')); /* no escape sequence reaches the terminal */
	n = table(r.out, rows);
	ck_assert_int_eq(n, 5);
	for (int i = 1; i < n; i++)
		if (strcmp(rows[i][1], "77") == 0)
			k = i;
	ck_assert_int_gt(k, 0);
	ck_assert_str_eq(rows[k][5], "-");
	ck_assert_str_eq(rows[k][4], "/opt/x\\x1b[31mred");
	it_result_done(&r);
}
END_TEST

/* The value and size of a function symbol of the binary, from nm. */
static void symbol_range(const char *bin, const char *fn, uint64_t *ret_start, uint64_t *ret_size)
{
	const char *argv[] = {"nm", "-S", "--defined-only", bin, NULL};
	struct it_result r;
	char *line, *save = NULL;
	bool found = false;

	ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &r), 0);
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long v, s;
		char type, name[256];

		if (sscanf(line, "%llx %llx %c %255s", &v, &s, &type, name) == 4 &&
		    strcmp(name, fn) == 0) {
			*ret_start = v;
			*ret_size = s;
			found = true;
		}
	}
	ck_assert_msg(found, "%s not in nm %s", fn, bin);
	it_result_done(&r);
}

START_TEST(info_with_stackwalk_names_the_crashing_function)
{
	char *id = dump_id(P_SEGV), *dmp = find_dump(P_SEGV, "dmp"), symroot[512], walker[600],
	     build_id[128];
	char *tool = it_tool("minidump_stackwalk");
	const char *env[] = {walker, NULL};
	struct it_result r;
	json_t *j, *stack, *frame0, *mods, *m;
	size_t i;
	bool found = false;

	snprintf(symroot, sizeof(symroot), "%s/symbols", D.dir);
	mkdir(symroot, 0755);
	ck_assert_int_ge(it_make_symbols(dmp, symroot), 1);
	snprintf(walker, sizeof(walker), "MINIDUMP_STACKWALK=%s", tool);

	r = MDCTL_ENV(env, "info", id, "--dump-dir", D.dumps, "--symbols", symroot, "--json");
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	j = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "crashing_thread"),
							   "tid")),
			 P_SEGV);
	stack = json_object_get(j, "stack");
	ck_assert_str_eq(json_string_value(json_object_get(stack, "source")), "minidump_stackwalk");
	frame0 = json_array_get(json_object_get(stack, "frames"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(frame0, "function")), "crash_segv");
	ck_assert_str_eq(json_string_value(json_object_get(frame0, "module")), "crash-app");
	/* modules with build ids, as readelf sees them */
	ck_assert_int_eq(it_build_id(it_env("CRASH_APP"), build_id, sizeof(build_id)), 0);
	mods = json_object_get(j, "module_list");
	json_array_foreach(mods, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "name")), it_env("CRASH_APP")) == 0) {
			ck_assert_str_eq(json_string_value(json_object_get(m, "code_id")), build_id);
			found = true;
		}
	}
	ck_assert_msg(found, "crash-app not among the modules");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "annotations"),
							   "test.key")),
			 "ops-segv");
	json_decref(j);
	it_result_done(&r);

	/* the text says the same, and says which way the stack was read */
	r = MDCTL_ENV(env, "info", id, "--dump-dir", D.dumps, "--symbols", symroot);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "walked by minidump_stackwalk"));
	ck_assert_ptr_nonnull(strstr(r.out, "crash-app!crash_segv"));
	ck_assert_ptr_nonnull(strstr(r.out, "SIGSEGV (11)"));
	ck_assert_ptr_nonnull(strstr(r.out, "test.key = ops-segv"));
	ck_assert_ptr_nonnull(strstr(r.out, build_id));
	ck_assert_ptr_nonnull(strstr(r.out, "Upload: -"));
	it_result_done(&r);
	free(id);
	free(dmp);
	free(tool);
}
END_TEST

START_TEST(info_without_stackwalk_reads_frame0_from_the_dump)
{
	char *id = dump_id(P_SEGV);
	const char *env[] = {"MINIDUMP_STACKWALK=/nonexistent/minidump_stackwalk", NULL};
	struct it_result r;
	uint64_t start = 0, size = 0, off;
	json_t *j, *stack, *frame0;

	symbol_range(it_env("CRASH_APP"), "crash_segv", &start, &size);
	r = MDCTL_ENV(env, "info", id, "--dump-dir", D.dumps, "--json");
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	j = json_loads(r.out, 0, NULL);
	stack = json_object_get(j, "stack");
	ck_assert_str_eq(json_string_value(json_object_get(stack, "source")), "dump");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(stack, "note")),
				     "not executable"));
	frame0 = json_array_get(json_object_get(stack, "frames"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(frame0, "module")), "crash-app");
	off = (uint64_t)json_integer_value(json_object_get(frame0, "offset"));
	ck_assert_msg(off >= start && off < start + size,
		      "frame 0 at crash-app+0x%llx, crash_segv is 0x%llx..0x%llx",
		      (unsigned long long)off, (unsigned long long)start,
		      (unsigned long long)(start + size));
	ck_assert_int_ne(json_integer_value(json_object_get(frame0, "sp")), 0);
	json_decref(j);
	it_result_done(&r);

	r = MDCTL("info", id, "--dump-dir", D.dumps, "--raw-stack");
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "frame 0 read from the dump"));
	ck_assert_ptr_nonnull(strstr(r.out, "crash-app + 0x"));
	it_result_done(&r);
	free(id);
}
END_TEST

START_TEST(info_ids_prefixes_and_upload_state)
{
	char *id = dump_id(P_ABORT), prefix[64], state_dir[512], path[700];
	struct it_result r;
	FILE *f;

	/* a unique prefix, an ambiguous one, an unknown one */
	snprintf(prefix, sizeof(prefix), "crash-app.%d.", (int)P_ABORT);
	r = MDCTL("info", prefix, "--dump-dir", D.dumps, "--raw-stack");
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, id));
	ck_assert_ptr_nonnull(strstr(r.out, "SIGABRT"));
	it_result_done(&r);
	r = MDCTL("info", "crash-app.", "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "several"));
	it_result_done(&r);
	r = MDCTL("info", "nosuch.1.2.3", "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 8);
	it_result_done(&r);
	r = MDCTL("info", "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);

	/* the uploader's state file */
	snprintf(state_dir, sizeof(state_dir), "%s/state", D.dir);
	ck_assert_int_eq(mkdir(state_dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s.json", state_dir, id);
	f = fopen(path, "w");
	fprintf(f, "{\"id\": \"%s\", \"state\": \"uploaded\", \"server_id\": \"srv-42\", "
		   "\"reason\": null, \"attempts\": 2, \"time\": \"2026-11-28T10:00:00Z\"}",
		id);
	fclose(f);
	r = MDCTL("info", id, "--dump-dir", D.dumps, "--upload-state", state_dir, "--raw-stack");
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Upload: uploaded, server id srv-42 (2 attempts)"));
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--upload-state", state_dir, "--json");
	ck_assert_ptr_nonnull(strstr(r.out, "\"upload\": \"uploaded\""));
	it_result_done(&r);
	free(id);
}
END_TEST

START_TEST(rm_removes_one_dump_and_never_escapes_the_store)
{
	char *id = dump_id(P_SEGV), *dmp = find_dump(P_SEGV, "dmp"), *json = find_dump(P_SEGV, "json");
	char outside[512], jsonl[512], *other = find_dump(P_ABORT, "dmp");
	struct it_result r;
	struct stat st;
	FILE *f;

	/* a file beside the store that a path-like id would reach */
	snprintf(outside, sizeof(outside), "%s/victim.json", D.dir);
	f = fopen(outside, "w");
	fputs("{}", f);
	fclose(f);
	r = MDCTL("rm", "--dump-dir", D.dumps, "../victim");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);
	r = MDCTL("rm", "--dump-dir", D.dumps, "/etc/passwd");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);
	r = MDCTL("rm", "--dump-dir", D.dumps, ".hidden");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);
	ck_assert_int_eq(stat(outside, &st), 0);

	/* through the daemon's store discovery */
	r = MDCTL("rm", "--socket", D.sock, "-v", id);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "removed"));
	it_result_done(&r);
	ck_assert_int_ne(stat(dmp, &st), 0);
	ck_assert_int_ne(stat(json, &st), 0);
	ck_assert_int_eq(stat(other, &st), 0);
	snprintf(jsonl, sizeof(jsonl), "%s/reports.jsonl", D.dumps);
	ck_assert_int_eq(stat(jsonl, &st), 0);
	{
		char *history = it_read_file(jsonl, NULL);

		ck_assert_ptr_nonnull(strstr(history, id)); /* history is kept */
		free(history);
	}

	r = MDCTL("list", "--dump-dir", D.dumps, "--no-legend");
	ck_assert_ptr_null(strstr(r.out, id));
	it_result_done(&r);
	r = MDCTL("rm", "--dump-dir", D.dumps, id);
	ck_assert_int_eq(r.code, 8);
	it_result_done(&r);
	r = MDCTL("info", id, "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 8);
	it_result_done(&r);
	free(id);
	free(dmp);
	free(json);
	free(other);
}
END_TEST

START_TEST(store_without_daemon_needs_dump_dir)
{
	char sock[512];
	struct it_result r;
	char *rows[MAX_ROWS][7];

	snprintf(sock, sizeof(sock), "%s", D.sock);
	ck_assert_int_eq(WEXITSTATUS(daemon_stop()), 0);
	/* with --dump-dir the store is read as before */
	r = MDCTL("list", "--dump-dir", D.dumps, "--socket", sock, "--no-legend");
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(table(r.out, rows), 3);
	it_result_done(&r);
	/* without it, the default folder, and the error names it */
	r = MDCTL("list", "--socket", sock, "--no-legend");
	/* the build's localstatedir (/var for prefix /usr) */
	if (access(MD_LOCALSTATEDIR "/lib/minidumpd/dumps", F_OK) != 0) {
		ck_assert_int_eq(r.code, 1);
		ck_assert_ptr_nonnull(strstr(r.err, MD_LOCALSTATEDIR "/lib/minidumpd/dumps"));
	}
	it_result_done(&r);
}
END_TEST

START_TEST(compressed_dumps_are_listed_and_read)
{
	/* a dump stored compressed (<id>.dmp.zst), as store compression leaves it */
	char *dmp = find_dump(P_SEGV, "dmp"), *id = dump_id(P_SEGV), zst[600], size[32];
	const char *zstd_argv[] = {"zstd", "-q", "--rm", dmp, NULL};
	struct it_result r;
	char *rows[MAX_ROWS][7];
	struct stat st;
	int n, k;

	ck_assert_int_eq(it_run(zstd_argv, NULL, MDCTL_TIMEOUT_MS, &r), 0);
	ck_assert_msg(r.exited && r.code == 0, "zstd: %s %s", it_result_status(&r), r.err);
	it_result_done(&r);
	snprintf(zst, sizeof(zst), "%s.zst", dmp);
	ck_assert_int_eq(stat(zst, &st), 0);
	ck_assert_int_ne(access(dmp, F_OK), 0);

	r = MDCTL("list", "--dump-dir", D.dumps);
	n = table(r.out, rows);
	k = row_of(rows, n, P_SEGV);
	ck_assert_int_gt(k, 0);
	snprintf(size, sizeof(size), "%lld", (long long)st.st_size);
	ck_assert_str_eq(rows[k][5], size);
	it_result_done(&r);

	r = MDCTL("info", id, "--dump-dir", D.dumps, "--raw-stack");
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, ".dmp.zst"));
	ck_assert_ptr_nonnull(strstr(r.out, "crash-app + 0x"));
	ck_assert_ptr_nonnull(strstr(r.out, "Modules ("));
	it_result_done(&r);

	r = MDCTL("rm", "--dump-dir", D.dumps, id);
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_ne(access(zst, F_OK), 0);
	it_result_done(&r);
	free(dmp);
	free(id);
}
END_TEST

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

static Suite *ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *svc = tcase_create("service");
	TCase *store = tcase_create("store");

	tcase_add_checked_fixture(svc, NULL, teardown);
	tcase_set_timeout(svc, 120);
	tcase_add_loop_test(svc, notify_and_activation_like_systemd, 0, 2);
	tcase_add_test(svc, no_notify_socket_no_notification);
	tcase_add_loop_test(svc, unit_capabilities_suffice_for_another_users_crash, 0, 2);
	suite_add_tcase(s, svc);

	tcase_add_checked_fixture(store, store_setup, daemon_teardown);
	tcase_set_timeout(store, 300);
	tcase_add_test(store, list_shows_every_dump_through_the_daemon);
	tcase_add_test(store, list_filters_and_json);
	tcase_add_test(store, list_survives_junk_and_shows_records_without_dumps);
	tcase_add_test(store, info_with_stackwalk_names_the_crashing_function);
	tcase_add_test(store, info_without_stackwalk_reads_frame0_from_the_dump);
	tcase_add_test(store, info_ids_prefixes_and_upload_state);
	tcase_add_test(store, rm_removes_one_dump_and_never_escapes_the_store);
	tcase_add_test(store, store_without_daemon_needs_dump_dir);
	tcase_add_test(store, compressed_dumps_are_listed_and_read);
	tcase_add_test(store, help_and_usage_exit_codes);
	tcase_add_test(store, verb_table_help_and_argument_counts);
	suite_add_tcase(s, store);
	return s;
}

CHECK_IT_SUITE("ops", ops_suite, "CRASH_APP");
