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

/* A field of /proc/PID/status in KiB (VmRSS, VmHWM), or -1. */
long proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
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

/* ---- raw protocol ---- */

int connect_daemon(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", D.sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

/* Writes all of data, ignoring a peer that closed early (it may have answered already). */
void send_all(int fd, const void *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, (const char *)data + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* Reads one whole message within timeout_ms; m points into a static buffer until the next
 * call. Returns 0, -ETIMEDOUT, -ECONNRESET (closed before a whole message), or the decoder's
 * error. */
int recv_msg(int fd, int timeout_ms, struct md_proto_msg *m)
{
	static uint8_t buf[MD_PROTO_MAX_MESSAGE];
	int64_t deadline = it_now_ms() + timeout_ms;
	size_t got = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - it_now_ms();
		ssize_t n;

		if (got >= MD_PROTO_HEADER_SIZE) {
			enum md_proto_type t;
			int pl = md_proto_header(buf, &t);

			if (pl < 0)
				return pl;
			if (got >= MD_PROTO_HEADER_SIZE + (size_t)pl)
				return md_proto_decode(buf, MD_PROTO_HEADER_SIZE + (size_t)pl, m,
				                       NULL);
		}
		/* poll at least once: what has already arrived counts even with no time left */
		if (poll(&p, 1, left > 0 ? (int)left : 0) == 0)
			return -ETIMEDOUT;
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
}

/* True when the peer has closed: a read gives end of file within timeout_ms. */
bool peer_closed(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	return poll(&p, 1, timeout_ms) == 1 && read(fd, &c, 1) == 0;
}

/* The 16-byte header with any fields. */
void put_header(uint8_t *h, uint32_t magic, uint16_t version, uint16_t type, uint32_t len)
{
	h[0] = (uint8_t)magic, h[1] = (uint8_t)(magic >> 8);
	h[2] = (uint8_t)(magic >> 16), h[3] = (uint8_t)(magic >> 24);
	h[4] = (uint8_t)version, h[5] = (uint8_t)(version >> 8);
	h[6] = (uint8_t)type, h[7] = (uint8_t)(type >> 8);
	h[8] = (uint8_t)len, h[9] = (uint8_t)(len >> 8);
	h[10] = (uint8_t)(len >> 16), h[11] = (uint8_t)(len >> 24);
	memset(h + 12, 0, 4);
}

int encode_ping(uint8_t *buf, size_t size)
{
	struct md_proto_enc e;

	md_proto_begin(&e, buf, size, MD_MSG_PING);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	return md_proto_finish(&e);
}

int encode_dump_request(uint8_t *buf, size_t size, pid_t pid)
{
	struct md_proto_enc e;

	md_proto_begin(&e, buf, size, MD_MSG_DUMP_REQUEST);
	md_proto_put_u32(&e, MD_TAG_PID, (uint32_t)pid);
	return md_proto_finish(&e);
}

/* Sends data on a new connection, half-closes it when shut, and returns the reply's errno for
 * an ERROR (and its text in text), 0 for any other message, or a negative recv_msg() error. */
int exchange(const void *data, size_t len, bool shut, char *text, size_t text_size)
{
	struct md_proto_msg m;
	int fd = connect_daemon(), r;

	ck_assert_int_ge(fd, 0);
	send_all(fd, data, len);
	if (shut)
		shutdown(fd, SHUT_WR);
	r = recv_msg(fd, REPLY_MS, &m);
	if (text && text_size)
		snprintf(text, text_size, "%s", r == 0 && m.text ? m.text : "");
	if (r == 0)
		r = m.type == MD_MSG_ERROR ? (m.error < 0 ? m.error : -EPROTO) : 0;
	close(fd);
	return r;
}

/* The daemon answers a ping on a new connection. */
void assert_serving(void)
{
	uint8_t msg[64];
	struct md_proto_msg m;
	int fd = connect_daemon(), n = encode_ping(msg, sizeof(msg));

	ck_assert_msg(fd >= 0, "cannot connect to minidumpd: %s", strerror(-fd));
	send_all(fd, msg, (size_t)n);
	ck_assert_int_eq(recv_msg(fd, REPLY_MS, &m), 0);
	ck_assert_int_eq(m.type, MD_MSG_PONG);
	close(fd);
}

/* The daemon's status counters (a status request on a new connection). */
json_t *daemon_status(void)
{
	uint8_t msg[64];
	struct md_proto_enc e;
	struct md_proto_msg m;
	json_t *j;
	int fd = connect_daemon(), n;

	ck_assert_int_ge(fd, 0);
	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_STATUS_REQUEST);
	n = md_proto_finish(&e);
	send_all(fd, msg, (size_t)n);
	ck_assert_int_eq(recv_msg(fd, REPLY_MS, &m), 0);
	ck_assert_int_eq(m.type, MD_MSG_STATUS);
	j = json_loads(m.text, 0, NULL);
	ck_assert_ptr_nonnull(j);
	close(fd);
	return j;
}

long long status_int(const char *key)
{
	json_t *j = daemon_status();
	long long v = json_integer_value(json_object_get(j, key));

	json_decref(j);
	return v;
}

bool status_true(const char *key)
{
	json_t *j = daemon_status();
	bool v = json_is_true(json_object_get(j, key));

	json_decref(j);
	return v;
}

/* One of the daemon's event counters (status "events"; md_event_to_string() names them). */
long long status_event(const char *name)
{
	json_t *j = daemon_status();
	json_t *v = json_object_get(json_object_get(j, "events"), name);
	long long n = json_integer_value(v);

	ck_assert_msg(json_is_integer(v), "status has no event %s", name);
	json_decref(j);
	return n;
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

/* A child process that changes to user nobody; returns its pid (0 in the child). Like any
 * process of nobody's that did not change its credentials, it is dumpable (the kernel clears
 * that flag on setresuid; a login's processes have it from their exec). */
pid_t fork_as_nobody(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		gid_t g = NOBODY_ID;

		if (setgroups(1, &g) < 0 || setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0 ||
		    setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0 || prctl(PR_SET_DUMPABLE, 1) < 0)
			_exit(120);
	}
	return pid;
}

int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = it_now_ms() + timeout_ms;
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - it_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		got += (size_t)n;
	}
	return 0;
}
