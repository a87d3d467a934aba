/* SPDX-License-Identifier: MIT */
/*
 * Hardening, faults and load: the target killed or losing threads during its dump, a read-only
 * or full dump folder, 64 apps crashing at once, a crash during a restart under socket
 * activation and a thousand requests without leaks. See check-hardening.c.
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

#define STORM_APPS        64          /* apps crashing at the same instant */
#define STORM_RSS_MAX_KIB (96 * 1024) /* daemon peak RSS allowed in the storm (not sanitized) */
#define KILL_TRIES        30          /* attempts to catch a target stopped by its dump */
#define KILL_CATCHES      10          /* times it must be caught: the races differ each time */
#define REAP_MS           5000        /* ms a killed target may take to become reapable */
#define KILL_THREADS      512         /* threads of that target: enough to make the dump last */
#define CHURN_DUMPS       20          /* dumps of a target whose threads come and go */
#define LEAK_REQUESTS     1000        /* requests of the leak test */
#define LEAK_WARMUP                                                                                \
	200                     /* requests before the baseline is taken: every worker             \
	                         * thread and the journal have run, their malloc arenas grown */
#define LEAK_RSS_SLACK_KIB 2048 /* RSS the daemon may keep after the leak test (malloc caches) */
#define DISK_SIZE          "1m" /* the full disk: a tmpfs this big */
#define DISK_FREE_BYTES    (48 * 1024) /* left free on it: less than one dump needs */

/* ---- faults ---- */

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
		*ret_tracer = proc_status_number(t->pid, "TracerPid", 0);
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
		int n = encode_dump_request(msg, sizeof(msg), t.pid);

		ck_assert_int_eq(daemon_request(msg, (size_t)n, false, REPLY_MS * 3, &m), 0);
		ck_assert_msg(m.type == MD_MSG_RESULT, "dump %d of a churning target failed: %s", i,
		              m.text);
		j = json_loads(m.text, 0, NULL);
		ck_assert_ptr_nonnull(j);
		/* the 64 parked workers and main are always there; churn threads may be */
		ck_assert_int_ge(json_integer_value(json_object_get(j, "threads")), 65);
		bytes += json_integer_value(json_object_get(j, "bytes"));
		json_decref(j);
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
	struct stat dir;
	char opts[96];
	int64_t t0 = it_now_ms();

	/* as the daemon made its folder: its unprivileged user's, 0770 (docs/security.md) */
	ck_assert_int_eq(stat(D.dumps, &dir), 0);
	snprintf(opts, sizeof(opts), "size=" DISK_SIZE ",mode=%o,uid=%u,gid=%u",
	         (unsigned)(dir.st_mode & 07777), (unsigned)dir.st_uid, (unsigned)dir.st_gid);
	ck_assert_msg(mount("tmpfs", D.dumps, "tmpfs", 0, opts) == 0, "tmpfs: %s", strerror(errno));
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
	uint8_t msg[64] = {0};
	struct md_proto_msg m;
	int n = 0;

	switch (i % 4) {
	case 0:
		n = encode_ping(msg, sizeof(msg));
		break;
	case 1:
		n = encode_bare(msg, sizeof(msg), MD_MSG_STATUS_REQUEST);
		break;
	case 2:
		n = encode_ping(msg, sizeof(msg));
		msg[0] ^= 0xff; /* bad magic */
		break;
	case 3:
		n = encode_dump_request(msg, sizeof(msg), target);
		break;
	}
	ck_assert_int_eq(daemon_request(msg, (size_t)n, false, REPLY_MS * 3, &m), 0);
	if (i % 4 == 3)
		ck_assert_msg(m.type == MD_MSG_RESULT, "dump %d: %s", i, m.text);
}

/* Lines in the dump folder's reports.jsonl: the journal writes one per dump, off the loop
 * thread, after the app has its reply. */
static long journal_lines(void)
{
	char path[512];
	long n = 0;
	FILE *f;
	int c;

	snprintf(path, sizeof(path), "%s/reports.jsonl", D.dumps);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Waits until the journal has a line for every dump the daemon counted, so that what it held
 * for them is freed before its memory is measured. */
static void journal_drained(void)
{
	int64_t deadline = it_now_ms() + REPLY_MS;

	while (journal_lines() < status_int("dumps_ok") && it_now_ms() < deadline)
		usleep(20000);
	ck_assert_msg(journal_lines() >= status_int("dumps_ok"),
	              "the journal has %ld lines for %lld dumps", journal_lines(),
	              status_int("dumps_ok"));
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
	journal_drained();
	fds_base = settle(1);
	rss_base = proc_kib(D.pid, "VmRSS");
	t0 = it_now_ms();
	for (int i = 0; i < LEAK_REQUESTS; i++)
		leak_request(i, t.pid);
	t0 = it_now_ms() - t0;
	journal_drained();
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

/* The leak test's daemon, with glibc's malloc held still: a fixed mmap threshold (by default it
 * grows with the largest block freed, and the dump writer's buffers then stay in the heap) and
 * two arenas, so that what its RSS keeps after the warm-up is ours, not malloc's caches. */
static void leak_setup(void)
{
	static const char *const env[] = {
	    "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:glibc.malloc.arena_max=2", NULL};

	sanitized = getenv("MD_SANITIZED") && strcmp(getenv("MD_SANITIZED"), "1") == 0;
	signal(SIGPIPE, SIG_IGN);
	daemon_start_opts(&(struct daemon_opts){.config = CONFIG_DEFAULT, .env = env});
}

CHECK_SUITE_FN(hardening_faults_suite, "hardening-faults",
               CHECK_CASE("faults", daemon_setup, hardening_teardown, 300,
                          CHECK_TEST(target_killed_during_its_dump),
                          CHECK_TEST(threads_exiting_during_the_dump),
                          CHECK_TEST(unwritable_dump_folder), CHECK_TEST(full_disk)),
               CHECK_CASE("storm", storm_setup, hardening_teardown, 600, CHECK_TEST(crash_storm)),
               CHECK_CASE("load", leak_setup, hardening_teardown, 600,
                          CHECK_TEST(no_leaks_after_1000_requests)),
               CHECK_CASE("restart", activated_setup, hardening_teardown, 120,
                          CHECK_TEST(crash_during_a_restart_is_captured)));

CHECK_SUITE("hardening-faults", hardening_faults_suite);
