/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the suites that run the real minidumpd: start it on a temporary socket and dump
 * folder (or through socket activation, as systemd would), run crash-app against it, find the
 * dumps and reports it wrote, and ask Breakpad's tools what they make of them. Every daemon
 * started here is stopped and its folder removed by daemon_teardown().
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon-util.h"

struct daemon D = {.listen_fd = -1};

/* ---- the daemon under test ---- */

void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

bool can_connect(const char *path)
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

void daemon_dirs_new(const char *config)
{
	D.dir = it_tempdir(0755);
	ck_assert_ptr_nonnull(D.dir);
	snprintf(D.sock, sizeof(D.sock), "%s/md.sock", D.dir);
	snprintf(D.dumps, sizeof(D.dumps), "%s/dumps", D.dir);
	snprintf(D.log, sizeof(D.log), "%s/daemon.log", D.dir);
	ck_assert_int_eq(mkdir(D.dumps, 0700), 0);
	D.conf[0] = '\0';
	if (config) {
		snprintf(D.conf, sizeof(D.conf), "%s/minidumpd.json", D.dir);
		write_text(D.conf, config);
	}
}

void daemon_listen(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	D.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(D.listen_fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", D.sock);
	ck_assert_int_eq(bind(D.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(chmod(D.sock, 0666), 0);
	ck_assert_int_eq(listen(D.listen_fd, 64), 0);
}

void daemon_spawn(const struct daemon_opts *o)
{
	static const struct daemon_opts plain;
	const char *exe = it_env("MINIDUMPD");
	/* the log is appended to across restarts */
	int readies = log_count(" ready: socket");
	int64_t deadline;

	if (!o)
		o = &plain;
	D.pid = fork();
	ck_assert_int_ge(D.pid, 0);
	if (D.pid == 0) {
		const char *argv[64];
		int log = open(D.log, O_WRONLY | O_CREAT | O_APPEND, 0600), n = 0;
		char pidbuf[16];

		dup2(log, 2);
		dup2(open("/dev/null", O_RDWR), 0);
		dup2(2, 1);
		for (size_t i = 0; o->wrapper && o->wrapper[i] && n < 16; i++)
			argv[n++] = o->wrapper[i];
		argv[n++] = exe;
		argv[n++] = "--foreground";
		if (D.conf[0]) {
			argv[n++] = "--config";
			argv[n++] = D.conf;
		}
		argv[n++] = "--dump-dir";
		argv[n++] = D.dumps;
		argv[n++] = "--socket";
		argv[n++] = D.listen_fd >= 0 ? "/nonexistent/ignored.sock" : D.sock;
		for (size_t i = 0; o->extra && o->extra[i] && n < 63; i++)
			argv[n++] = o->extra[i];
		argv[n] = NULL;
		for (size_t i = 0; o->env && o->env[i]; i++)
			putenv((char *)o->env[i]);
		if (D.listen_fd >= 0) {
			/* as systemd does it: fd 3, LISTEN_FDS=1, LISTEN_PID = the daemon itself
			 * (a wrapper execs the daemon in the same process) */
			dup2(D.listen_fd, 3);
			snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
			setenv("LISTEN_PID", pidbuf, 1);
			setenv("LISTEN_FDS", "1", 1);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (o->no_wait)
		return;
	deadline = it_now_ms() + DAEMON_READY_MS;
	/* its line, not a connection: the kernel queues a connection as soon as the socket
	 * listens (an inherited one does before the daemon even starts), and the daemon still
	 * starts its capture worker and hands over the dump folder after that */
	while (log_count(" ready: socket") <= readies) {
		int st;

		ck_assert_msg(waitpid(D.pid, &st, WNOHANG) == 0, "minidumpd exited at start: %s",
		              log_tail());
		ck_assert_msg(it_now_ms() < deadline, "minidumpd not ready");
		usleep(5000);
	}
}

void daemon_start_opts(const struct daemon_opts *o)
{
	daemon_dirs_new(o ? o->config : NULL);
	if (o && o->activated)
		daemon_listen();
	daemon_spawn(o);
}

void daemon_start(void)
{
	daemon_start_opts(NULL);
}

void daemon_start_config(const char *config)
{
	daemon_start_opts(&(struct daemon_opts){.config = config});
}

int daemon_stop_within(int timeout_ms, int *ret_status)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	int st = 0;
	pid_t r = 1;

	if (D.pid > 0) {
		kill(D.pid, SIGCONT);
		kill(D.pid, SIGTERM);
		if (timeout_ms < 0)
			waitpid(D.pid, &st, 0);
		else
			while ((r = waitpid(D.pid, &st, WNOHANG)) == 0 && it_now_ms() < deadline)
				usleep(10000);
		if (r == 0) {
			kill(D.pid, SIGKILL);
			waitpid(D.pid, &st, 0);
		}
		D.pid = 0;
	}
	if (r == 0)
		return -ETIMEDOUT;
	*ret_status = st;
	return 0;
}

int daemon_stop(void)
{
	int st = 0;

	daemon_stop_within(-1, &st);
	return st;
}

void daemon_teardown(void)
{
	daemon_stop();
	if (D.listen_fd >= 0)
		close(D.listen_fd);
	D.listen_fd = -1;
	if (D.dir && !getenv("IT_KEEP"))
		it_rmtree(D.dir);
	free(D.dir);
	D.dir = NULL;
}

/* ---- apps ---- */

struct it_proc app_spawn(const char *mode, const char *annotation, const struct app_opts *o)
{
	static const struct app_opts plain;
	const char *exe;
	char sockenv[300];
	const char *argv[32], *env[3] = {sockenv};
	struct it_proc p;
	int n = 0;

	if (!o)
		o = &plain;
	exe = o->exe ? o->exe : it_env("CRASH_APP");
	for (size_t i = 0; o->wrapper && o->wrapper[i] && n < 16; i++)
		argv[n++] = o->wrapper[i];
	argv[n++] = exe;
	argv[n++] = mode;
	if (annotation) {
		argv[n++] = "--annotate";
		argv[n++] = annotation;
	}
	argv[n] = NULL;
	env[1] = o->extra_env;
	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", o->sock ? o->sock : D.sock);
	ck_assert_int_eq(it_spawn(argv, env, &p), 0);
	return p;
}

struct app_run run_app_opts(const char *mode, const char *annotation, const struct app_opts *o)
{
	struct it_proc p = app_spawn(mode, annotation, o);
	struct app_run run = {.pid = p.pid};

	ck_assert_int_eq(it_wait(&p, o && o->timeout_ms ? o->timeout_ms : APP_TIMEOUT_MS, &run.res),
	                 0);
	return run;
}

struct app_run run_app(const char *mode, const char *annotation, const char *sock,
                       const char *extra_env)
{
	return run_app_opts(mode, annotation,
	                    &(struct app_opts){.sock = sock, .extra_env = extra_env});
}

/* The one file dumps/<exe>.<pid>.<...>.<ext> (exe a glob pattern), or NULL. */
static char *find_file(const char *exe, pid_t pid, const char *ext)
{
	char pattern[512];
	glob_t g;
	char *path = NULL;

	snprintf(pattern, sizeof(pattern), "%s/%s.%d.*.%s", D.dumps, exe, (int)pid, ext);
	if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1)
		path = strdup(g.gl_pathv[0]);
	globfree(&g);
	return path;
}

char *find_dump(pid_t pid, const char *ext)
{
	return find_file("crash-app", pid, ext);
}

char *find_dump_any(pid_t pid, const char *ext)
{
	return find_file("*", pid, ext);
}

char *stackwalk_machine(const char *dump)
{
	char *tool = it_tool("minidump_stackwalk"), symroot[512], *out;
	const char *argv[] = {tool, "-m", dump, symroot, NULL};
	struct it_result res;

	snprintf(symroot, sizeof(symroot), "%s/symbols", D.dir);
	mkdir(symroot, 0755);
	ck_assert_int_ge(it_make_symbols(dump, symroot), 0);
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "minidump_stackwalk %s: %s", dump,
	              it_result_status(&res));
	out = res.out;
	res.out = NULL;
	it_result_done(&res);
	free(tool);
	return out;
}

int stackwalk_fields(const char *line, char (*f)[STACKWALK_FIELD], int max)
{
	const char *p = line, *bar;
	int n = 0;

	memset(f, 0, sizeof(*f) * (size_t)max);
	while (n < max) {
		bar = strchr(p, '|');
		snprintf(f[n++], STACKWALK_FIELD, "%.*s", bar ? (int)(bar - p) : (int)strlen(p), p);
		if (!bar)
			break;
		p = bar + 1;
	}
	return n;
}

struct walk stackwalk(const char *dump, const char *want_fn)
{
	char *text = stackwalk_machine(dump), *line, *save = NULL;
	struct walk w;
	int last_thread = -1;

	memset(&w, 0, sizeof(w));
	w.crash_thread = -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char f[8][STACKWALK_FIELD];
		int n = stackwalk_fields(line, f, 8);

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
			if (t == w.crash_thread && want_fn && strcmp(f[3], want_fn) == 0) {
				w.in_stack = true;
				w.want_frames++;
			}
		}
	}
	free(text);
	return w;
}

void assert_walk(const char *dump, const struct walk_want *want, const char *what)
{
	struct walk w = stackwalk(dump, want->function);

	ck_assert_msg(strncmp(w.reason, want->reason, strlen(want->reason)) == 0,
	              "%s: crash reason '%s', want %s", what, w.reason, want->reason);
	if (want->address)
		ck_assert_msg(strcmp(w.address, want->address) == 0,
		              "%s: crash address %s, want %s", what, w.address, want->address);
	if (want->frame0)
		ck_assert_msg(strcmp(w.frame0, want->function) == 0, "%s: frame 0 is '%s', want %s",
		              what, w.frame0, want->function);
	else
		ck_assert_msg(w.in_stack, "%s: %s not in the crashing thread's stack", what,
		              want->function);
	ck_assert_msg(w.threads == want->threads, "%s: %d threads, want %d", what, w.threads,
	              want->threads);
}

/* Breakpad's minidump_dump prints CrashpadInfo's annotations as simple_annotations["k"] = v. */
bool dump_has_annotation(const char *dump, const char *key, const char *value)
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

json_t *load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);

	ck_assert_msg(j != NULL, "%s: %s", path, err.text);
	return j;
}

bool has_dump(pid_t pid, const char *ext)
{
	char *path = find_dump(pid, ext);

	free(path);
	return path != NULL;
}

char *log_read(void)
{
	char *log = it_read_file(D.log, NULL);

	return log ? log : strdup("");
}

const char *log_tail(void)
{
	static char tail[LOG_TAIL_BYTES + 1];
	char *log = log_read();
	size_t len = strlen(log);

	snprintf(tail, sizeof(tail), "%s", len > LOG_TAIL_BYTES ? log + len - LOG_TAIL_BYTES : log);
	free(log);
	return tail;
}

int log_count(const char *text)
{
	char *log = log_read(), *p = log;
	int n = 0;

	while ((p = strstr(p, text))) {
		n++;
		p += strlen(text);
	}
	free(log);
	return n;
}

bool log_has(const char *text)
{
	char *log = it_read_file(D.log, NULL);
	bool found = log && strstr(log, text);

	free(log);
	return found;
}

json_t *status_json(void)
{
	const char *argv[] = {it_env("MDCTL"), "status", "--json", "--socket", D.sock, NULL};
	struct it_result r;
	json_t *j;

	ck_assert_int_eq(it_run(argv, NULL, 30000, &r), 0);
	ck_assert_msg(r.exited && r.code == 0, "mdctl status: %s: %s", it_result_status(&r), r.err);
	j = json_loads(r.out, 0, NULL);
	ck_assert_msg(j != NULL, "mdctl status --json: not JSON: %s", r.out);
	it_result_done(&r);
	return j;
}

long long status_event_in(json_t *status, const char *name)
{
	json_t *v = json_object_get(json_object_get(status, "events"), name);
	long long n = json_integer_value(v);

	ck_assert_msg(json_is_integer(v), "the daemon's status has no event %s", name);
	json_decref(status);
	return n;
}

long long status_count_in(json_t *status, const char *key)
{
	json_t *v = json_object_get(status, key);
	long long n = json_integer_value(v);

	ck_assert_msg(json_is_integer(v), "the daemon's status has no %s", key);
	json_decref(status);
	return n;
}

bool status_flag_in(json_t *status, const char *key)
{
	bool v = json_is_true(json_object_get(status, key));

	json_decref(status);
	return v;
}

long long status_event_count(const char *name)
{
	return status_event_in(status_json(), name);
}

bool status_flag(const char *key)
{
	return status_flag_in(status_json(), key);
}

long long status_count(const char *key)
{
	return status_count_in(status_json(), key);
}

pid_t fork_vfork_sleeper(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* single-threaded; both die with the caller (PR_SET_PDEATHSIG) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (vfork() == 0) {
			syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			for (;;) /* every arch has ppoll */
				syscall(SYS_ppoll, NULL, 0, NULL, NULL, 0);
		}
		_exit(0);
	}
	return pid;
}
