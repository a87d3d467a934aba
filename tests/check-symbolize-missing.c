/* SPDX-License-Identifier: MIT */
/*
 * The symbolizer (issue 12) where symbols go missing: a stripped app with its debug file found
 * by build id, an app file replaced after the crash, no debug info at all, no CFI, libc's large
 * DWARF only on request, an unprivileged mdctl, and debuginfod on 127.0.0.1. The app's frames
 * are named when the symbols can be had, and say module + offset and why when not. See
 * check-symbolize.c.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon-util.h"
#include "integration-util.h"
#include "symbolize-util.h"

/* Stripped app, its debug file under DIR/.build-id/xx/rest.debug: names and lines come back. */
static char *debug_file_for(const char *app, const char *root)
{
	char id[128], *dir, *path;

	ck_assert_int_eq(it_build_id(app, id, sizeof(id)), 0);
	ck_assert_int_ge(asprintf(&dir, "%s/.build-id/%.2s", root, id), 0);
	ck_assert_int_ge(asprintf(&path, "%s/%s.debug", dir, id + 2), 0);
	run_ok((const char *const[]){"mkdir", "-p", dir, NULL});
	free(dir);
	return path;
}

START_TEST(stripped_app_with_debug_file_by_build_id)
{
	char *app, *dbg, *root, *dump;
	struct mres res;
	json_t *answer, *frames;

	daemon_start();
	app = app_copy(app_path(0), "crash-app-stripped");
	ck_assert_int_ge(asprintf(&root, "%s/debug", D.dir), 0);
	dbg = debug_file_for(app, root);
	split_debug(app, dbg);
	dump = crash(app, "segv", NULL);
	{
		const char *extra[] = {"--debug-dir", root, NULL};

		answer = mdctl_stack(dump, extra, NULL, &res);
	}
	ck_assert_msg(answer, "mdctl stack: %s", res.err);
	frames = crashed_frames(answer);
	ck_assert_str_eq(fstr(json_array_get(frames, 0), "function"), "crash_segv");
	ck_assert_ptr_nonnull(fstr(json_array_get(frames, 0), "file"));
	ck_assert_int_gt(index_of(frames, "main", 0), 0);
	json_decref(answer);
	/* without the debug folder: module + offset and why */
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_ptr_nonnull(answer);
	frames = crashed_frames(answer);
	ck_assert_ptr_null(fstr(json_array_get(frames, 0), "function"));
	ck_assert_str_eq(fstr(json_array_get(frames, 0), "module"), "crash-app-stripped");
	ck_assert_ptr_nonnull(fstr(json_array_get(frames, 0), "missing"));
	json_decref(answer);
	free(dump);
	free(dbg);
	free(root);
	free(app);
}
END_TEST

/* The app's file replaced after the crash: its frames say module + offset and why; no name
 * from the wrong file. */
START_TEST(replaced_app_build_id_mismatch)
{
	char *app, *dump;
	struct mres res;
	json_t *answer, *frames, *f0;
	const char *missing;

	daemon_start();
	app = app_copy(app_path(0), "crash-app-replaced");
	dump = crash(app, "segv", NULL);
	unlink(app);
	free(app_copy(app_path(1), "crash-app-replaced"));
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_msg(answer, "mdctl stack: %s", res.err);
	frames = crashed_frames(answer);
	f0 = json_array_get(frames, 0);
	ck_assert_ptr_null(fstr(f0, "function"));
	ck_assert_str_eq(fstr(f0, "module"), "crash-app-replaced");
	ck_assert(json_integer_value(json_object_get(f0, "offset")) > 0);
	missing = fstr(f0, "missing");
	ck_assert_msg(missing && strstr(missing, "build id mismatch"), "missing: %s",
	              missing ? missing : "(none)");
	/* libc still has its names */
	ck_assert_int_gt(index_of(frames, "__libc_start_call_main", 0), 0);
	json_decref(answer);
	free(dump);
	free(app);
}
END_TEST

/* No debug info anywhere (strip --strip-all): module + offset, and the walk through the app
 * still uses its CFI from .eh_frame, up into libc. */
START_TEST(no_debug_info_module_offset_and_cfi)
{
	char *app, *dump;
	struct mres res;
	json_t *answer, *frames, *fr;
	bool cfi_from_app = false;
	size_t i;

	daemon_start();
	app = app_copy(app_path(1), "crash-app-bare");
	{
		const char *strip[] = {"strip", "--strip-all", app, NULL};

		run_ok(strip);
	}
	dump = crash(app, "segv", NULL);
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_msg(answer, "mdctl stack: %s", res.err);
	frames = crashed_frames(answer);
	ck_assert_ptr_null(fstr(json_array_get(frames, 0), "function"));
	ck_assert_str_eq(fstr(json_array_get(frames, 0), "module"), "crash-app-bare");
	json_array_foreach(frames, i, fr)
	{
		/* a frame unwound from an app frame by CFI (.eh_frame: no other CFI is left) */
		if (i > 0 && strcmp(fstr(fr, "found_by"), "cfi") == 0 &&
		    strcmp(fstr(json_array_get(frames, i - 1), "module"), "crash-app-bare") == 0)
			cfi_from_app = true;
	}
	ck_assert_msg(cfi_from_app, "no frame unwound by CFI from the app");
	ck_assert_int_gt(index_of(frames, "__libc_start_call_main", 0), 0);
	json_decref(answer);
	free(dump);
	free(app);
}
END_TEST

/* libc's frames: real names from libc6-dbg's symbol table by default, file:line from its large
 * DWARF only with --full-debug; the reason is in "missing". */
START_TEST(libc_lines_only_with_full_debug)
{
	const char *full[] = {"--full-debug", NULL};
	struct mres res;
	json_t *answer, *frames, *f;
	char *dump;
	int at;

	if (access("/usr/share/doc/libc6-dbg", F_OK) != 0)
		return; /* libc6-dbg not installed: nothing to check */
	daemon_start();
	dump = crash(app_path(0), "thread-segv", NULL);
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_ptr_nonnull(answer);
	frames = crashed_frames(answer);
	at = index_of(frames, "start_thread", 0);
	ck_assert_int_gt(at, 0);
	f = json_array_get(frames, (size_t)at);
	ck_assert_ptr_null(fstr(f, "file"));
	json_decref(answer);
	answer = mdctl_stack(dump, full, NULL, &res);
	ck_assert_ptr_nonnull(answer);
	frames = crashed_frames(answer);
	f = json_array_get(frames, (size_t)index_of(frames, "start_thread", 0));
	ck_assert_msg(fstr(f, "file") && strstr(fstr(f, "file"), "pthread_create.c"), "file: %s",
	              fstr(f, "file") ? fstr(f, "file") : "(none)");
	json_decref(answer);
	free(dump);
}
END_TEST

/* No CFI at all in the app (its .eh_frame removed), built with frame pointers: the walk out of
 * the app's functions falls back to frame pointers and says so. */
START_TEST(no_cfi_frame_pointers_say_fp)
{
	char *app, *dump;
	struct mres res;
	json_t *answer, *frames;
	int at;

	daemon_start();
	app = app_copy(app_path(0), "crash-app-nocfi");
	{
		const char *rm[] = {"objcopy",
		                    "--remove-section",
		                    ".eh_frame",
		                    "--remove-section",
		                    ".eh_frame_hdr",
		                    app,
		                    NULL};

		run_ok(rm);
	}
	dump = crash(app, "segv", NULL);
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_msg(answer, "mdctl stack: %s", res.err);
	frames = crashed_frames(answer);
	ck_assert_str_eq(fstr(json_array_get(frames, 0), "function"), "crash_segv");
	at = index_of(frames, "main", 0);
	ck_assert_int_gt(at, 0);
	/* main was reached from an app frame that had no CFI */
	ck_assert_str_eq(fstr(json_array_get(frames, 1), "found_by"), "fp");
	json_decref(answer);
	free(dump);
	free(app);
}
END_TEST

/* mdctl stack run by an unprivileged user: the helper runs as that user, in a user and
 * network namespace where the kernel allows, and the answer is the same. */
START_TEST(unprivileged_mdctl_stack)
{
	char *dump, *copy, *dir;
	const char *argv[] = {"setpriv",
	                      "--reuid=65534",
	                      "--regid=65534",
	                      "--clear-groups",
	                      it_env("MDCTL"),
	                      "stack",
	                      NULL,
	                      "--json",
	                      NULL};
	struct it_result res;
	json_t *j, *frames;
	size_t len;
	char *bytes;

	daemon_start();
	dump = crash(app_path(0), "segv", NULL);
	dir = it_tempdir(0755);
	ck_assert_int_ge(asprintf(&copy, "%s/crash.dmp", dir), 0);
	bytes = it_read_file(dump, &len);
	ck_assert_ptr_nonnull(bytes);
	write_bytes(copy, bytes, len, 0644);
	argv[6] = copy;
	ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "%s: %s", it_result_status(&res), res.err);
	j = json_loads(res.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	frames = crashed_frames(j);
	ck_assert_str_eq(fstr(json_array_get(frames, 0), "function"), "crash_segv");
	ck_assert_int_gt(index_of(frames, "main", 0), 0);
	json_decref(j);
	it_result_done(&res);
	it_rmtree(dir);
	free(dir);
	free(copy);
	free(bytes);
	free(dump);
}
END_TEST

static pid_t debuginfod_pid; /* the server debuginfod_serves_the_debug_file started, or 0 */

static void debuginfod_teardown(void)
{
	if (debuginfod_pid > 0) {
		kill(debuginfod_pid, SIGKILL);
		waitpid(debuginfod_pid, NULL, 0);
		debuginfod_pid = 0;
	}
	daemon_teardown();
}

/* A stripped app whose debug file only a debuginfod server on 127.0.0.1 has: mdctl stack
 * --debuginfod names its frames; without --debuginfod it does not (off by default). */
START_TEST(debuginfod_serves_the_debug_file)
{
	char *app, *srv, *db, *dbg, port[16], urls[64];
	const char *env[] = {urls, NULL};
	const char *extra[] = {"--debuginfod", NULL};
	struct mres res;
	json_t *answer = NULL;
	char *dump;
	int64_t until;

	daemon_start();
	app = app_copy(app_path(0), "crash-app-di");
	ck_assert_int_ge(asprintf(&srv, "%s/debuginfod", D.dir), 0);
	ck_assert_int_ge(asprintf(&db, "%s/debuginfod.sqlite", D.dir), 0);
	ck_assert_int_ge(asprintf(&dbg, "%s/crash-app-di.debug", srv), 0);
	mkdir(srv, 0755);
	split_debug(app, dbg);
	dump = crash(app, "segv", NULL);
	/* off by default: no name for the app's frame */
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_ptr_nonnull(answer);
	ck_assert_ptr_null(fstr(json_array_get(crashed_frames(answer), 0), "function"));
	json_decref(answer);

	snprintf(port, sizeof(port), "%d", 20000 + (int)(getpid() % 20000));
	snprintf(urls, sizeof(urls), "DEBUGINFOD_URLS=http://127.0.0.1:%s", port);
	debuginfod_pid = fork();
	ck_assert_int_ge(debuginfod_pid, 0);
	if (debuginfod_pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("debuginfod", "debuginfod", "-F", srv, "-p", port, "-d", db, "-t", "0",
		       (char *)NULL);
		_exit(127);
	}
	/* until it has indexed the folder, it answers 404: ask again */
	for (until = it_now_ms() + 30000; it_now_ms() < until;) {
		json_t *f0;

		answer = mdctl_stack(dump, extra, env, &res);
		ck_assert_msg(answer, "mdctl stack --debuginfod: %s", res.err);
		f0 = json_array_get(crashed_frames(answer), 0);
		if (fstr(f0, "function"))
			break;
		json_decref(answer);
		answer = NULL;
		usleep(300 * 1000);
	}
	ck_assert_msg(answer, "debuginfod's file was never used");
	{
		json_t *frames = crashed_frames(answer);

		ck_assert_str_eq(fstr(json_array_get(frames, 0), "function"), "crash_segv");
		ck_assert_ptr_nonnull(fstr(json_array_get(frames, 0), "file"));
		ck_assert_int_gt(index_of(frames, "main", 0), 0);
	}
	json_decref(answer);
	free(dump);
	free(dbg);
	free(db);
	free(srv);
	free(app);
}
END_TEST

static Suite *symbolize_missing_suite(void)
{
	const struct check_test missing[] = {
	    CHECK_TEST(stripped_app_with_debug_file_by_build_id),
	    CHECK_TEST(replaced_app_build_id_mismatch),
	    CHECK_TEST(no_debug_info_module_offset_and_cfi),
	    CHECK_TEST(libc_lines_only_with_full_debug),
	    CHECK_TEST(no_cfi_frame_pointers_say_fp),
	    CHECK_TEST(unprivileged_mdctl_stack),
	    CHECK_END,
	};
	const struct check_test debuginfod[] = {CHECK_TEST(debuginfod_serves_the_debug_file),
	                                        CHECK_END};
	const struct check_tcase tcases[] = {
	    {.name = "missing", .tests = missing, .teardown = daemon_teardown, .timeout = 300},
	    {.name = "debuginfod",
	     .tests = debuginfod,
	     .teardown = debuginfod_teardown,
	     .timeout = 300},
	    CHECK_END,
	};

	return check_suite_of("symbolize-missing", tcases);
}

CHECK_IT_SUITE("symbolize-missing", symbolize_missing_suite, "CRASH_APP");
