/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the output side: the streaming file writer (common/md-writer.c) and the safe
 * output file (common/md-output.h): layout, alignment, patching flushed data, UTF-16 strings,
 * the 32-bit RVA limit, sticky write errors; files are read back byte by byte, not through our
 * reader. Then the snapshot builder (common/md-snapshot-build.c) and the capture pipeline
 * (common/md-capture.c): the order of a backend's steps, that the target is resumed exactly
 * once on every path (a failing step, cancellation, the deadline, a failing caller hook), that
 * a taken name stops nothing, and the default file name. A recording backend stands for the
 * target there; the fake backend (fake-snapshot.c) gives a dump to write.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-snapshot.h"
#include "md-capture.h"
#include "md-output.h"
#include "md-writer.h"

static char tmpdir[64];

static int tmpfile_fd(void)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/w.dmp", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static uint8_t *slurp(int fd, size_t *ret_len)
{
	struct stat st;
	uint8_t *p;

	ck_assert_int_eq(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	*ret_len = (size_t)st.st_size;
	return p;
}

static void setup(void)
{
	strcpy(tmpdir, "/tmp/check-writer-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(header_and_directory_layout)
{
	struct md_writer w;
	md_header h;
	md_directory d[3];
	uint32_t rva;
	uint8_t *file;
	size_t len;
	int fd = tmpfile_fd();

	ck_assert_int_eq(md_writer_init(&w, fd, 3), 0);
	/* the first block lands right after header (32) and directory (3 x 12 = 36): 68 -> 72 */
	ck_assert_int_eq(md_writer_append(&w, "abc", 3, &rva), 0);
	ck_assert_uint_eq(rva, 72);
	ck_assert_int_eq(md_writer_set_stream(&w, 1, 7, (md_location){3, rva}), 0);
	ck_assert_int_eq(md_writer_set_stream(&w, 3, 7, (md_location){3, rva}), -EINVAL);
	ck_assert_int_eq(md_writer_finish(&w, 1234), 0);
	md_writer_done(&w);

	file = slurp(fd, &len);
	ck_assert_uint_eq(len, 75);
	memcpy(&h, file, sizeof(h));
	ck_assert_mem_eq(file, "MDMP", 4);
	ck_assert_uint_eq(h.version & 0xFFFF, 0xA793);
	ck_assert_uint_eq(h.stream_count, 3);
	ck_assert_uint_eq(h.stream_directory_rva, 32);
	ck_assert_uint_eq(h.time_date_stamp, 1234);
	memcpy(d, file + 32, sizeof(d));
	/* unused slots are all zero; the set one says what we set */
	ck_assert_uint_eq(d[0].stream_type, 0);
	ck_assert_uint_eq(d[0].location.rva, 0);
	ck_assert_uint_eq(d[1].stream_type, 7);
	ck_assert_uint_eq(d[1].location.data_size, 3);
	ck_assert_uint_eq(d[1].location.rva, 72);
	ck_assert_mem_eq(file + 72, "abc", 3);
	free(file);
	close(fd);
}
END_TEST

START_TEST(blocks_are_8_aligned_and_put_is_contiguous)
{
	struct md_writer w;
	uint32_t a, b, c;
	uint8_t *file;
	size_t len;
	int fd = tmpfile_fd();

	ck_assert_int_eq(md_writer_init(&w, fd, 1), 0);
	ck_assert_int_eq(md_writer_append(&w, "x", 1, &a), 0);
	ck_assert_int_eq(md_writer_append(&w, "yz", 2, &b), 0);
	ck_assert_int_eq(md_writer_put(&w, "!", 1), 0);
	ck_assert_int_eq(md_writer_append(&w, "q", 1, &c), 0);
	ck_assert_uint_eq(a % 8, 0);
	ck_assert_uint_eq(b, a + 8);
	ck_assert_uint_eq(c, b + 8);
	ck_assert_int_eq(md_writer_finish(&w, 0), 0);
	md_writer_done(&w);
	file = slurp(fd, &len);
	ck_assert_mem_eq(file + b, "yz!", 3);
	/* padding is zero */
	ck_assert_uint_eq(file[a + 1], 0);
	free(file);
	close(fd);
}
END_TEST

START_TEST(write_at_patches_flushed_and_buffered_bytes)
{
	struct md_writer w;
	uint32_t reserved, big;
	size_t n = MD_WRITER_BUFFER * 2 + 123, len;
	uint8_t *data = malloc(n), *file;
	uint8_t patch[16];
	int fd = tmpfile_fd();

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7);
	memset(patch, 0xAB, sizeof(patch));
	ck_assert_int_eq(md_writer_init(&w, fd, 1), 0);
	ck_assert_int_eq(md_writer_reserve(&w, 16, &reserved), 0);
	ck_assert_int_eq(md_writer_append(&w, data, n, &big), 0);
	/* the reserved block is long flushed to the file by now */
	ck_assert_uint_gt(w.flushed, reserved + 16);
	ck_assert_int_eq(md_writer_write_at(&w, reserved, patch, 16), 0);
	/* a patch straddling the flushed part and the buffer */
	ck_assert_int_eq(md_writer_write_at(&w, (uint32_t)w.flushed - 8, patch, 16), 0);
	/* beyond what was written: refused */
	ck_assert_int_eq(md_writer_write_at(&w, (uint32_t)w.size - 4, patch, 16), -EINVAL);
	ck_assert_int_eq(md_writer_finish(&w, 0), 0);
	md_writer_done(&w);
	file = slurp(fd, &len);
	ck_assert_uint_eq(len, big + n);
	ck_assert_mem_eq(file + reserved, patch, 16);
	/* the data around the straddling patch is intact, the patch is there */
	{
		size_t i;

		/* find where the patch went: 16 x 0xAB inside the big block */
		for (i = big; i + 16 <= big + n; i++)
			if (memcmp(file + i, patch, 16) == 0)
				break;
		ck_assert_uint_lt(i, big + n);
		ck_assert_uint_eq(i % 8, 0);
		ck_assert_mem_eq(file + big, data, i - big);
		ck_assert_mem_eq(file + i + 16, data + (i + 16 - big), big + n - i - 16);
	}
	free(file);
	free(data);
	close(fd);
}
END_TEST

START_TEST(strings_are_utf16_with_uncounted_terminator)
{
	struct md_writer w;
	uint32_t rva, bad, len32;
	uint8_t *file;
	size_t len;
	int fd = tmpfile_fd();
	/* "hé" + U+1F600 (a surrogate pair) */
	const char *s = "h\xc3\xa9\xf0\x9f\x98\x80";
	const uint16_t want[] = {'h', 0xE9, 0xD83D, 0xDE00, 0};

	ck_assert_int_eq(md_writer_init(&w, fd, 1), 0);
	ck_assert_int_eq(md_writer_string(&w, s, &rva), 0);
	ck_assert_int_eq(md_writer_string(&w, "a\xff" "b\xe2\x82", &bad), 0);
	ck_assert_int_eq(md_writer_finish(&w, 0), 0);
	md_writer_done(&w);
	file = slurp(fd, &len);
	ck_assert_uint_eq(rva % 8, 0);
	memcpy(&len32, file + rva, 4);
	ck_assert_uint_eq(len32, 8); /* 4 units, in bytes, terminator not counted */
	ck_assert_mem_eq(file + rva + 4, want, sizeof(want));
	/* invalid bytes become U+FFFD, a truncated sequence too */
	{
		const uint16_t want_bad[] = {'a', 0xFFFD, 'b', 0xFFFD, 0};

		memcpy(&len32, file + bad, 4);
		ck_assert_uint_eq(len32, 8);
		ck_assert_mem_eq(file + bad + 4, want_bad, sizeof(want_bad));
	}
	free(file);
	close(fd);
}
END_TEST

START_TEST(rva_overflow_is_refused)
{
	struct md_writer w;
	uint32_t rva;
	int fd = tmpfile_fd();

	ck_assert_int_eq(md_writer_init(&w, fd, 1), 0);
	ck_assert_int_eq(md_writer_finish(&w, 0), 0);
	/* pretend 4 GiB minus a little is already on disk */
	w.flushed = w.size = (uint64_t)MD_RVA_MAX - 15;
	ck_assert_int_eq(md_writer_append(&w, "0123456789abcdef!", 17, &rva), -EFBIG);
	/* exactly up to the 4 GiB boundary still fits */
	ck_assert_int_eq(md_writer_append(&w, "0123456789abcdef", 16, &rva), 0);
	ck_assert_uint_eq(rva, MD_RVA_MAX - 15);
	ck_assert_int_eq(md_writer_put(&w, "x", 1), -EFBIG);
	ck_assert_int_eq(md_writer_reserve(&w, 1u << 20, &rva), -EFBIG);
	md_writer_done(&w);
	close(fd);
}
END_TEST

START_TEST(write_errors_are_sticky_and_reported)
{
	struct md_writer w;
	uint8_t block[4096] = {0};
	uint32_t rva;
	int fd = open("/dev/full", O_WRONLY), r = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(md_writer_init(&w, fd, 1), 0);
	for (int i = 0; i < 200 && r == 0; i++)
		r = md_writer_append(&w, block, sizeof(block), &rva);
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_int_eq(md_writer_finish(&w, 0), -ENOSPC);
	md_writer_done(&w);
	close(fd);
}
END_TEST

START_TEST(output_is_0600_exclusive_and_never_replaced_without_force)
{
	struct md_output o;
	struct stat st;
	char path[160];
	int fd;

	ck_assert_int_eq(md_output_open(&o, tmpdir), 0);
	ck_assert_int_eq(fstat(o.fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(write(o.fd, "new", 3), 3);
	/* an existing file under the final name */
	snprintf(path, sizeof(path), "%s/taken.dmp", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "old", 3), 3);
	close(fd);
	ck_assert_int_eq(md_output_check(&o, "taken.dmp", false), -EEXIST);
	ck_assert_int_eq(md_output_commit(&o, "taken.dmp", false), -EEXIST);
	md_output_abort(&o);
	/* the old file is untouched and the temporary one is gone */
	{
		char buf[4] = {0};

		fd = open(path, O_RDONLY);
		ck_assert_int_eq(read(fd, buf, 3), 3);
		close(fd);
		ck_assert_str_eq(buf, "old");
	}
	ck_assert_int_eq(md_output_open(&o, tmpdir), 0);
	ck_assert_int_eq(write(o.fd, "new", 3), 3);
	ck_assert_int_eq(md_output_commit(&o, "taken.dmp", true), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 3);
	/* nothing but taken.dmp is left in the folder */
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s' | wc -l)\" = 1", tmpdir);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

START_TEST(output_does_not_follow_a_planted_symlink)
{
	struct md_output o;
	char victim[160], link_path[160];
	struct stat st;

	/* a symlink under the final name is not written through, and not replaced */
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	snprintf(link_path, sizeof(link_path), "%s/dump.dmp", tmpdir);
	ck_assert_int_eq(symlink(victim, link_path), 0);
	ck_assert_int_eq(md_output_open(&o, tmpdir), 0);
	ck_assert_int_eq(write(o.fd, "secret", 6), 6);
	ck_assert_int_eq(md_output_commit(&o, "dump.dmp", false), -EEXIST);
	md_output_abort(&o);
	ck_assert_int_eq(stat(victim, &st), -1);
	ck_assert_int_eq(lstat(link_path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

START_TEST(split_path)
{
	char dir[64], name[64];

	ck_assert_int_eq(md_output_split_path("a.dmp", dir, sizeof(dir), name, sizeof(name)), 0);
	ck_assert_str_eq(dir, ".");
	ck_assert_str_eq(name, "a.dmp");
	ck_assert_int_eq(md_output_split_path("/x/y/a.dmp", dir, sizeof(dir), name, sizeof(name)),
			 0);
	ck_assert_str_eq(dir, "/x/y");
	ck_assert_str_eq(name, "a.dmp");
	ck_assert_int_eq(md_output_split_path("/a.dmp", dir, sizeof(dir), name, sizeof(name)), 0);
	ck_assert_str_eq(dir, "/");
	ck_assert_int_eq(md_output_split_path("/x/", dir, sizeof(dir), name, sizeof(name)),
			 -EINVAL);
}
END_TEST

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
    .name = "recording",
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
	    .dir = tmpdir,
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
	snprintf(path, sizeof(path), "%s/%s", tmpdir, want);
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
	ck_assert_uint_eq(files_in(tmpdir), 1); /* no temporary file left */
	md_capture_result_done(&res);
	md_capture_result_done(&res);
}
END_TEST

static int refuse(void *ctx, const struct md_snapshot *s)
{
	return -EPERM;
}

/* A capture of the recording backend into tmpdir, named name (NULL: the default name). */
static int rec_capture(const char *name, int (*stopped)(void *, const struct md_snapshot *),
                       struct md_capture_result *ret)
{
	static volatile sig_atomic_t cancel;
	static struct rec_plan p = {.cancel = &cancel};
	const struct md_capture_options o = {
	    .backend = &rec_backend,
	    .pid = 77,
	    .snapshot = {.cancel = &cancel, .pidfd = -1, .source = &p},
	    .dir = tmpdir,
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
	ck_assert_uint_eq(files_in(tmpdir), 0);
}
END_TEST

START_TEST(a_taken_name_stops_nothing)
{
	struct md_capture_result res;
	char path[MD_CAPTURE_PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/taken.dmp", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(rec_capture("taken.dmp", NULL, &res), -EEXIST);
	ck_assert_int_eq(res.step, MD_CAPTURE_STEP_NAME);
	ck_assert_str_eq(trace, ""); /* the target was never touched */
	ck_assert_uint_eq(files_in(tmpdir), 1);
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

static Suite *writer_suite(void)
{
	Suite *s = suite_create("writer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, header_and_directory_layout);
	tcase_add_test(tc, blocks_are_8_aligned_and_put_is_contiguous);
	tcase_add_test(tc, write_at_patches_flushed_and_buffered_bytes);
	tcase_add_test(tc, strings_are_utf16_with_uncounted_terminator);
	tcase_add_test(tc, rva_overflow_is_refused);
	tcase_add_test(tc, write_errors_are_sticky_and_reported);
	tcase_add_test(tc, output_is_0600_exclusive_and_never_replaced_without_force);
	tcase_add_test(tc, output_does_not_follow_a_planted_symlink);
	tcase_add_test(tc, split_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("builder");
	tcase_add_test(tc, steps_run_once_in_order_and_resume_once);
	tcase_add_loop_test(tc, a_failing_step_resumes_and_frees, 0, 7);
	tcase_add_test(tc, a_target_that_died_fails_with_esrch);
	tcase_add_test(tc, cancel_between_steps_resumes);
	tcase_add_test(tc, a_spent_deadline_stops_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("capture");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, capture_writes_a_dump_under_its_default_name);
	tcase_add_test(tc, a_refused_capture_resumes_and_leaves_no_file);
	tcase_add_test(tc, a_taken_name_stops_nothing);
	tcase_add_test(tc, default_name_is_sanitized);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(writer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
