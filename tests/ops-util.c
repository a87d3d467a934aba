/* SPDX-License-Identifier: MIT */
/* The operations suites' helpers (ops-util.h). */
#include <check.h>

#include "ops-util.h"

struct it_result mdctl(const char *const *env, const char *const *args)
{
	const char *argv[40] = {it_env("MDCTL")};
	struct it_result res;
	int n = 1;

	for (; args[n - 1]; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	ck_assert_int_eq(it_run(argv, env, MDCTL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited, "mdctl %s: %s", args[0], it_result_status(&res));
	return res;
}
