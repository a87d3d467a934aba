/* SPDX-License-Identifier: MIT */
/*
 * Integration suite of the crash broker: the real minidumpd on a temporary socket and dump
 * folder, real apps linked with libmdclient (tests/crash-app) crashing in known functions, and
 * Breakpad's tools judging the dumps. Checks what users see: the app still dies by its own
 * signal, promptly, with or without a daemon; a dump and its JSON report appear; the stack
 * names the crashing function; annotations reach both; the daemon obeys kernel credentials,
 * not claims. Every daemon and app started here is killed and reaped at the end of its test.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integration-util.h"
#include "md-proto.h"

#define APP_TIMEOUT_MS    30000  /* ms a crashing app may take to die (a dump included) */
#define TOOL_TIMEOUT_MS   120000 /* ms for Breakpad's tools */
#define DAEMON_READY_MS   10000  /* ms minidumpd may take to accept connections */
#define ABSENT_DEATH_MS   1000   /* the issue: without a daemon the app dies within 1 s */
#define FROZEN_TIMEOUT_MS 1000   /* MINIDUMPD_TIMEOUT_MS for the frozen-daemon test */
#define FROZEN_SLACK_MS   1500   /* process start and exit on a loaded 2-core machine */
#define NOBODY_ID         65534

struct daemon {
	pid_t pid;
	char *dir;  /* temporary folder: socket, dumps/, daemon.log */
	char sock[256];
	char dumps[256];
	char log[256];
};

static struct daemon D;

/* ---- the daemon under test ---- */

static bool can_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Starts minidumpd with its stderr in D.log. listen_fd >= 0: passed as socket activation. */
static void daemon_start_with(int listen_fd)
{
	const char *exe = it_env("MINIDUMPD");
	int64_t deadline;

	D.dir = it_tempdir(0755);
	ck_assert_ptr_nonnull(D.dir);
	snprintf(D.sock, sizeof(D.sock), "%s/md.sock", D.dir);
	snprintf(D.dumps, sizeof(D.dumps), "%s/dumps", D.dir);
	snprintf(D.log, sizeof(D.log), "%s/daemon.log", D.dir);
	ck_assert_int_eq(mkdir(D.dumps, 0700), 0);
	if (listen_fd == -2) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", D.sock);
		ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		ck_assert_int_eq(chmod(D.sock, 0666), 0);
		ck_assert_int_eq(listen(listen_fd, 64), 0);
	}
	D.pid = fork();
	ck_assert_int_ge(D.pid, 0);
	if (D.pid == 0) {
		int log = open(D.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char pidbuf[16];

		dup2(log, 2);
		dup2(open("/dev/null", O_RDWR), 0);
		dup2(2, 1);
		if (listen_fd >= 0) {
			/* as systemd does it: fd 3, LISTEN_FDS=1, LISTEN_PID = the daemon itself */
			dup2(listen_fd, 3);
			snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
			setenv("LISTEN_PID", pidbuf, 1);
			setenv("LISTEN_FDS", "1", 1);
			execl(exe, exe, "--foreground", "--dump-dir", D.dumps, "--socket",
			      "/nonexistent/ignored.sock", (char *)NULL);
		} else {
			execl(exe, exe, "--foreground", "--dump-dir", D.dumps, "--socket", D.sock,
			      (char *)NULL);
		}
		_exit(127);
	}
	if (listen_fd >= 0)
		close(listen_fd);
	deadline = it_now_ms() + DAEMON_READY_MS;
	while (!can_connect(D.sock)) {
		int st;

		ck_assert_msg(waitpid(D.pid, &st, WNOHANG) == 0, "minidumpd exited at start: %s",
			      it_read_file(D.log, NULL));
		ck_assert_msg(it_now_ms() < deadline, "minidumpd not ready");
		usleep(5000);
	}
}

static void daemon_start(void)
{
	daemon_start_with(-1);
}

static int daemon_stop(void)
{
	int st = 0;

	if (D.pid > 0) {
		kill(D.pid, SIGCONT);
		kill(D.pid, SIGTERM);
		waitpid(D.pid, &st, 0);
		D.pid = 0;
	}
	return st;
}

static void daemon_teardown(void)
{
	daemon_stop();
	if (D.dir && !getenv("IT_KEEP"))
		it_rmtree(D.dir);
	free(D.dir);
	D.dir = NULL;
}

/* ---- apps ---- */

struct app_run {
	struct it_result res;
	pid_t pid;
};

/* Runs crash-app MODE with the daemon's socket (or sock), plus extra env. */
static struct app_run run_app(const char *mode, const char *annotation, const char *sock,
			      const char *extra_env)
{
	const char *exe = it_env("CRASH_APP");
	char sockenv[300];
	const char *argv[] = {exe, mode, "--annotate", annotation, NULL};
	const char *env[] = {sockenv, extra_env, NULL};
	struct it_proc p;
	struct app_run run;

	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", sock ? sock : D.sock);
	ck_assert_int_eq(it_spawn(argv, env, &p), 0);
	run.pid = p.pid;
	ck_assert_int_eq(it_wait(&p, APP_TIMEOUT_MS, &run.res), 0);
	return run;
}

/* The dump (and with report, its JSON report) the daemon wrote for pid. */
static char *find_dump(pid_t pid, const char *ext)
{
	char pattern[512];
	glob_t g;
	char *path = NULL;

	snprintf(pattern, sizeof(pattern), "%s/crash-app.%d.*.%s", D.dumps, (int)pid, ext);
	if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1)
		path = strdup(g.gl_pathv[0]);
	globfree(&g);
	return path;
}

struct walk {
	char reason[128];
	char address[128];
	int crash_thread;
	int threads;
	char frame0[128];      /* function of frame 0 of the crashing thread */
	bool in_stack;         /* the wanted function is somewhere in the crashing thread */
};

/* minidump_stackwalk -m with symbols from dump_syms. */
static struct walk stackwalk(const char *dump, const char *want_fn)
{
	char *tool = it_tool("minidump_stackwalk"), symroot[512];
	const char *argv[] = {tool, "-m", dump, symroot, NULL};
	struct it_result res;
	struct walk w;
	char *line, *save = NULL;
	int last_thread = -1;

	memset(&w, 0, sizeof(w));
	w.crash_thread = -1;
	snprintf(symroot, sizeof(symroot), "%s/symbols", D.dir);
	mkdir(symroot, 0755);
	ck_assert_int_ge(it_make_symbols(dump, symroot), 0);
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "minidump_stackwalk %s: %s", dump,
		      it_result_status(&res));
	for (line = strtok_r(res.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char f[8][128];
		int n = 0;
		char *p = line, *bar;

		memset(f, 0, sizeof(f));
		while (n < 8) {
			bar = strchr(p, '|');
			snprintf(f[n++], sizeof(f[0]), "%.*s", bar ? (int)(bar - p) : (int)strlen(p), p);
			if (!bar)
				break;
			p = bar + 1;
		}
		if (strcmp(f[0], "Crash") == 0) {
			snprintf(w.reason, sizeof(w.reason), "%s", f[1]);
			snprintf(w.address, sizeof(w.address), "%s", f[2]);
			w.crash_thread = atoi(f[3]);
		} else if (n >= 4 && f[0][0] >= '0' && f[0][0] <= '9' && f[1][0] >= '0' &&
			   f[1][0] <= '9') {
			int t = atoi(f[0]);

			if (t != last_thread)
				w.threads++;
			last_thread = t;
			if (t == w.crash_thread && atoi(f[1]) == 0)
				snprintf(w.frame0, sizeof(w.frame0), "%s", f[3]);
			if (t == w.crash_thread && want_fn && strcmp(f[3], want_fn) == 0)
				w.in_stack = true;
		}
	}
	it_result_done(&res);
	free(tool);
	return w;
}

/* Breakpad's minidump_dump prints CrashpadInfo's annotations as simple_annotations["k"] = v. */
static bool dump_has_annotation(const char *dump, const char *key, const char *value)
{
	char *tool = it_tool("minidump_dump"), want[256];
	const char *argv[] = {tool, dump, NULL};
	struct it_result res;
	bool found;

	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	snprintf(want, sizeof(want), "simple_annotations[\"%s\"] = %s", key, value);
	found = res.out && strstr(res.out, want);
	it_result_done(&res);
	free(tool);
	return found;
}

static json_t *load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);

	ck_assert_msg(j != NULL, "%s: %s", path, err.text);
	return j;
}

/* ---- crashes, one per mode ---- */

static const struct crash_case {
	const char *mode;
	int sig;
	const char *reason; /* how stackwalk names it (prefix) */
	const char *function;
	bool frame0;  /* the function is frame 0 (else: somewhere in the crashing stack) */
	int threads;
	const char *address; /* expected crash address, NULL: not checked */
} cases[] = {
	{"segv", SIGSEGV, "SIGSEGV", "crash_segv", true, 1, "0x0"},
	{"abort", SIGABRT, "SIGABRT", "crash_abort", false, 1, NULL},
	{"fpe", SIGFPE, "SIGFPE", "crash_fpe", true, 1, NULL},
	{"ill", SIGILL, "SIGILL", "crash_ill", true, 1, NULL},
	{"stackoverflow", SIGSEGV, "SIGSEGV", "crash_recurse", true, 1, NULL},
	{"thread-segv", SIGSEGV, "SIGSEGV", "crash_in_thread", true, 21, "0x0"},
};

START_TEST(crash_is_dumped_and_app_dies_by_its_signal)
{
	const struct crash_case *c = &cases[_i];
	char annotation[64], value[32];
	struct app_run run;
	struct walk w;
	char *dump, *report;
	json_t *j, *crash;

	snprintf(value, sizeof(value), "itest-%s", c->mode);
	snprintf(annotation, sizeof(annotation), "test.key=%s", value);
	run = run_app(c->mode, annotation, NULL, NULL);
	ck_assert_msg(!run.res.exited && !run.res.timed_out && run.res.sig == c->sig,
		      "%s: app ended with %s, want death by signal %d", c->mode,
		      it_result_status(&run.res), c->sig);

	dump = find_dump(run.pid, "dmp");
	report = find_dump(run.pid, "json");
	ck_assert_msg(dump && report, "%s: no dump/report for pid %d in %s; log: %s", c->mode,
		      (int)run.pid, D.dumps, it_read_file(D.log, NULL));
	{
		struct stat st;

		ck_assert_int_eq(stat(dump, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
	}

	/* the report */
	j = load_json(report);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), run.pid);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "crash");
	crash = json_object_get(j, "crash");
	ck_assert_int_eq(json_integer_value(json_object_get(crash, "code")), c->sig);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "annotations"),
							   "test.key")),
			 value);
	ck_assert_str_eq(json_string_value(json_object_get(j, "path")), dump);
	json_decref(j);

	/* what Breakpad makes of the dump */
	w = stackwalk(dump, c->function);
	ck_assert_msg(strncmp(w.reason, c->reason, strlen(c->reason)) == 0,
		      "%s: crash reason '%s', want %s", c->mode, w.reason, c->reason);
	if (c->address)
		ck_assert_str_eq(w.address, c->address);
	if (c->frame0)
		ck_assert_msg(strcmp(w.frame0, c->function) == 0, "%s: frame 0 is '%s', want %s",
			      c->mode, w.frame0, c->function);
	else
		ck_assert_msg(w.in_stack, "%s: %s not in the crashing thread's stack", c->mode,
			      c->function);
	ck_assert_int_eq(w.threads, c->threads);
	ck_assert_msg(dump_has_annotation(dump, "test.key", value),
		      "annotation not in the dump");
	free(dump);
	free(report);
	it_result_done(&run.res);
}
END_TEST

START_TEST(no_daemon_app_still_dies_promptly)
{
	char sock[300];
	struct app_run run;

	snprintf(sock, sizeof(sock), "%s/nobody-listens.sock", D.dir);
	run = run_app("segv", "k=v", sock, NULL);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s",
		      it_result_status(&run.res));
	ck_assert_msg(run.res.duration < ABSENT_DEATH_MS, "took %lld ms",
		      (long long)run.res.duration);
	it_result_done(&run.res);
}
END_TEST

START_TEST(frozen_daemon_app_dies_at_its_timeout)
{
	char timeout[64];
	struct app_run run;

	snprintf(timeout, sizeof(timeout), "MINIDUMPD_TIMEOUT_MS=%d", FROZEN_TIMEOUT_MS);
	ck_assert_int_eq(kill(D.pid, SIGSTOP), 0);
	run = run_app("segv", "k=v", NULL, timeout);
	kill(D.pid, SIGCONT);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s",
		      it_result_status(&run.res));
	ck_assert_msg(run.res.duration >= FROZEN_TIMEOUT_MS - 100 &&
			      run.res.duration < FROZEN_TIMEOUT_MS + FROZEN_SLACK_MS,
		      "took %lld ms with a %d ms timeout", (long long)run.res.duration,
		      FROZEN_TIMEOUT_MS);
	it_result_done(&run.res);
}
END_TEST

START_TEST(dump_now_keeps_the_app_running)
{
	struct app_run run = run_app("dump-now", "when=now", NULL, NULL);
	char *dump, *report;
	json_t *j;

	ck_assert_msg(run.res.exited && run.res.code == 0, "%s", it_result_status(&run.res));
	ck_assert_ptr_nonnull(strstr(run.res.out, "dump-now: 0"));
	dump = find_dump(run.pid, "dmp");
	report = find_dump(run.pid, "json");
	ck_assert_ptr_nonnull(dump);
	ck_assert_ptr_nonnull(report);
	j = load_json(report);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "dump-now");
	ck_assert(json_is_null(json_object_get(j, "crash")));
	json_decref(j);
	{
		struct walk w = stackwalk(dump, NULL);

		ck_assert_str_eq(w.reason, "DUMP_REQUESTED");
	}
	free(dump);
	free(report);
	it_result_done(&run.res);
}
END_TEST

START_TEST(two_apps_crashing_together_both_get_dumps)
{
	const char *exe = it_env("CRASH_APP");
	const char *argv[] = {exe, "thread-segv", "--annotate", "pair=yes", NULL};
	char sockenv[300];
	const char *env[] = {sockenv, NULL};
	struct it_proc p[2];
	struct it_result r[2];

	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", D.sock);
	ck_assert_int_eq(it_spawn(argv, env, &p[0]), 0);
	ck_assert_int_eq(it_spawn(argv, env, &p[1]), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(it_wait(&p[i], APP_TIMEOUT_MS, &r[i]), 0);
		ck_assert_msg(!r[i].exited && r[i].sig == SIGSEGV, "app %d: %s", i,
			      it_result_status(&r[i]));
	}
	for (int i = 0; i < 2; i++) {
		char *dump = find_dump(p[i].pid, "dmp");
		struct walk w;

		ck_assert_msg(dump != NULL, "no dump for app %d", i);
		w = stackwalk(dump, NULL);
		ck_assert_str_eq(w.frame0, "crash_in_thread");
		ck_assert_int_eq(w.threads, 21);
		free(dump);
		it_result_done(&r[i]);
	}
}
END_TEST

START_TEST(mdctl_dump_goes_through_the_daemon_and_is_authorized)
{
	const char *mdctl = it_env("MDCTL");
	struct it_target t;
	char pid[16], sock[300];
	struct it_result res;
	json_t *j;

	ck_assert_int_eq(it_target_start(NULL, &t), 0);
	snprintf(pid, sizeof(pid), "%d", (int)t.pid);
	snprintf(sock, sizeof(sock), "--socket=%s", D.sock);
	{
		const char *argv[] = {mdctl, "dump", pid, sock, "--json", NULL};

		ck_assert_int_eq(it_run(argv, NULL, APP_TIMEOUT_MS, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "mdctl: %s %s", it_result_status(&res),
			      res.err);
		j = json_loads(res.out, 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), t.pid);
		ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "request");
		ck_assert_int_eq(access(json_string_value(json_object_get(j, "path")), F_OK), 0);
		json_decref(j);
		it_result_done(&res);
	}
	/* nobody may not have a dump of root's process: the daemon checks SO_PEERCRED */
	{
		char uid[32];
		const char *argv[] = {"setpriv", uid, "--regid=65534", "--clear-groups", mdctl,
				      "dump", pid, sock, NULL};

		snprintf(uid, sizeof(uid), "--reuid=%d", NOBODY_ID);
		ck_assert_int_eq(it_run(argv, NULL, APP_TIMEOUT_MS, &res), 0);
		ck_assert_msg(res.exited && res.code == 4, "nobody got %s: %s",
			      it_result_status(&res), res.err);
		ck_assert_ptr_nonnull(strstr(res.err, "may not dump"));
		it_result_done(&res);
	}
	ck_assert_int_eq(it_target_ping(&t, 5000), 6);
	it_target_kill(&t);
}
END_TEST

/* Sends raw bytes, returns the reply message (decoded into m) or -errno. */
static int raw_exchange(const void *data, size_t len, uint8_t *reply, size_t size,
			struct md_proto_msg *m)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), r = 0;
	size_t got = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", D.sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	for (;;) {
		ssize_t n = read(fd, reply + got, size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= 16) {
			enum md_proto_type t;
			int pl = md_proto_header(reply, &t);

			if (pl >= 0 && got >= 16 + (size_t)pl)
				break;
		}
	}
	close(fd);
	r = md_proto_decode(reply, got, m, NULL);
	return r;
}

START_TEST(garbage_gets_an_error_and_the_daemon_keeps_serving)
{
	static uint8_t reply[MD_PROTO_MAX_MESSAGE];
	struct md_proto_msg m;
	uint8_t junk[64];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	ck_assert_int_eq(raw_exchange(junk, sizeof(junk), reply, sizeof(reply), &m), 0);
	ck_assert_int_eq(m.type, MD_MSG_ERROR);
	ck_assert_int_eq(m.error, -EBADMSG);
	/* still serving */
	{
		struct app_run run = run_app("segv", "after=garbage", NULL, NULL);

		ck_assert_int_eq(run.res.sig, SIGSEGV);
		ck_assert_ptr_nonnull(find_dump(run.pid, "dmp"));
		it_result_done(&run.res);
	}
	ck_assert_ptr_nonnull(strstr(it_read_file(D.log, NULL), "bad message header"));
}
END_TEST

START_TEST(claimed_identity_is_ignored)
{
	static uint8_t reply[MD_PROTO_MAX_MESSAGE];
	uint8_t msg[256];
	struct md_proto_enc e;
	struct md_proto_msg m;
	json_t *j;
	int n;

	/* we say we are pid 1 and crashed; the daemon must dump us, the real peer */
	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_CRASH);
	md_proto_put_u32(&e, MD_TAG_PID, 1);
	md_proto_put_u32(&e, MD_TAG_TID, 1);
	md_proto_put_u32(&e, MD_TAG_SIGNO, 11);
	md_proto_put_u32(&e, MD_TAG_SI_CODE, 1);
	md_proto_put_u64(&e, MD_TAG_FAULT_ADDR, 0);
	n = md_proto_finish(&e);
	ck_assert_int_eq(raw_exchange(msg, (size_t)n, reply, sizeof(reply), &m), 0);
	ck_assert_int_eq(m.type, MD_MSG_RESULT);
	j = json_loads(m.text, 0, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), getpid());
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "crash"),
							    "thread_id")),
			 getpid());
	json_decref(j);
	ck_assert_ptr_nonnull(strstr(it_read_file(D.log, NULL), "claims to be pid 1"));
}
END_TEST

START_TEST(sigterm_during_a_crash_still_delivers_the_dump)
{
	const char *exe = it_env("CRASH_APP");
	const char *argv[] = {exe, "thread-segv", "--annotate", "k=v", NULL};
	char sockenv[300];
	const char *env[] = {sockenv, NULL};
	struct it_proc p;
	struct it_result r;
	int64_t deadline;
	int st;

	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", D.sock);
	ck_assert_int_eq(it_spawn(argv, env, &p), 0);
	/* as soon as the daemon has the crash, ask it to stop */
	deadline = it_now_ms() + APP_TIMEOUT_MS;
	for (;;) {
		char *log = it_read_file(D.log, NULL);
		bool seen = log && strstr(log, "crashed:");

		free(log);
		if (seen)
			break;
		ck_assert(it_now_ms() < deadline);
		usleep(500);
	}
	kill(D.pid, SIGTERM);
	ck_assert_int_eq(it_wait(&p, APP_TIMEOUT_MS, &r), 0);
	ck_assert_int_eq(r.sig, SIGSEGV);
	ck_assert_ptr_nonnull(find_dump(p.pid, "dmp"));
	ck_assert_int_eq(waitpid(D.pid, &st, 0), D.pid);
	D.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "minidumpd status 0x%x", st);
	it_result_done(&r);
}
END_TEST

static void activated_setup(void)
{
	daemon_start_with(-2);
}

START_TEST(socket_activation_is_served)
{
	struct app_run run = run_app("segv", "via=activation", NULL, NULL);

	ck_assert_int_eq(run.res.sig, SIGSEGV);
	ck_assert_ptr_nonnull(find_dump(run.pid, "dmp"));
	ck_assert_ptr_nonnull(strstr(it_read_file(D.log, NULL), "(inherited)"));
	it_result_done(&run.res);
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("crashes");
	TCase *act = tcase_create("activation");

	tcase_add_checked_fixture(tc, daemon_start, daemon_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, crash_is_dumped_and_app_dies_by_its_signal, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, no_daemon_app_still_dies_promptly);
	tcase_add_test(tc, frozen_daemon_app_dies_at_its_timeout);
	tcase_add_test(tc, dump_now_keeps_the_app_running);
	tcase_add_test(tc, two_apps_crashing_together_both_get_dumps);
	tcase_add_test(tc, mdctl_dump_goes_through_the_daemon_and_is_authorized);
	tcase_add_test(tc, garbage_gets_an_error_and_the_daemon_keeps_serving);
	tcase_add_test(tc, claimed_identity_is_ignored);
	tcase_add_test(tc, sigterm_during_a_crash_still_delivers_the_dump);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(act, activated_setup, daemon_teardown);
	tcase_set_timeout(act, 120);
	tcase_add_test(act, socket_activation_is_served);
	suite_add_tcase(s, act);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(daemon_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
