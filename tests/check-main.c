/* SPDX-License-Identifier: MIT */
/*
 * main() of every Check suite: runs check_suite (defined by the suite's file) with Check's
 * normal output, so that tests/run can count "Checks: N, Failures: N, Errors: N", inside the
 * suite's optional suite-wide fixture. Exits 0 when every test passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"

char check_tmpdir[64];

void check_tmpdir_setup(void)
{
	snprintf(check_tmpdir, sizeof(check_tmpdir), "/tmp/check-%s-XXXXXX", check_suite.name);
	ck_assert_ptr_nonnull(mkdtemp(check_tmpdir));
}

void check_tmpdir_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", check_tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

Suite *check_suite_of(const char *name, const struct check_tcase *tcases)
{
	Suite *s = suite_create(name);

	for (const struct check_tcase *c = tcases; c->name; c++) {
		TCase *tc = tcase_create(c->name);

		if (c->setup || c->teardown)
			tcase_add_checked_fixture(tc, c->setup, c->teardown);
		if (c->timeout > 0)
			tcase_set_timeout(tc, c->timeout);
		for (const struct check_test *t = c->tests; t->fn; t++) {
			if (t->loops > 0)
				tcase_add_loop_test(tc, t->fn, 0, t->loops);
			else
				tcase_add_test(tc, t->fn);
		}
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(int argc, char **argv)
{
	const struct check_suite *cs = &check_suite;
	SRunner *sr;
	int failed, r;

	if (cs->args) {
		r = cs->args(argc, argv);
		if (r >= 0)
			return r;
	}
	if (cs->setup) {
		r = cs->setup(cs);
		if (r < 0) {
			fprintf(stderr, "%s: suite setup failed: %s\n", cs->name, strerror(-r));
			return EXIT_FAILURE;
		}
	}
	sr = srunner_create(cs->suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (cs->teardown)
		cs->teardown(cs);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
