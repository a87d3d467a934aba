/* SPDX-License-Identifier: MIT */
/*
 * The core-stream backend (platform/linux/linux-core.c) on real cores: a core file gdb's gcore
 * wrote of tests/target-threads, read with and without the live process, and the kernel's own
 * core stream through the coredump socket (core_pattern "@path", Linux >= 6.16) of crash-app
 * built without libmdclient. Each dump is judged by Breakpad's minidump_stackwalk. Hostile
 * streams (every prefix of a real core, headers with broken fields) are refused, never
 * trusted. The socket tests change kernel.core_pattern under a guard (coredump-util.h) and
 * are skipped, saying so, on a machine where it cannot be written.
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

#include "coredump-util.h"
#include "daemon-util.h"
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

static const struct crash_case {
	const char *mode;
	int sig;
	const char *reason; /* how stackwalk names it (prefix) */
	const char *function;
	bool frame0;
	int threads;
	const char *address;
} cases[] = {
    {"segv", SIGSEGV, "SIGSEGV", "crash_segv", true, 1, "0x0"},
    {"abort", SIGABRT, "SIGABRT", "crash_abort", false, 1, NULL},
    {"fpe", SIGFPE, "SIGFPE", "crash_fpe", true, 1, NULL},
    {"stackoverflow", SIGSEGV, "SIGSEGV", "crash_recurse", true, 1, NULL},
    {"thread-segv", SIGSEGV, "SIGSEGV", "crash_in_thread", true, 21, "0x0"},
};

static bool socket_tests_possible(void)
{
	const char *required = getenv("MD_COREDUMP_REQUIRED");

	/* tests/run says this machine can run them: a skip would hide a failure */
	if (required && !strcmp(required, "1"))
		ck_assert_msg(
		    cd_can_set_pattern() && cd_have_socket_mode(),
		    "the core_pattern tests cannot run here, yet tests/run says they can");
	if (!cd_can_set_pattern()) {
		fprintf(stderr, "SKIP coredump: /proc/sys/kernel/core_pattern is not writable here "
		                "(run as root)\n");
		return false;
	}
	if (!cd_have_socket_mode()) {
		fprintf(stderr,
		        "SKIP coredump: this kernel has no coredump socket (Linux < 6.16)\n");
		return false;
	}
	return true;
}

static int listen_at(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

START_TEST(socket_stream_of_unlinked_app)
{
	const struct crash_case *c = &cases[_i];
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), c->mode, NULL};
	char sock[512], pattern[600], why[160], *dump;
	struct cd_guard guard;
	struct it_proc app;
	struct it_result res;
	struct pollfd pfd;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int lfd, conn, err;
	struct walk w;

	if (!socket_tests_possible())
		return;
	D.dir = it_tempdir(0700);
	snprintf(sock, sizeof(sock), "%s/core.sock", D.dir);
	lfd = listen_at(sock);
	snprintf(pattern, sizeof(pattern), "@%s", sock);
	/* the window with our pattern: from just before the app starts to the kernel's connect */
	ck_assert_int_eq(cd_pattern_set(pattern, -1, -1, &guard), 0);
	if (it_spawn(argv, NULL, &app) < 0) {
		cd_pattern_restore(&guard);
		ck_abort_msg("cannot start %s", argv[0]);
	}
	/* Other programs on this machine may crash meanwhile and reach our socket too: they are
	 * turned away (no core for them) until our app connects. */
	conn = -1;
	for (int64_t end = it_now_ms() + ACCEPT_TIMEOUT_MS; conn < 0 && it_now_ms() < end;) {
		pfd = (struct pollfd){.fd = lfd, .events = POLLIN};
		if (poll(&pfd, 1, (int)(end - it_now_ms())) != 1)
			break;
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn >= 0 && (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
		                  cred.pid != app.pid)) {
			close(conn);
			conn = -1;
		}
	}
	cd_pattern_restore(&guard);
	ck_assert_msg(conn >= 0, "the kernel did not connect for pid %d within %d ms", (int)app.pid,
	              ACCEPT_TIMEOUT_MS);
	dump = capture((uint32_t)cred.pid, conn, D.dir, &err, why, sizeof(why));
	close(conn); /* the kernel stops writing; the task dies */
	close(lfd);
	ck_assert_msg(dump, "capture: %s (%s)", strerror(-err), why);
	ck_assert_int_eq(it_wait(&app, APP_TIMEOUT_MS, &res), 0);
	ck_assert_msg(!res.exited && res.sig == c->sig, "%s: app ended with %s", c->mode,
	              it_result_status(&res));
	it_result_done(&res);

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
	free(dump);
	it_rmtree(D.dir);
}
END_TEST

/* ---- minidumpd on the coredump socket ---- */

static char cd_sock[300];

/* minidumpd in a fresh D.dir, serving the coredump socket D.dir/coredump.sock; extra: more
 * top-level config members ("" for none). */
static void coredump_daemon_start(const char *extra)
{
	char outbox[300], text[2048], *at;
	FILE *f;

	daemon_dirs_new(NULL);
	snprintf(cd_sock, sizeof(cd_sock), "%s/coredump.sock", D.dir);
	snprintf(outbox, sizeof(outbox), "%s/outbox", D.dir);
	ck_assert_int_eq(mkdir(outbox, 0700), 0);
	snprintf(D.conf, sizeof(D.conf), "%s/minidumpd.json", D.dir);
	/* "@DIR@" in extra stands for D.dir */
	snprintf(text, sizeof(text), "%s", extra);
	if ((at = strstr(text, "@DIR@"))) {
		char tail[2048];

		snprintf(tail, sizeof(tail), "%s", at + 5);
		snprintf(at, sizeof(text) - (size_t)(at - text), "%s%s", D.dir, tail);
	}
	f = fopen(D.conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"coredump_socket\": \"%s\"%s%s}\n", cd_sock, text[0] ? ", " : "", text);
	ck_assert_int_eq(fclose(f), 0);
	daemon_spawn(NULL);
	for (int i = 0; i < 500 && access(cd_sock, F_OK) < 0; i++)
		usleep(10000);
	ck_assert_msg(access(cd_sock, F_OK) == 0, "no coredump socket; log: %s", log_tail());
}

/* Runs argv (with env, NULL-ended, may be NULL) with core_pattern "@@" (request protocol) or
 * "@" on the daemon's coredump socket, fs.suid_dumpable set when >= 0, only for the life of
 * the program, and waits for it. */
enum cd_mode { CD_SOCKET, CD_REQUEST, CD_PIPE };

static struct app_run run_with(const char *const *argv, const char *const *env, enum cd_mode mode,
                               int suid_dumpable)
{
	char pattern[1024];
	struct cd_guard guard;
	struct app_run run;
	struct it_proc p;
	int r;

	if (mode == CD_PIPE)
		snprintf(pattern, sizeof(pattern), "|%s --socket %s %%P %%I %%s %%t %%d %%u %%g",
		         it_env("MD_COREDUMP_HELPER"), cd_sock);
	else
		snprintf(pattern, sizeof(pattern), "%s%s", mode == CD_REQUEST ? "@@" : "@",
		         cd_sock);
	ck_assert_int_eq(cd_pattern_set(pattern, mode == CD_PIPE ? 16 : -1, suid_dumpable, &guard),
	                 0);
	r = it_spawn(argv, env, &p);
	if (r == 0)
		r = it_wait(&p, APP_TIMEOUT_MS, &run.res);
	cd_pattern_restore(&guard);
	ck_assert_int_eq(r, 0);
	run.pid = p.pid;
	return run;
}

static struct app_run run_with_pattern(const char *const *argv, enum cd_mode mode)
{
	return run_with(argv, NULL, mode, -1);
}

/* Dumps (".dmp") in the store whose name holds ".PID." */
static int dumps_of(pid_t pid)
{
	char pat[32], *names;
	int n = 0;

	snprintf(pat, sizeof(pat), ".%d.", (int)pid);
	names = NULL;
	{
		DIR *d = opendir(D.dumps);
		struct dirent *e;

		ck_assert_ptr_nonnull(d);
		while ((e = readdir(d)))
			if (strstr(e->d_name, pat) && strstr(e->d_name, ".dmp"))
				n++;
		closedir(d);
	}
	free(names);
	return n;
}

/* The daemon's dump or report for pid: the task is let go once its dump is written, so the
 * report may follow its death by a little. Waits up to 10 s. */
static char *wait_dump(pid_t pid, const char *ext)
{
	char *path = NULL;

	for (int i = 0; i < 1000 && !(path = find_dump_any(pid, ext)); i++)
		usleep(10000);
	return path;
}

static void check_daemon_case(const struct crash_case *c, enum cd_mode mode)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), c->mode, NULL};
	struct app_run run;
	char *dump, *report;
	struct stat st;
	struct walk w;
	json_t *j;

	if (!socket_tests_possible())
		return;
	coredump_daemon_start("");
	run = run_with_pattern(argv, mode);
	ck_assert_msg(!run.res.exited && !run.res.timed_out && run.res.sig == c->sig,
	              "%s: app ended with %s", c->mode, it_result_status(&run.res));
	ck_assert_msg(run.res.duration < APP_TIMEOUT_MS / 3, "%s: took %lld ms to die", c->mode,
	              (long long)run.res.duration);
	dump = wait_dump(run.pid, "dmp");
	report = wait_dump(run.pid, "json");
	ck_assert_msg(dump && report, "%s: no dump/report for pid %d; log: %s", c->mode,
	              (int)run.pid, log_tail());
	ck_assert_int_eq(stat(dump, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	j = load_json(report);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "coredump");
	ck_assert_str_eq(json_string_value(json_object_get(j, "core_pattern_mode")),
	                 mode == CD_PIPE ? "pipe" : "socket");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), run.pid);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "crash"), "code")),
	                 c->sig);
	ck_assert(json_is_true(json_object_get(j, "dumpable")));
	json_decref(j);

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
	{
		/* lldb reads it too and lists every thread */
		const char *largv[] = {"lldb", "--batch", "-c", dump, "-o", "thread list", NULL};
		struct it_result res;

		ck_assert_int_eq(it_run(largv, NULL, 120000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "lldb: %s", it_result_status(&res));
		ck_assert_msg(strstr(res.out, "stop reason"), "lldb: [%s]", res.out);
		if (c->threads > 1) {
			int n = 0;

			for (const char *p = res.out; (p = strstr(p, "thread #")); p++)
				n++;
			ck_assert_int_eq(n, c->threads);
		}
		it_result_done(&res);
	}
	{
		/* the store's tools see it like any other dump */
		char pidbuf[16];
		const char *largv[] = {it_env("MDCTL"), "list",  "--dump-dir", D.dumps,  "--kind",
		                       "coredump",      "--pid", pidbuf,       "--json", NULL};
		struct it_result res;

		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)run.pid);
		ck_assert_int_eq(it_run(largv, NULL, 30000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "mdctl list: %s %s",
		              it_result_status(&res), res.err);
		ck_assert_msg(strstr(res.out, "\"coredump\"") && strstr(res.out, pidbuf),
		              "mdctl list: [%s]", res.out);
		it_result_done(&res);
	}
	free(dump);
	free(report);
	it_result_done(&run.res);
	daemon_teardown();
}

START_TEST(daemon_request_protocol)
{
	check_daemon_case(&cases[_i], CD_REQUEST);
}
END_TEST

START_TEST(daemon_plain_socket)
{
	check_daemon_case(&cases[0], CD_SOCKET);
}
END_TEST

/* The pipe helper (kernels before 6.16): the same dumps, core_pattern_mode "pipe". */
START_TEST(daemon_pipe_helper)
{
	check_daemon_case(&cases[_i], CD_PIPE);
}
END_TEST

/* An app linked with libmdclient is dumped by its shim; when it then dies by its signal the
 * kernel calls the coredump socket too, and is turned away: one crash, one dump. */
START_TEST(shim_app_dumped_once)
{
	const char *argv[] = {it_env("CRASH_APP"), "segv", NULL};
	char sockenv[300];
	const char *env[] = {sockenv, NULL};
	struct app_run run;
	char *report;
	json_t *j;

	if (!socket_tests_possible())
		return;
	coredump_daemon_start("");
	snprintf(sockenv, sizeof(sockenv), "MINIDUMPD_SOCKET=%s", D.sock);
	run = run_with(argv, env, CD_REQUEST, -1);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s", it_result_status(&run.res));
	/* the kernel's call is answered on a worker: give it a moment to be logged */
	for (int i = 0; i < 200 && !log_has("already dumped through its client"); i++)
		usleep(10000);
	ck_assert_msg(log_has("already dumped through its client"), "log: %s", log_tail());
	ck_assert_int_eq(dumps_of(run.pid), 1);
	report = wait_dump(run.pid, "json");
	ck_assert_ptr_nonnull(report);
	j = load_json(report);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "crash");
	json_decref(j);
	free(report);
	it_result_done(&run.res);
	daemon_teardown();
}
END_TEST

/* Past the crash-loop limit the kernel is answered COREDUMP_REJECT: no dump, and no core
 * written anywhere (the app's folder stays empty). */
START_TEST(crash_loop_rejected)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	struct app_run first, second;

	if (!socket_tests_possible())
		return;
	coredump_daemon_start("\"crash_loop\": {\"max_crashes\": 1, \"window_s\": 3600}");
	first = run_with_pattern(argv, CD_REQUEST);
	ck_assert_int_eq(first.res.sig, SIGSEGV);
	free(wait_dump(first.pid, "json"));
	ck_assert_int_eq(dumps_of(first.pid), 1);
	second = run_with_pattern(argv, CD_REQUEST);
	ck_assert_msg(!second.res.exited && second.res.sig == SIGSEGV, "%s",
	              it_result_status(&second.res));
	ck_assert_msg(second.res.duration < 2000, "the rejected app took %lld ms to die",
	              (long long)second.res.duration);
	for (int i = 0; i < 200 && !log_has("no core either"); i++)
		usleep(10000);
	ck_assert_msg(log_has("no core either"), "log: %s", log_tail());
	ck_assert_int_eq(dumps_of(second.pid), 0);
	ck_assert_msg(access("core", F_OK) < 0, "a core file was written");
	it_result_done(&first.res);
	it_result_done(&second.res);
	daemon_teardown();
}
END_TEST

/* A set-uid-root program crashing as nobody with fs.suid_dumpable=2: dumped, but the dump is
 * root's alone (0600, not the dump group's) and not handed to the uploader; the report says
 * why. */
START_TEST(setuid_dump_is_private)
{
	const char *plain = it_env("CRASH_APP_PLAIN");
	char copy[512], outbox[512];
	const char *argv[] = {
	    "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copy, "segv", NULL};
	struct app_run run;
	char *dump, *report, *data;
	struct stat st;
	size_t len;
	json_t *j;
	int fd;

	if (!socket_tests_possible())
		return;
	coredump_daemon_start("\"dump_group\": \"nogroup\", \"upload\": {\"enabled\": true, "
	                      "\"outbox\": \"@DIR@/outbox\"}");
	snprintf(outbox, sizeof(outbox), "%s/outbox", D.dir);
	/* a set-uid root copy of the plain app, where nobody may run it */
	snprintf(copy, sizeof(copy), "%s/crash-app-suid", D.dir);
	data = it_read_file(plain, &len);
	ck_assert_ptr_nonnull(data);
	fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, 04755), 0);
	close(fd);
	free(data);
	ck_assert_int_eq(chmod(D.dir, 0755), 0);

	run = run_with(argv, NULL, CD_REQUEST, 2);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s: %s",
	              it_result_status(&run.res), run.res.err);
	/* setpriv execs the app: same pid */
	dump = wait_dump(run.pid, "dmp");
	report = wait_dump(run.pid, "json");
	ck_assert_msg(dump && report, "no dump for the set-uid app; log: %s", log_tail());
	ck_assert_int_eq(stat(dump, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_uint_eq(st.st_gid, 0);
	j = load_json(report);
	ck_assert(json_is_false(json_object_get(j, "dumpable")));
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "private_because")), "not dumpable"));
	json_decref(j);
	ck_assert_int_eq(it_dir_count(outbox), 0);
	free(dump);
	free(report);
	it_result_done(&run.res);
	daemon_teardown();
}
END_TEST

/* A process in its own pid namespace: the report gives its pid there (NSpid) and its
 * cgroup; the dump carries the host's thread ids. */
START_TEST(pid_namespace)
{
	const char *argv[] = {"unshare", "--pid", "--fork", it_env("CRASH_APP_PLAIN"),
	                      "segv",    NULL};
	struct app_run run;
	char name[256] = "", report_path[600], dump_path[600];
	const char *nspid;
	struct dirent *e;
	struct walk w;
	json_t *j;
	DIR *d;

	if (!socket_tests_possible())
		return;
	coredump_daemon_start("");
	run = run_with_pattern(argv, CD_REQUEST);
	/* unshare reports its child's death by the signal as its own exit status */
	ck_assert_msg(run.res.sig == SIGSEGV || (run.res.exited && run.res.code == 128 + SIGSEGV),
	              "%s", it_result_status(&run.res));
	for (int i = 0; i < 1000 && !name[0]; i++) {
		d = opendir(D.dumps);
		ck_assert_ptr_nonnull(d);
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, "crash-app-plain.", 16) &&
			    strstr(e->d_name, ".json"))
				snprintf(name, sizeof(name), "%s", e->d_name);
		closedir(d);
		if (!name[0])
			usleep(10000);
	}
	ck_assert_msg(name[0], "no report; log: %s", log_tail());
	snprintf(report_path, sizeof(report_path), "%s/%s", D.dumps, name);
	j = load_json(report_path);
	nspid = json_string_value(json_object_get(j, "nspid"));
	ck_assert_ptr_nonnull(nspid);
	/* two levels: the host's pid, then 1 (the namespace's first process) */
	ck_assert_msg(strchr(nspid, '\t') && !strcmp(strrchr(nspid, '\t') + 1, "1"), "NSpid '%s'",
	              nspid);
	ck_assert_int_eq(strtol(nspid, NULL, 10), json_integer_value(json_object_get(j, "pid")));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "cgroup")));
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(j, "crash"), "thread_id")),
	    strtol(nspid, NULL, 10));
	snprintf(dump_path, sizeof(dump_path), "%s", json_string_value(json_object_get(j, "path")));
	json_decref(j);
	w = stackwalk(dump_path, "crash_segv");
	ck_assert_str_eq(w.frame0, "crash_segv");
	it_result_done(&run.res);
	daemon_teardown();
}
END_TEST

/* With minidumpd stopped, the kernel finds no socket: the app dies at once, nothing hangs. */
START_TEST(daemon_stopped_app_dies_at_once)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	struct app_run run;

	if (!socket_tests_possible())
		return;
	coredump_daemon_start("");
	daemon_stop();
	run = run_with_pattern(argv, _i ? CD_PIPE : CD_REQUEST);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "%s", it_result_status(&run.res));
	ck_assert_msg(run.res.duration < 1000, "took %lld ms", (long long)run.res.duration);
	ck_assert_int_eq(dumps_of(run.pid), 0);
	it_result_done(&run.res);
	daemon_teardown();
}
END_TEST

/* mdctl coredump enable / status / disable: the pattern it sets works, and the previous
 * handler comes back. Under a guard that restores the values of before, whatever happens. */
START_TEST(mdctl_enable_disable)
{
	const bool pipe_mode = _i == 1;
	const char *app[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	char before[CD_PATTERN_MAX], limit_before[32], state[400], now[CD_PATTERN_MAX];
	char *limit_now;
	struct cd_guard guard;
	struct it_result res;
	struct it_proc p;
	char *dump;

	if (!socket_tests_possible())
		return;
	coredump_daemon_start("");
	snprintf(state, sizeof(state), "%s/core_pattern.previous", D.dir);
	ck_assert_int_eq(cd_pattern_get(before, sizeof(before)), 0);
	{
		char *t = it_read_file("/proc/sys/kernel/core_pipe_limit", NULL);

		ck_assert_ptr_nonnull(t);
		snprintf(limit_before, sizeof(limit_before), "%s", t);
		limit_before[strcspn(limit_before, "\n")] = '\0';
		free(t);
	}
	/* the guard "sets" the values they have: it is there to put them back */
	ck_assert_int_eq(cd_pattern_set(before, atoi(limit_before), -1, &guard), 0);
	{
		const char *argv[] = {it_env("MDCTL"),
		                      "coredump",
		                      "enable",
		                      "--coredump-socket",
		                      cd_sock,
		                      "--state",
		                      state,
		                      "--helper",
		                      it_env("MD_COREDUMP_HELPER"),
		                      pipe_mode ? "--pipe" : NULL,
		                      NULL};

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "enable: %s %s", it_result_status(&res),
		              res.err);
		it_result_done(&res);
	}
	ck_assert_int_eq(cd_pattern_get(now, sizeof(now)), 0);
	if (pipe_mode) {
		ck_assert_msg(now[0] == '|' && strstr(now, it_env("MD_COREDUMP_HELPER")), "'%s'",
		              now);
		limit_now = it_read_file("/proc/sys/kernel/core_pipe_limit", NULL);
		ck_assert_msg(limit_now && atoi(limit_now) > 0, "core_pipe_limit %s", limit_now);
		free(limit_now);
	} else {
		ck_assert_msg(!strncmp(now, "@@", 2) && !strcmp(now + 2, cd_sock), "'%s'", now);
	}
	{
		const char *argv[] = {it_env("MDCTL"),
		                      "coredump",
		                      "status",
		                      "--coredump-socket",
		                      cd_sock,
		                      "--state",
		                      state,
		                      "--socket",
		                      D.sock,
		                      "--helper",
		                      it_env("MD_COREDUMP_HELPER"),
		                      NULL};
		char want[CD_PATTERN_MAX + 32];

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "status: %s", res.out);
		ck_assert_msg(strstr(res.out, pipe_mode ? "mode: pipe" : "mode: socket"), "%s",
		              res.out);
		ck_assert_msg(strstr(res.out, "minidumpd: answers"), "%s", res.out);
		snprintf(want, sizeof(want), "previous handler: %s", before);
		ck_assert_msg(strstr(res.out, want), "%s", res.out);
		it_result_done(&res);
	}
	ck_assert_int_eq(it_spawn(app, NULL, &p), 0);
	ck_assert_int_eq(it_wait(&p, APP_TIMEOUT_MS, &res), 0);
	ck_assert_int_eq(res.sig, SIGSEGV);
	it_result_done(&res);
	{
		const char *argv[] = {
		    it_env("MDCTL"), "coredump", "disable",  "--coredump-socket",          cd_sock,
		    "--state",       state,      "--helper", it_env("MD_COREDUMP_HELPER"), NULL};

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "disable: %s", res.err);
		it_result_done(&res);
	}
	ck_assert_int_eq(cd_pattern_get(now, sizeof(now)), 0);
	ck_assert_str_eq(now, before);
	limit_now = it_read_file("/proc/sys/kernel/core_pipe_limit", NULL);
	ck_assert_int_eq(atoi(limit_now), atoi(limit_before));
	free(limit_now);
	ck_assert_int_eq(access(state, F_OK), -1);
	cd_pattern_restore(&guard);
	dump = wait_dump(p.pid, "json");
	ck_assert_msg(dump, "no dump while enabled; log: %s", log_tail());
	{
		json_t *j = load_json(dump);

		ck_assert_str_eq(json_string_value(json_object_get(j, "core_pattern_mode")),
		                 pipe_mode ? "pipe" : "socket");
		json_decref(j);
	}
	free(dump);
	daemon_teardown();
}
END_TEST

/* A 1 GiB heap costs nothing more: the app dies promptly, the dump is small and the daemon's
 * peak memory stays under 8 MiB (not checked under sanitizers, whose quarantine keeps freed
 * memory). */
START_TEST(big_heap_is_cheap)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	const char *env[] = {"CRASH_APP_HEAP_MB=1024", NULL};
	const char *san = getenv("MD_SANITIZED");
	struct app_run run;
	char path[64], *report, *status;
	long hwm_kib = -1;
	json_t *j;

	if (!socket_tests_possible())
		return;
	coredump_daemon_start("");
	run = run_with(argv, env, CD_REQUEST, -1);
	ck_assert_msg(run.res.sig == SIGSEGV, "%s", it_result_status(&run.res));
	report = wait_dump(run.pid, "json");
	ck_assert_msg(report, "no dump; log: %s", log_tail());
	j = load_json(report);
	ck_assert_int_lt(json_integer_value(json_object_get(j, "bytes_on_disk")), 1 << 20);
	json_decref(j);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)D.pid);
	status = it_read_file(path, NULL);
	ck_assert_ptr_nonnull(status);
	if (strstr(status, "VmHWM:"))
		hwm_kib = strtol(strstr(status, "VmHWM:") + 6, NULL, 10);
	free(status);
	if (!(san && !strcmp(san, "1")))
		ck_assert_msg(hwm_kib > 0 && hwm_kib < 8 * 1024, "minidumpd peak RSS %ld KiB",
		              hwm_kib);
	free(report);
	it_result_done(&run.res);
	daemon_teardown();
}
END_TEST

/* Under systemd: minidumpd.socket and minidumpd-coredump.socket handed over together, the
 * second named "coredump" (LISTEN_FDNAMES); crashes reach the inherited one. */
START_TEST(socket_activation_two_sockets)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "segv", NULL};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int main_fd, core_fd;
	struct app_run run;
	char *report;

	if (!socket_tests_possible())
		return;
	daemon_dirs_new(NULL);
	snprintf(cd_sock, sizeof(cd_sock), "%s/coredump.sock", D.dir);
	main_fd = listen_at(D.sock);
	core_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(core_fd, 0);
	memcpy(a.sun_path, cd_sock, strlen(cd_sock) + 1);
	ck_assert_int_eq(bind(core_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(chmod(cd_sock, 0600), 0);
	ck_assert_int_eq(listen(core_fd, 16), 0);
	D.pid = fork();
	ck_assert_int_ge(D.pid, 0);
	if (D.pid == 0) {
		char pidbuf[16];
		int log = open(D.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(log, 2);
		dup2(2, 1);
		/* the order systemd may use: the coredump one first (moved out of the way first:
		 * either may be 3 or 4 already) */
		core_fd = fcntl(core_fd, F_DUPFD, 20);
		main_fd = fcntl(main_fd, F_DUPFD, 20);
		dup2(core_fd, 3);
		dup2(main_fd, 4);
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
		setenv("LISTEN_PID", pidbuf, 1);
		setenv("LISTEN_FDS", "2", 1);
		setenv("LISTEN_FDNAMES", "coredump:minidumpd.socket", 1);
		execl(it_env("MINIDUMPD"), "minidumpd", "--foreground", "--dump-dir", D.dumps,
		      "--socket", "/nonexistent/ignored.sock", (char *)NULL);
		_exit(127);
	}
	close(core_fd);
	close(main_fd);
	for (int i = 0; i < 500 && !log_has("coredump socket (inherited) ready"); i++)
		usleep(10000);
	ck_assert_msg(log_has("coredump socket (inherited) ready"), "log: %s", log_tail());
	run = run_with_pattern(argv, CD_REQUEST);
	ck_assert_int_eq(run.res.sig, SIGSEGV);
	report = wait_dump(run.pid, "json");
	ck_assert_msg(report, "no dump through the inherited socket; log: %s", log_tail());
	free(report);
	it_result_done(&run.res);
	daemon_teardown();
}
END_TEST

/* No /proc and no going back: the kernel's whole stream of a 21-thread crash, kept in a file,
 * is fed through a pipe without its process. The stacks and module headers are kept from the
 * stream as it goes by (within the backend's bound), and Breakpad still finds the crash in
 * crash_in_thread and every thread. */
START_TEST(kernel_stream_alone)
{
	const char *argv[] = {it_env("CRASH_APP_PLAIN"), "thread-segv", NULL};
	char sock[512], pattern[600], why[160], path[600], *dump;
	struct cd_guard guard;
	struct it_proc app;
	struct it_result res;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int lfd, conn = -1, out, err, in;
	pid_t feeder;
	struct walk w;
	char buf[65536];
	ssize_t n;

	if (!socket_tests_possible())
		return;
	D.dir = it_tempdir(0700);
	snprintf(sock, sizeof(sock), "%s/core.sock", D.dir);
	snprintf(path, sizeof(path), "%s/kernel.core", D.dir);
	lfd = listen_at(sock);
	snprintf(pattern, sizeof(pattern), "@%s", sock);
	ck_assert_int_eq(cd_pattern_set(pattern, -1, -1, &guard), 0);
	if (it_spawn(argv, NULL, &app) < 0) {
		cd_pattern_restore(&guard);
		ck_abort_msg("cannot start %s", argv[0]);
	}
	for (int64_t end = it_now_ms() + ACCEPT_TIMEOUT_MS; conn < 0 && it_now_ms() < end;) {
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};

		if (poll(&pfd, 1, (int)(end - it_now_ms())) != 1)
			break;
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn >= 0 && (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
		                  cred.pid != app.pid)) {
			close(conn);
			conn = -1;
		}
	}
	cd_pattern_restore(&guard);
	ck_assert_msg(conn >= 0, "the kernel did not connect");
	/* the whole stream, as a core file would have it */
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(out, 0);
	while ((n = read(conn, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(out);
	close(conn);
	close(lfd);
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

CHECK_SUITE_FN(coredump_suite, "coredump",
               CHECK_CASE("core", NULL, NULL, 300, CHECK_TEST(gcore_file_alone),
                          CHECK_TEST(gcore_file_with_live_process),
                          CHECK_TEST(hostile_streams_refused), CHECK_TEST(kernel_stream_alone),
                          CHECK_LOOP_EACH(socket_stream_of_unlinked_app, cases)),
               CHECK_CASE("daemon", NULL, NULL, 300,
                          CHECK_LOOP_EACH(daemon_request_protocol, cases),
                          CHECK_TEST(daemon_plain_socket), CHECK_TEST(shim_app_dumped_once),
                          CHECK_TEST(crash_loop_rejected), CHECK_TEST(setuid_dump_is_private),
                          CHECK_TEST(pid_namespace), CHECK_LOOP(daemon_stopped_app_dies_at_once, 2),
                          CHECK_LOOP_EACH(daemon_pipe_helper, cases),
                          CHECK_LOOP(mdctl_enable_disable, 2), CHECK_TEST(big_heap_is_cheap),
                          CHECK_TEST(socket_activation_two_sockets)));

const struct check_suite check_suite = {
    .name = "coredump",
    .suite = coredump_suite,
    .setup = cd_suite_setup,
    .teardown = cd_suite_teardown,
    .target_env = "TARGET_THREADS",
};
