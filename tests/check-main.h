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

/* Defines check_suite for a suite with neither fixture nor arguments of its own: its name (a
 * string) and the function that builds its Suite. */
#define CHECK_SUITE(suite_name, suite_fn)                                                          \
	const struct check_suite check_suite = {.name = (suite_name), .suite = (suite_fn)}
