/* SPDX-License-Identifier: MIT */
/*
 * Fairness between users (issue 15, item 5), the pure decisions, table-driven: daemon/md-fair.c's
 * run, queue or refuse, which waiting request starts and the request rate, and
 * common/md-store.c's per-owner pruning. The real daemon with two real users is
 * check-fairness.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "md-fair.h"
#include "md-store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- run, queue or refuse ---- */

START_TEST(admit_decisions)
{
	static const struct {
		const char *what;
		struct mdd_fair_limits l;
		struct mdd_fair_usage u;
		bool root, crash;
		unsigned running, workers, queued, queue_max;
		enum mdd_fair_verdict want;
	} cases[] = {
	    {"a free worker, under the share",
	     {2, 4, 0, 0},
	     {0, 0},
	     false,
	     false,
	     0,
	     4,
	     0,
	     8,
	     MDD_FAIR_RUN},
	    {"a free worker, at the running share: waits",
	     {2, 4, 0, 0},
	     {2, 0},
	     false,
	     false,
	     2,
	     4,
	     0,
	     8,
	     MDD_FAIR_QUEUE},
	    {"at the share of the queue: refused",
	     {2, 4, 0, 0},
	     {2, 4},
	     false,
	     false,
	     4,
	     4,
	     4,
	     8,
	     MDD_FAIR_REFUSE_SHARE},
	    {"a crash at the share of the queue still waits",
	     {2, 4, 0, 0},
	     {2, 4},
	     false,
	     true,
	     4,
	     4,
	     4,
	     8,
	     MDD_FAIR_QUEUE},
	    {"a crash with a free worker runs though others wait",
	     {2, 4, 0, 0},
	     {0, 0},
	     false,
	     true,
	     3,
	     4,
	     5,
	     8,
	     MDD_FAIR_RUN},
	    {"a request with a free worker runs though others (at their share) wait",
	     {2, 4, 0, 0},
	     {1, 0},
	     false,
	     false,
	     3,
	     4,
	     5,
	     8,
	     MDD_FAIR_RUN},
	    {"the whole queue full: refused, even a crash",
	     {2, 4, 0, 0},
	     {0, 0},
	     false,
	     true,
	     4,
	     4,
	     8,
	     8,
	     MDD_FAIR_REFUSE_QUEUE},
	    {"root has no share", {2, 4, 0, 0}, {9, 9}, true, false, 3, 4, 0, 8, MDD_FAIR_RUN},
	    {"root waits for a worker",
	     {2, 4, 0, 0},
	     {9, 9},
	     true,
	     false,
	     4,
	     4,
	     0,
	     8,
	     MDD_FAIR_QUEUE},
	    {"no limits: first come first served",
	     {0, 0, 0, 0},
	     {50, 50},
	     false,
	     false,
	     3,
	     4,
	     0,
	     8,
	     MDD_FAIR_RUN},
	};

	for (size_t i = 0; i < N(cases); i++) {
		enum mdd_fair_verdict v = mdd_fair_admit(
		    &cases[i].l, &cases[i].u, cases[i].root, cases[i].crash, cases[i].running,
		    cases[i].workers, cases[i].queued, cases[i].queue_max);

		ck_assert_msg(v == cases[i].want, "case %zu (%s): %d, want %d", i, cases[i].what,
		              (int)v, (int)cases[i].want);
	}
}
END_TEST

/* ---- which waiting request starts ---- */

START_TEST(next_decisions)
{
	static const struct mdd_fair_limits l = {.max_running = 2};
	/* w: waiting requests, oldest first, as "c" (crash) or "r" (request) then the running
	 * count of its user, "R" for root's */
	static const struct {
		const char *what;
		const char *w;
		long want;
	} cases[] = {
	    {"nothing waits", "", -1},
	    {"the oldest request", "r0 r0", 0},
	    {"a crash before older requests", "r0 r1 c0", 2},
	    {"the oldest crash", "r0 c1 c0", 1},
	    {"a crash of a user at its share waits", "r0 c2", 0},
	    {"requests of a user at its share wait", "r2 r2 r1", 2},
	    {"everyone at their share: none", "r2 c2", -1},
	    {"root is never at a share", "r2 R9", 1},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct mdd_fair_waiting w[8];
		size_t n = 0;

		for (const char *p = cases[i].w; *p; p += p[2] ? 3 : 2) {
			w[n].is_crash = p[0] == 'c';
			w[n].is_root = p[0] == 'R';
			w[n].user_running = (unsigned)(p[1] - '0');
			n++;
		}
		ck_assert_msg(mdd_fair_next(&l, w, n) == cases[i].want,
		              "case %zu (%s): %ld, want %ld", i, cases[i].what,
		              mdd_fair_next(&l, w, n), cases[i].want);
	}
}
END_TEST

/* ---- the request rate ---- */

START_TEST(rate_decisions)
{
	/* requests at these times (ms after the start), with this bucket: allowed ("1") or not */
	static const struct {
		const char *what;
		struct mdd_fair_limits l;
		double at[8];
		size_t n;
		const char *want;
	} cases[] = {
	    {"a burst of 3 at once, then refused", {0, 0, 3, 60}, {1, 1, 1, 1, 1}, 5, "11100"},
	    {"one a second at 60 per minute", {0, 0, 1, 60}, {1, 2, 1001, 1500, 2001}, 5, "10101"},
	    {"refusals do not use tokens", {0, 0, 1, 60}, {1, 500, 900, 1001}, 4, "1001"},
	    {"the bucket fills to its burst, no more",
	     {0, 0, 2, 60},
	     {1, 1, 100000, 100000, 100000},
	     5,
	     "11110"},
	    {"no burst: no rate limit", {0, 0, 0, 0}, {1, 1, 1, 1}, 4, "1111"},
	    {"burst without refill", {0, 0, 2, 0}, {1, 1, 100000, 200000}, 4, "1100"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct mdd_fair_bucket b = {0};
		char got[9] = "";

		for (size_t k = 0; k < cases[i].n; k++)
			got[k] =
			    mdd_fair_take(&cases[i].l, &b, 1000000 + cases[i].at[k]) ? '1' : '0';
		ck_assert_msg(strcmp(got, cases[i].want) == 0, "case %zu (%s): %s, want %s", i,
		              cases[i].what, got, cases[i].want);
	}
	{
		struct mdd_fair_limits l = {.requests_burst = 2, .requests_per_min = 60};
		struct mdd_fair_bucket b = {0};

		ck_assert(mdd_fair_bucket_full(&l, &b, 5));
		mdd_fair_take(&l, &b, 1000);
		ck_assert(!mdd_fair_bucket_full(&l, &b, 1500));
		ck_assert(mdd_fair_bucket_full(&l, &b, 2000));
	}
}
END_TEST

/* ---- pruning by owner ---- */

#define NOW 1000000
#define S   1000000000ll /* ns per s */

/* Items from a spec "owner:age_s:bytes" (owner '-': none, bytes 0: a summary, no dump). */
static size_t items_from(const char *const *spec, struct md_store_item *it)
{
	size_t n = 0;

	for (; spec[n]; n++) {
		char owner;
		long age, bytes;

		ck_assert_int_eq(sscanf(spec[n], "%c:%ld:%ld", &owner, &age, &bytes), 3);
		memset(&it[n], 0, sizeof(it[n]));
		snprintf(it[n].id, sizeof(it[n].id), "%c%ld", owner, age);
		it[n].has_owner = owner != '-';
		it[n].owner = (uint32_t)owner;
		it[n].has_report = true;
		it[n].report_bytes = 10;
		it[n].has_dump = bytes > 0;
		it[n].dump_bytes = (uint64_t)bytes;
		it[n].dump_mtime_ns = it[n].report_mtime_ns = (NOW - age) * S;
	}
	return n;
}

static size_t words(const char *s)
{
	size_t n = 0;

	for (const char *p = s; *p; p++)
		n += *p != ' ' && (p == s || p[-1] == ' ');
	return n;
}

START_TEST(prune_by_owner)
{
	static const char *const store[] = {"b:900:100", "b:800:100", "a:500:100", "a:400:100",
	                                    "a:300:100", "a:200:100", "a:100:100", "b:50:100",
	                                    "a:40:0",    NULL};
	static const struct {
		const char *what;
		struct md_store_limits l;
		uint64_t free_bytes;
		const char *keep;
		const char *want; /* ids removed, oldest first */
	} cases[] = {
	    {"within the limits", {.max_dumps = 8}, UINT64_MAX, NULL, ""},
	    {"too many dumps: the biggest owner's oldest, not the oldest dumps",
	     {.max_dumps = 6},
	     UINT64_MAX,
	     NULL,
	     "a500 a400"},
	    {"down to equal shares, then the oldest of the owners",
	     {.max_dumps = 5},
	     UINT64_MAX,
	     NULL,
	     "b900 a500 a400"},
	    {"too big: by bytes, a summary of the biggest owner counts",
	     {.max_total_bytes = 700},
	     UINT64_MAX,
	     NULL,
	     "a500 a400"},
	    {"too little free space: the biggest owner's",
	     {.min_free_bytes = 300},
	     100,
	     NULL,
	     "a500 a400"},
	    {"a per-user dump quota alone",
	     {.max_dumps_per_user = 3},
	     UINT64_MAX,
	     NULL,
	     "a500 a400"},
	    {"a per-user byte quota alone",
	     {.max_bytes_per_user = 250},
	     UINT64_MAX,
	     NULL,
	     "b900 a500 a400 a300"},
	    {"the dump just written is kept", {.max_dumps = 6}, UINT64_MAX, "a500", "a400 a300"},
	    {"age first, whoever owns it",
	     {.max_age_s = 850, .max_dumps = 6},
	     UINT64_MAX,
	     NULL,
	     "b900 a500"},
	};
	struct md_store_item it[16];
	bool remove[16];

	for (size_t i = 0; i < N(cases); i++) {
		char got[128] = "";
		size_t n = items_from(store, it), marked;

		marked = md_store_select(it, n, &cases[i].l, NOW, cases[i].free_bytes,
		                         cases[i].keep, remove);
		for (size_t k = 0, m = 0; k < n; k++) {
			if (!remove[k])
				continue;
			if (m++)
				strcat(got, " ");
			if (strlen(got) + strlen(it[k].id) < sizeof(got))
				strcat(got, it[k].id);
		}
		ck_assert_msg(strcmp(got, cases[i].want) == 0,
		              "case %zu (%s): removed '%s', want '%s'", i, cases[i].what, got,
		              cases[i].want);
		ck_assert_uint_eq(marked, words(got));
	}
}
END_TEST

static Suite *fairness_decisions_suite(void)
{
	const struct check_test decisions[] = {
	    CHECK_TEST(admit_decisions),
	    CHECK_TEST(next_decisions),
	    CHECK_TEST(rate_decisions),
	    CHECK_TEST(prune_by_owner),
	    CHECK_END,
	};
	const struct check_tcase tcases[] = {{.name = "decisions", .tests = decisions}, CHECK_END};

	return check_suite_of("fairness-decisions", tcases);
}

CHECK_SUITE("fairness-decisions", fairness_decisions_suite);
