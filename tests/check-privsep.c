/* SPDX-License-Identifier: MIT */
/*
 * The privilege split (issue 15; docs/security.md, "Privilege separation"), as an operator would
 * check it on a running daemon: the process that holds the clients' socket runs as minidumpd's
 * own user with no capabilities, the capture worker is root with exactly four and holds nothing
 * of the clients', its binary needs neither jansson nor libuv, it refuses malformed requests
 * without dying, a dump of a process not dumpable by its user is root's alone while others are
 * the front end's, the daemon stops (exit 1) when its worker is killed, and a SIGTERM to both
 * (as systemd stops a unit) is a clean stop. Runs as root.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-main.h"
#include "daemon-util.h"
#include "md-privsep.h"

#define WORKER_CAPS 0x80025ull /* CAP_CHOWN, CAP_DAC_READ_SEARCH, CAP_KILL, CAP_SYS_PTRACE */
#define REPLY_MS    5000

/* The value of "Key:" in /proc/<pid>/status (the first number of Uid:/Gid:, hex for Cap*). */
static unsigned long long status_field(pid_t pid, const char *key, int base)
{
	char path[64], *text, *at;
	unsigned long long v;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = it_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	at = strstr(text, key);
	ck_assert_msg(at, "no %s in %s", key, path);
	v = strtoull(at + strlen(key), NULL, base);
	free(text);
	return v;
}

/* The daemon's child running md-capture-worker. */
static pid_t worker_of(pid_t daemon)
{
	char path[64], *children, *end;
	pid_t pid;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)daemon, (int)daemon);
	children = it_read_file(path, NULL);
	ck_assert_ptr_nonnull(children);
	pid = (pid_t)strtol(children, &end, 10);
	ck_assert_msg(end != children, "minidumpd %d has no child", (int)daemon);
	free(children);
	{
		char comm[64] = "";

		ck_assert_int_eq(it_task_comm(pid, pid, comm, sizeof(comm)), 0);
		ck_assert_str_eq(comm, "md-capture-work"); /* comm keeps 15 bytes */
	}
	return pid;
}

/* daemon_start() returns once the socket takes connections; the split is made just after */
static void daemon_start_ready(void)
{
	int64_t deadline;

	daemon_start();
	deadline = it_now_ms() + 10000;
	while (!log_has(" ready") && it_now_ms() < deadline)
		usleep(5000);
	ck_assert_msg(log_has(" ready"), "minidumpd not ready: %s", log_tail());
}

static uid_t user_uid(const char *name)
{
	struct passwd *pw = getpwnam(name);

	ck_assert_msg(pw, "no user %s: tests/setup-tools creates it", name);
	return pw->pw_uid;
}

START_TEST(front_end_is_unprivileged_and_worker_holds_no_client)
{
	uid_t uid = user_uid("minidumpd");
	pid_t worker;
	struct stat st;
	char path[64];
	DIR *fds;
	struct dirent *e;
	int n = 0;

	daemon_start_ready();
	/* the process that accepts the clients: minidumpd's user, nothing to raise */
	ck_assert_uint_eq(status_field(D.pid, "\nUid:", 10), uid);
	ck_assert_uint_ne(uid, 0);
	ck_assert_uint_eq(status_field(D.pid, "\nGid:", 10), getpwnam("minidumpd")->pw_gid);
	ck_assert_uint_eq(status_field(D.pid, "\nCapEff:", 16), 0);
	ck_assert_uint_eq(status_field(D.pid, "\nCapPrm:", 16), 0);
	ck_assert_uint_eq(status_field(D.pid, "\nCapInh:", 16), 0);
	ck_assert_uint_eq(status_field(D.pid, "\nCapAmb:", 16), 0);
	ck_assert_uint_eq(status_field(D.pid, "\nNoNewPrivs:", 10), 1);
	/* the worker: root with exactly the four capabilities capturing takes */
	worker = worker_of(D.pid);
	ck_assert_uint_eq(status_field(worker, "\nUid:", 10), 0);
	ck_assert_uint_eq(status_field(worker, "\nCapEff:", 16), WORKER_CAPS);
	ck_assert_uint_eq(status_field(worker, "\nCapPrm:", 16), WORKER_CAPS);
	ck_assert_uint_eq(status_field(worker, "\nCapInh:", 16), 0);
	ck_assert_uint_eq(status_field(worker, "\nNoNewPrivs:", 10), 1);
	/* ... and nothing of the clients': stdin, stdout, stderr and its socket to the front end */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)worker);
	fds = opendir(path);
	ck_assert_ptr_nonnull(fds);
	while ((e = readdir(fds)))
		if (e->d_name[0] != '.') {
			ck_assert_msg(atoi(e->d_name) <= 3, "the worker holds fd %s", e->d_name);
			n++;
		}
	closedir(fds);
	ck_assert_int_eq(n, 4);
	/* the dump folder is the front end's, and so are the dumps it may read */
	ck_assert_int_eq(stat(D.dumps, &st), 0);
	ck_assert_uint_eq(st.st_uid, uid);
	{
		struct app_run run = run_app("segv", NULL, NULL, NULL);
		char *dump = find_dump(run.pid, "dmp");

		ck_assert_msg(dump, "no dump; log: %s", log_tail());
		ck_assert_int_eq(stat(dump, &st), 0);
		ck_assert_uint_eq(st.st_uid, uid);
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
		free(dump);
		it_result_done(&run.res);
	}
	daemon_teardown();
}
END_TEST

/* The NEEDED entries of an ELF file, as readelf prints them. */
static char *needed(const char *path)
{
	const char *argv[] = {"readelf", "-d", path, NULL};
	struct it_result res;
	char *out;

	ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "readelf %s: %s", path, res.err);
	out = strdup(res.out);
	it_result_done(&res);
	return out;
}

START_TEST(worker_links_no_json_event_loop_or_protocol)
{
	char *worker = needed(it_env("MD_CAPTURE_WORKER"));
	char *daemon = needed(it_env("MINIDUMPD"));

	/* the check can fail: the front end does need them */
	ck_assert_ptr_nonnull(strstr(daemon, "libjansson"));
	ck_assert_ptr_nonnull(strstr(daemon, "libuv"));
	ck_assert_ptr_null(strstr(worker, "libjansson"));
	ck_assert_ptr_null(strstr(worker, "libuv"));
	free(worker);
	free(daemon);
	{
		/* nor the protocol's decoder, which is linked in statically */
		const char *argv[] = {"nm", it_env("MD_CAPTURE_WORKER"), NULL};
		struct it_result res;

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "nm: %s", res.err);
		ck_assert_ptr_nonnull(strstr(res.out, "md_capture_dump"));
		ck_assert_ptr_null(strstr(res.out, "md_proto_decode"));
		ck_assert_ptr_null(strstr(res.out, "json_"));
		it_result_done(&res);
	}
}
END_TEST

/* ---- the worker on its own, as minidumpd starts it ---- */

static struct {
	pid_t pid;
	int fd;
	char *dir;
} W = {.fd = -1};

static void worker_start(void)
{
	int sv[2];
	char hello[4];
	struct pollfd p;

	W.dir = it_tempdir(0770);
	ck_assert_ptr_nonnull(W.dir);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	W.pid = fork();
	ck_assert_int_ge(W.pid, 0);
	if (W.pid == 0) {
		const char *exe = it_env("MD_CAPTURE_WORKER");

		dup2(sv[1], 3);
		execl(exe, exe, W.dir, "65534", "65534", "-1", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	W.fd = sv[0];
	p = (struct pollfd){.fd = W.fd, .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, REPLY_MS), 1);
	ck_assert_int_eq(recv(W.fd, hello, sizeof(hello), 0), 4);
	ck_assert_int_eq(memcmp(hello, "MDPS", 4), 0);
}

static void worker_stop(void)
{
	if (W.fd >= 0)
		close(W.fd); /* the worker exits when its front end has gone */
	W.fd = -1;
	if (W.pid > 0) {
		int st;

		for (int i = 0; i < 200 && waitpid(W.pid, &st, WNOHANG) == 0; i++)
			usleep(10000);
		kill(W.pid, SIGKILL);
		waitpid(W.pid, NULL, 0);
	}
	W.pid = 0;
	if (W.dir)
		it_rmtree(W.dir);
	free(W.dir);
	W.dir = NULL;
}

/* Sends len bytes of msg with fds; returns the reply socket's end for the answer, or -1 when
 * no reply socket is sent (with_reply false). */
static int send_request(const void *msg, size_t len, bool with_reply, const int *more, int n_more)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[8], n = 0, sv[2] = {-1, -1};
	struct cmsghdr *cm;

	if (with_reply) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		fds[n++] = sv[1];
	}
	for (int i = 0; i < n_more; i++)
		fds[n++] = more[i];
	if (n) {
		memset(&control, 0, sizeof(control));
		mh.msg_control = &control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
	}
	ck_assert_int_eq(sendmsg(W.fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
	if (sv[1] >= 0)
		close(sv[1]);
	return sv[0];
}

/* Reads the whole result from a reply socket (closed here). */
static void read_result(int fd, struct mdd_privsep_result *res)
{
	size_t got = 0;

	while (got < sizeof(*res)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t k;

		ck_assert_msg(poll(&p, 1, REPLY_MS) == 1, "no answer from the worker");
		k = read(fd, (char *)res + got, sizeof(*res) - got);
		ck_assert_msg(k > 0, "the worker's answer ended after %zu bytes", got);
		got += (size_t)k;
	}
	close(fd);
	ck_assert_int_eq(mdd_privsep_result_check(res, sizeof(*res)), 0);
}

static void assert_refused(const void *msg, size_t len, const char *why)
{
	static struct mdd_privsep_result res;
	int fd = send_request(msg, len, true, NULL, 0);

	read_result(fd, &res);
	ck_assert_int_eq(res.error, -EBADMSG);
	ck_assert_msg(strstr(res.message, why), "refusal '%s' does not say '%s'", res.message, why);
	ck_assert_int_eq(waitpid(W.pid, NULL, WNOHANG), 0); /* still running */
}

START_TEST(worker_refuses_garbage_and_lives_on)
{
	static struct mdd_privsep_request q;
	static struct mdd_privsep_result res;
	static char garbage[sizeof(q) + 64];
	char exe[4096];
	ssize_t n;
	int pidfd, fd;

	worker_start();
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 131 + 7);
	assert_refused(garbage, 1, "size or magic");
	assert_refused(garbage, sizeof(q), "size or magic");
	assert_refused(garbage, sizeof(garbage), "too long");
	/* well framed, but lying */
	q.magic = MDD_PRIVSEP_MAGIC;
	q.version = MDD_PRIVSEP_VERSION;
	q.size = sizeof(q);
	q.op = 99;
	q.pid = (uint32_t)getpid();
	assert_refused(&q, sizeof(q), "unknown operation");
	q.op = MDD_PRIVSEP_OP_LIVE;
	q.budget_ms = 1000;
	assert_refused(&q, sizeof(q), "without a pinned target");
	q.flags = MDD_PRIVSEP_HAS_PIDFD; /* ... but no descriptor comes with it */
	assert_refused(&q, sizeof(q), "descriptors");
	q.flags = 1u << 30;
	assert_refused(&q, sizeof(q), "unknown flags");
	q.op = MDD_PRIVSEP_OP_CORE; /* with its stream, but a crash record out of bounds */
	q.flags = MDD_PRIVSEP_HAS_CRASH;
	q.crash.context.size = 100000;
	{
		int stream[2];
		static struct mdd_privsep_result bad;

		ck_assert_int_eq(pipe(stream), 0);
		fd = send_request(&q, sizeof(q), true, stream, 1);
		read_result(fd, &bad);
		ck_assert_int_eq(bad.error, -EBADMSG);
		ck_assert_ptr_nonnull(strstr(bad.message, "crash record"));
		close(stream[0]);
		close(stream[1]);
	}
	q.crash.context.size = 0;
	/* a request without a reply socket gets no answer, and the worker goes on */
	q.op = MDD_PRIVSEP_OP_EXE;
	q.flags = 0;
	send_request(&q, sizeof(q), false, NULL, 0);
	usleep(100000);
	ck_assert_int_eq(waitpid(W.pid, NULL, WNOHANG), 0);
	/* and a good one is still served: the executable of a pinned process (ours) */
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	ck_assert_int_ge(pidfd, 0);
	q.flags = MDD_PRIVSEP_HAS_PIDFD;
	fd = send_request(&q, sizeof(q), true, &pidfd, 1);
	read_result(fd, &res);
	close(pidfd);
	ck_assert_int_eq(res.error, 0);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_str_eq(res.exe, exe);
	worker_stop();
}
END_TEST

/* ---- what the worker decides itself ---- */

START_TEST(dump_of_a_non_dumpable_process_is_roots_alone)
{
	const char *mdctl = it_env("MDCTL");
	char pidbuf[16], *dump;
	struct it_result res;
	struct stat st;
	pid_t target[2];
	json_t *j;

	daemon_start_ready();
	/* two processes of nobody: one made non-dumpable, one not */
	for (int i = 0; i < 2; i++) {
		target[i] = fork();
		ck_assert_int_ge(target[i], 0);
		if (target[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (setresgid(65534, 65534, 65534) < 0 ||
			    setresuid(65534, 65534, 65534) < 0)
				_exit(1);
			/* a credential change clears the flag; the second one sets it back */
			prctl(PR_SET_DUMPABLE, i == 0 ? 0 : 1);
			for (;;)
				pause();
		}
	}
	usleep(100000);
	for (int i = 0; i < 2; i++) {
		const char *argv[] = {mdctl, "dump", pidbuf, "--json", NULL};
		char env[300];
		const char *envp[] = {env, NULL};

		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target[i]);
		snprintf(env, sizeof(env), "MINIDUMPD_SOCKET=%s", D.sock);
		ck_assert_int_eq(it_run(argv, envp, 30000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "mdctl dump %d: %s %s", (int)target[i],
		              it_result_status(&res), res.err);
		it_result_done(&res);
		dump = find_dump_any(target[i], "dmp");
		ck_assert_msg(dump, "no dump of %d; log: %s", (int)target[i], log_tail());
		ck_assert_int_eq(stat(dump, &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
		if (i == 0) {
			/* root asked, the worker wrote it root's alone: the front end cannot read
			 * it */
			ck_assert_uint_eq(st.st_uid, 0);
			ck_assert_uint_eq(st.st_gid, 0);
			free(dump);
			dump = find_dump_any(target[i], "json");
			j = load_json(dump);
			ck_assert(json_is_false(json_object_get(j, "dumpable")));
			json_decref(j);
		} else {
			ck_assert_uint_eq(st.st_uid, user_uid("minidumpd"));
		}
		free(dump);
		kill(target[i], SIGKILL);
		waitpid(target[i], NULL, 0);
	}
	daemon_teardown();
}
END_TEST

START_TEST(daemon_stops_when_its_worker_is_killed)
{
	int64_t deadline;
	pid_t worker, r;
	int st = 0;

	daemon_start_ready();
	worker = worker_of(D.pid);
	ck_assert_int_eq(kill(worker, SIGKILL), 0);
	/* it stops by itself: it cannot start another worker, having no privileges left */
	deadline = it_now_ms() + 10000;
	while ((r = waitpid(D.pid, &st, WNOHANG)) == 0 && it_now_ms() < deadline)
		usleep(10000);
	ck_assert_msg(r == D.pid, "minidumpd still runs without its worker; log: %s", log_tail());
	D.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "minidumpd ended with status %#x", st);
	ck_assert_msg(log_has("the capture worker") && log_has("signal 9"),
	              "the log does not say why: %s", log_tail());
	daemon_teardown();
}
END_TEST

/* systemd stops a unit by sending SIGTERM to each of its processes: the worker leaves the stop
 * to minidumpd, which finishes, exits 0 and reaps it. */
START_TEST(sigterm_to_both_is_a_clean_stop)
{
	int64_t deadline;
	pid_t worker, r;
	int st = 0;

	daemon_start_ready();
	worker = worker_of(D.pid);
	ck_assert_int_eq(kill(worker, SIGTERM), 0);
	ck_assert_int_eq(kill(D.pid, SIGTERM), 0);
	deadline = it_now_ms() + 10000;
	while ((r = waitpid(D.pid, &st, WNOHANG)) == 0 && it_now_ms() < deadline)
		usleep(10000);
	ck_assert_msg(r == D.pid, "minidumpd did not stop; log: %s", log_tail());
	D.pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "minidumpd ended with status %#x: %s",
	              st, log_tail());
	/* reaped by minidumpd, not left behind */
	ck_assert_int_eq(kill(worker, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	daemon_teardown();
}
END_TEST

static Suite *privsep_suite(void)
{
	Suite *s = suite_create("privsep");
	TCase *t = tcase_create("split");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, front_end_is_unprivileged_and_worker_holds_no_client);
	tcase_add_test(t, worker_links_no_json_event_loop_or_protocol);
	tcase_add_test(t, worker_refuses_garbage_and_lives_on);
	tcase_add_test(t, dump_of_a_non_dumpable_process_is_roots_alone);
	tcase_add_test(t, daemon_stops_when_its_worker_is_killed);
	tcase_add_test(t, sigterm_to_both_is_a_clean_stop);
	suite_add_tcase(s, t);
	return s;
}

CHECK_SUITE("privsep", privsep_suite);
