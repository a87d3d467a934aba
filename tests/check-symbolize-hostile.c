/* SPDX-License-Identifier: MIT */
/*
 * The symbolizer (issue 12) under hostile input: fuzzed, truncated and bit-flipped dumps,
 * corrupt ELF files given as the app's module, and helpers that loop, crash, flood or answer
 * garbage. mdctl answers with an exit code and the reason, within its budget, and never dies;
 * the helper runs unprivileged. See check-symbolize.c.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon-util.h"
#include "integration-util.h"
#include "symbolize-util.h"

/* The fuzzed-reader corpus, and each of its dumps truncated and bit-flipped: the helper may
 * fail, mdctl answers with an exit code and never dies. */
START_TEST(hostile_dumps_never_take_mdctl_down)
{
	char corpus[1024], *dir = it_tempdir(0755);
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(corpus, sizeof(corpus), "%s/tests/corpus/reader", it_env("SOURCE_ROOT"));
	d = opendir(corpus);
	ck_assert_ptr_nonnull(d);
	srand(7);
	while ((e = readdir(d))) {
		char path[2048], mutant[2048];
		size_t len;
		char *bytes;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", corpus, e->d_name);
		bytes = it_read_file(path, &len);
		ck_assert_ptr_nonnull(bytes);
		for (int round = 0; round < 12; round++) {
			struct mres res;
			size_t n_bytes = len;
			json_t *j;

			snprintf(mutant, sizeof(mutant), "%s/%s.%d", dir, e->d_name, round);
			if (round > 0 && round < 5) {
				n_bytes = len * (size_t)round / 5;
			} else if (round >= 5) {
				for (int k = 0; k < 8; k++)
					bytes[(size_t)rand() % len] ^= (char)(1u << (rand() % 8));
			}
			write_bytes(mutant, bytes, n_bytes, 0644);
			/* asserts mdctl exited normally */
			j = mdctl_stack(round == 0 ? path : mutant, NULL, NULL, &res);
			ck_assert_msg(res.code == 0 || res.code == 1 || res.code == 7,
			              "%s round %d: exit %d", path, round, res.code);
			json_decref(j);
			n++;
		}
		free(bytes);
	}
	closedir(d);
	ck_assert_int_ge(n, 5 * 12);
	it_rmtree(dir);
	free(dir);
}
END_TEST

/* Truncated and bit-flipped ELF files with the right build id, given as the app's module: the
 * helper parses them sandboxed; mdctl survives whatever it does. */
START_TEST(corrupt_elf_modules_never_take_mdctl_down)
{
	char *app, *dump, *orig;
	size_t len;

	daemon_start();
	app = app_copy(app_path(0), "crash-app-corrupt");
	dump = crash(app, "segv", NULL);
	orig = it_read_file(app, &len);
	ck_assert_ptr_nonnull(orig);
	srand(12);
	for (int round = 0; round < 24; round++) {
		char *bytes = malloc(len);
		size_t n = len;
		struct mres res;
		json_t *j;

		memcpy(bytes, orig, len);
		if (round < 8) {
			n = 1024 + (len - 1024) * (size_t)round / 8; /* the notes stay whole */
		} else {
			for (int k = 0; k < 64; k++) {
				size_t at = 1024 + (size_t)rand() % (len - 1024);

				bytes[at] ^= (char)(1u << (rand() % 8));
			}
		}
		write_bytes(app, bytes, n, 0755);
		free(bytes);
		j = mdctl_stack(dump, NULL, NULL, &res);
		ck_assert_msg(res.code == 0 || res.code == 1, "round %d: exit %d", round, res.code);
		json_decref(j);
	}
	free(orig);
	free(dump);
	free(app);
}
END_TEST

/* mdctl_stack() with the helper the script in dir/name, instead of md-symbolize. */
static json_t *stack_with_helper(const char *dump, const char *dir, const char *name,
                                 const char *script, const char *const *extra, struct mres *ret_res)
{
	char helper[1024], env[1100];
	const char *envv[] = {env, NULL};

	snprintf(helper, sizeof(helper), "%s/%s", dir, name);
	write_bytes(helper, script, strlen(script), 0755);
	snprintf(env, sizeof(env), "MD_SYMBOLIZE=%s", helper);
	return mdctl_stack(dump, extra, envv, ret_res);
}

/* Helpers that loop, crash, flood or answer garbage: mdctl reports why, within the budget. */
START_TEST(misbehaving_helper_is_contained)
{
	static const struct {
		const char *script;
		const char *reason;
	} cases[] = {
	    {"#!/bin/sh\nwhile :; do :; done\n", "budget"},
	    {"#!/bin/sh\nkill -SEGV $$\n", "signal 11"},
	    {"#!/bin/sh\necho '{\"threads\": [garbage'\n", "garbage"},
	    {"#!/bin/sh\necho '{\"threads\": 3, \"symbolizer\": {}}'\n", "garbage"},
	    {"#!/bin/sh\nexec yes\n", "bytes"},
	    {"#!/bin/sh\necho oops >&2; exit 3\n", "oops"},
	};
	char *dump, *dir;

	daemon_start();
	dump = crash(app_path(0), "segv", NULL);
	dir = it_tempdir(0755);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *extra[] = {"--budget-ms", "1500", NULL};
		char name[32];
		struct mres res;
		json_t *j;

		snprintf(name, sizeof(name), "helper-%zu", i);
		j = stack_with_helper(dump, dir, name, cases[i].script, extra, &res);
		ck_assert_ptr_null(j);
		ck_assert_int_eq(res.code, 1);
		ck_assert_msg(strstr(res.err, cases[i].reason), "case %zu: %s", i, res.err);
		ck_assert_msg(res.duration < 1500 + 3000, "case %zu took %lld ms", i,
		              (long long)res.duration);
	}
	it_rmtree(dir);
	free(dir);
	free(dump);
}
END_TEST

/* The helper runs as nobody with no capabilities, no network and seccomp: seen from inside. */
START_TEST(helper_runs_unprivileged)
{
	/* says who it is, its capabilities, its network devices and its nice value on stderr, then
	 * fails */
	static const char script[] =
	    "#!/bin/sh\n{ id -u; grep -E '^Cap(Eff|Prm|Bnd)|^NoNewPrivs' /proc/self/status; "
	    "grep -c : /proc/net/dev; ls /proc/self/fd | tr '\\n' ' '; echo nice=$(nice); } | "
	    "tr '\\n' ' ' >&2; "
	    "exit 9\n";
	char *dump, *dir;
	struct mres res;

	daemon_start();
	dump = crash(app_path(0), "segv", NULL);
	dir = it_tempdir(0755);
	ck_assert_ptr_null(stack_with_helper(dump, dir, "helper-id", script, NULL, &res));
	ck_assert_msg(strstr(res.err, "status 9: 65534 "), "%s", res.err);
	ck_assert_msg(strstr(res.err, "CapPrm:\t0000000000000000"), "%s", res.err);
	ck_assert_msg(strstr(res.err, "CapEff:\t0000000000000000"), "%s", res.err);
	ck_assert_msg(strstr(res.err, "CapBnd:\t0000000000000000"), "%s", res.err);
	ck_assert_msg(strstr(res.err, "NoNewPrivs:\t1"), "%s", res.err);
	/* only lo in the new network namespace (the header lines of /proc/net/dev have no ':') */
	ck_assert_msg(strstr(res.err, "NoNewPrivs:\t1 1 "), "%s", res.err);
	/* below the captures */
	ck_assert_msg(strstr(res.err, "nice=10 "), "%s", res.err);
	it_rmtree(dir);
	free(dir);
	free(dump);
}
END_TEST

static Suite *symbolize_hostile_suite(void)
{
	const struct check_test hostile[] = {
	    CHECK_TEST(hostile_dumps_never_take_mdctl_down),
	    CHECK_TEST(corrupt_elf_modules_never_take_mdctl_down),
	    CHECK_TEST(misbehaving_helper_is_contained),
	    CHECK_TEST(helper_runs_unprivileged),
	    CHECK_END,
	};
	const struct check_tcase tcases[] = {
	    {.name = "hostile", .tests = hostile, .teardown = daemon_teardown, .timeout = 600},
	    CHECK_END,
	};

	return check_suite_of("symbolize-hostile", tcases);
}

CHECK_IT_SUITE("symbolize-hostile", symbolize_hostile_suite, "CRASH_APP");
