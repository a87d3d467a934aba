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

#include "hardening-util.h"

#define MESSAGE_DEADLINE_MS 5000 /* the daemon's per-message deadline (MDD_DAEMON_MESSAGE_MS) */
#define DEADLINE_SLACK_MS   2500 /* timer and scheduling slack on a loaded 2-core machine */
#define RANDOM_ROUNDS       24   /* random-bytes messages */
#define FLOOD_CONNECTIONS   1000 /* idle connections opened by one unprivileged user */
#define FLOOD_SETTLE_MS     3000 /* ms the flooder waits for refusals to arrive */
#define MAX_CONNECTIONS     512  /* the daemon's connection limit (MDD_DAEMON_MAX_CONNECTIONS) */

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
	flooder = fork_as(NOBODY_ID);
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
	liar = fork_as(NOBODY_ID);
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

CHECK_SUITE_FN(hardening_suite, "hardening",
               CHECK_CASE("bad-input", daemon_setup, hardening_teardown, 300,
                          CHECK_TEST(random_bytes_get_an_error),
                          CHECK_TEST(truncated_frames_get_an_error),
                          CHECK_TEST(length_over_the_limit_is_refused_at_once),
                          CHECK_TEST(wrong_version_is_refused),
                          CHECK_TEST(unknown_and_daemon_only_types_are_refused),
                          CHECK_TEST(slow_peer_times_out_without_delaying_others),
                          CHECK_TEST(idle_connection_flood_is_limited_and_others_are_served),
                          CHECK_TEST(peer_that_disconnects_mid_request_loses_nothing),
                          CHECK_TEST(claimed_identity_is_not_believed)));

CHECK_SUITE("hardening", hardening_suite);
