/* SPDX-License-Identifier: MIT */
/*
 * Table-driven unit tests of the daemon's, mdctl's and the uploader's pure decisions: who may
 * dump whom (the policy), when a crashing program is in a loop (the crash-loop window), what a
 * --since/--until time means, and how long the uploader waits before a retry. Each table row
 * is one case a user could state; the row's index is in every failure message. (Which dumps
 * the store prunes is not here: it reads the folder and the free space as it removes, so it
 * has no pure core yet.)
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check-main.h"
#include "md-config.h"
#include "md-crashloop.h"
#include "mdctl-store.h"
#include "upload-config.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- policy ---- */

/* A rule written with numbers: the lists as uids and gids (up to 4 each, 0-terminated lists
 * are not used: n says how many). make_policy turns the rules into an mdd_policy, whose lists
 * point into its pool of principals. */
struct ids {
	size_t n;
	uint32_t id[4];
};
#define IDS(...)                                                                                   \
	{                                                                                          \
		.n = N(((uint32_t[]){__VA_ARGS__})), .id = { __VA_ARGS__ }                         \
	}
struct rule_spec {
	struct ids uids, gids;
	bool everyone;
	enum mdd_policy_scope scope;
	struct ids target_uids, target_gids;
};

static void to_list(struct mdd_policy *p, const struct ids *ids, struct mdd_id_list *ret)
{
	ret->n = ids->n;
	for (size_t i = 0; i < ids->n; i++) {
		p->principals[p->n_principals] = md_principal_from_id(ids->id[i]);
		ret->at[i] = (uint16_t)p->n_principals++;
	}
}

static void make_policy(const struct rule_spec *rules, size_t n, struct mdd_policy *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->n_rules = n;
	for (size_t i = 0; i < n; i++) {
		struct mdd_policy_rule *r = &ret->rules[i];

		r->everyone = rules[i].everyone;
		r->scope = rules[i].scope;
		to_list(ret, &rules[i].uids, &r->uids);
		to_list(ret, &rules[i].gids, &r->gids);
		to_list(ret, &rules[i].target_uids, &r->target_uids);
		to_list(ret, &rules[i].target_gids, &r->target_gids);
	}
}

/* "users": [1000] may dump their own; group 10 may dump anything; user 1001 may dump what
 * uid 2000 or gid 50 owns; everyone else nothing. */
static const struct rule_spec rules_main[] = {
    {.uids = IDS(1000), .scope = MDD_POLICY_OWN},
    {.gids = IDS(10), .scope = MDD_POLICY_ANY},
    {.uids = IDS(1001), .scope = MDD_POLICY_LIST, .target_uids = IDS(2000), .target_gids = IDS(50)},
};
/* "users": "*", "may_dump": "own", then a rule for 1000 that a first rule does not shadow. */
static const struct rule_spec rules_own[] = {
    {.everyone = true, .scope = MDD_POLICY_OWN},
    {.uids = IDS(1000), .scope = MDD_POLICY_LIST, .target_uids = IDS(3000)},
};
static struct mdd_policy policy, policy_own, policy_empty;

START_TEST(policy_decides_who_may_dump_whom)
{
	static const struct {
		const struct mdd_policy *p;
		uint32_t uid;
		uint32_t gids[3];
		size_t n_gids;
		uint32_t target_uid, target_gid;
		bool allowed;
	} cases[] = {
	    /* root always; nobody else without a rule, not even for their own process */
	    {&policy_empty, 0, {0}, 1, 1234, 1234, true},
	    {&policy_empty, 1000, {1000}, 1, 1000, 1000, false},
	    /* own: the same uid only */
	    {&policy, 1000, {1000}, 1, 1000, 1000, true},
	    {&policy, 1000, {1000}, 1, 1002, 1000, false},
	    {&policy, 1000, {1000}, 1, 0, 0, false},
	    /* any, by group: primary or supplementary, not a group the rule does not name */
	    {&policy, 1500, {10}, 1, 0, 0, true},
	    {&policy, 1500, {1500, 7, 10}, 3, 4321, 4321, true},
	    {&policy, 1500, {1500, 7, 11}, 3, 4321, 4321, false},
	    {&policy, 1500, {1500}, 0, 0, 0, false}, /* no groups looked at */
	    /* a list: the target's uid or its gid */
	    {&policy, 1001, {1001}, 1, 2000, 9, true},
	    {&policy, 1001, {1001}, 1, 2001, 50, true},
	    {&policy, 1001, {1001}, 1, 2001, 51, false},
	    {&policy, 1001, {1001}, 1, 1001, 1001, false}, /* not its own: no "own" rule for it */
	    {&policy, 1002, {1002}, 1, 2000, 50, false},   /* the list is 1001's */
	    /* everyone's own, and a later rule still applies when an earlier one does not allow */
	    {&policy_own, 4000, {4000}, 1, 4000, 4000, true},
	    {&policy_own, 4000, {4000}, 1, 3000, 3000, false},
	    {&policy_own, 1000, {1000}, 1, 3000, 3000, true},
	    {&policy_own, 1000, {1000}, 1, 3001, 3000, false},
	};

	make_policy(rules_main, N(rules_main), &policy);
	make_policy(rules_own, N(rules_own), &policy_own);
	make_policy(NULL, 0, &policy_empty);
	for (size_t i = 0; i < N(cases); i++) {
		struct md_principal user = md_principal_from_id(cases[i].uid);
		struct md_principal groups[3];
		struct md_principal tu = md_principal_from_id(cases[i].target_uid);
		struct md_principal tg = md_principal_from_id(cases[i].target_gid);
		bool got;

		for (size_t g = 0; g < cases[i].n_gids; g++)
			groups[g] = md_principal_from_id(cases[i].gids[g]);
		got = mdd_policy_allows(cases[i].p, &user, groups, cases[i].n_gids, &tu, &tg);

		ck_assert_msg(got == cases[i].allowed, "case %zu: uid %u -> uid %u gid %u: %s", i,
		              cases[i].uid, cases[i].target_uid, cases[i].target_gid,
		              got ? "allowed" : "refused");
	}
}
END_TEST

/* ---- crash-loop window ---- */

START_TEST(crash_loop_window)
{
	/* at most 3 dumps of one program within 60 s; steps run in order on one table */
	static const struct {
		const char *exe;
		uint64_t file_id;
		double t;
		bool suppressed;
		uint64_t suppressed_since_dump;
	} steps[] = {
	    {"/usr/bin/a", 1, 0.0, false, 0},
	    {"/usr/bin/a", 1, 1.0, false, 0},
	    {"/usr/bin/a", 1, 2.0, false, 0},
	    {"/usr/bin/a", 1, 3.0, true, 1}, /* the fourth within 60 s */
	    {"/usr/bin/a", 1, 59.9, true, 2},
	    {"/usr/bin/b", 1, 10.0, false, 0},  /* another program */
	    {"/usr/bin/a", 2, 10.0, false, 0},  /* the same path, another file (rebuilt) */
	    {"/usr/bin/a", 1, 60.0, false, 0},  /* the crash at 0 s left the window: room again */
	    {"/usr/bin/a", 1, 60.5, true, 1},   /* 1, 2 and 60 are in it */
	    {"/usr/bin/a", 1, 200.0, false, 0}, /* all of them left it */
	};
	struct mdd_loop_table *t = malloc(sizeof(*t));

	ck_assert_ptr_nonnull(t);
	mdd_loop_init(t, 3, 60);
	for (size_t i = 0; i < N(steps); i++) {
		struct mdd_loop_entry *e = NULL;
		bool got = mdd_loop_check(t, steps[i].exe, steps[i].file_id, steps[i].t, &e);

		ck_assert_msg(got == steps[i].suppressed, "step %zu (%s at %.1f s): %s", i,
		              steps[i].exe, steps[i].t, got ? "suppressed" : "dumped");
		ck_assert_ptr_nonnull(e);
		ck_assert_msg(e->suppressed == steps[i].suppressed_since_dump,
		              "step %zu: %llu suppressed since the last dump", i,
		              (unsigned long long)e->suppressed);
	}
	free(t);
}
END_TEST

START_TEST(crash_loop_limits)
{
	struct mdd_loop_table *t = malloc(sizeof(*t));
	struct mdd_loop_entry *e = NULL;
	char exe[32];

	ck_assert_ptr_nonnull(t);
	/* max_crashes 0: never a loop */
	mdd_loop_init(t, 0, 60);
	for (int i = 0; i < 1000; i++)
		ck_assert(!mdd_loop_check(t, "/bin/x", 1, i * 0.001, &e));
	/* a limit over what an entry can remember is capped to it */
	mdd_loop_init(t, 100000, 60);
	ck_assert_uint_eq(t->max_crashes, MDD_LOOP_TIMES_MAX);
	for (int i = 0; i < MDD_LOOP_TIMES_MAX; i++)
		ck_assert(!mdd_loop_check(t, "/bin/x", 1, i * 0.001, &e));
	ck_assert(mdd_loop_check(t, "/bin/x", 1, 1.0, &e));
	/* MDD_LOOP_PROGRAMS others later, the least recently seen (x) was forgotten: room again */
	for (int i = 0; i < MDD_LOOP_PROGRAMS; i++) {
		snprintf(exe, sizeof(exe), "/bin/p%d", i);
		ck_assert(!mdd_loop_check(t, exe, 1, 2.0 + i * 0.001, &e));
	}
	ck_assert(!mdd_loop_check(t, "/bin/x", 1, 3.0, &e));
	ck_assert_uint_eq(e->n_times, 1);
	free(t);
}
END_TEST

/* ---- --since/--until times ---- */

#define NOW 1700000000 /* 2023-11-14 22:13:20 UTC */

START_TEST(times_for_since_and_until)
{
	static const struct {
		const char *text;
		bool utc;
		int ret;
		time_t want;
	} cases[] = {
	    {"now", true, 0, NOW},
	    {"0s", true, 0, NOW},
	    {"30s", true, 0, NOW - 30},
	    {"15m", true, 0, NOW - 900},
	    {"2h", true, 0, NOW - 7200},
	    {"7d", true, 0, NOW - 7 * 86400},
	    {"1w", true, 0, NOW - 7 * 86400},
	    {"today", true, 0, 1699920000},
	    {"yesterday", true, 0, 1699833600},
	    {"2023-11-14", true, 0, 1699920000},
	    {"2023-11-14 10:20", true, 0, 1699957200},
	    {"2023-11-14T10:20:30", true, 0, 1699957230},
	    {"2023-11-14 10:20:30Z", false, 0, 1699957230}, /* Z: UTC whatever the zone */
	    /* local time, in the zone the test sets (UTC+5:30) */
	    {"2023-11-14", false, 0, 1699920000 - 19800},
	    {"2023-11-14 10:20", false, 0, 1699957200 - 19800},
	    {"today", false, 0, 1699986600}, /* the 15th there, at 00:00 +5:30 */
	    /* not times */
	    {"", true, -EINVAL, 0},
	    {"soon", true, -EINVAL, 0},
	    {"5x", true, -EINVAL, 0},
	    {"5mm", true, -EINVAL, 0},
	    {"5 m", true, -EINVAL, 0},
	    {"-5m", true, -EINVAL, 0},
	    {"m", true, -EINVAL, 0},
	    {"2023-13-01", true, -EINVAL, 0},
	    {"2023-11-14 25:00", true, -EINVAL, 0},
	    {"2023-11-14 10:20 junk", true, -EINVAL, 0},
	    {"2023-11-14ZZ", true, -EINVAL, 0},
	    {"99999999999999999999d", true, -EINVAL, 0},
	};

	setenv("TZ", "XST-5:30", 1); /* POSIX form: no zone files needed */
	tzset();
	for (size_t i = 0; i < N(cases); i++) {
		time_t got = (time_t)-42;
		int r = mdctl_parse_time(cases[i].text, cases[i].utc, NOW, &got);

		ck_assert_msg(r == cases[i].ret, "case %zu '%s': returned %d, want %d", i,
		              cases[i].text, r, cases[i].ret);
		if (r == 0)
			ck_assert_msg(got == cases[i].want, "case %zu '%s': %lld, want %lld", i,
			              cases[i].text, (long long)got, (long long)cases[i].want);
	}
}
END_TEST

/* ---- upload backoff ---- */

START_TEST(upload_backoff)
{
	static const struct {
		unsigned initial_ms, max_ms, attempt;
		uint32_t rnd;
		int64_t want_ms;
	} cases[] = {
	    /* half of initial * 2^(attempt-1) for sure, the other half by the jitter */
	    {1000, 8000, 1, 0, 500},
	    {1000, 8000, 1, UINT32_MAX, 1000},
	    {1000, 8000, 1, UINT32_MAX / 2, 749},
	    {1000, 8000, 2, 0, 1000},
	    {1000, 8000, 2, UINT32_MAX, 2000},
	    {1000, 8000, 3, UINT32_MAX, 4000},
	    {1000, 8000, 4, 0, 4000},
	    {1000, 8000, 4, UINT32_MAX, 8000},
	    /* capped at max_ms, however many attempts, without overflowing */
	    {1000, 8000, 5, UINT32_MAX, 8000},
	    {1000, 8000, 5, 0, 4000},
	    {1000, 8000, 4000000000u, UINT32_MAX, 8000},
	    {86400000, 86400000, 1000, 0, 43200000},
	    {3, 5, 2, 0, 2}, /* 6 capped to 5: 2 sure, 3 jitter */
	    {3, 5, 2, UINT32_MAX, 5},
	    /* attempt 0 is treated as the first */
	    {1000, 8000, 0, 0, 500},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct mdu_upload_config cfg = {.retry_initial_ms = cases[i].initial_ms,
		                                .retry_max_ms = cases[i].max_ms};
		int64_t got = mdu_upload_backoff_ms(&cfg, cases[i].attempt, cases[i].rnd);

		ck_assert_msg(got == cases[i].want_ms, "case %zu: %lld ms, want %lld", i,
		              (long long)got, (long long)cases[i].want_ms);
	}
}
END_TEST

CHECK_SUITE_FN(decisions_suite, "decisions",
               CHECK_CASE_PLAIN("decisions", CHECK_TEST(policy_decides_who_may_dump_whom),
                                CHECK_TEST(crash_loop_window), CHECK_TEST(crash_loop_limits),
                                CHECK_TEST(times_for_since_and_until), CHECK_TEST(upload_backoff)));

CHECK_SUITE("decisions", decisions_suite);
