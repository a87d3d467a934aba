/* SPDX-License-Identifier: MIT */
/*
 * The symbolizer (issue 12) on real crashes: minidumpd writes the dump of crash-app (built -O0
 * with frame pointers, and -O2 without), `mdctl stack` unwinds and names it with md-symbolize in
 * its sandbox, and independent tools judge the answer: Breakpad's minidump_stackwalk with
 * dump_syms symbols for the app's function names, addr2line for file and line. Then the ways
 * symbols go missing (stripped app with a debug file by build id, a file replaced after the
 * crash, no debug info, debuginfod on 127.0.0.1) and hostile input (fuzzed dumps, corrupt ELF
 * files, a helper that loops, crashes or floods).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include "daemon-util.h"
#include "integration-util.h"

#define MDCTL_TIMEOUT_MS 60000 /* ms mdctl stack may take (the helper's budget is 10 s) */

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
	char module[256];
	char function[256];
};

static void teardown(void)
{
	daemon_teardown();
}

/* What one mdctl stack run did (its output already parsed or dropped). */
struct mres {
	int code;
	int64_t duration;
	char err[4096];
};

/* `mdctl stack dump --json --all-threads [extra...]` with env; the answer, or NULL when mdctl
 * failed (then *ret_res holds why). mdctl must never die by a signal. */
static json_t *mdctl_stack(const char *dump, const char *const *extra, const char *const *env,
                           struct mres *ret_res)
{
	const char *argv[16] = {it_env("MDCTL"), "stack", dump, "--json", "--all-threads"};
	struct it_result r;
	int n = 5;
	json_error_t jerr;
	json_t *j = NULL;

	for (int i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	ck_assert_int_eq(it_run(argv, env, MDCTL_TIMEOUT_MS, &r), 0);
	ck_assert_msg(r.exited, "mdctl stack %s: %s (%s)", dump, it_result_status(&r), r.err);
	ret_res->code = r.code;
	ret_res->duration = r.duration;
	snprintf(ret_res->err, sizeof(ret_res->err), "%s", r.err ? r.err : "");
	if (r.code == 0) {
		j = json_loads(r.out, 0, &jerr);
		ck_assert_msg(j, "mdctl stack --json: %s", jerr.text);
	}
	it_result_done(&r);
	return j;
}

static json_t *crashed_thread(json_t *answer)
{
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(answer, "threads"), i,
	                   t) if (json_is_true(json_object_get(t, "crashed"))) return t;
	return NULL;
}

static const char *fstr(json_t *frame, const char *key)
{
	return json_string_value(json_object_get(frame, key));
}

/* The crashing thread's frames from minidump_stackwalk -m with dump_syms symbols. */
static int bp_frames(const char *dump, struct bp_frame *out, int max)
{
	char *tool = it_tool("minidump_stackwalk"), symroot[512];
	const char *argv[] = {tool, "-m", dump, symroot, NULL};
	struct it_result res;
	char *line, *save = NULL;
	int crash_thread = -1, n = 0;

	snprintf(symroot, sizeof(symroot), "%s/symbols", D.dir);
	mkdir(symroot, 0755);
	ck_assert_int_ge(it_make_symbols(dump, symroot), 0);
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "minidump_stackwalk: %s",
	              it_result_status(&res));
	for (line = strtok_r(res.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char f[7][256];
		int k = 0;
		char *p = line, *bar;

		memset(f, 0, sizeof(f));
		while (k < 7) {
			bar = strchr(p, '|');
			snprintf(f[k++], sizeof(f[0]), "%.*s",
			         bar ? (int)(bar - p) : (int)strlen(p), p);
			if (!bar)
				break;
			p = bar + 1;
		}
		if (strcmp(f[0], "Crash") == 0)
			crash_thread = atoi(f[3]);
		else if (k >= 4 && f[0][0] >= '0' && f[0][0] <= '9' && atoi(f[0]) == crash_thread &&
		         n < max && atoi(f[1]) == n) {
			snprintf(out[n].module, sizeof(out[n].module), "%s", f[2]);
			snprintf(out[n].function, sizeof(out[n].function), "%s", f[3]);
			n++;
		}
	}
	it_result_done(&res);
	free(tool);
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

static const char *app_path(int variant)
{
	return it_env(variant ? "CRASH_APP_O2" : "CRASH_APP");
}

/* Crashes crash-app (variant 0: -O0 frame pointers, 1: -O2 without) in mode; returns the dump. */
static char *crash(const char *app, const char *mode, pid_t *ret_pid)
{
	struct app_run run;
	char *dump;

	setenv("CRASH_APP", app, 1);
	run = run_app(mode, NULL, NULL, NULL);
	ck_assert_msg(!run.res.exited, "crash-app %s did not crash: %s", mode,
	              it_result_status(&run.res));
	dump = find_dump_any(run.pid, "dmp");
	ck_assert_msg(dump, "no dump for crash-app %s; log: %s", mode, log_tail());
	if (ret_pid)
		*ret_pid = run.pid;
	it_result_done(&run.res);
	return dump;
}

static int index_of(json_t *frames, const char *fn, int from)
{
	for (size_t i = (size_t)from; i < json_array_size(frames); i++) {
		const char *f = fstr(json_array_get(frames, i), "function");

		if (f && strcmp(f, fn) == 0)
			return (int)i;
	}
	return -1;
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

/* A copy of crash-app in D.dir (so the test may strip or replace it). */
static char *app_copy(const char *src, const char *name)
{
	char *dst;
	const char *argv[] = {"cp", src, NULL, NULL};
	struct it_result res;

	ck_assert_int_ge(asprintf(&dst, "%s/%s", D.dir, name), 0);
	argv[2] = dst;
	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_int_eq(res.code, 0);
	it_result_done(&res);
	chmod(dst, 0755);
	return dst;
}

static void run_ok(const char *const *argv)
{
	struct it_result res;

	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "%s: %s %s", argv[0], it_result_status(&res),
	              res.err);
	it_result_done(&res);
}

/* Stripped app, its debug file under DIR/.build-id/xx/rest.debug: names and lines come back. */
static char *debug_file_for(const char *app, const char *root)
{
	char id[128], *dir, *path;

	ck_assert_int_eq(it_build_id(app, id, sizeof(id)), 0);
	ck_assert_int_ge(asprintf(&dir, "%s/.build-id/%.2s", root, id), 0);
	ck_assert_int_ge(asprintf(&path, "%s/%s.debug", dir, id + 2), 0);
	{
		const char *mk[] = {"mkdir", "-p", dir, NULL};

		run_ok(mk);
	}
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
	{
		const char *keep[] = {"objcopy", "--only-keep-debug", app, dbg, NULL};
		const char *strip[] = {"strip", "--strip-debug", "--strip-unneeded", app, NULL};

		run_ok(keep);
		run_ok(strip);
	}
	dump = crash(app, "segv", NULL);
	{
		const char *extra[] = {"--debug-dir", root, NULL};

		answer = mdctl_stack(dump, extra, NULL, &res);
	}
	ck_assert_msg(answer, "mdctl stack: %s", res.err);
	frames = json_object_get(crashed_thread(answer), "frames");
	ck_assert_str_eq(fstr(json_array_get(frames, 0), "function"), "crash_segv");
	ck_assert_ptr_nonnull(fstr(json_array_get(frames, 0), "file"));
	ck_assert_int_gt(index_of(frames, "main", 0), 0);
	json_decref(answer);
	/* without the debug folder: module + offset and why */
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_ptr_nonnull(answer);
	frames = json_object_get(crashed_thread(answer), "frames");
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
	frames = json_object_get(crashed_thread(answer), "frames");
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
	frames = json_object_get(crashed_thread(answer), "frames");
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
			FILE *f;

			snprintf(mutant, sizeof(mutant), "%s/%s.%d", dir, e->d_name, round);
			if (round > 0 && round < 5) {
				n_bytes = len * (size_t)round / 5;
			} else if (round >= 5) {
				for (int k = 0; k < 8; k++)
					bytes[(size_t)rand() % len] ^= (char)(1u << (rand() % 8));
			}
			f = fopen(mutant, "w");
			ck_assert_ptr_nonnull(f);
			ck_assert_uint_eq(fwrite(bytes, 1, n_bytes, f), n_bytes);
			fclose(f);
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
		int fd;

		memcpy(bytes, orig, len);
		if (round < 8) {
			n = 1024 + (len - 1024) * (size_t)round / 8; /* the notes stay whole */
		} else {
			for (int k = 0; k < 64; k++) {
				size_t at = 1024 + (size_t)rand() % (len - 1024);

				bytes[at] ^= (char)(1u << (rand() % 8));
			}
		}
		unlink(app);
		fd = open(app, O_WRONLY | O_CREAT | O_TRUNC, 0755);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
		close(fd);
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
	char *dump, *dir, helper[1024], env[1100];

	daemon_start();
	dump = crash(app_path(0), "segv", NULL);
	dir = it_tempdir(0755);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *extra[] = {"--budget-ms", "1500", NULL};
		const char *envv[] = {env, NULL};
		struct mres res;
		json_t *j;
		FILE *f;

		snprintf(helper, sizeof(helper), "%s/helper-%zu", dir, i);
		f = fopen(helper, "w");
		ck_assert_ptr_nonnull(f);
		fputs(cases[i].script, f);
		fclose(f);
		chmod(helper, 0755);
		snprintf(env, sizeof(env), "MD_SYMBOLIZE=%s", helper);
		j = mdctl_stack(dump, extra, envv, &res);
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
	char *dump, *dir, helper[1024], env[1100];
	const char *envv[] = {env, NULL};
	struct mres res;
	FILE *f;

	daemon_start();
	dump = crash(app_path(0), "segv", NULL);
	dir = it_tempdir(0755);
	snprintf(helper, sizeof(helper), "%s/helper-id", dir);
	f = fopen(helper, "w");
	ck_assert_ptr_nonnull(f);
	/* says who it is, its capabilities and its network devices on stderr, then fails */
	fputs("#!/bin/sh\n{ id -u; grep -E '^Cap(Eff|Prm|Bnd)|^NoNewPrivs' /proc/self/status; "
	      "grep -c : /proc/net/dev; ls /proc/self/fd | tr '\\n' ' '; } | tr '\\n' ' ' >&2; "
	      "exit 9\n",
	      f);
	fclose(f);
	chmod(helper, 0755);
	snprintf(env, sizeof(env), "MD_SYMBOLIZE=%s", helper);
	ck_assert_ptr_null(mdctl_stack(dump, NULL, envv, &res));
	ck_assert_msg(strstr(res.err, "status 9: 65534 "), "%s", res.err);
	ck_assert_msg(strstr(res.err, "CapPrm:\t0000000000000000"), "%s", res.err);
	ck_assert_msg(strstr(res.err, "CapEff:\t0000000000000000"), "%s", res.err);
	ck_assert_msg(strstr(res.err, "CapBnd:\t0000000000000000"), "%s", res.err);
	ck_assert_msg(strstr(res.err, "NoNewPrivs:\t1"), "%s", res.err);
	/* only lo in the new network namespace (the header lines of /proc/net/dev have no ':') */
	ck_assert_msg(strstr(res.err, "NoNewPrivs:\t1 1 "), "%s", res.err);
	it_rmtree(dir);
	free(dir);
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
	{
		const char *keep[] = {"objcopy", "--only-keep-debug", app, dbg, NULL};
		const char *strip[] = {"strip", "--strip-debug", "--strip-unneeded", app, NULL};

		run_ok(keep);
		run_ok(strip);
	}
	dump = crash(app, "segv", NULL);
	/* off by default: no name for the app's frame */
	answer = mdctl_stack(dump, NULL, NULL, &res);
	ck_assert_ptr_nonnull(answer);
	ck_assert_ptr_null(
	    fstr(json_array_get(json_object_get(crashed_thread(answer), "frames"), 0), "function"));
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
		f0 = json_array_get(json_object_get(crashed_thread(answer), "frames"), 0);
		if (fstr(f0, "function"))
			break;
		json_decref(answer);
		answer = NULL;
		usleep(300 * 1000);
	}
	ck_assert_msg(answer, "debuginfod's file was never used");
	{
		json_t *frames = json_object_get(crashed_thread(answer), "frames");

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

/* What minidumpd will put in its report (md_symbolize_report()): the crashing thread's stack,
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
	frames = json_object_get(crashed_thread(answer), "frames");
	at = index_of(frames, "start_thread", 0);
	ck_assert_int_gt(at, 0);
	f = json_array_get(frames, (size_t)at);
	ck_assert_ptr_null(fstr(f, "file"));
	json_decref(answer);
	answer = mdctl_stack(dump, full, NULL, &res);
	ck_assert_ptr_nonnull(answer);
	frames = json_object_get(crashed_thread(answer), "frames");
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
	frames = json_object_get(crashed_thread(answer), "frames");
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
	FILE *f;

	daemon_start();
	dump = crash(app_path(0), "segv", NULL);
	dir = it_tempdir(0755);
	ck_assert_int_ge(asprintf(&copy, "%s/crash.dmp", dir), 0);
	bytes = it_read_file(dump, &len);
	ck_assert_ptr_nonnull(bytes);
	f = fopen(copy, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	fclose(f);
	chmod(copy, 0644);
	argv[6] = copy;
	ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "%s: %s", it_result_status(&res), res.err);
	j = json_loads(res.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	frames = json_object_get(crashed_thread(j), "frames");
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

CHECK_SUITE_FN(
    symbolize_suite, "symbolize",
    CHECK_CASE("walk", NULL, teardown, 300,
               CHECK_LOOP(crash_kinds_match_stackwalk_and_addr2line, 2 * N_KINDS),
               CHECK_TEST(info_prints_every_thread_symbolized),
               CHECK_TEST(report_objects_for_the_daemon)),
    CHECK_CASE("missing", NULL, teardown, 300, CHECK_TEST(stripped_app_with_debug_file_by_build_id),
               CHECK_TEST(replaced_app_build_id_mismatch),
               CHECK_TEST(no_debug_info_module_offset_and_cfi),
               CHECK_TEST(libc_lines_only_with_full_debug),
               CHECK_TEST(no_cfi_frame_pointers_say_fp), CHECK_TEST(unprivileged_mdctl_stack)),
    CHECK_CASE("debuginfod", NULL, debuginfod_teardown, 300,
               CHECK_TEST(debuginfod_serves_the_debug_file)),
    CHECK_CASE("hostile", NULL, teardown, 600, CHECK_TEST(hostile_dumps_never_take_mdctl_down),
               CHECK_TEST(corrupt_elf_modules_never_take_mdctl_down),
               CHECK_TEST(misbehaving_helper_is_contained), CHECK_TEST(helper_runs_unprivileged)));

const struct check_suite check_suite = {
    .name = "symbolize",
    .suite = symbolize_suite,
    .setup = it_suite_setup,
    .teardown = it_suite_teardown,
    .target_env = "CRASH_APP",
};
