/* SPDX-License-Identifier: MIT */
/*
 * The one main() of every Check suite (tests/check-main.c). A suite file defines check_suite:
 * its name, the function that builds its Suite, and optionally a suite-wide fixture that runs
 * once in the parent process around all tests (the integration suites' root folder,
 * it_suite_setup/it_suite_teardown) and its own command-line handling.
 */
#pragma once

#include <check.h>

struct check_suite {
	const char *name;
	Suite *(*suite)(void);
	/* Optional, once around all tests in the parent: setup returns 0 or -errno (the suite
	 * does not run); teardown runs after the last test whatever the results. */
	int (*setup)(const struct check_suite *cs);
	void (*teardown)(const struct check_suite *cs);
	/* Optional: the suite's own arguments (reader: --write-corpus DIR). Returns an exit status,
	 * or -1 to run the tests. */
	int (*args)(int argc, char **argv);
	/* For it_suite_setup: the environment variable naming the helper binary whose strays
	 * it_suite_teardown kills. */
	const char *target_env;
};

/* Defined by each check-*.c, most through CHECK_SUITE. */
extern const struct check_suite check_suite;

/* One test of a test case: the test, and for a loop test how many times it runs (_i from 0 to
 * loops - 1); 0 for a plain test. A list of them ends with {NULL}. */
struct check_test {
	const TTest *fn;
	int loops;
};

/* One test case of a suite, declared as data: its name, its tests, an optional checked fixture
 * (run in the forked child around each test) and a timeout in seconds (0: Check's default). A
 * list of them ends with {NULL}. */
struct check_tcase {
	const char *name;
	const struct check_test *tests;
	SFun setup;
	SFun teardown;
	double timeout;
};

/* Entries of the lists: a plain test, a loop test, and the end of either list. */
#define CHECK_TEST(test)                                                                           \
	{                                                                                          \
		(test), 0                                                                          \
	}
#define CHECK_LOOP(test, n)                                                                        \
	{                                                                                          \
		(test), (n)                                                                        \
	}
/* A loop test run once per element of a static array: _i indexes array. */
#define CHECK_LOOP_EACH(test, array) CHECK_LOOP(test, (int)(sizeof(array) / sizeof((array)[0])))
#define CHECK_END                                                                                  \
	{                                                                                          \
		0                                                                                  \
	}

/* Builds a Suite from its test cases. The lists are automatic arrays in the suite function
 * (Check's test handles are not constant expressions); Check copies what it keeps. */
Suite *check_suite_of(const char *name, const struct check_tcase *tcases);

/* The usual way to write a suite function, without naming the lists:
 *
 *	CHECK_SUITE_FN(store_suite, "store", CHECK_CASE_PLAIN("ids", CHECK_TEST(ids_ok)),
 *	               CHECK_CASE("dir", setup_dir, teardown_dir, 60, CHECK_LOOP(scan, 3)));
 *
 * defines static Suite *store_suite(void). CHECK_SUITE_OF is its body, for a suite function
 * that does more than return the suite. CHECK_CASE is one test case: its name, its checked
 * fixture (either function may be NULL), its timeout in seconds (0: Check's default) and its
 * CHECK_TEST/CHECK_LOOP entries. Both lists are compound literals, alive until the suite
 * function returns, which is after check_suite_of. */
#define CHECK_CASE(case_name, case_setup, case_teardown, case_timeout, ...)                        \
	{                                                                                          \
		.name = (case_name), .tests = (const struct check_test[]){__VA_ARGS__, CHECK_END}, \
		.setup = (case_setup), .teardown = (case_teardown), .timeout = (case_timeout)      \
	}
/* A test case without fixture, with Check's default timeout. */
#define CHECK_CASE_PLAIN(case_name, ...) CHECK_CASE(case_name, NULL, NULL, 0, __VA_ARGS__)
#define CHECK_SUITE_OF(suite_name, ...)                                                            \
	check_suite_of((suite_name), (const struct check_tcase[]){__VA_ARGS__, CHECK_END})
#define CHECK_SUITE_FN(suite_fn, suite_name, ...)                                                  \
	static Suite *suite_fn(void)                                                               \
	{                                                                                          \
		return CHECK_SUITE_OF((suite_name), __VA_ARGS__);                                  \
	}

/* A checked fixture: a fresh folder /tmp/check-<suite>-XXXXXX for each test, named in
 * check_tmpdir, and removed with what the test left in it. */
extern char check_tmpdir[64];
void check_tmpdir_setup(void);
void check_tmpdir_teardown(void);

/* Defines check_suite for a suite with neither fixture nor arguments of its own: its name (a
 * string) and the function that builds its Suite. */
#define CHECK_SUITE(suite_name, suite_fn)                                                          \
	const struct check_suite check_suite = {.name = (suite_name), .suite = (suite_fn)}
