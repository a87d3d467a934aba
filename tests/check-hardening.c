/* SPDX-License-Identifier: MIT */
/*
 * Hardening suite of the crash broker: the real minidumpd under hostile input, faults, load and
 * restarts. Each test attacks a running daemon the way a local process could (random bytes,
 * truncated frames, lying length fields, wrong versions and types, a peer dribbling one byte
 * per second, a thousand idle connections, peers that vanish mid-request, a crash message that
 * lies about who sent it), or breaks its world (the target killed or losing threads during the
 * dump, a read-only or full dump folder, 64 apps crashing at once, a restart under socket
 * activation, a thousand requests in a row), then checks what a user would: the peer got a
 * clear error, the log says what happened, the daemon still serves, every file under a final
 * name is a complete dump, no target is left stopped, and the daemon's memory and descriptors
 * stay bounded. Every test stops its daemon with SIGTERM and requires exit status 0, so a
 * sanitizer report at exit (LeakSanitizer in the ASan build) fails the test. Each test prints a
 * "FIGURES" line (requests, bytes, time, RSS) for the closing table.
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

#include "daemon-util.h"
#include "integration-util.h"
#include "md-proto.h"

#define DAEMON_STOP_MS      60000  /* ms minidumpd may take to exit after SIGTERM */
#define REPLY_MS            10000  /* ms to wait for a reply that must come */
#define APP_LOADED_MS       60000  /* ms a crashing app may take to die here, its dump included */
#define APP_PROMPT_MS       3000   /* ms an app may take to crash and die when all is well */
#define MESSAGE_DEADLINE_MS 5000   /* the daemon's per-message deadline (MD_DAEMON_MESSAGE_MS) */
#define DEADLINE_SLACK_MS   2500   /* timer and scheduling slack on a loaded 2-core machine */
#define RANDOM_ROUNDS       24     /* random-bytes messages */
#define FLOOD_CONNECTIONS   1000   /* idle connections opened by one unprivileged user */
#define FLOOD_SETTLE_MS     3000   /* ms the flooder waits for refusals to arrive */
#define MAX_CONNECTIONS     512    /* the daemon's connection limit (MD_DAEMON_MAX_CONNECTIONS) */
#define STORM_APPS          64     /* apps crashing at the same instant */
#define STORM_RSS_MAX_KIB   (96 * 1024) /* daemon peak RSS allowed in the storm (not sanitized) */
#define KILL_TRIES          30          /* attempts to catch a target stopped by its dump */
#define KILL_CATCHES        10          /* times it must be caught: the races differ each time */
#define REAP_MS             5000        /* ms a killed target may take to become reapable */
#define KILL_THREADS        512         /* threads of that target: enough to make the dump last */
#define CHURN_DUMPS         20          /* dumps of a target whose threads come and go */
#define LEAK_REQUESTS       1000        /* requests of the leak test */
#define LEAK_WARMUP         40          /* requests before the baseline is taken */
#define LEAK_RSS_SLACK_KIB  2048 /* RSS the daemon may keep after the leak test (malloc caches) */
#define DISK_SIZE           "1m" /* the full disk: a tmpfs this big */
#define DISK_FREE_BYTES     (48 * 1024) /* left free on it: less than one dump needs */
#define NOBODY_ID           65534
/* The storm's 64 crashes of one executable are not a crash loop: the limiter is off there. */
#define CONFIG_DEFAULT "{}\n"
#define CONFIG_NO_LOOP "{\"crash_loop\": {\"max_crashes\": 0}}\n"

static bool mounted; /* something is mounted on D.dumps */
static bool sanitized; /* an ASan/UBSan build: RSS figures include the sanitizers' own memory */

/* ---- figures ---- */

/* One line per test for the closing table: case, outcome, requests, bytes, time, RSS. */
static void figures(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void figures(const char *name, const char *fmt, ...)
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
static long proc_kib(pid_t pid, const char *field)
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

static int proc_fds(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return it_dir_count(path);
}

/* ---- the daemon under test ---- */

/* A fresh folder, a config file (config: defaults only, whatever /etc has) and a daemon. */
static void daemon_setup_with(bool activated, const char *config)
{
	sanitized = getenv("MD_SANITIZED") && strcmp(getenv("MD_SANITIZED"), "1") == 0;
	signal(SIGPIPE, SIG_IGN);
	daemon_start_opts(&(struct daemon_opts){.config = config, .activated = activated});
}

static void daemon_setup(void)
{
	daemon_setup_with(false, CONFIG_DEFAULT);
}

static void storm_setup(void)
{
	daemon_setup_with(false, CONFIG_NO_LOOP);
}

static void activated_setup(void)
{
	daemon_setup_with(true, CONFIG_DEFAULT);
}

/* SIGTERM, then the exit status; the daemon must exit 0 (no leak report, no crash). */
static void daemon_stop_clean(void)
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

static void hardening_teardown(void)
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

static int connect_daemon(void)
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
static void send_all(int fd, const void *data, size_t len)
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
static int recv_msg(int fd, int timeout_ms, struct md_proto_msg *m)
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
static bool peer_closed(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	return poll(&p, 1, timeout_ms) == 1 && read(fd, &c, 1) == 0;
}

/* The 16-byte header with any fields. */
static void put_header(uint8_t *h, uint32_t magic, uint16_t version, uint16_t type, uint32_t len)
{
	h[0] = (uint8_t)magic, h[1] = (uint8_t)(magic >> 8);
	h[2] = (uint8_t)(magic >> 16), h[3] = (uint8_t)(magic >> 24);
	h[4] = (uint8_t)version, h[5] = (uint8_t)(version >> 8);
	h[6] = (uint8_t)type, h[7] = (uint8_t)(type >> 8);
	h[8] = (uint8_t)len, h[9] = (uint8_t)(len >> 8);
	h[10] = (uint8_t)(len >> 16), h[11] = (uint8_t)(len >> 24);
	memset(h + 12, 0, 4);
}

static int encode_ping(uint8_t *buf, size_t size)
{
	struct md_proto_enc e;

	md_proto_begin(&e, buf, size, MD_MSG_PING);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	return md_proto_finish(&e);
}

static int encode_dump_request(uint8_t *buf, size_t size, pid_t pid)
{
	struct md_proto_enc e;

	md_proto_begin(&e, buf, size, MD_MSG_DUMP_REQUEST);
	md_proto_put_u32(&e, MD_TAG_PID, (uint32_t)pid);
	return md_proto_finish(&e);
}

/* Sends data on a new connection, half-closes it when shut, and returns the reply's errno for
 * an ERROR (and its text in text), 0 for any other message, or a negative recv_msg() error. */
static int exchange(const void *data, size_t len, bool shut, char *text, size_t text_size)
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
static void assert_serving(void)
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
static json_t *daemon_status(void)
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

static long long status_int(const char *key)
{
	json_t *j = daemon_status();
	long long v = json_integer_value(json_object_get(j, key));

	json_decref(j);
	return v;
}

static bool status_true(const char *key)
{
	json_t *j = daemon_status();
	bool v = json_is_true(json_object_get(j, key));

	json_decref(j);
	return v;
}

/* One of the daemon's event counters (status "events"; md_event_to_string() names them). */
static long long status_event(const char *name)
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
static int settle(int max)
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
static struct app_run crash_app(const char *mode, const char *extra_env)
{
	return run_app_opts(mode, "suite=hardening",
	                    &(struct app_opts){.extra_env = extra_env, .timeout_ms = APP_LOADED_MS});
}

/* A crash-app crash is dumped, promptly, and the app dies by its own signal. */
static void assert_crash_served(const char *what)
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
static bool dump_is_valid(const char *path)
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
static int assert_dump_dir_clean(void)
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
static bool has_open(pid_t pid, const char *path, int timeout_ms)
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
static pid_t fork_as_nobody(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		gid_t g = NOBODY_ID;

		if (setgroups(1, &g) < 0 || setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0 ||
		    setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0 ||
		    prctl(PR_SET_DUMPABLE, 1) < 0)
			_exit(120);
	}
	return pid;
}

static int read_full(int fd, void *buf, size_t len, int timeout_ms)
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

/* ---- bad input ---- */

START_TEST(random_bytes_get_an_error)
{
	static uint8_t junk[3 * MD_PROTO_MAX_MESSAGE];
	static const size_t sizes[] = {1, 3, 15, 16, 17, 64, 4096, sizeof(junk)};
	unsigned short seed[3] = {0x1234, 0x5678, 0x9abc};
	int64_t t0 = it_now_ms();
	long long bytes = 0;
	int errors = 0;

	for (int round = 0; round < RANDOM_ROUNDS; round++) {
		size_t len = round < (int)(sizeof(sizes) / sizeof(sizes[0]))
		                 ? sizes[round]
		                 : 1 + (size_t)(nrand48(seed) % 8192);
		char text[256];
		int r;

		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)nrand48(seed);
		r = exchange(junk, len, true, text, sizeof(text));
		ck_assert_msg(r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EMSGSIZE ||
		                  r == -ENOMSG,
		              "%zu random bytes: reply %d (%s), want an error message", len, r,
		              r < 0 ? strerror(-r) : "no error");
		ck_assert_msg(text[0] != '\0', "error without a text");
		bytes += (long long)len;
		errors++;
	}
	/* every one of them is in the log, and the daemon still works */
	ck_assert_int_ge(status_event("bad_header") + status_event("bad_version") +
	                     status_event("oversized") + status_event("unknown_type") +
	                     status_event("malformed") + status_event("truncated"),
	                 RANDOM_ROUNDS);
	ck_assert_int_ge(status_int("bad_messages"), RANDOM_ROUNDS);
	assert_serving();
	assert_crash_served("after random bytes");
	figures("random-bytes", "requests %d, bytes %lld, errors %d, time %lld ms, rss %ld KiB",
	        RANDOM_ROUNDS, bytes, errors, (long long)(it_now_ms() - t0),
	        proc_kib(D.pid, "VmRSS"));
}
END_TEST

START_TEST(truncated_frames_get_an_error)
{
	uint8_t msg[256];
	char text[256];
	int n = encode_dump_request(msg, sizeof(msg), 1);
	int64_t t0 = it_now_ms();

	/* a header that promises 200 bytes, 50 of them sent, then end of file */
	put_header(msg, MD_PROTO_MAGIC, MD_PROTO_VERSION, MD_MSG_CRASH, 200);
	ck_assert_int_eq(exchange(msg, 16 + 50, true, text, sizeof(text)), -EBADMSG);
	ck_assert_msg(strstr(text, "middle of a message"), "error text: %s", text);
	/* half a header, then end of file */
	ck_assert_int_eq(exchange(msg, 10, true, text, sizeof(text)), -EBADMSG);
	/* a whole frame whose last field runs past its end */
	n = encode_dump_request(msg, sizeof(msg), 1);
	msg[16 + 4] = 200; /* the pid field claims 200 bytes */
	ck_assert_int_eq(exchange(msg, (size_t)n, false, text, sizeof(text)), -EBADMSG);
	ck_assert_msg(strstr(text, "malformed message"), "error text: %s", text);
	ck_assert_int_eq(status_event("truncated"), 2);
	ck_assert_int_eq(status_event("malformed"), 1);
	assert_serving();
	figures("truncated-frames", "requests 3, bytes %d, time %lld ms", 16 + 50 + 10 + n,
	        (long long)(it_now_ms() - t0));
}
END_TEST

START_TEST(length_over_the_limit_is_refused_at_once)
{
	static const uint32_t lengths[] = {MD_PROTO_MAX_PAYLOAD + 1, 1u << 20, 0xffffffffu};
	int64_t t0 = it_now_ms();

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		uint8_t h[16];
		struct md_proto_msg m;
		int fd = connect_daemon();

		ck_assert_int_ge(fd, 0);
		put_header(h, MD_PROTO_MAGIC, MD_PROTO_VERSION, MD_MSG_CRASH, lengths[i]);
		send_all(fd, h, sizeof(h));
		/* no payload follows: the daemon must answer from the header alone, and hang up */
		ck_assert_int_eq(recv_msg(fd, REPLY_MS, &m), 0);
		ck_assert_int_eq(m.type, MD_MSG_ERROR);
		ck_assert_int_eq(m.error, -EMSGSIZE);
		ck_assert_ptr_nonnull(strstr(m.text, "size limit"));
		ck_assert(peer_closed(fd, REPLY_MS));
		close(fd);
	}
	ck_assert_int_eq(status_event("oversized"), 3);
	assert_serving();
	figures("length-over-limit", "requests 3, bytes 48, time %lld ms",
	        (long long)(it_now_ms() - t0));
}
END_TEST

START_TEST(wrong_version_is_refused)
{
	static const uint16_t versions[] = {0, MD_PROTO_VERSION + 1, 0xffff};
	char text[256];
	int64_t t0 = it_now_ms();

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		uint8_t msg[64];
		int n = encode_ping(msg, sizeof(msg));

		msg[4] = (uint8_t)versions[i];
		msg[5] = (uint8_t)(versions[i] >> 8);
		ck_assert_int_eq(exchange(msg, (size_t)n, false, text, sizeof(text)),
		                 -EPROTONOSUPPORT);
		ck_assert_ptr_nonnull(strstr(text, "version"));
	}
	ck_assert_int_eq(status_event("bad_version"), 3);
	assert_serving();
	figures("wrong-version", "requests 3, bytes 84, time %lld ms",
	        (long long)(it_now_ms() - t0));
}
END_TEST

START_TEST(unknown_and_daemon_only_types_are_refused)
{
	static const uint16_t unknown[] = {0, MD_MSG_TYPE_MAX + 1, 0x7fff, 0xffff};
	static const enum md_proto_type daemon_only[] = {MD_MSG_RESULT, MD_MSG_ERROR, MD_MSG_PONG,
	                                                 MD_MSG_STATUS};
	char text[256];
	int64_t t0 = it_now_ms();

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		uint8_t h[16];

		put_header(h, MD_PROTO_MAGIC, MD_PROTO_VERSION, unknown[i], 0);
		ck_assert_int_eq(exchange(h, sizeof(h), false, text, sizeof(text)), -ENOMSG);
		ck_assert_ptr_nonnull(strstr(text, "unknown message type"));
	}
	/* well-formed messages that only the daemon sends */
	for (size_t i = 0; i < sizeof(daemon_only) / sizeof(daemon_only[0]); i++) {
		uint8_t msg[128];
		struct md_proto_enc e;
		int n;

		md_proto_begin(&e, msg, sizeof(msg), daemon_only[i]);
		if (daemon_only[i] == MD_MSG_ERROR)
			md_proto_put_u32(&e, MD_TAG_ERRNO, (uint32_t)-EIO);
		if (daemon_only[i] != MD_MSG_PONG)
			md_proto_put_str(&e, MD_TAG_TEXT, "{}");
		n = md_proto_finish(&e);
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(exchange(msg, (size_t)n, false, text, sizeof(text)), -EBADMSG);
		ck_assert_ptr_nonnull(strstr(text, "unexpected message type"));
	}
	ck_assert_int_eq(status_event("unknown_type"), 4);
	ck_assert_int_eq(status_event("daemon_only_type"), 4);
	assert_serving();
	figures("unknown-types", "requests 8, time %lld ms", (long long)(it_now_ms() - t0));
}
END_TEST

START_TEST(slow_peer_times_out_without_delaying_others)
{
	int report[2];
	pid_t slow;
	struct app_run run;
	long long result[3]; /* errno of the reply, ms from first byte to reply, bytes sent */
	int64_t t0 = it_now_ms();

	ck_assert_int_eq(pipe(report), 0);
	slow = fork();
	ck_assert_int_ge(slow, 0);
	if (slow == 0) {
		/* one byte per second of a valid ping, until the daemon answers */
		uint8_t msg[64];
		int n = encode_ping(msg, sizeof(msg)), fd = connect_daemon();
		long long out[3] = {0, 0, 0};
		int64_t start = it_now_ms();

		for (int i = 0; fd >= 0 && i < n; i++) {
			struct md_proto_msg m;
			int r;

			send_all(fd, msg + i, 1);
			out[2]++;
			r = recv_msg(fd, 1000, &m);
			if (r == -ETIMEDOUT)
				continue;
			out[0] = r == 0 && m.type == MD_MSG_ERROR ? m.error : r;
			break;
		}
		out[1] = it_now_ms() - start;
		if (write(report[1], out, sizeof(out)) != (ssize_t)sizeof(out))
			_exit(1);
		_exit(0);
	}
	close(report[1]);
	usleep(1500 * 1000); /* the dribble is under way */
	run = crash_app("segv", NULL);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "app: %s",
	              it_result_status(&run.res));
	ck_assert_msg(run.res.duration < APP_PROMPT_MS,
	              "a crash took %lld ms while a slow peer was connected",
	              (long long)run.res.duration);
	{
		char *dump = find_dump_any(run.pid, "dmp");

		ck_assert_ptr_nonnull(dump);
		free(dump);
	}
	ck_assert_int_eq(read_full(report[0], result, sizeof(result),
	                           MESSAGE_DEADLINE_MS + 3 * DEADLINE_SLACK_MS),
	                 0);
	waitpid(slow, NULL, 0);
	close(report[0]);
	ck_assert_msg(result[0] == -ETIMEDOUT, "slow peer got %lld, want -ETIMEDOUT", result[0]);
	ck_assert_msg(result[1] >= MESSAGE_DEADLINE_MS - 100 &&
	                  result[1] <= MESSAGE_DEADLINE_MS + DEADLINE_SLACK_MS,
	              "slow peer cut off after %lld ms", result[1]);
	ck_assert_int_ge(status_event("timed_out"), 1);
	assert_serving();
	figures("slow-peer",
	        "requests 2, bytes %lld, cut off after %lld ms, other crash served in %lld ms, "
	        "time %lld ms",
	        result[2], result[1], (long long)run.res.duration, (long long)(it_now_ms() - t0));
	it_result_done(&run.res);
}
END_TEST

START_TEST(idle_connection_flood_is_limited_and_others_are_served)
{
	int counts[2], quit[2];
	long long got[2]; /* held, refused */
	int fds_before = settle(1), fds_during, fds_after;
	long rss_during;
	int64_t t0 = it_now_ms();
	pid_t flooder;
	json_t *status;

	ck_assert_int_eq(pipe(counts), 0);
	ck_assert_int_eq(pipe(quit), 0);
	flooder = fork_as_nobody();
	if (flooder == 0) {
		static int fds[FLOOD_CONNECTIONS];
		long long out[2] = {0, 0};
		struct rlimit rl;
		int64_t settle;
		char c;

		close(counts[0]);
		close(quit[1]);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FLOOD_CONNECTIONS + 64) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		for (int i = 0; i < FLOOD_CONNECTIONS; i++)
			fds[i] = connect_daemon();
		/* a refused connection gets an error and end of file; a held one stays silent */
		settle = it_now_ms() + FLOOD_SETTLE_MS;
		for (int i = 0; i < FLOOD_CONNECTIONS; i++) {
			struct md_proto_msg m;
			int64_t left = settle - it_now_ms();

			if (fds[i] < 0) {
				out[1]++;
				continue;
			}
			if (recv_msg(fds[i], left > 0 ? (int)left : 0, &m) == 0 &&
			    m.type == MD_MSG_ERROR && m.error == -EBUSY)
				out[1]++;
			else
				out[0]++;
		}
		if (write(counts[1], out, sizeof(out)) != (ssize_t)sizeof(out))
			_exit(1);
		while (read(quit[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(counts[1]);
	close(quit[0]);
	ck_assert_int_eq(read_full(counts[0], got, sizeof(got), 60000), 0);
	fds_during = proc_fds(D.pid);
	rss_during = proc_kib(D.pid, "VmRSS");

	/* while the flood holds its connections, root's crashing app is still served */
	assert_crash_served("during an idle-connection flood");
	assert_serving();
	status = daemon_status();
	ck_assert_int_le(json_integer_value(json_object_get(status, "connections")),
	                 MAX_CONNECTIONS);
	json_decref(status);

	ck_assert_int_eq(write(quit[1], "q", 1), 1);
	waitpid(flooder, NULL, 0);
	close(quit[1]);
	close(counts[0]);
	ck_assert_msg(got[0] + got[1] == FLOOD_CONNECTIONS, "held %lld + refused %lld", got[0],
	              got[1]);
	ck_assert_msg(got[0] <= MAX_CONNECTIONS && got[1] >= FLOOD_CONNECTIONS - MAX_CONNECTIONS,
	              "held %lld, refused %lld: no limit", got[0], got[1]);
	ck_assert_int_ge(status_int("refused"), got[1]);

	/* the daemon lets go of all of them */
	fds_after = settle(1);
	ck_assert_int_eq(fds_after, fds_before);
	figures("idle-flood",
	        "requests %d, held %lld, refused %lld, daemon fds %d -> %d -> %d, rss during %ld "
	        "KiB, time %lld ms",
	        FLOOD_CONNECTIONS, got[0], got[1], fds_before, fds_during, fds_after, rss_during,
	        (long long)(it_now_ms() - t0));
}
END_TEST

START_TEST(peer_that_disconnects_mid_request_loses_nothing)
{
	uint8_t msg[256];
	struct it_target t;
	pid_t child;
	char *dump = NULL;
	int64_t t0 = it_now_ms(), deadline;
	int n, fd, sync[2];

	/* half a message, then gone: logged, nothing else happens */
	n = encode_dump_request(msg, sizeof(msg), 1);
	fd = connect_daemon();
	ck_assert_int_ge(fd, 0);
	send_all(fd, msg, (size_t)n / 2);
	close(fd);

	/* a client asks for a dump of itself and hangs up at once: the dump is still written */
	ck_assert_int_eq(pipe(sync), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct md_proto_enc e;
		int c = connect_daemon(), len;

		md_proto_begin(&e, msg, sizeof(msg), MD_MSG_DUMP_NOW);
		md_proto_put_annotation(&e, "case", "hang-up");
		len = md_proto_finish(&e);
		send_all(c, msg, (size_t)len);
		close(c);
		if (write(sync[1], "s", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(sync[1]);
	ck_assert_int_eq(read_full(sync[0], msg, 1, REPLY_MS), 0);
	close(sync[0]);
	deadline = it_now_ms() + REPLY_MS;
	while (!(dump = find_dump_any(child, "json")) && it_now_ms() < deadline)
		usleep(10000);
	ck_assert_msg(dump != NULL, "no dump of a client that hung up; log:\n%s", log_tail());
	free(dump);
	ck_assert_int_eq(it_stopped_task(child, NULL), 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	/* mdctl-style: a dump request of another process, then gone */
	ck_assert_int_eq(it_target_start(NULL, &t), 0);
	n = encode_dump_request(msg, sizeof(msg), t.pid);
	fd = connect_daemon();
	send_all(fd, msg, (size_t)n);
	close(fd);
	deadline = it_now_ms() + REPLY_MS;
	while (!(dump = find_dump_any(t.pid, "json")) && it_now_ms() < deadline)
		usleep(10000);
	ck_assert_msg(dump != NULL, "no dump for a requester that hung up; log:\n%s", log_tail());
	free(dump);
	ck_assert_int_eq(it_stopped_task(t.pid, NULL), 0);
	ck_assert_int_eq(it_target_ping(&t, 5000), 6);
	it_target_kill(&t);

	ck_assert_int_ge(status_event("truncated"), 1);
	ck_assert_int_eq(assert_dump_dir_clean(), 2);
	assert_serving();
	figures("disconnect-mid-request", "requests 3, dumps 2, time %lld ms, rss %ld KiB",
	        (long long)(it_now_ms() - t0), proc_kib(D.pid, "VmRSS"));
}
END_TEST

START_TEST(claimed_identity_is_not_believed)
{
	struct it_target t;
	int out[2];
	pid_t liar;
	static char reply[MD_PROTO_MAX_MESSAGE];
	json_t *j;
	char *victim;
	int st;

	/* root's process, which the liar (user nobody) names as the one that crashed */
	ck_assert_int_eq(it_target_start(NULL, &t), 0);
	ck_assert_int_eq(pipe(out), 0);
	liar = fork_as_nobody();
	if (liar == 0) {
		uint8_t msg[256];
		struct md_proto_enc e;
		struct md_proto_msg m;
		int fd = connect_daemon(), n;

		md_proto_begin(&e, msg, sizeof(msg), MD_MSG_CRASH);
		md_proto_put_u32(&e, MD_TAG_PID, (uint32_t)t.pid);
		md_proto_put_u32(&e, MD_TAG_TID, (uint32_t)t.pid);
		md_proto_put_u32(&e, MD_TAG_SIGNO, SIGSEGV);
		md_proto_put_u32(&e, MD_TAG_SI_CODE, 1);
		md_proto_put_u64(&e, MD_TAG_FAULT_ADDR, 0);
		n = md_proto_finish(&e);
		send_all(fd, msg, (size_t)n);
		if (recv_msg(fd, REPLY_MS, &m) != 0)
			_exit(2);
		if (m.type != MD_MSG_RESULT)
			_exit(3);
		if (write(out[1], m.text, strlen(m.text) + 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(out[1]);
	{
		size_t got = 0;
		ssize_t n;

		while ((n = read(out[0], reply + got, sizeof(reply) - 1 - got)) > 0)
			got += (size_t)n;
		reply[got] = '\0';
	}
	close(out[0]);
	ck_assert_int_eq(waitpid(liar, &st, 0), liar);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "liar: status 0x%x; log:\n%s", st,
	              log_tail());
	j = json_loads(reply, 0, NULL);
	ck_assert_ptr_nonnull(j);
	/* the dump is of the liar itself, its own thread, owned by its own uid */
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), liar);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "uid")), NOBODY_ID);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(j, "crash"), "thread_id")), liar);
	json_decref(j);
	victim = find_dump_any(t.pid, "dmp");
	ck_assert_msg(victim == NULL, "the named process was dumped: %s", victim);
	ck_assert_int_eq(it_stopped_task(t.pid, NULL), 0);
	ck_assert_int_eq(it_target_ping(&t, 5000), 6);
	it_target_kill(&t);
	ck_assert_int_eq(status_event("foreign_pid"), 1);
	ck_assert_int_eq(status_event("foreign_thread"), 1);
	assert_dump_dir_clean();
	figures("claimed-identity", "requests 1, dumps 1 (of the sender), rss %ld KiB",
	        proc_kib(D.pid, "VmRSS"));
}
END_TEST

/* ---- identity at the time of the dump (issue 15, holes 1 and 2) ---- */

/* Sends a hello naming the process name on fd, with the annotation key=value unless NULL. */
static void send_hello_annotated(int fd, const char *name, const char *key, const char *value)
{
	uint8_t msg[512];
	struct md_proto_enc e;
	int n;

	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_HELLO);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	md_proto_put_str(&e, MD_TAG_NAME, name);
	if (key)
		md_proto_put_annotation(&e, key, value);
	n = md_proto_finish(&e);
	ck_assert_int_gt(n, 0);
	send_all(fd, msg, (size_t)n);
}

static void send_hello(int fd, const char *name)
{
	send_hello_annotated(fd, name, NULL, NULL);
}

/* Sends a dump-now on fd and returns the reply: 0 for a RESULT, the errno of an ERROR, or a
 * recv_msg() error. Usable in a forked child (no ck_assert). */
static int dump_now_on(int fd)
{
	uint8_t msg[64];
	struct md_proto_enc e;
	struct md_proto_msg m;
	int n, r;

	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_DUMP_NOW);
	n = md_proto_finish(&e);
	if (n < 0)
		return n;
	send_all(fd, msg, (size_t)n);
	r = recv_msg(fd, REPLY_MS * 3, &m);
	if (r < 0)
		return r;
	if (m.type == MD_MSG_RESULT)
		return 0;
	return m.type == MD_MSG_ERROR && m.error < 0 ? m.error : -EPROTO;
}

/* In a forked child: waits for a byte on go, sends a dump-now on fd, writes the reply's code
 * (dump_now_on()) to result and exits. */
_Noreturn static void dump_now_when_told(int fd, int go, int result)
{
	char c;
	int r = -EPIPE;

	if (read(go, &c, 1) == 1)
		r = dump_now_on(fd);
	if (write(result, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
}

/* Reads a "ready PID" line from fd within timeout_ms; returns the pid or -errno. */
static int read_ready(int fd, int timeout_ms)
{
	char line[64];
	size_t n = 0;
	int pid;

	while (n + 1 < sizeof(line)) {
		if (read_full(fd, line + n, 1, timeout_ms) < 0)
			return -ETIMEDOUT;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return sscanf(line, "ready %d", &pid) == 1 ? pid : -EPROTO;
}

/* The effective uid of pid (the second number of its Uid: line), or -1. */
static long effective_uid(pid_t pid)
{
	char path[64], line[256];
	long real, eff = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %ld %ld", &real, &eff) == 2)
			break;
	fclose(f);
	return eff;
}

/* A root-owned set-uid copy of the helper target in D.dir; returns its path (owned). */
static char *setuid_target(void)
{
	size_t len;
	char *bytes = it_read_file(it_env("TARGET_THREADS"), &len), *path;
	int fd;

	ck_assert_ptr_nonnull(bytes);
	ck_assert_int_ge(asprintf(&path, "%s/suid-target", D.dir), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	ck_assert_int_eq(fchown(fd, 0, 0), 0);
	ck_assert_int_eq(fchmod(fd, 04755), 0); /* after chown, which clears set-uid */
	close(fd);
	free(bytes);
	return path;
}

START_TEST(dump_now_after_a_setuid_exec_is_refused)
{
	char *suid = setuid_target();
	int go[2], result[2], in[2], out[2], r, st;
	uint8_t msg[64];
	struct md_proto_msg m;
	pid_t attacker, target;
	char want[128];
	json_t *j;
	int n, fd;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(result), 0);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	/* nobody connects and says hello, leaves the connection with a child, and execs a
	 * set-uid root program; the child then asks for a dump "of itself" on that connection */
	attacker = fork_as_nobody();
	if (attacker == 0) {
		const char *argv[] = {suid, NULL};

		fd = connect_daemon();
		if (fd < 0)
			_exit(121);
		send_hello(fd, "setuid-attack");
		if (fork() == 0)
			dump_now_when_told(fd, go[0], result[1]);
		close(fd);
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0)
			_exit(122);
		execv(suid, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(go[0]);
	close(result[1]);
	ck_assert_int_eq(read_ready(out[0], IT_TARGET_READY_MS), attacker);
	ck_assert_msg(effective_uid(attacker) == 0, "the set-uid exec did not make pid %d root",
	              (int)attacker);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(read_full(result[0], &r, sizeof(r), REPLY_MS * 4), 0);
	ck_assert_msg(r == -EPERM, "dump-now of pid %d (now set-uid root) for nobody: %d, want "
	              "-EPERM; log:\n%s", (int)attacker, r, log_tail());
	ck_assert_msg(find_dump_any(attacker, "dmp") == NULL, "the set-uid process was dumped");
	snprintf(want, sizeof(want), "may not dump process %d now", (int)attacker);
	ck_assert_int_ge(log_count(want), 1);
	ck_assert_int_eq(it_stopped_task(attacker, NULL), 0);

	/* root may have it, and its report says the process was not dumpable */
	target = attacker;
	n = encode_dump_request(msg, sizeof(msg), target);
	fd = connect_daemon();
	send_all(fd, msg, (size_t)n);
	ck_assert_int_eq(recv_msg(fd, REPLY_MS * 3, &m), 0);
	ck_assert_msg(m.type == MD_MSG_RESULT, "root's dump of the set-uid process: %s", m.text);
	j = json_loads(m.text, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), target);
	ck_assert(json_is_false(json_object_get(j, "dumpable")));
	json_decref(j);
	close(fd);
	ck_assert_int_eq(it_stopped_task(target, NULL), 0);

	close(in[1]); /* end of file: the target exits */
	ck_assert_int_eq(waitpid(attacker, &st, 0), attacker);
	close(out[0]);
	close(go[1]);
	close(result[0]);
	free(suid);
	assert_serving();
}
END_TEST

START_TEST(dump_now_of_a_process_made_non_dumpable_is_refused)
{
	int result[2], st;
	pid_t child;
	int got[2];

	ck_assert_int_eq(pipe(result), 0);
	child = fork_as_nobody();
	if (child == 0) {
		int fd = connect_daemon(), out[2];

		if (fd < 0)
			_exit(121);
		send_hello(fd, "goes-non-dumpable");
		out[0] = dump_now_on(fd); /* dumpable: its own dump */
		prctl(PR_SET_DUMPABLE, 0); /* as ssh-agent or gpg-agent do */
		out[1] = dump_now_on(fd);
		if (write(result[1], out, sizeof(out)) != (ssize_t)sizeof(out))
			_exit(1);
		_exit(0);
	}
	close(result[1]);
	ck_assert_int_eq(read_full(result[0], got, sizeof(got), REPLY_MS * 7), 0);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	close(result[0]);
	ck_assert_msg(got[0] == 0, "dump-now of a dumpable process of nobody's: %d; log:\n%s",
	              got[0], log_tail());
	ck_assert_msg(got[1] == -EPERM,
	              "dump-now after PR_SET_DUMPABLE 0: %d, want -EPERM; log:\n%s", got[1],
	              log_tail());
	ck_assert_int_ge(log_count("it is not dumpable"), 1);
	ck_assert_int_eq(assert_dump_dir_clean(), 1);
}
END_TEST

/* clone3() with set_tid: a child with exactly the pid wanted (root in the initial pid
 * namespace may ask for one that is free). Returns 0 in the child, its pid, or -errno. */
static pid_t fork_with_pid(pid_t want)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		    set_tid, set_tid_size, cgroup;
	} args = {.exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)&want, .set_tid_size = 1};
	long r;

	fflush(NULL);
	r = syscall(SYS_clone3, &args, sizeof(args));
	return r < 0 ? -errno : (pid_t)r;
}

START_TEST(peer_gone_before_accept_gets_no_dump_of_the_pid)
{
	int go[2], result[2], in[2], out[2], r, st;
	pid_t peer, victim;
	char want[128];
	int64_t deadline;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(result), 0);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	/* the daemon does not accept for a while (as under load): nobody's process connects, says
	 * hello, leaves the connection with a child and exits before it is accepted */
	ck_assert_int_eq(kill(D.pid, SIGSTOP), 0);
	peer = fork_as_nobody();
	if (peer == 0) {
		int fd = connect_daemon();

		if (fd < 0)
			_exit(121);
		send_hello(fd, "gone-before-accept");
		if (fork() == 0)
			dump_now_when_told(fd, go[0], result[1]);
		_exit(0);
	}
	close(go[0]);
	close(result[1]);
	ck_assert_int_eq(waitpid(peer, &st, 0), peer); /* its pid is free from here on */
	ck_assert_int_eq(kill(D.pid, SIGCONT), 0);
	snprintf(want, sizeof(want), "client registered: pid %d", (int)peer);
	deadline = it_now_ms() + REPLY_MS;
	while (log_count(want) < 1 && it_now_ms() < deadline)
		usleep(5000);
	ck_assert_msg(log_count(want) == 1, "connection not accepted; log:\n%s", log_tail());

	/* a root process gets the peer's pid */
	victim = fork_with_pid(peer);
	if (victim == 0) {
		const char *argv[] = {it_env("TARGET_THREADS"), NULL};

		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0)
			_exit(122);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert_msg(victim == peer, "no process with pid %d: %s", (int)peer,
	              victim < 0 ? strerror(-victim) : "another pid");
	close(in[0]);
	close(out[1]);
	ck_assert_int_eq(read_ready(out[0], IT_TARGET_READY_MS), victim);

	/* the connection's dump-now must not dump root's process */
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(read_full(result[0], &r, sizeof(r), REPLY_MS * 4), 0);
	ck_assert_msg(r == -ESRCH, "dump-now on a connection whose peer had gone: %d, want -ESRCH; "
	              "log:\n%s", r, log_tail());
	ck_assert_msg(find_dump_any(victim, "dmp") == NULL, "root's process with the reused pid "
	              "was dumped for nobody");
	ck_assert_int_ge(log_count("has exited (or was gone before its connection was accepted)"),
	                 1);
	ck_assert_int_eq(it_stopped_task(victim, NULL), 0);
	close(in[1]);
	ck_assert_int_eq(waitpid(victim, &st, 0), victim);
	close(out[0]);
	close(go[1]);
	close(result[0]);
	assert_serving();
}
END_TEST


/* ---- client text in logs and listings (issue 15, hole 4) ---- */

/* What mdctl prints for args (NULL-ended), as root; owned, exits 0. */
static char *mdctl_out(const char *const *args)
{
	const char *argv[16] = {it_env("MDCTL")};
	struct it_result res;
	char *out;
	int n = 1;

	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "mdctl %s: %s %s", args[0],
	              it_result_status(&res), res.err);
	out = strdup(res.out ? res.out : "");
	it_result_done(&res);
	return out;
}

/* Neither an escape character nor a line that starts with the forged text. */
static void assert_no_forgery(const char *what, const char *text)
{
	ck_assert_msg(!strchr(text, '\x1b'), "%s holds an ESC byte:\n%s", what, text);
	ck_assert_msg(strncmp(text, "FAKE LOG LINE", 13) != 0 && !strstr(text, "\nFAKE LOG LINE"),
	              "%s has a forged line:\n%s", what, text);
}

START_TEST(client_text_cannot_forge_log_lines_or_drive_terminals)
{
	static const char name[] = "evil\nFAKE LOG LINE uid 0 did it\x1b[2J\xff";
	static const char key[] = "note\x1b]0;owned\x07", value[] = "v\nFAKE LOG LINE two\xfe";
	int result[2], r, st;
	char *log, *report, *out;
	pid_t child;
	json_t *j, *ann;

	ck_assert_int_eq(pipe(result), 0);
	child = fork_as_nobody();
	if (child == 0) {
		int fd = connect_daemon();

		if (fd < 0)
			_exit(121);
		send_hello_annotated(fd, name, key, value);
		r = dump_now_on(fd);
		if (write(result[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(result[1]);
	ck_assert_int_eq(read_full(result[0], &r, sizeof(r), REPLY_MS * 4), 0);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	close(result[0]);
	ck_assert_msg(r == 0, "dump-now: %d; log:\n%s", r, log_tail());

	/* the daemon logged the name, escaped, on its own line */
	log = log_read();
	assert_no_forgery("the daemon log", log);
	ck_assert_msg(strstr(log, "evil\\nFAKE LOG LINE uid 0 did it\\x1b[2J\\xff"),
	              "the name is not in the log as escaped text:\n%s", log);
	free(log);

	/* the report keeps the text (JSON escapes controls itself), invalid UTF-8 escaped */
	report = find_dump_any(child, "json");
	ck_assert_ptr_nonnull(report);
	j = load_json(report);
	ck_assert_msg(json_is_string(json_object_get(j, "process_name")), "no process_name");
	ck_assert_str_eq(json_string_value(json_object_get(j, "process_name")),
	                 "evil\nFAKE LOG LINE uid 0 did it\x1b[2J\\xff");
	ann = json_object_get(j, "annotations");
	ck_assert_str_eq(json_string_value(json_object_get(ann, key)), "v\nFAKE LOG LINE two\\xfe");

	/* what mdctl shows of it */
	out = mdctl_out((const char *const[]){"list", "--dump-dir", D.dumps, NULL});
	assert_no_forgery("mdctl list", out);
	free(out);
	out = mdctl_out((const char *const[]){"info", json_string_value(json_object_get(j, "id")),
	                                      "--dump-dir", D.dumps, NULL});
	ck_assert_msg(strstr(out, "evil\\nFAKE LOG LINE"), "mdctl info does not show the name:\n%s",
	              out);
	assert_no_forgery("mdctl info", out);
	free(out);
	out = mdctl_out(
	    (const char *const[]){"inspect", json_string_value(json_object_get(j, "path")), NULL});
	assert_no_forgery("mdctl inspect", out);
	free(out);
	json_decref(j);
	free(report);
}
END_TEST


START_TEST(executable_name_in_invalid_utf8_still_gets_its_report)
{
	char exe[512], sockenv[300], *bytes, *report, *out;
	const char *argv[] = {exe, "dump-now", NULL};
	const char *env[] = {sockenv, NULL};
	struct it_proc p;
	struct it_result res;
	size_t len;
	json_t *j;
	int fd;

	/* a program file whose name is not UTF-8 and holds an escape sequence */
	snprintf(exe, sizeof(exe), "%s/app-\x1b[31m-\xff-name", D.dir);
	bytes = it_read_file(it_env("CRASH_APP"), &len);
	ck_assert_ptr_nonnull(bytes);
	fd = open(exe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	free(bytes);
	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", D.sock);
	ck_assert_int_eq(it_spawn(argv, env, &p), 0);
	ck_assert_int_eq(it_wait(&p, APP_LOADED_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0 && strstr(res.out, "dump-now: 0"),
	              "dump-now of a program with such a name: %s %s; log:\n%s",
	              it_result_status(&res), res.out, log_tail());
	it_result_done(&res);

	/* the report is there, with the name as JSON can hold it */
	report = find_dump_any(p.pid, "json");
	ck_assert_msg(report != NULL, "no report; log:\n%s", log_tail());
	j = load_json(report);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "executable")),
	                             "/app-\x1b[31m-\\xff-name"));
	json_decref(j);
	free(report);
	out = mdctl_out((const char *const[]){"list", "--dump-dir", D.dumps, NULL});
	ck_assert_msg(strstr(out, "app-\\x1b[31m-\\\\xff-name"), "mdctl list:\n%s", out);
	assert_no_forgery("mdctl list", out);
	free(out);
	assert_no_forgery("the daemon log", log_tail());
}
END_TEST

/* ---- faults ---- */

/* The TracerPid line of /proc/PID/status, or -1. */
static long tracer_of(pid_t pid)
{
	return proc_kib(pid, "TracerPid");
}

/* SIGKILLs a target and reaps it, waiting at most REAP_MS: a process that its dumper still
 * traces after its death stays a zombie its parent cannot reap. Returns 0 or -ETIMEDOUT. */
static int kill_and_reap(struct it_target *t, long *ret_tracer)
{
	int64_t deadline = it_now_ms() + REAP_MS;
	int r = -ETIMEDOUT;

	kill(t->pid, SIGKILL);
	*ret_tracer = 0;
	while (it_now_ms() < deadline) {
		if (waitpid(t->pid, NULL, WNOHANG) == t->pid) {
			r = 0;
			break;
		}
		usleep(5000);
	}
	if (r < 0) {
		*ret_tracer = tracer_of(t->pid);
		t->pid = 0; /* left to init once the daemon lets go of it */
	}
	it_target_kill(t);
	return r;
}

START_TEST(target_killed_during_its_dump)
{
	char threads[16];
	const char *args[] = {"--threads", threads, NULL};
	uint8_t msg[64];
	int tries, caught = 0, partial = 0, errors = 0, n;
	double reply_ms = 0;

	snprintf(threads, sizeof(threads), "%d", KILL_THREADS);
	for (tries = 1; tries <= KILL_TRIES && caught < KILL_CATCHES; tries++) {
		struct it_target t;
		struct md_proto_msg m;
		int64_t killed_at = 0, deadline;
		bool stopped = false;
		long tracer;
		int fd, r;

		ck_assert_int_eq(it_target_start(args, &t), 0);
		n = encode_dump_request(msg, sizeof(msg), t.pid);
		fd = connect_daemon();
		send_all(fd, msg, (size_t)n);
		/* kill it as soon as the dump has it stopped */
		deadline = it_now_ms() + REPLY_MS;
		while (it_now_ms() < deadline) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			char state = it_task_state(t.pid, t.pid);

			if (state == 't' || state == 'T') {
				kill(t.pid, SIGKILL);
				killed_at = it_now_ms();
				stopped = true;
				break;
			}
			if (poll(&p, 1, 0) == 1)
				break; /* the dump was done before we saw it stopped */
		}
		r = recv_msg(fd, REPLY_MS * 3, &m);
		ck_assert_msg(r == 0, "no reply after the target was killed: %d", r);
		if (stopped) {
			caught++;
			reply_ms += (double)(it_now_ms() - killed_at);
			if (m.type == MD_MSG_RESULT) {
				json_t *j = json_loads(m.text, 0, NULL);

				ck_assert_ptr_nonnull(j);
				ck_assert_msg(json_is_true(json_object_get(j, "partial")),
				              "a dump of a killed target not marked partial: %s",
				              m.text);
				partial++;
				json_decref(j);
			} else {
				ck_assert_int_eq(m.type, MD_MSG_ERROR);
				ck_assert_int_lt(m.error, 0);
				errors++;
			}
		}
		close(fd);
		/* dead, it must be its parent's to reap: the dumper let go of every thread */
		ck_assert_msg(kill_and_reap(&t, &tracer) == 0,
		              "try %d: the killed target is still a zombie traced by pid %ld "
		              "(minidumpd is %d) %d ms after the reply",
		              tries, tracer, (int)D.pid, REAP_MS);
	}
	ck_assert_msg(caught > 0, "never caught the target stopped in %d tries", KILL_TRIES);
	/* the log says what happened, nothing half-written has a final name, still serving */
	ck_assert_int_ge(status_event("partial") + status_int("dumps_failed"), 1);
	assert_dump_dir_clean();
	assert_serving();
	assert_crash_served("after a target was killed during its dump");
	figures("target-sigkilled",
	        "requests %d, %d threads, killed while stopped %d times: %d partial dumps, %d "
	        "errors; reply %.1f ms after the kill (mean), rss %ld KiB",
	        tries - 1, KILL_THREADS, caught, partial, errors, caught ? reply_ms / caught : 0.0,
	        proc_kib(D.pid, "VmRSS"));
}
END_TEST

START_TEST(threads_exiting_during_the_dump)
{
	const char *args[] = {"--threads", "64", "--churn", NULL};
	struct it_target t;
	long long bytes = 0;
	int64_t t0 = it_now_ms();

	ck_assert_int_eq(it_target_start(args, &t), 0);
	for (int i = 0; i < CHURN_DUMPS; i++) {
		uint8_t msg[64];
		struct md_proto_msg m;
		json_t *j;
		int n = encode_dump_request(msg, sizeof(msg), t.pid), fd = connect_daemon();

		send_all(fd, msg, (size_t)n);
		ck_assert_int_eq(recv_msg(fd, REPLY_MS * 3, &m), 0);
		ck_assert_msg(m.type == MD_MSG_RESULT, "dump %d of a churning target failed: %s", i,
		              m.text);
		j = json_loads(m.text, 0, NULL);
		ck_assert_ptr_nonnull(j);
		/* the 64 parked workers and main are always there; churn threads may be */
		ck_assert_int_ge(json_integer_value(json_object_get(j, "threads")), 65);
		bytes += json_integer_value(json_object_get(j, "bytes"));
		json_decref(j);
		close(fd);
		ck_assert_int_eq(it_stopped_task(t.pid, NULL), 0);
	}
	ck_assert_int_eq(it_target_ping(&t, 5000), 64);
	it_target_kill(&t);
	ck_assert_int_eq(assert_dump_dir_clean(), CHURN_DUMPS);
	assert_serving();
	figures("thread-exits", "requests %d, bytes %lld, time %lld ms, rss %ld KiB", CHURN_DUMPS,
	        bytes, (long long)(it_now_ms() - t0), proc_kib(D.pid, "VmRSS"));
}
END_TEST

START_TEST(unwritable_dump_folder)
{
	struct app_run run;
	uint8_t msg[64];
	struct it_target t;
	char text[256];
	int n;
	int64_t t0 = it_now_ms();

	/* read-only for root too: a read-only bind mount (mode bits would not stop root) */
	ck_assert_msg(mount(D.dumps, D.dumps, NULL, MS_BIND, NULL) == 0, "bind mount: %s",
	              strerror(errno));
	mounted = true;
	ck_assert_msg(mount(NULL, D.dumps, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0,
	              "read-only remount: %s", strerror(errno));

	/* a crash: the app still dies by its signal, promptly; the log says why there is no dump */
	run = crash_app("segv", NULL);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "app: %s",
	              it_result_status(&run.res));
	ck_assert_int_lt(run.res.duration, APP_PROMPT_MS);
	ck_assert_ptr_null(find_dump_any(run.pid, "dmp"));
	ck_assert_int_eq(status_event("failed_read_only"), 1);
	it_result_done(&run.res);

	/* a request: the requester gets the reason */
	ck_assert_int_eq(it_target_start(NULL, &t), 0);
	n = encode_dump_request(msg, sizeof(msg), t.pid);
	ck_assert_int_eq(exchange(msg, (size_t)n, false, text, sizeof(text)), -EROFS);
	ck_assert_msg(strstr(text, D.dumps), "error text does not name the folder: %s", text);
	ck_assert_int_eq(it_stopped_task(t.pid, NULL), 0);
	ck_assert_int_eq(it_target_ping(&t, 5000), 6);
	it_target_kill(&t);

	/* writable again: dumps again */
	ck_assert_int_eq(umount2(D.dumps, 0), 0);
	mounted = false;
	assert_crash_served("after the folder is writable again");
	ck_assert_int_eq(assert_dump_dir_clean(), 1);
	figures("dump-dir-unwritable", "requests 3, time %lld ms, rss %ld KiB",
	        (long long)(it_now_ms() - t0), proc_kib(D.pid, "VmRSS"));
}
END_TEST

START_TEST(full_disk)
{
	struct app_run run;
	struct statvfs before, after;
	char filler[300];
	int fd;
	long long fill;
	int64_t t0 = it_now_ms();

	ck_assert_msg(mount("tmpfs", D.dumps, "tmpfs", 0, "size=" DISK_SIZE ",mode=0700") == 0,
	              "tmpfs: %s", strerror(errno));
	mounted = true;
	/* fill it up to DISK_FREE_BYTES: not room enough for a dump of 21 threads */
	ck_assert_int_eq(statvfs(D.dumps, &before), 0);
	fill = (long long)before.f_bavail * (long long)before.f_bsize - DISK_FREE_BYTES;
	snprintf(filler, sizeof(filler), "%s/filler", D.dumps);
	fd = open(filler, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(posix_fallocate(fd, 0, fill), 0);
	close(fd);
	ck_assert_int_eq(statvfs(D.dumps, &before), 0);

	run = crash_app("thread-segv", NULL);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "app: %s",
	              it_result_status(&run.res));
	ck_assert_int_lt(run.res.duration, APP_PROMPT_MS);
	ck_assert_int_eq(status_event("failed_no_space"), 1);
	/* no partial file under any name, and the space of the temporary file is given back */
	assert_dump_dir_clean();
	ck_assert_int_eq(statvfs(D.dumps, &after), 0);
	ck_assert_uint_eq(after.f_bavail, before.f_bavail);
	ck_assert_int_eq(it_stopped_task(run.pid, NULL), 0);
	it_result_done(&run.res);

	/* room again: dumps again */
	ck_assert_int_eq(unlink(filler), 0);
	assert_crash_served("after the disk has room again");
	ck_assert_int_eq(assert_dump_dir_clean(), 1);
	assert_serving();
	figures("disk-full", "requests 2, tmpfs %s with %d bytes free, time %lld ms, rss %ld KiB",
	        DISK_SIZE, DISK_FREE_BYTES, (long long)(it_now_ms() - t0),
	        proc_kib(D.pid, "VmRSS"));
}
END_TEST

/* ---- load ---- */

START_TEST(crash_storm)
{
	const char *exe = it_env("CRASH_APP");
	const char *argv[] = {exe, "thread-segv", "--annotate", "storm=yes", NULL};
	char sockenv[300], goenv[300], fifo[256], symroot[300];
	const char *env[] = {sockenv, goenv, "MINIDUMPD_TIMEOUT_MS=120000", NULL};
	struct it_proc p[STORM_APPS];
	int64_t go, last = 0;
	long hwm_before = proc_kib(D.pid, "VmHWM"), hwm_after;
	long long bytes = 0;
	int hold;

	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", D.sock);
	snprintf(fifo, sizeof(fifo), "%s/go", D.dir);
	snprintf(goenv, sizeof(goenv), "CRASH_APP_GO=%s", fifo);
	snprintf(symroot, sizeof(symroot), "%s/symbols", D.dir);
	ck_assert_int_eq(mkdir(symroot, 0755), 0);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	/* we hold the FIFO open for writing: the apps open it at once and block reading it */
	hold = open(fifo, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(hold, 0);
	for (int i = 0; i < STORM_APPS; i++)
		ck_assert_int_eq(it_spawn(argv, env, &p[i]), 0);
	for (int i = 0; i < STORM_APPS; i++)
		ck_assert_msg(has_open(p[i].pid, fifo, APP_LOADED_MS), "app %d not ready", i);
	go = it_now_ms();
	close(hold); /* end of file for all 64 at once: they crash together */

	for (int i = 0; i < STORM_APPS; i++) {
		struct it_result r;

		ck_assert_int_eq(it_wait(&p[i], APP_LOADED_MS, &r), 0);
		ck_assert_msg(!r.exited && !r.timed_out && r.sig == SIGSEGV, "app %d ended with %s",
		              i, it_result_status(&r));
		if (r.end_ms > last)
			last = r.end_ms;
		it_result_done(&r);
	}
	hwm_after = proc_kib(D.pid, "VmHWM");

	/* 64 complete dumps, each as Breakpad sees it: the crashing thread and all 21 */
	for (int i = 0; i < STORM_APPS; i++) {
		char *dump = find_dump_any(p[i].pid, "dmp");
		char *report = find_dump_any(p[i].pid, "json");
		struct walk w;
		json_t *j;

		ck_assert_msg(dump && report, "no dump for app %d (pid %d)", i, (int)p[i].pid);
		w = stackwalk(dump, NULL); /* its symbols go to symroot */
		ck_assert_msg(strncmp(w.reason, "SIGSEGV", 7) == 0, "app %d: reason %s", i,
		              w.reason);
		ck_assert_str_eq(w.frame0, "crash_in_thread");
		ck_assert_int_eq(w.threads, 21);
		j = json_load_file(report, 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert(!json_is_true(json_object_get(j, "partial")));
		bytes += json_integer_value(json_object_get(j, "bytes"));
		json_decref(j);
		free(dump);
		free(report);
	}
	ck_assert_int_eq(assert_dump_dir_clean(), STORM_APPS);
	if (!sanitized)
		ck_assert_msg(hwm_after <= STORM_RSS_MAX_KIB,
		              "daemon peak RSS %ld KiB in the storm, limit %d KiB", hwm_after,
		              STORM_RSS_MAX_KIB);
	assert_serving();
	figures("crash-storm",
	        "requests %d, bytes %lld, last app released %lld ms after the go, daemon VmHWM %ld "
	        "-> %ld KiB",
	        STORM_APPS, bytes, (long long)(last - go), hwm_before, hwm_after);
}
END_TEST

/* ---- restart ---- */

START_TEST(crash_during_a_restart_is_captured)
{
	const char *exe = it_env("CRASH_APP");
	const char *argv[] = {exe, "segv", NULL};
	char sockenv[300], goenv[300], fifo[256];
	const char *env[] = {sockenv, goenv, "MINIDUMPD_TIMEOUT_MS=30000", NULL};
	struct it_proc p;
	struct it_result r;
	char *dump;
	int hold;
	int64_t go;

	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", D.sock);
	snprintf(fifo, sizeof(fifo), "%s/go", D.dir);
	snprintf(goenv, sizeof(goenv), "CRASH_APP_GO=%s", fifo);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	hold = open(fifo, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(hold, 0);
	/* the app registers with the first daemon */
	ck_assert_int_eq(it_spawn(argv, env, &p), 0);
	ck_assert(has_open(p.pid, fifo, APP_LOADED_MS));
	{
		int64_t deadline = it_now_ms() + REPLY_MS;

		while (status_event("registered") < 1 && it_now_ms() < deadline)
			usleep(5000);
		ck_assert_int_eq(status_event("registered"), 1);
		ck_assert(status_true("socket_inherited"));
	}

	/* the daemon goes away; the socket stays with us, as with systemd */
	daemon_stop_clean();
	go = it_now_ms();
	close(hold); /* the crash happens while no daemon runs */
	usleep(300 * 1000);
	ck_assert_int_eq(waitpid(p.pid, NULL, WNOHANG), 0); /* it waits for a reply */
	daemon_spawn(NULL); /* in the same folder, with the same socket */

	ck_assert_int_eq(it_wait(&p, APP_LOADED_MS, &r), 0);
	ck_assert_msg(!r.exited && r.sig == SIGSEGV, "app: %s", it_result_status(&r));
	dump = find_dump_any(p.pid, "dmp");
	ck_assert_msg(dump != NULL, "crash during the restart lost; log:\n%s", log_tail());
	ck_assert(dump_is_valid(dump));
	free(dump);
	ck_assert(status_true("socket_inherited")); /* the second daemon's, too */
	assert_serving();
	figures("restart",
	        "requests 1, app released %lld ms after its crash (daemon down for 300 ms)",
	        (long long)(r.end_ms - go));
	it_result_done(&r);
}
END_TEST

/* ---- leaks ---- */

/* Request number i of the leak test: ping, status, a bad message, or a dump of the target. */
static void leak_request(int i, pid_t target)
{
	uint8_t msg[64];
	struct md_proto_msg m;
	int fd = connect_daemon(), n = 0;

	ck_assert_int_ge(fd, 0);
	switch (i % 4) {
	case 0:
		n = encode_ping(msg, sizeof(msg));
		break;
	case 1: {
		struct md_proto_enc e;

		md_proto_begin(&e, msg, sizeof(msg), MD_MSG_STATUS_REQUEST);
		n = md_proto_finish(&e);
		break;
	}
	case 2:
		n = encode_ping(msg, sizeof(msg));
		msg[0] ^= 0xff; /* bad magic */
		break;
	case 3:
		n = encode_dump_request(msg, sizeof(msg), target);
		break;
	}
	send_all(fd, msg, (size_t)n);
	ck_assert_int_eq(recv_msg(fd, REPLY_MS * 3, &m), 0);
	if (i % 4 == 3)
		ck_assert_msg(m.type == MD_MSG_RESULT, "dump %d: %s", i, m.text);
	close(fd);
}

START_TEST(no_leaks_after_1000_requests)
{
	struct it_target t;
	int fds_base, fds_after;
	long rss_base, rss_after;
	long long bytes;
	int64_t t0;

	ck_assert_int_eq(it_target_start(NULL, &t), 0);
	for (int i = 0; i < LEAK_WARMUP; i++)
		leak_request(i, t.pid);
	fds_base = settle(1);
	rss_base = proc_kib(D.pid, "VmRSS");
	t0 = it_now_ms();
	for (int i = 0; i < LEAK_REQUESTS; i++)
		leak_request(i, t.pid);
	t0 = it_now_ms() - t0;
	fds_after = settle(1);
	rss_after = proc_kib(D.pid, "VmRSS");
	bytes = status_int("bytes_written");
	ck_assert_int_eq(it_target_ping(&t, 5000), 6);
	it_target_kill(&t);
	ck_assert_msg(fds_after == fds_base, "daemon fds %d after, %d before", fds_after, fds_base);
	/* the sanitizers keep freed memory in quarantine; their leak check runs at exit */
	if (!sanitized)
		ck_assert_msg(rss_after <= rss_base + LEAK_RSS_SLACK_KIB,
		              "daemon RSS %ld KiB after, %ld KiB before", rss_after, rss_base);
	figures("no-leaks",
	        "requests %d (%d dumps), bytes written %lld, time %lld ms, fds %d -> %d, rss %ld "
	        "-> %ld KiB",
	        LEAK_REQUESTS, LEAK_REQUESTS / 4, bytes, (long long)t0, fds_base, fds_after,
	        rss_base, rss_after);
}
END_TEST

static Suite *hardening_suite(void)
{
	Suite *s = suite_create("hardening");
	TCase *input = tcase_create("bad-input");
	TCase *identity = tcase_create("identity");
	TCase *faults = tcase_create("faults");
	TCase *storm = tcase_create("storm");
	TCase *load = tcase_create("load");
	TCase *restart = tcase_create("restart");

	tcase_add_checked_fixture(input, daemon_setup, hardening_teardown);
	tcase_set_timeout(input, 300);
	tcase_add_test(input, random_bytes_get_an_error);
	tcase_add_test(input, truncated_frames_get_an_error);
	tcase_add_test(input, length_over_the_limit_is_refused_at_once);
	tcase_add_test(input, wrong_version_is_refused);
	tcase_add_test(input, unknown_and_daemon_only_types_are_refused);
	tcase_add_test(input, slow_peer_times_out_without_delaying_others);
	tcase_add_test(input, idle_connection_flood_is_limited_and_others_are_served);
	tcase_add_test(input, peer_that_disconnects_mid_request_loses_nothing);
	tcase_add_test(input, claimed_identity_is_not_believed);
	suite_add_tcase(s, input);

	tcase_add_checked_fixture(identity, daemon_setup, hardening_teardown);
	tcase_set_timeout(identity, 120);
	tcase_add_test(identity, dump_now_after_a_setuid_exec_is_refused);
	tcase_add_test(identity, dump_now_of_a_process_made_non_dumpable_is_refused);
	tcase_add_test(identity, peer_gone_before_accept_gets_no_dump_of_the_pid);
	tcase_add_test(identity, client_text_cannot_forge_log_lines_or_drive_terminals);
	tcase_add_test(identity, executable_name_in_invalid_utf8_still_gets_its_report);
	suite_add_tcase(s, identity);

	tcase_add_checked_fixture(faults, daemon_setup, hardening_teardown);
	tcase_set_timeout(faults, 300);
	tcase_add_test(faults, target_killed_during_its_dump);
	tcase_add_test(faults, threads_exiting_during_the_dump);
	tcase_add_test(faults, unwritable_dump_folder);
	tcase_add_test(faults, full_disk);
	suite_add_tcase(s, faults);

	tcase_add_checked_fixture(storm, storm_setup, hardening_teardown);
	tcase_set_timeout(storm, 600);
	tcase_add_test(storm, crash_storm);
	suite_add_tcase(s, storm);

	tcase_add_checked_fixture(load, daemon_setup, hardening_teardown);
	tcase_set_timeout(load, 600);
	tcase_add_test(load, no_leaks_after_1000_requests);
	suite_add_tcase(s, load);

	tcase_add_checked_fixture(restart, activated_setup, hardening_teardown);
	tcase_set_timeout(restart, 120);
	tcase_add_test(restart, crash_during_a_restart_is_captured);
	suite_add_tcase(s, restart);
	return s;
}

CHECK_SUITE("hardening", hardening_suite);
