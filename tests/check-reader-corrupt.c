/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the minidump reader on damaged dumps: bad memory info, reads at the bounds,
 * /proc status text, a cut at every offset, random bit flips, and the file and buffer paths
 * agreeing. Each must be rejected with -EBADMSG (or -E2BIG) and a message, never a crash or an
 * over-read. The reference dump is reader-ref.c's; see check-reader.c.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "md-format.h"
#include "md-reader.h"
#include "md-text.h"
#include "reader-ref.h"

START_TEST(bad_memory_info)
{
	struct ref *ref = malloc(sizeof(*ref));

	build_ref(ref, &default_opts);
	put32(&ref->b, ref->memory_info_rva, 24); /* size_of_header */
	expect_view_fails(ref, VIEW_MEMORY_INFO, -EBADMSG, "header size 24");

	build_ref(ref, &default_opts);
	put32(&ref->b, ref->memory_info_rva + 4, 40); /* size_of_entry */
	expect_view_fails(ref, VIEW_MEMORY_INFO, -EBADMSG, NULL);

	/* number_of_entries is a u64: a huge one must not wrap into a match. */
	build_ref(ref, &default_opts);
	put32(&ref->b, ref->memory_info_rva + 12, 0x40000000);
	expect_view_fails(ref, VIEW_MEMORY_INFO, -EBADMSG, "does not match");
	free(ref);
}
END_TEST

START_TEST(read_bounds)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader *r;
	uint8_t *copy;
	uint8_t buf[16];
	char *s;

	build_ref(ref, &default_opts);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_read(r, ref->b.size - 16, buf, 16), 0);
	ck_assert_int_eq(md_reader_read(r, ref->b.size - 15, buf, 16), -EBADMSG);
	ck_assert_int_eq(md_reader_read(r, UINT64_MAX - 3, buf, 8), -EBADMSG);
	ck_assert_int_eq(md_reader_string(r, ref->mod1_name_rva, &s), 0);
	ck_assert_str_eq(s, MOD1_NAME);
	free(s);
	ck_assert_int_eq(md_reader_string(r, UINT64_MAX, &s), -EBADMSG);
	ck_assert_int_eq(md_reader_find_stream(r, MD_STREAM_UNUSED, &(md_location){0}), -EINVAL);
	close_copy(r, copy);
	free(ref);
}
END_TEST

/* /proc/<pid>/status fields as the LinuxProcStatus stream holds them: one line per field,
 * "Key:<blanks>value"; only the first line of a key counts and a prefix of a key is not it. */
START_TEST(proc_status_fields)
{
	static const struct {
		const char *text, *key;
		int ret;
		uint32_t value;
	} cases[] = {
	    {"Name:\tcat\nPid:\t42\nPPid:\t1\n", "Pid", 0, 42},
	    {"Name:\tcat\nPid:\t42\nPPid:\t1\n", "PPid", 0, 1},
	    {"Pid:  \t 7", "Pid", 0, 7},          /* no final newline */
	    {"Tgid:\t5\nPid:\t6\n", "Pid", 0, 6}, /* Tgid is not Pid */
	    {"Pidx:\t5\nPid:\t6\n", "Pid", 0, 6}, /* nor is Pidx */
	    {"Pid:\t4294967295\n", "Pid", 0, UINT32_MAX},
	    {"Pid:\t4294967296\n", "Pid", -EBADMSG, 0}, /* over 32 bits */
	    {"Pid:\t99999999999999999999999\n", "Pid", -EBADMSG, 0},
	    {"Pid:\t12 \n", "Pid", -EBADMSG, 0}, /* trailing blank */
	    {"Pid:\t-1\n", "Pid", -EBADMSG, 0},
	    {"Pid:\n", "Pid", -EBADMSG, 0},
	    {"Pid:\tx\nPid:\t3\n", "Pid", -EBADMSG, 0}, /* the first line decides */
	    {"Name:\tPid: 3\n", "Pid", -ENOENT, 0},     /* not at the start of a line */
	    {"", "Pid", -ENOENT, 0},
	    {"\n\n\n", "Pid", -ENOENT, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = 0xdeadbeef;
		int r = md_text_proc_status_u32(cases[i].text, cases[i].key, &v);

		ck_assert_msg(r == cases[i].ret, "case %zu: %d, expected %d", i, r, cases[i].ret);
		ck_assert_msg(v == (r == 0 ? cases[i].value : 0xdeadbeef), "case %zu: value %u", i,
		              v);
	}
}
END_TEST

START_TEST(pid_from_proc_status)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct ref_opts o = {.no_misc = true};
	struct md_reader *r;
	uint8_t *copy;
	uint32_t pid;

	build_ref(ref, &o);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_pid(r, &pid), 0);
	ck_assert_uint_eq(pid, PID);
	close_copy(r, copy);

	/* "Tgid:" is not "Pid:"; with the Pid: line spoilt there is no pid. */
	build_ref(ref, &o);
	{
		md_directory *d = dir_entry(ref, MD_STREAM_LINUX_PROC_STATUS);
		char *p = memmem(ref->b.buf + d->location.rva, d->location.data_size, "Pid:\t", 5);

		ck_assert_ptr_nonnull(p);
		p[5] = 'x';
	}
	expect_view_fails(ref, VIEW_PID, -ENOENT, NULL);
	free(ref);
}
END_TEST

/* Opens every prefix of the reference dump. With drop_cut, the directory (first in the file)
 * is rewritten to leave out the streams that no longer fit, as a writer that nullifies failed
 * streams would, so the views meet strings, contexts and records cut off half-way. A view that
 * parses must be identical to the whole dump's: it only read bytes inside the prefix. Returns
 * how many prefixes opened; *ret_views counts the views that parsed. */
static int truncate_all(const struct ref_opts *o, bool drop_cut, int *ret_views)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	int opened = 0;

	*ret_views = 0;
	build_ref(ref, o);
	for (size_t n = 0; n <= ref->b.size; n++) {
		uint8_t *c = dup_bytes(ref->b.buf, n);
		size_t dir_end = ref->dir_rva + ref->b.n_dir * sizeof(md_directory);
		int ret;

		if (drop_cut && n >= dir_end) {
			md_directory *d = (md_directory *)(c + ref->dir_rva);

			for (uint32_t i = 0; i < ref->b.n_dir; i++)
				if ((uint64_t)d[i].location.rva + d[i].location.data_size > n)
					memset(&d[i], 0, sizeof(d[i]));
		}
		ret = md_reader_open_buffer(c, n, &err, &r);
		if (ret < 0) {
			ck_assert_msg(ret == -EBADMSG, "length %zu: %d", n, ret);
			ck_assert_str_ne(err.message, "");
		} else {
			const struct md_reader_thread_list *tl;
			const struct md_reader_module_list *ml;
			const struct md_reader_crashpad_info *cpi;

			opened++;
			*ret_views += exercise(r);
			if (md_reader_threads(r, &tl) == 0) {
				ck_assert_uint_eq(tl->count, 2);
				ck_assert_uint_eq(tl->threads[0].pc, T1_RIP);
				ck_assert_uint_eq(tl->threads[0].sp, T1_RSP);
			}
			if (md_reader_modules(r, &ml) == 0) {
				ck_assert_uint_eq(ml->count, 2);
				ck_assert_str_eq(ml->modules[1].name, MOD2_NAME);
				ck_assert_str_eq(ml->modules[0].code_id, BUILD_ID_CODE_ID);
			}
			if (md_reader_crashpad_info(r, &cpi) == 0) {
				ck_assert_uint_eq(cpi->n_annotations, 2);
				ck_assert_str_eq(cpi->annotations[0].value, "beta");
			}
			if (n == ref->b.size)
				check_ref(r, o);
			md_reader_free(r);
		}
		free(c);
	}
	free(ref);
	return opened;
}

START_TEST(truncation_at_every_offset)
{
	const struct ref_opts front = {.dir_first = true};
	const size_t dir_end = sizeof(md_header) + TB_STREAMS_MAX * sizeof(md_directory);
	struct ref *ref = malloc(sizeof(*ref));
	int views;

	/* Every entry must lie inside the file, so only the whole file opens. */
	ck_assert_int_eq(truncate_all(&default_opts, false, &views), 1);
	ck_assert_int_eq(views, 12);
	ck_assert_int_eq(truncate_all(&front, false, &views), 1);

	/* With cut streams left out, every prefix holding the directory opens, and views fail
	 * (or parse) one by one as their strings, contexts and records are cut off. */
	build_ref(ref, &front);
	ck_assert_int_eq(
	    truncate_all(&front, true, &views),
	    (int)(ref->b.size - (sizeof(md_header) + ref->b.n_dir * sizeof(md_directory)) + 1));
	ck_assert_int_gt(views, (int)(ref->b.size - dir_end));
	free(ref);
}
END_TEST

/* Random bit flips over a valid dump with a fixed seed: never a crash; errors have messages. */
START_TEST(random_bit_flips)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	unsigned seed = 12345;
	int opened = 0, views_ok = 0;

	build_ref(ref, &default_opts);
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t *c = dup_bytes(ref->b.buf, ref->b.size);
		int flips = 1 + rand_r(&seed) % 4;
		int ret;

		for (int f = 0; f < flips; f++) {
			size_t pos = (size_t)rand_r(&seed) % ref->b.size;

			/* Aim half the flips at the header and directory, where they matter most.
			 */
			if (rand_r(&seed) % 2)
				pos = rand_r(&seed) % 2
				          ? (size_t)rand_r(&seed) % sizeof(md_header)
				          : ref->dir_rva + (size_t)rand_r(&seed) %
				                               (ref->b.size - ref->dir_rva);
			c[pos] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		}
		ret = md_reader_open_buffer(c, ref->b.size, &err, &r);
		if (ret == 0) {
			opened++;
			views_ok += exercise(r);
			md_reader_free(r);
		} else {
			ck_assert_msg(ret == -EBADMSG || ret == -E2BIG, "iteration %d: %d", iter,
			              ret);
			ck_assert_str_ne(err.message, "");
		}
		free(c);
	}
	/* The fuzzing reached the views, not only the header checks. */
	ck_assert_int_gt(opened, 1000);
	ck_assert_int_gt(views_ok, 1000);
	free(ref);
}
END_TEST

/* The file backend (pread on demand) must agree with the buffer backend on every view of
 * every damaged file. */
START_TEST(file_and_buffer_agree)
{
	struct ref *ref = malloc(sizeof(*ref));
	char path[] = "/tmp/check-reader-XXXXXX";
	unsigned seed = 777;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	build_ref(ref, &default_opts);
	for (int iter = 0; iter < 400; iter++) {
		uint8_t *c = dup_bytes(ref->b.buf, ref->b.size);
		size_t size = ref->b.size;
		struct md_reader_error e1, e2;
		struct md_reader *rb = NULL, *rf = NULL;
		int codes_b[N_VIEWS], codes_f[N_VIEWS], ret_b, ret_f;

		/* Keep the header and directory mostly intact so the views are reached. */
		for (int f = 0; f < 3; f++)
			c[sizeof(md_header) +
			  (size_t)rand_r(&seed) % (ref->dir_rva - sizeof(md_header))] ^=
			    (uint8_t)(1u << (rand_r(&seed) % 8));
		ck_assert_int_eq(ftruncate(fd, 0), 0);
		ck_assert_int_eq(pwrite(fd, c, size, 0), (ssize_t)size);
		ret_b = md_reader_open_buffer(c, size, &e1, &rb);
		ret_f = md_reader_open_file(path, &e2, &rf);
		ck_assert_int_eq(ret_b, ret_f);
		ck_assert_str_eq(e1.message, e2.message);
		if (ret_b == 0) {
			ck_assert_int_eq(exercise_codes(rb, codes_b), exercise_codes(rf, codes_f));
			ck_assert_mem_eq(codes_b, codes_f, sizeof(codes_b));
		}
		md_reader_free(rb);
		md_reader_free(rf);
		free(c);
	}
	close(fd);
	unlink(path);
	free(ref);
}
END_TEST

START_TEST(empty_directory)
{
	struct tb *b = malloc(sizeof(*b));
	const struct md_reader_thread_list *tl;
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;

	tb_init(b, false);
	tb_finish(b);
	ck_assert_int_eq(open_copy(b, b->size, &copy, &r, &err), 0);
	ck_assert_uint_eq(md_reader_stream_count(r), 0);
	ck_assert_int_eq(md_reader_threads(r, &tl), -ENOENT);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "no ThreadList stream"));
	ck_assert_int_eq(exercise(r), 0);
	close_copy(r, copy);
	free(b);
}
END_TEST

CHECK_SUITE_FN(reader_corrupt_suite, "reader-corrupt",
               CHECK_CASE("corrupt", NULL, NULL, 60, CHECK_TEST(bad_memory_info),
                          CHECK_TEST(read_bounds), CHECK_TEST(pid_from_proc_status),
                          CHECK_TEST(proc_status_fields), CHECK_TEST(truncation_at_every_offset),
                          CHECK_TEST(random_bit_flips), CHECK_TEST(file_and_buffer_agree),
                          CHECK_TEST(empty_directory)));

CHECK_SUITE("reader-corrupt", reader_corrupt_suite);
