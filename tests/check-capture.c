/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the snapshot builder (common/md-snapshot-build.c) and the capture pipeline
 * (common/md-capture.c): the order of a backend's steps, that the target is resumed exactly once
 * on every path (a failing step, cancellation, the deadline, a failing caller hook), that a
 * taken name stops nothing, and the default file name. A recording backend stands for the
 * target; the fake backend (fake-snapshot.c) gives a dump to write. Run by the writer suite's
 * program (check-writer.c), whose folder fixture it shares.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "fake-snapshot.h"
#include "md-capture.h"

#define STOPPED_US 1234 /* what the recording backend says the target was stopped for */

/* The recording backend: each step appends its letter to trace; one step may fail, or set
 * the cancel flag, when the test asks. */
static char trace[32];

struct rec_plan {
	char fail_at;   /* letter of the step that fails, 0 for none */
	int fail_with;  /* its error */
	char cancel_at; /* letter of the step that sets *cancel, 0 for none */
	volatile sig_atomic_t *cancel;
};

static int rec(struct md_snapshot *s, char step, const struct rec_plan *p)
{
	size_t n = strlen(trace);

	ck_assert_uint_lt(n, sizeof(trace) - 1);
	trace[n] = step;
	if (p->cancel_at == step)
		*p->cancel = 1;
	return p->fail_at == step ? p->fail_with : 0;
}

struct rec_snapshot {
	struct md_snapshot pub;
	const struct rec_plan *plan;
};

static const struct rec_plan *plan_of(struct md_snapshot *s)
{
	return ((struct rec_snapshot *)s)->plan;
}

static int rec_open(struct md_snapshot *s, uint32_t pid, const struct md_backend_options *o)
{
	((struct rec_snapshot *)s)->plan = o->source;
	return rec(s, 'o', o->source);
}

static int rec_stop(struct md_snapshot *s, const struct md_backend_options *o)
{
	return rec(s, 's', plan_of(s));
}

/* The steps that take only the snapshot differ only in their letter. */
#define REC_STEP(step, letter)                                                                     \
	static int rec_##step(struct md_snapshot *s)                                               \
	{                                                                                          \
		return rec(s, letter, plan_of(s));                                                 \
	}
REC_STEP(threads, 't')
REC_STEP(process, 'p')
REC_STEP(system, 'y')
REC_STEP(mappings, 'm')
REC_STEP(modules, 'd')
REC_STEP(alive, 'a')

static uint64_t rec_resume(struct md_snapshot *s)
{
	rec(s, 'r', plan_of(s));
	return STOPPED_US;
}

static void rec_free(struct md_snapshot *s)
{
	rec(s, 'f', plan_of(s));
}

static const struct md_backend_ops rec_backend = {
    .snapshot_size = sizeof(struct rec_snapshot),
    .open = rec_open,
    .stop = rec_stop,
    .threads = rec_threads,
    .process = rec_process,
    .system = rec_system,
    .mappings = rec_mappings,
    .modules = rec_modules,
    .alive = rec_alive,
    .resume = rec_resume,
    .free = rec_free,
};

static int build(const struct rec_plan *p, double deadline_ms, struct md_snapshot **ret)
{
	const struct md_backend_options o = {
	    .cancel = p->cancel, .deadline_ms = deadline_ms, .pidfd = -1, .source = p};

	trace[0] = '\0';
	return md_snapshot_build(&rec_backend, 77, &o, ret);
}

static size_t files_in(const char *dir)
{
	char cmd[160];
	FILE *f;
	size_t n = 0;
	int c;

	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	pclose(f);
	return n;
}

START_TEST(steps_run_once_in_order_and_resume_once)
{
	volatile sig_atomic_t cancel = 0;
	struct rec_plan p = {.cancel = &cancel};
	struct md_snapshot *s = NULL;

	ck_assert_int_eq(build(&p, 0, &s), 0);
	ck_assert_str_eq(trace, "ostpymda"); /* stopped until resumed */
	ck_assert_uint_eq(md_snapshot_resume(s), STOPPED_US);
	ck_assert_uint_eq(md_snapshot_resume(s), STOPPED_US);
	md_snapshot_free(s);
	ck_assert_str_eq(trace, "ostpymdarf");
}
END_TEST

/* Whichever step fails, the build returns its error, the target is resumed, then freed. */
START_TEST(a_failing_step_resumes_and_frees)
{
	static const char steps[] = "ostpymd";
	volatile sig_atomic_t cancel = 0;
	struct rec_plan p = {.fail_at = steps[_i], .fail_with = -EIO, .cancel = &cancel};
	struct md_snapshot *s = NULL;
	char want[32];

	ck_assert_int_eq(build(&p, 0, &s), -EIO);
	ck_assert_ptr_null(s);
	snprintf(want, sizeof(want), "%.*srf", _i + 1, steps);
	ck_assert_str_eq(trace, want);
}
END_TEST

START_TEST(a_target_that_died_fails_with_esrch)
{
	volatile sig_atomic_t cancel = 0;
	struct rec_plan p = {.fail_at = 'a', .fail_with = -ESRCH, .cancel = &cancel};
	struct md_snapshot *s = NULL;

	ck_assert_int_eq(build(&p, 0, &s), -ESRCH);
	ck_assert_str_eq(trace, "ostpymdarf");
}
END_TEST

START_TEST(cancel_between_steps_resumes)
{
	volatile sig_atomic_t cancel = 0;
	struct rec_plan p = {.cancel_at = 't', .cancel = &cancel};
	struct md_snapshot *s = NULL;

	ck_assert_int_eq(build(&p, 0, &s), -ECANCELED);
	ck_assert_str_eq(trace, "ostrf"); /* nothing after the step that saw the flag set */
}
END_TEST

START_TEST(a_spent_deadline_stops_nothing)
{
	volatile sig_atomic_t cancel = 0;
	struct rec_plan p = {.cancel = &cancel};
	struct md_snapshot *s = NULL;

	ck_assert_int_eq(build(&p, md_now_ms() - 1, &s), -ECANCELED);
	ck_assert_str_eq(trace, "orf");
	ck_assert_int_eq(build(&p, md_now_ms() + 60000, &s), 0);
	md_snapshot_free(s);
}
END_TEST

START_TEST(capture_writes_a_dump_under_its_default_name)
{
	const struct fake_options fo = {.n_threads = 3};
	const struct md_capture_options o = {
	    .backend = &fake_backend,
	    .pid = FAKE_PID,
	    .snapshot = {.pidfd = -1, .source = &fo},
	    .dir = check_tmpdir,
	};
	struct md_capture_result res;
	char want[MD_OUTPUT_NAME_MAX], path[MD_CAPTURE_PATH_MAX], magic[4];
	struct stat st;
	FILE *f;

	ck_assert_int_eq(md_capture_dump(&o, &res), 0);
	ck_assert_int_eq(res.step, MD_CAPTURE_STEP_DONE);
	ck_assert_ptr_nonnull(res.snapshot);
	ck_assert_int_eq(md_capture_name("/usr/bin/fake", FAKE_PID, FAKE_PID, res.time, 0, false,
	                                 want, sizeof(want)),
	                 0);
	ck_assert_str_eq(res.name, want);
	snprintf(path, sizeof(path), "%s/%s", check_tmpdir, want);
	ck_assert_str_eq(res.path, path);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, (off_t)res.bytes_on_disk);
	ck_assert_uint_eq(res.dump.threads, 3);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(magic, 1, 4, f), 4);
	fclose(f);
	ck_assert_int_eq(memcmp(magic, "MDMP", 4), 0);
	ck_assert_uint_eq(files_in(check_tmpdir), 1); /* no temporary file left */
	md_capture_result_done(&res);
	md_capture_result_done(&res);
}
END_TEST

static int refuse(void *ctx, const struct md_snapshot *s)
{
	return -EPERM;
}

/* A capture of the recording backend into check_tmpdir, named name (NULL: the default name). */
static int rec_capture(const char *name, int (*stopped)(void *, const struct md_snapshot *),
                       struct md_capture_result *ret)
{
	static volatile sig_atomic_t cancel;
	static struct rec_plan p = {.cancel = &cancel};
	const struct md_capture_options o = {
	    .backend = &rec_backend,
	    .pid = 77,
	    .snapshot = {.cancel = &cancel, .pidfd = -1, .source = &p},
	    .dir = check_tmpdir,
	    .name = name,
	    .stopped = stopped,
	};

	trace[0] = '\0';
	return md_capture_dump(&o, ret);
}

START_TEST(a_refused_capture_resumes_and_leaves_no_file)
{
	struct md_capture_result res;

	ck_assert_int_eq(rec_capture(NULL, refuse, &res), -EPERM);
	ck_assert_int_eq(res.step, MD_CAPTURE_STEP_STOPPED);
	ck_assert_ptr_null(res.snapshot);
	ck_assert_str_eq(trace, "ostpymdarf");
	ck_assert_uint_eq(files_in(check_tmpdir), 0);
}
END_TEST

START_TEST(a_taken_name_stops_nothing)
{
	struct md_capture_result res;
	char path[MD_CAPTURE_PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/taken.dmp", check_tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(rec_capture("taken.dmp", NULL, &res), -EEXIST);
	ck_assert_int_eq(res.step, MD_CAPTURE_STEP_NAME);
	ck_assert_str_eq(trace, ""); /* the target was never touched */
	ck_assert_uint_eq(files_in(check_tmpdir), 1);
}
END_TEST

/* The executable's name is reduced to [A-Za-z0-9._-], never hidden, at most 64 bytes. */
START_TEST(default_name_is_sanitized)
{
	char name[MD_OUTPUT_NAME_MAX], long_exe[200];

	ck_assert_int_eq(md_capture_name("/opt/My App/.\xc3\xa9vil;rm -rf", 7, 8, 0, 2, true, name,
	                                 sizeof(name)),
	                 0);
	ck_assert_str_eq(name, "___vil_rm_-rf.7.19700101T000000Z.8-2.dmp.zst");
	ck_assert_int_eq(md_capture_name("", 7, 8, 86400, 0, false, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "process.7.19700102T000000Z.8.dmp");
	memset(long_exe, 'x', sizeof(long_exe) - 1);
	long_exe[sizeof(long_exe) - 1] = '\0';
	ck_assert_int_eq(md_capture_name(long_exe, 7, 8, 0, 0, false, name, sizeof(name)), 0);
	ck_assert_uint_eq(strcspn(name, "."), 64);
	ck_assert_int_eq(md_capture_name("a", 7, 8, 0, 0, false, name, 10), -ENAMETOOLONG);
}
END_TEST

CHECK_SUITE_FN(capture_suite, "capture",
               CHECK_CASE_PLAIN("builder", CHECK_TEST(steps_run_once_in_order_and_resume_once),
                                CHECK_LOOP(a_failing_step_resumes_and_frees, 7),
                                CHECK_TEST(a_target_that_died_fails_with_esrch),
                                CHECK_TEST(cancel_between_steps_resumes),
                                CHECK_TEST(a_spent_deadline_stops_nothing)),
               CHECK_CASE("capture", check_tmpdir_setup, check_tmpdir_teardown, 0,
                          CHECK_TEST(capture_writes_a_dump_under_its_default_name),
                          CHECK_TEST(a_refused_capture_resumes_and_leaves_no_file),
                          CHECK_TEST(a_taken_name_stops_nothing),
                          CHECK_TEST(default_name_is_sanitized)));

CHECK_SUITE("capture", capture_suite);
