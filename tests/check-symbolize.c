/* SPDX-License-Identifier: MIT */
/*
 * The symbolizer (issue 12) on real crashes: minidumpd writes the dump of crash-app (built -O0
 * with frame pointers, and -O2 without), `mdctl stack` unwinds and names it with md-symbolize in
 * its sandbox, and independent tools judge the answer: Breakpad's minidump_stackwalk with
 * dump_syms symbols for the app's function names, addr2line for file and line; then what
 * `mdctl info` and the daemon's report make of it. The ways symbols go missing are
 * check-symbolize-missing.c, hostile input check-symbolize-hostile.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-symbolize.h"
#include "daemon-util.h"
#include "integration-util.h"
#include "symbolize-util.h"

struct kind {
	const char *mode;
	const char *function; /* the app's function that faults */
};
static const struct kind kinds[] = {
    {"segv", "crash_segv"}, {"abort", "crash_abort"},           {"fpe", "crash_fpe"},
    {"ill", "crash_ill"},   {"stackoverflow", "crash_recurse"}, {"thread-segv", "crash_in_thread"},
};
#define N_KINDS (int)(sizeof(kinds) / sizeof(kinds[0]))

/* One frame as minidump_stackwalk -m prints it. */
struct bp_frame {
	char module[STACKWALK_FIELD];
	char function[STACKWALK_FIELD];
};

/* The crashing thread's frames from minidump_stackwalk -m with dump_syms symbols. */
static int bp_frames(const char *dump, struct bp_frame *out, int max)
{
	char *text = stackwalk_machine(dump), *line, *save = NULL;
	int crash_thread = -1, n = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char f[7][STACKWALK_FIELD];
		int k = stackwalk_fields(line, f, 7);

		if (strcmp(f[0], "Crash") == 0)
			crash_thread = atoi(f[3]);
		else if (k >= 4 && f[0][0] >= '0' && f[0][0] <= '9' && atoi(f[0]) == crash_thread &&
		         n < max && atoi(f[1]) == n) {
			snprintf(out[n].module, sizeof(out[n].module), "%s", f[2]);
			snprintf(out[n].function, sizeof(out[n].function), "%s", f[3]);
			n++;
		}
	}
	free(text);
	return n;
}

/* addr2line's "file:line" for addr in the app, basename only; "" when it knows none. */
static void addr2line(const char *app, unsigned long long addr, char *buf, size_t size)
{
	char a[32];
	const char *argv[] = {"addr2line", "-e", app, a, NULL};
	struct it_result res;
	char *nl, *base, *disc;

	snprintf(a, sizeof(a), "0x%llx", addr);
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	nl = strchr(res.out, '\n');
	if (nl)
		*nl = 0;
	disc = strstr(res.out, " (discriminator");
	if (disc)
		*disc = 0;
	base = strrchr(res.out, '/');
	snprintf(buf, size, "%s", strstr(res.out, "??") ? "" : (base ? base + 1 : res.out));
	it_result_done(&res);
}

/* Every crash kind, both builds: the app's frames are named as Breakpad names them, frame for
 * frame, and placed as addr2line places them; the faulting function is frame 0 (or, for abort,
 * reached from libc's raise through abort, with libc's own names). */
START_TEST(crash_kinds_match_stackwalk_and_addr2line)
{
	const struct kind *k = &kinds[_i % N_KINDS];
	int variant = _i / N_KINDS;
	const char *app = app_path(variant);
	struct bp_frame bp[64];
	struct mres res;
	json_t *answer, *t, *frames, *fr;
	char *dump;
	int n_bp, compared = 0, app_frames = 0;
	size_t i;

	daemon_start();
	dump = crash(app, k->mode, NULL);
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_msg(answer, "mdctl stack failed: exit %d %s", res.code, res.err);
	t = crashed_thread(answer);
	ck_assert_msg(t, "no crashed thread in the answer");
	frames = json_object_get(t, "frames");
	/* the stack overflow's dump holds no stack (its sp is in the guard page): frame 0 only,
	 * as for Breakpad */
	bool overflow = strcmp(k->mode, "stackoverflow") == 0;
	ck_assert_int_ge(json_array_size(frames), overflow ? 1 : 2);
	if (strcmp(k->mode, "thread-segv") == 0)
		ck_assert_int_eq(json_array_size(json_object_get(answer, "threads")), 21);

	/* the faulting function */
	if (strcmp(k->mode, "abort") == 0) {
		const char *f0 = fstr(json_array_get(frames, 0), "function");
		int ab = index_of(frames, "abort", 0), app_fn = index_of(frames, k->function, 0);

		ck_assert_msg(f0 && (strstr(f0, "pthread_kill") || strcmp(f0, "raise") == 0),
		              "abort: frame 0 is %s", f0 ? f0 : "(none)");
		/* with libc6-dbg, libc's static functions have their own names (Breakpad, with
		 * exported symbols only, calls this frame pthread_kill) */
		if (access("/usr/share/doc/libc6-dbg", F_OK) == 0)
			ck_assert_str_eq(f0, "__pthread_kill_implementation");
		ck_assert_msg(ab > 0, "abort: no abort frame");
		ck_assert_msg(app_fn > ab, "abort: %s not above abort", k->function);
		ck_assert_int_ge(index_of(frames, "raise", 0), 0);
		ck_assert_int_gt(index_of(frames, "main", app_fn), app_fn);
	} else {
		ck_assert_str_eq(fstr(json_array_get(frames, 0), "function"), k->function);
		if (overflow)
			;
		else if (strcmp(k->mode, "thread-segv") != 0)
			ck_assert_int_gt(index_of(frames, "main", 0), 0);
		else
			ck_assert_int_gt(index_of(frames, "start_thread", 0), 0);
	}

	/* Breakpad's names for the app's frames, frame for frame, while neither had to scan */
	n_bp = bp_frames(dump, bp, 64);
	json_array_foreach(frames, i, fr)
	{
		const char *mod = fstr(fr, "module"), *fn = fstr(fr, "function");
		const char *by = fstr(fr, "found_by");

		if ((int)i >= n_bp || strcmp(by, "scan") == 0)
			break;
		if (!mod || strcmp(mod, bp[i].module) != 0)
			break; /* the walks went different ways: nothing more to compare */
		if (strncmp(mod, "crash-app", 9) != 0 || !fn || !bp[i].function[0])
			continue;
		ck_assert_msg(strcmp(fn, bp[i].function) == 0,
		              "%s %s frame %zu: we say %s, Breakpad %s", k->mode,
		              variant ? "-O2" : "-O0", i, fn, bp[i].function);
		compared++;
	}
	ck_assert_msg(compared >= 1, "no app frame compared with Breakpad (%d frames)", n_bp);

	/* file:line of every app frame as addr2line says */
	json_array_foreach(frames, i, fr)
	{
		const char *mod = fstr(fr, "module"), *file = fstr(fr, "file");
		unsigned long long off =
		    (unsigned long long)json_integer_value(json_object_get(fr, "offset"));
		char want[512], have[512];

		if (!mod || strncmp(mod, "crash-app", 9) != 0 || i > 40)
			continue;
		addr2line(app, i == 0 ? off : off - 1, want, sizeof(want));
		if (!want[0])
			continue;
		ck_assert_msg(file, "frame %zu has no file (addr2line: %s)", i, want);
		snprintf(have, sizeof(have), "%s:%lld",
		         strrchr(file, '/') ? strrchr(file, '/') + 1 : file,
		         (long long)json_integer_value(json_object_get(fr, "line")));
		ck_assert_msg(strcmp(have, want) == 0, "frame %zu: we say %s, addr2line %s", i,
		              have, want);
		app_frames++;
	}
	ck_assert_int_ge(app_frames, 1);
	json_decref(answer);
	free(dump);
}
END_TEST

/* mdctl info ID prints every thread's stack like coredumpctl info, and puts them in its JSON. */
START_TEST(info_prints_every_thread_symbolized)
{
	char *report, *slash, *id;
	pid_t pid;
	struct it_result res;
	json_t *j;
	int stacks = 0;
	char *p;

	daemon_start();
	free(crash(app_path(0), "thread-segv", &pid));
	report = find_dump_any(pid, "json");
	ck_assert_ptr_nonnull(report);
	slash = strrchr(report, '/');
	id = strndup(slash + 1, strlen(slash + 1) - 5);
	{
		const char *argv[] = {it_env("MDCTL"), "info", id, "--dump-dir", D.dumps, NULL};

		ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &res), 0);
	}
	ck_assert_msg(res.exited && res.code == 0, "mdctl info: %s %s", it_result_status(&res),
	              res.err);
	for (p = res.out; (p = strstr(p, "Stack trace of thread ")); p++)
		stacks++;
	ck_assert_int_eq(stacks, 21);
	ck_assert_ptr_nonnull(strstr(res.out, "(crasher), crashed:\n  #0   0x"));
	ck_assert_ptr_nonnull(strstr(res.out, " crash_in_thread (crash-app + 0x"));
	ck_assert_ptr_nonnull(strstr(res.out, " park_worker (crash-app + 0x"));
	it_result_done(&res);
	{
		const char *argv[] = {it_env("MDCTL"), "info",   id,  "--dump-dir",
		                      D.dumps,         "--json", NULL};

		ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &res), 0);
	}
	j = json_loads(res.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_array_size(json_object_get(j, "threads")), 21);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "symbolizer"), "version")),
	    "0.1.0");
	json_decref(j);
	it_result_done(&res);
	free(id);
	free(report);
}
END_TEST

/* What minidumpd will put in its report (mdd_symbolize_report()): the crashing thread's stack,
 * the other threads, the symbolizer's version, time and what was missing, and the line for its
 * log; with a helper that cannot run, the reason and no stack. */
START_TEST(report_objects_for_the_daemon)
{
	char *dump, env[1100];
	const char *envv[] = {env, NULL};
	struct it_result res;
	json_t *j, *rep, *sym;
	const char *crashed_in;

	daemon_start();
	dump = crash(app_path(0), "thread-segv", NULL);
	{
		const char *argv[] = {it_env("SYMBOLIZE_REPORT"), dump, NULL};

		ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &res), 0);
	}
	ck_assert_msg(res.exited && res.code == 0, "%s", res.err);
	j = json_loads(res.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	rep = json_object_get(j, "report");
	sym = json_object_get(rep, "symbolizer");
	ck_assert_str_eq(fstr(json_array_get(json_object_get(rep, "stack"), 0), "function"),
	                 "crash_in_thread");
	ck_assert_int_eq(json_array_size(json_object_get(rep, "threads")), 20);
	ck_assert_str_eq(json_string_value(json_object_get(sym, "version")), "0.1.0");
	ck_assert(json_real_value(json_object_get(sym, "elapsed_ms")) > 0);
	ck_assert(json_real_value(json_object_get(sym, "wall_ms")) >=
	          json_real_value(json_object_get(sym, "elapsed_ms")));
	ck_assert(json_is_array(json_object_get(sym, "missing")));
	crashed_in = json_string_value(json_object_get(j, "crashed_in"));
	ck_assert_msg(crashed_in &&
	                  strncmp(crashed_in, "crash_in_thread() at crash-app.c:", 33) == 0,
	              "crashed_in: %s", crashed_in ? crashed_in : "(none)");
	json_decref(j);
	it_result_done(&res);

	snprintf(env, sizeof(env), "MD_SYMBOLIZE=/nonexistent/md-symbolize");
	{
		const char *argv[] = {it_env("SYMBOLIZE_REPORT"), dump, NULL};

		ck_assert_int_eq(it_run(argv, envv, MDCTL_TIMEOUT_MS, &res), 0);
	}
	ck_assert_msg(res.exited && res.code == 0, "%s", res.err);
	j = json_loads(res.out, 0, NULL);
	rep = json_object_get(j, "report");
	ck_assert_ptr_null(json_object_get(rep, "stack"));
	ck_assert(!json_is_string(json_object_get(j, "crashed_in")));
	ck_assert_msg(
	    strstr(json_string_value(json_object_get(json_object_get(rep, "symbolizer"), "error")),
	           "cannot run the helper"),
	    "%s", res.out);
	json_decref(j);
	it_result_done(&res);
	free(dump);
}
END_TEST

static Suite *symbolize_suite(void)
{
	const struct check_test tests[] = {
	    CHECK_LOOP(crash_kinds_match_stackwalk_and_addr2line, 2 * N_KINDS),
	    CHECK_TEST(info_prints_every_thread_symbolized),
	    CHECK_TEST(report_objects_for_the_daemon),
	    CHECK_END,
	};
	const struct check_tcase tcases[] = {
	    {.name = "walk", .tests = tests, .teardown = daemon_teardown, .timeout = 300},
	    CHECK_END,
	};

	Suite *s = check_suite_of("symbolize", tcases);

	symbolize_windows_tcase(s);
	symbolize_socket_tcase(s);
	return s;
}

CHECK_IT_SUITE("symbolize", symbolize_suite, "CRASH_APP");
