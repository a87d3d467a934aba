/* SPDX-License-Identifier: MIT */
/*
 * Process, file and /proc helpers for the integration suite (see integration-util.h). The
 * suite runs as a Check test in forked mode, so these helpers may abort the test through
 * ck_abort_msg() when the environment itself is broken (a missing variable), but they never
 * decide whether mdctl did the right thing. Every child they start is reaped.
 */
#include "integration-util.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_SLICE_MS  50    /* ms between checks for a child's exit while reading its output */
#define DRAIN_AFTER_MS 2000  /* ms to keep reading pipes a grandchild may hold after the exit */
#define READ_CHUNK     65536 /* bytes per read() from a child's pipe */
#define NFTW_FDS       16    /* file descriptors nftw() may hold open */

int64_t it_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *it_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		ck_abort_msg(
		    "environment variable %s is not set (run the suite through meson test)", name);
	return v;
}

char *it_tool(const char *name)
{
	char *path;

	if (asprintf(&path, "%s/%s", it_env("BREAKPAD_TOOLS"), name) < 0)
		ck_abort_msg("out of memory");
	return path;
}

static void close_pipe(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

/* Makes two pipes (close-on-exec) and forks. Returns the child's pid in the parent, which then
 * owns all four ends, 0 in the child, or -errno with nothing left open. */
static pid_t fork_with_pipes(int a[2], int b[2])
{
	pid_t pid = -1;
	int r = 0;

	a[0] = a[1] = b[0] = b[1] = -1;
	if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0) {
		r = -errno;
	} else {
		fflush(NULL);
		pid = fork();
		if (pid < 0)
			r = -errno;
	}
	if (r < 0) {
		close_pipe(a);
		close_pipe(b);
		return r;
	}
	return pid;
}

int it_spawn(const char *const *argv, const char *const *env, struct it_proc *ret_proc)
{
	int out[2], err[2];
	pid_t pid = fork_with_pipes(out, err);

	if (pid < 0)
		return pid;
	if (pid == 0) {
		/* The suite is single-threaded, so the child may use putenv() and stdio. */
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
		    dup2(err[1], STDERR_FILENO) < 0)
			_exit(126);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	*ret_proc = (struct it_proc){
	    .pid = pid, .out_fd = out[0], .err_fd = err[0], .start_ms = it_now_ms()};
	return 0;
}

/* Appends what is readable on *fd to the buffer; closes *fd (sets -1) at end of file. */
static void drain(int *fd, char **buf, size_t *len)
{
	char chunk[READ_CHUNK];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (*len + (size_t)n > IT_OUTPUT_MAX)
		return; /* keep the first IT_OUTPUT_MAX bytes; the rest is read and dropped */
	char *grown = realloc(*buf, *len + (size_t)n + 1);

	if (!grown)
		ck_abort_msg("out of memory");
	*buf = grown;
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
}

int it_wait(struct it_proc *p, int timeout_ms, struct it_result *ret_result)
{
	struct it_result res = {0};
	int64_t deadline = p->start_ms + timeout_ms, exited_at = -1;
	bool reaped = false;
	int status = 0;

	res.out = calloc(1, 1);
	res.err = calloc(1, 1);
	if (!res.out || !res.err)
		ck_abort_msg("out of memory");
	for (;;) {
		struct pollfd fds[2] = {{.fd = p->out_fd, .events = POLLIN},
		                        {.fd = p->err_fd, .events = POLLIN}};
		int64_t now;

		if (!reaped) {
			pid_t w = waitpid(p->pid, &status, WNOHANG);

			if (w == p->pid) {
				reaped = true;
				exited_at = it_now_ms();
			} else if (w < 0 && errno != EINTR) {
				return -errno;
			}
		}
		now = it_now_ms();
		if (reaped &&
		    ((p->out_fd < 0 && p->err_fd < 0) || now - exited_at > DRAIN_AFTER_MS))
			break;
		if (!reaped && now >= deadline) {
			kill(p->pid, SIGKILL);
			res.timed_out = true;
			deadline = INT64_MAX;
		}
		if (poll(fds, 2, POLL_SLICE_MS) > 0) {
			if (p->out_fd >= 0 && fds[0].revents)
				drain(&p->out_fd, &res.out, &res.out_len);
			if (p->err_fd >= 0 && fds[1].revents)
				drain(&p->err_fd, &res.err, &res.err_len);
		}
	}
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->out_fd = p->err_fd = -1;
	res.end_ms = exited_at;
	res.duration = exited_at - p->start_ms;
	if (WIFEXITED(status)) {
		res.exited = true;
		res.code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res.sig = WTERMSIG(status);
	}
	*ret_result = res;
	return 0;
}

int it_run(const char *const *argv, const char *const *env, int timeout_ms,
           struct it_result *ret_result)
{
	struct it_proc p;
	int r = it_spawn(argv, env, &p);

	if (r < 0)
		return r;
	return it_wait(&p, timeout_ms, ret_result);
}

void it_result_done(struct it_result *r)
{
	free(r->out);
	free(r->err);
	*r = (struct it_result){0};
}

const char *it_result_status(const struct it_result *r)
{
	static char buf[64];

	if (r->timed_out)
		snprintf(buf, sizeof(buf), "timed out");
	else if (r->exited)
		snprintf(buf, sizeof(buf), "exit %d", r->code);
	else
		snprintf(buf, sizeof(buf), "signal %d", r->sig);
	return buf;
}

/* Reads one line from fd into buf within timeout_ms. Returns its length or -errno. */
static int read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	size_t used = 0;

	while (used + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - it_now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, buf + used, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		if (buf[used] == '\n')
			break;
		used++;
	}
	buf[used] = '\0';
	return (int)used;
}

/* Leaves "$IT_ROOT/pid-<pid>" behind so the suite's parent process can kill a target that a
 * failing test (Check ends it with _exit(), past any atexit handler) left running or stopped. */
static void note_target(pid_t pid)
{
	const char *root = getenv("IT_ROOT");
	char path[4096];
	int fd;

	if (!root || !*root)
		return;
	snprintf(path, sizeof(path), "%s/pid-%d", root, (int)pid);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

int it_suite_root_new(char **ret_root)
{
	const char *base = getenv("TMPDIR");
	char *root;

	if (asprintf(&root, "%s/mdctl-it-XXXXXX", base && *base ? base : "/tmp") < 0)
		return -ENOMEM;
	/* 0755: test folders inside are made for nobody too (the privilege test). */
	if (!mkdtemp(root) || chmod(root, 0755) < 0) {
		int r = -errno;

		free(root);
		return r;
	}
	*ret_root = root;
	return 0;
}

void it_suite_root_done(const char *root, const char *target_bin)
{
	char want[4096], exe[4096], link[64];
	const char *keep = getenv("IT_KEEP");
	struct dirent *e;
	DIR *d = opendir(root);

	if (d && realpath(target_bin, want)) {
		while ((e = readdir(d))) {
			int pid;
			ssize_t n;

			if (sscanf(e->d_name, "pid-%d", &pid) != 1 || pid <= 0)
				continue;
			/* Only a process still running the target binary: the pid may be reused. */
			snprintf(link, sizeof(link), "/proc/%d/exe", pid);
			n = readlink(link, exe, sizeof(exe) - 1);
			if (n <= 0)
				continue;
			exe[n] = '\0';
			if (strcmp(exe, want) == 0) {
				fprintf(stderr, "integration: killing target %d left by a test\n",
				        pid);
				kill(pid, SIGKILL);
			}
		}
	}
	if (d)
		closedir(d);
	if (keep && *keep == '1')
		fprintf(stderr, "integration: kept %s\n", root);
	else
		it_rmtree(root);
}

static char *suite_root; /* it_suite_setup()'s, exported as IT_ROOT */

int it_suite_setup(const struct check_suite *cs)
{
	/* Check ends a failing test with _exit(), past the atexit cleanup, so the parent owns one
	 * root folder for all tests and sweeps it (and any target left in it) at the end. */
	int r = it_suite_root_new(&suite_root);

	if (r < 0)
		return r;
	setenv("IT_ROOT", suite_root, 1);
	return 0;
}

void it_suite_teardown(const struct check_suite *cs)
{
	const char *target = cs->target_env ? getenv(cs->target_env) : NULL;

	if (!suite_root)
		return;
	it_suite_root_done(suite_root, target ? target : "");
	free(suite_root);
	suite_root = NULL;
}

/* Waits until the main thread of pid sleeps (State S). Returns 0 or -ETIMEDOUT. */
static int wait_sleeping(pid_t pid, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;

	while (it_task_state(pid, pid) != 'S') {
		if (it_now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(STATE_POLL_US);
	}
	return 0;
}

int it_target_start(const char *const *args, struct it_target *ret_target)
{
	const char *bin = it_env("TARGET_THREADS");
	const char *argv[32] = {bin};
	int in[2], out[2];
	char line[64];
	size_t n = 1;
	pid_t pid;
	int r, ready;

	for (size_t i = 0; args && args[i]; i++) {
		if (n + 1 >= sizeof(argv) / sizeof(argv[0]))
			return -E2BIG;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	pid = fork_with_pipes(in, out);
	if (pid < 0)
		return pid;
	if (pid == 0)
		it_exec_piped(in[0], out[1], argv);
	close(in[0]);
	close(out[1]);
	*ret_target = (struct it_target){.pid = pid, .in_fd = in[1], .out_fd = out[0]};
	note_target(pid);
	r = read_line(out[0], line, sizeof(line), IT_TARGET_READY_MS);
	if (r >= 0 && (sscanf(line, "ready %d", &ready) != 1 || ready != pid))
		r = -EPROTO;
	/* The workers sleep before "ready" is printed; the main thread right after it. A dump
	 * taken before it sleeps would catch it inside stdio, still in park_main but not in the
	 * system call the tests expect. */
	if (r >= 0)
		r = wait_sleeping(pid, IT_TARGET_READY_MS);
	if (r < 0)
		it_target_kill(ret_target);
	return r < 0 ? r : 0;
}

void it_exec_piped(int in, int out, const char *const *argv)
{
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
		_exit(126);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

int it_target_ping(struct it_target *t, int timeout_ms)
{
	char line[64];
	unsigned alive;
	int r;

	if (write(t->in_fd, "ping\n", 5) != 5)
		return -errno;
	r = read_line(t->out_fd, line, sizeof(line), timeout_ms);
	if (r < 0)
		return r;
	if (sscanf(line, "pong %u", &alive) != 1)
		return -EPROTO;
	return (int)alive;
}

void it_target_kill(struct it_target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
			;
		t->pid = 0;
	}
	if (t->in_fd >= 0)
		close(t->in_fd);
	if (t->out_fd >= 0)
		close(t->out_fd);
	t->in_fd = t->out_fd = -1;
}

char *it_tempdir(mode_t mode)
{
	const char *root = getenv("IT_ROOT"), *base = getenv("TMPDIR");
	char *path;
	int r;

	if (root && *root)
		r = asprintf(&path, "%s/t-XXXXXX", root);
	else
		r = asprintf(&path, "%s/mdctl-it-XXXXXX", base && *base ? base : "/tmp");
	if (r < 0)
		ck_abort_msg("out of memory");
	if (!mkdtemp(path))
		ck_abort_msg("mkdtemp %s: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		ck_abort_msg("chmod %s: %s", path, strerror(errno));
	return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

int it_rmtree(const char *path)
{
	return nftw(path, rm_entry, NFTW_FDS, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

int it_dir_count(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

char *it_wait_file(const char *path, const char *needle, int count, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;

	for (;;) {
		char *text = it_read_file(path, NULL);
		int n = 0;

		for (const char *p = text; p && (p = strstr(p, needle)); p++)
			n++;
		if (n >= count)
			return text;
		free(text);
		if (it_now_ms() >= deadline)
			return NULL;
		usleep(STATE_POLL_US);
	}
}

char *it_read_file(const char *path, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;

		if (cap - len < READ_CHUNK + 1) {
			cap = cap ? cap * 2 : READ_CHUNK * 2;
			char *grown = realloc(buf, cap);

			if (!grown)
				ck_abort_msg("out of memory");
			buf = grown;
		}
		n = read(fd, buf + len, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}
