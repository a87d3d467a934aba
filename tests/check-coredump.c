/* SPDX-License-Identifier: MIT */
/*
 * The core-stream backend (platform/linux/linux-core.c) on real cores: a core file gdb's gcore
 * wrote of tests/target-threads, read with and without the live process, and the kernel's own
 * core stream through the coredump socket (core_pattern "@path", Linux >= 6.16) of crash-app
 * built without libmdclient. Each dump is judged by Breakpad's minidump_stackwalk. Hostile
 * streams (every prefix of a real core, headers with broken fields) are refused, never
 * trusted. The socket tests change kernel.core_pattern under a guard (coredump-util.h) and
 * are skipped, saying so, on a machine where it cannot be written. The suite goes on with
 * minidumpd on the coredump socket (check-coredump-daemon.c) and its operation
 * (check-coredump-ops.c).
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coredump-daemon-util.h"
#include "md-backend.h"
#include "linux-core.h"
#include "md-capture.h"

#define ACCEPT_TIMEOUT_MS 10000 /* ms the kernel may take to connect after the crash */
#define GCORE_TIMEOUT_MS  60000

static char *core_of_target(struct it_target *t, const char *dir)
{
	char *core, pidbuf[16], prefix[512];
	const char *argv[] = {"gcore", "-o", prefix, pidbuf, NULL};
	struct it_result res;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)t->pid);
	snprintf(prefix, sizeof(prefix), "%s/core", dir);
	ck_assert_int_eq(it_run(argv, NULL, GCORE_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "gcore: %s: %s", it_result_status(&res),
	              res.err);
	it_result_done(&res);
	ck_assert(asprintf(&core, "%s.%d", prefix, (int)t->pid) > 0);
	return core;
}

/* One capture through the core backend into dir; returns the dump's path (owned). */
static char *capture(uint32_t pid, int fd, const char *dir, int *ret_err, char *why,
                     size_t why_size)
{
	struct md_core_source src = {.fd = fd, .error = why, .error_size = why_size};
	struct md_capture_options o = {
	    .backend = &md_platform_core_backend,
	    .pid = pid,
	    .snapshot = {.pidfd = -1, .source = &src},
	    .dir = dir,
	    .exe_hint = "core",
	};
	struct md_capture_result res;
	char *path = NULL;

	*ret_err = md_capture_dump(&o, &res);
	if (*ret_err == 0)
		path = strdup(res.path);
	md_capture_result_done(&res);
	return path;
}

/* A sanitizer build's target maps terabytes of shadow memory, which gcore would write out. */
static bool gcore_possible(void)
{
	const char *san = getenv("MD_SANITIZED");

	if (san && !strcmp(san, "1")) {
		fprintf(stderr, "coredump: gcore tests left out in a sanitizer build (the target's "
		                "shadow memory would make a core file of many GiB)\n");
		return false;
	}
	return true;
}

/* How the core reaches the backend: a file alone, a file with the process alive, or a pipe
 * (read once, front to back, as from the kernel) without the process. */
enum gcore_how { GCORE_FILE, GCORE_LIVE, GCORE_PIPE };

/* A child that writes path into a pipe; returns the read end. */
static int feed_pipe(const char *path, pid_t *ret_child)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	*ret_child = fork();
	ck_assert_int_ge(*ret_child, 0);
	if (*ret_child == 0) {
		char buf[65536];
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		close(p[0]); /* else the writes below never fail once the reader is done */
		signal(SIGPIPE, SIG_IGN);
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			if (write(p[1], buf, (size_t)n) != n)
				break; /* the reader stopped: as the kernel is stopped */
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void check_gcore(enum gcore_how how)
{
	const bool live = how == GCORE_LIVE;
	pid_t feeder = 0;
	static const char *const args[] = {"--threads", "4", NULL};
	struct it_target t;
	uint32_t *dump_tids;
	pid_t *tids;
	char *dir, *core, *dump, why[160];
	int fd, err, n, m;
	struct walk w;

	if (!gcore_possible())
		return;
	dir = it_tempdir(0700);
	D.dir = dir;
	ck_assert_int_eq(it_target_start(args, &t), 0);
	core = core_of_target(&t, dir);
	n = it_tasks(t.pid, &tids);
	ck_assert_int_eq(n, 5);
	if (!live)
		it_target_kill(&t); /* everything from the file */
	fd = how == GCORE_PIPE ? feed_pipe(core, &feeder) : open(core, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	dump = capture(live ? (uint32_t)t.pid : 0, fd, dir, &err, why, sizeof(why));
	ck_assert_msg(dump, "capture of %s: %s (%s)", core, strerror(-err), why);
	close(fd);
	if (feeder > 0)
		waitpid(feeder, NULL, 0);

	/* every thread, with the ids the kernel gave them */
	m = it_dump_tids(dump, &dump_tids);
	ck_assert_int_eq(m, n);
	for (int i = 0; i < n; i++) {
		bool found = false;

		for (int k = 0; k < m; k++)
			found |= dump_tids[k] == (uint32_t)tids[i];
		ck_assert_msg(found, "thread %d not in the dump", (int)tids[i]);
	}
	/* Breakpad walks each thread from the core's registers through the stack memory */
	w = stackwalk(dump, "park_main");
	ck_assert_int_eq(w.threads, 5);
	ck_assert_msg(w.in_stack, "park_main not in the first thread's stack (frame 0 '%s')",
	              w.frame0);
	if (live)
		it_target_kill(&t);
	free(tids);
	free(dump_tids);
	free(dump);
	free(core);
	it_rmtree(dir);
	free(dir);
}

START_TEST(gcore_file_alone)
{
	check_gcore(GCORE_FILE);
}
END_TEST

START_TEST(gcore_file_with_live_process)
{
	check_gcore(GCORE_LIVE);
}
END_TEST

/* Every prefix of a real core's head, and headers with one field broken, are refused with an
 * error and a reason; none is taken as a core. The heads are the fuzz seeds: the kernel's core
 * of crash-app-plain and gdb's of target-threads (tests/fuzz/make-core-seeds). */
static void check_hostile(const char *name, size_t threads)
{
	struct md_core core;
	char path[1024], *data;
	size_t len, head;
	int r, fd;

	snprintf(path, sizeof(path), "%s/%s", it_env("CORE_CORPUS"), name);
	data = it_read_file(path, &len);
	ck_assert_msg(data, "cannot read %s", path);
	ck_assert_int_eq(md_core_parse_fd(-1, &core), -EBADF);

	/* the whole head parses; where does it end? */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(md_core_parse_fd(fd, &core), 0);
	close(fd);
	head = core.consumed;
	ck_assert_uint_eq(head, len);
	ck_assert_uint_eq(core.n_threads, threads);
	ck_assert_uint_gt(core.n_loads, 10);
	md_core_done(&core);
	for (size_t cut = 0; cut < head; cut += cut < 256 ? 1 : 61) {
		fd = memfd_create("cut", MFD_CLOEXEC);
		ck_assert_int_eq(write(fd, data, cut), (ssize_t)cut);
		lseek(fd, 0, SEEK_SET);
		r = md_core_parse_fd(fd, &core);
		ck_assert_msg(r < 0, "%s cut at byte %zu of %zu was accepted", name, cut, head);
		ck_assert_msg(core.error[0], "no reason for a cut at %zu", cut);
		close(fd);
	}
	/* broken header fields: class, type, machine, phentsize, phnum, phoff */
	{
		static const struct {
			size_t off, size;
			uint64_t value;
		} breaks[] = {
		    {EI_CLASS, 1, ELFCLASS32},
		    {offsetof(Elf64_Ehdr, e_type), 2, ET_EXEC},
		    {offsetof(Elf64_Ehdr, e_machine), 2, EM_AARCH64},
		    {offsetof(Elf64_Ehdr, e_phentsize), 2, 32},
		    {offsetof(Elf64_Ehdr, e_phnum), 2, 0xffff},
		    {offsetof(Elf64_Ehdr, e_phnum), 2, 0},
		    {offsetof(Elf64_Ehdr, e_phoff), 8, 0xffffffffffffff00ull},
		};
		for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
			char *copy = malloc(head);

			fd = memfd_create("bad", MFD_CLOEXEC);
			memcpy(copy, data, head);
			memcpy(copy + breaks[i].off, &breaks[i].value, breaks[i].size);
			ck_assert_int_eq(write(fd, copy, head), (ssize_t)head);
			lseek(fd, 0, SEEK_SET);
			r = md_core_parse_fd(fd, &core);
			ck_assert_msg(r == -EBADMSG || r == -E2BIG, "%s break %zu: %d", name, i, r);
			close(fd);
			free(copy);
		}
	}
	free(data);
}

START_TEST(hostile_streams_refused)
{
	check_hostile("kernel-segv.core", 1);
	check_hostile("gcore-threads.core", 3);
}
END_TEST

/* ---- the kernel's stream through the coredump socket ---- */

/* Starts argv with core_pattern "@" on a socket in D.dir (a fresh one) for as long as it takes
 * the kernel to connect for it; returns the kernel's connection and the app in *app. Other
 * programs on this machine may crash meanwhile and reach our socket too: they are turned away
 * (no core for them) until our app connects. */
static int crash_to_socket(const char *const *argv, struct it_proc *app, struct ucred *cred)
{
	char sock[512], pattern[600];
	struct cd_guard guard;
	socklen_t cl = sizeof(*cred);
	int lfd, conn = -1;

	D.dir = it_tempdir(0700);
	snprintf(sock, sizeof(sock), "%s/core.sock", D.dir);
	lfd = listen_at(sock);
	snprintf(pattern, sizeof(pattern), "@%s", sock);
	/* the window with our pattern: from just before the app starts to the kernel's connect */
	ck_assert_int_eq(cd_pattern_set(pattern, -1, -1, &guard), 0);
	if (it_spawn(argv, NULL, app) < 0) {
		cd_pattern_restore(&guard);
		ck_abort_msg("cannot start %s", argv[0]);
	}
	for (int64_t end = it_now_ms() + ACCEPT_TIMEOUT_MS; conn < 0 && it_now_ms() < end;) {
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};

		if (poll(&pfd, 1, (int)(end - it_now_ms())) != 1)
			break;
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn >= 0 && (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, cred, &cl) < 0 ||
		                  cred->pid != app->pid)) {
			close(conn);
			conn = -1;
		}
	}
	cd_pattern_restore(&guard);
	close(lfd);
	ck_assert_msg(conn >= 0, "the kernel did not connect for pid %d within %d ms",
	              (int)app->pid, ACCEPT_TIMEOUT_MS);
	return conn;
}

START_TEST(socket_stream_of_unlinked_app)
{
	const struct crash_case *c = &cd_cases[_i];
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), c->mode, NULL};
	char why[160], *dump;
	struct it_proc app;
	struct it_result res;
	struct ucred cred;
	int conn, err;

	if (!socket_tests_possible())
		return;
	conn = crash_to_socket(argv, &app, &cred);
	dump = capture((uint32_t)cred.pid, conn, D.dir, &err, why, sizeof(why));
	close(conn); /* the kernel stops writing; the task dies */
	ck_assert_msg(dump, "capture: %s (%s)", strerror(-err), why);
	ck_assert_int_eq(it_wait(&app, APP_TIMEOUT_MS, &res), 0);
	ck_assert_msg(!res.exited && res.sig == c->sig, "%s: app ended with %s", c->mode,
	              it_result_status(&res));
	it_result_done(&res);

	assert_walk(dump, &c->walk, c->mode);
	free(dump);
	it_rmtree(D.dir);
}
END_TEST

START_TEST(kernel_stream_alone)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "thread-segv", NULL};
	char why[160], path[600], *dump;
	struct it_proc app;
	struct it_result res;
	struct ucred cred;
	int conn, out, err, in;
	pid_t feeder;
	struct walk w;
	char buf[65536];
	ssize_t n;

	if (!socket_tests_possible())
		return;
	conn = crash_to_socket(argv, &app, &cred);
	snprintf(path, sizeof(path), "%s/kernel.core", D.dir);
	/* the whole stream, as a core file would have it */
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(out, 0);
	while ((n = read(conn, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(out);
	close(conn);
	ck_assert_int_eq(it_wait(&app, APP_TIMEOUT_MS, &res), 0);
	it_result_done(&res);

	in = feed_pipe(path, &feeder);
	dump = capture(0, in, D.dir, &err, why, sizeof(why));
	close(in);
	waitpid(feeder, NULL, 0);
	ck_assert_msg(dump, "capture from the pipe: %s (%s)", strerror(-err), why);
	w = stackwalk(dump, "crash_in_thread");
	ck_assert_str_eq(w.reason, "SIGSEGV /SEGV_MAPERR");
	ck_assert_str_eq(w.frame0, "crash_in_thread");
	ck_assert_int_eq(w.threads, 21);
	free(dump);
	it_rmtree(D.dir);
}
END_TEST

static Suite *coredump_suite(void)
{
	Suite *s = suite_create("coredump");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, gcore_file_alone);
	tcase_add_test(tc, gcore_file_with_live_process);
	tcase_add_test(tc, hostile_streams_refused);
	tcase_add_test(tc, kernel_stream_alone);
	tcase_add_loop_test(tc, socket_stream_of_unlinked_app, 0, CD_N_CASES);
	suite_add_tcase(s, tc);
	tc = tcase_create("daemon");
	tcase_set_timeout(tc, 300);
	coredump_daemon_tests(tc);
	coredump_ops_tests(tc);
	suite_add_tcase(s, tc);
	return s;
}

const struct check_suite check_suite = {
    .name = "coredump",
    .suite = coredump_suite,
    .setup = cd_suite_setup,
    .teardown = cd_suite_teardown,
    .target_env = "TARGET_THREADS",
};
