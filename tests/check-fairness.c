/* SPDX-License-Identifier: MIT */
/*
 * Fairness between users (issue 15, item 5): the real daemon with two real unprivileged users,
 * nobody (A) and daemon (B): A floods dump-now requests of processes that cannot be stopped
 * while B's app crashes, and A's dumps fill the store after B's. The pure decisions behind it
 * (daemon/md-fair.c, common/md-store.c's pruning) are check-fairness-decisions.c.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-main.h"
#include "daemon-proto.h"
#include "daemon-util.h"
#include "integration-util.h"

#define USER_A         65534 /* nobody: floods */
#define USER_B         1     /* daemon: crashes */
#define BUDGET_MS      3000  /* the daemon's dump_timeout_ms in the flood test */
#define FLOOD          100   /* A's requests; on a shared queue 100 x 200 ms is past the shim */
#define BURST          10    /* per_user.requests_burst in the flood test (the default) */
#define PER_MIN        6     /* per_user.requests_per_minute there: a token every 10 s */
#define SHIM_MS        5000  /* the shim's default reply timeout (MD_CLIENT_DEFAULT_TIMEOUT_MS) */
#define STUCK_WAIT_MS  5000  /* how long a vfork thread may take to fall asleep */
#define FLOOD_REPLY_MS 30000 /* ms a flooder waits for a reply that must come */

/* What a flooder reports: the reply's code (0 for a RESULT, the errno of an ERROR, or -errno)
 * and the ERROR's text. Written with one write(): at most PIPE_BUF bytes, so atomic, and the
 * reports of FLOOD flooders on one pipe never interleave (two writes each did, and then a
 * report was read from another's bytes). */
struct flood_reply {
	int r;
	char why[200];
};
_Static_assert(sizeof(struct flood_reply) <= PIPE_BUF, "a flooder's report is one atomic write");

/* In a child of user A: starts a process of A whose one thread sleeps in vfork() (it cannot be
 * stopped: its dump takes half the budget and fails), asks for a dump of it and writes the
 * reply to out. */
_Noreturn static void stuck_dump_request(int out)
{
	struct flood_reply rep = {0};
	uint8_t msg[64];
	struct md_proto_msg m;
	pid_t stuck = fork_vfork_sleeper();

	if (stuck < 0)
		_exit(1);
	it_asleep_task(stuck, STUCK_WAIT_MS);
	rep.r = daemon_request(msg, (size_t)encode_dump_request(msg, sizeof(msg), stuck), false,
	                       FLOOD_REPLY_MS, &m);
	if (rep.r == 0) {
		rep.r = m.type == MD_MSG_RESULT ? 0 : m.type == MD_MSG_ERROR ? m.error : -EPROTO;
		snprintf(rep.why, sizeof(rep.why), "%.*s",
		         m.type == MD_MSG_ERROR ? (int)m.text_len : 0, m.text ? m.text : "");
	}
	if (write(out, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(1);
	_exit(0);
}

static const char *const as_a[] = {
    "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", NULL};
static const char *const as_b[] = {"setpriv",        "--reuid=1", "--regid=1",
                                   "--clear-groups", "--",        NULL};

/* A floods dump requests of its own processes that cannot be stopped (each holds a worker for
 * half the budget); B's app crashes meanwhile: B's crash is dumped and B's app released within
 * the shim's timeout, and A's requests over its rate are refused with EBUSY. */
START_TEST(flood_of_requests_does_not_delay_another_users_crash)
{
	char config[128];
	pid_t flooders[FLOOD];
	int out[2], busy = 0, ok = 0, other = 0;
	struct app_run run;
	char *dump, first_busy[200] = "";
	int64_t t0, flood_start, tokens;

	snprintf(config, sizeof(config),
	         "{\"max_concurrent_dumps\": 2, \"dump_timeout_ms\": %d, \"per_user\": "
	         "{\"requests_burst\": %d, \"requests_per_minute\": %d}}",
	         BUDGET_MS, BURST, PER_MIN);
	daemon_start_config(config);
	ck_assert_int_eq(pipe(out), 0);
	flood_start = it_now_ms();
	/* A: FLOOD requests for dumps of A's processes that cannot be stopped */
	for (int i = 0; i < FLOOD; i++) {
		flooders[i] = fork_as(USER_A);
		if (flooders[i] == 0) {
			close(out[0]);
			stuck_dump_request(out[1]);
		}
	}
	close(out[1]);
	/* the flood is in: the workers are busy with A's dumps */
	t0 = it_now_ms();
	while (log_count("requested a dump of pid") + log_count("refused") < FLOOD &&
	       it_now_ms() - t0 < 2 * STUCK_WAIT_MS)
		usleep(20000);

	/* B's app crashes meanwhile, with the shim's default timeout */
	t0 = it_now_ms();
	run = run_app_opts("segv", "who=b", &(struct app_opts){.wrapper = as_b});
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "B's app: %s; %s",
	              it_result_status(&run.res), run.res.err);
	dump = find_dump(run.pid, "dmp");
	ck_assert_msg(dump != NULL, "B's crash was not dumped (took %lld ms); log:\n%s",
	              (long long)(it_now_ms() - t0), log_tail());
	ck_assert_msg(run.res.duration < SHIM_MS,
	              "B's app was released after %lld ms, past the shim's %d ms",
	              (long long)run.res.duration, SHIM_MS);
	free(dump);
	it_result_done(&run.res);

	/* A's own crash is not rate-limited: it is dumped though A has used up its requests */
	run = run_app_opts("segv", "who=a", &(struct app_opts){.wrapper = as_a});
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "A's app: %s; %s",
	              it_result_status(&run.res), run.res.err);
	ck_assert_msg(has_dump(run.pid, "dmp"), "A's crash was not dumped; log:\n%s", log_tail());
	it_result_done(&run.res);

	/* A's excess requests were refused with -EBUSY, saying why; the others dumped */
	for (int i = 0; i < FLOOD; i++) {
		struct flood_reply rep;

		ck_assert_int_eq(read_full(out[0], &rep, sizeof(rep), FLOOD_REPLY_MS * 2), 0);
		if (rep.r == -EBUSY && !first_busy[0])
			snprintf(first_busy, sizeof(first_busy), "%.*s", (int)sizeof(rep.why) - 1,
			         rep.why);
		busy += rep.r == -EBUSY;
		ok += rep.r == 0;
		other += rep.r != 0 && rep.r != -EBUSY;
	}
	/* every request took its token between flood_start and now: the bucket's burst, and what
	 * the rate refilled meanwhile */
	tokens = BURST + (it_now_ms() - flood_start) * PER_MIN / 60000;

	close(out[0]);
	for (int i = 0; i < FLOOD; i++) {
		kill(flooders[i], SIGKILL);
		waitpid(flooders[i], NULL, 0);
	}
	/* at most one request a token was let through; without the rate none would be refused */
	ck_assert_msg(FLOOD - busy <= tokens,
	              "of %d requests of A, %d refused (EBUSY), %d done, %d other: more than the "
	              "%lld tokens of the rate; log:\n%s",
	              FLOOD, busy, ok, other, (long long)tokens, log_tail());
	ck_assert_msg(strstr(first_busy, "too many dump requests from uid 65534"), "refusal: '%s'",
	              first_busy);
	ck_assert_int_ge(status_count("refused"), busy);
}
END_TEST

/* The owners (requested_by.uid) of the dumps in D.dumps: count[0] of uid A, count[1] of B. */
static void count_owners(int count[2])
{
	DIR *d = opendir(D.dumps);
	struct dirent *e;

	count[0] = count[1] = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char path[600];
		json_t *j;
		long long uid;

		if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.' ||
		    strncmp(e->d_name, "reports", 7) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", D.dumps, e->d_name);
		j = load_json(path);
		ck_assert_ptr_nonnull(j);
		uid =
		    json_integer_value(json_object_get(json_object_get(j, "requested_by"), "uid"));
		count[0] += uid == USER_A;
		count[1] += uid == USER_B;
		json_decref(j);
	}
	closedir(d);
}

/* B's two crashes, then six dump-nows of A's: with a store of 4 dumps (_i 0: the fair share) or
 * a quota of 2 per user (_i 1), A's own oldest go, never B's. */
START_TEST(one_users_dumps_evict_only_that_users)
{
	static const char *const configs[] = {"{\"store\": {\"max_dumps\": 4}}",
	                                      "{\"store\": {\"max_dumps_per_user\": 2}}"};
	pid_t b_pids[2];
	int count[2];

	daemon_start_config(configs[_i]);
	/* B's two crashes first: the oldest dumps of the store */
	for (int i = 0; i < 2; i++) {
		struct app_run run =
		    run_app_opts("segv", "who=b", &(struct app_opts){.wrapper = as_b});

		ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "B's app: %s",
		              it_result_status(&run.res));
		b_pids[i] = run.pid;
		it_result_done(&run.res);
		ck_assert_msg(has_dump(b_pids[i], "dmp"), "no dump of B's crash; log:\n%s",
		              log_tail());
		usleep(20000); /* distinct times */
	}
	/* then A's dumps, more than the store holds */
	for (int i = 0; i < 6; i++) {
		struct app_run run =
		    run_app_opts("dump-now", "who=a", &(struct app_opts){.wrapper = as_a});

		ck_assert_msg(run.res.exited && run.res.code == 0, "A's dump-now: %s; %s",
		              it_result_status(&run.res), run.res.err);
		it_result_done(&run.res);
		usleep(20000);
	}
	count_owners(count);
	ck_assert_msg(has_dump(b_pids[0], "dmp") && has_dump(b_pids[1], "dmp"),
	              "A's dumps evicted B's: A has %d, B %d; log:\n%s", count[0], count[1],
	              log_tail());
	ck_assert_int_eq(count[1], 2);
	ck_assert_int_eq(count[0], 2);
}
END_TEST

static Suite *fairness_suite(void)
{
	const struct check_test users[] = {
	    CHECK_TEST(flood_of_requests_does_not_delay_another_users_crash),
	    CHECK_LOOP(one_users_dumps_evict_only_that_users, 2),
	    CHECK_END,
	};
	const struct check_tcase tcases[] = {
	    {.name = "users", .tests = users, .teardown = daemon_teardown, .timeout = 180},
	    CHECK_END,
	};

	return check_suite_of("fairness", tcases);
}

CHECK_SUITE("fairness", fairness_suite);
