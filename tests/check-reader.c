/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the minidump reader (common/md-reader.c). Dumps are built by hand with a small
 * builder (dump-builder.c), deliberately independent of the writer, so a shared mistake in
 * the writer cannot hide one in the reader. A valid dump must parse into exactly what was built;
 * corrupt variants must be rejected with -EBADMSG (or -E2BIG) and a message, never a crash or an
 * over-read (the buffers are exact-size heap copies, so ASan and valgrind see any read past the
 * end); truncated and bit-flipped ones are check-reader-corrupt.c's. `check-reader
 * --write-corpus DIR` writes the fuzzing seeds.
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

/* ---- Tests ---- */

START_TEST(valid_dump_parses)
{
	static const struct ref_opts variants[] = {
	    {0},
	    {.pad_lists = true},
	    {.no_misc = true, .unused_slot = true},
	    {.arm64 = true},
	};

	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		struct ref *ref = malloc(sizeof(*ref));
		struct md_reader *r;
		struct md_reader_error err;
		uint8_t *copy;

		build_ref(ref, &variants[v]);
		ck_assert_msg(open_copy(&ref->b, ref->b.size, &copy, &r, &err) == 0,
		              "variant %zu: %s", v, err.message);
		ck_assert_uint_eq(md_reader_file_size(r), ref->b.size);
		ck_assert_uint_eq(md_reader_stream_count(r), ref->b.n_dir);
		check_ref(r, &variants[v]);
		/* Cached views come back identical. */
		check_ref(r, &variants[v]);
		close_copy(r, copy);
		free(ref);
	}
}
END_TEST

START_TEST(valid_file_parses)
{
	struct ref *ref = malloc(sizeof(*ref));
	char path[] = "/tmp/check-reader-XXXXXX";
	struct md_reader_error err;
	struct md_reader *r;
	int fd;

	build_ref(ref, &default_opts);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, ref->b.buf, ref->b.size), (ssize_t)ref->b.size);
	close(fd);
	ck_assert_msg(md_reader_open_file(path, &err, &r) == 0, "%s", err.message);
	check_ref(r, &default_opts);
	md_reader_free(r);

	/* The same file cut short is rejected, and the message says where. */
	ck_assert_int_eq(truncate(path, ref->b.size - 1), 0);
	ck_assert_int_eq(md_reader_open_file(path, &err, &r), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "runs past end of file"));
	unlink(path);

	ck_assert_int_eq(md_reader_open_file(path, &err, &r), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.message, "cannot open"));
	ck_assert_int_eq(md_reader_open_file("/tmp", &err, &r), -EINVAL);
	free(ref);
}
END_TEST

START_TEST(truncated_header)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r = NULL;
	uint8_t *copy;

	build_ref(ref, &default_opts);
	for (size_t n = 0; n < sizeof(md_header); n++) {
		ck_assert_int_eq(open_copy(&ref->b, n, &copy, &r, &err), -EBADMSG);
		ck_assert_ptr_nonnull(strstr(err.message, "shorter than"));
		free(copy);
	}
	ck_assert_int_eq(md_reader_open_buffer(NULL, 0, &err, &r), -EBADMSG);
	free(ref);
}
END_TEST

START_TEST(bad_signature_and_version)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;

	build_ref(ref, &default_opts);
	put32(&ref->b, 0, 0); /* a torn file as Crashpad leaves it */
	expect_open_fails(ref, -EBADMSG, "signature");

	build_ref(ref, &default_opts);
	put32(&ref->b, 4, 0xA794);
	expect_open_fails(ref, -EBADMSG, "version 0x0000a794");

	/* Only the low 16 bits of the version are the format's. */
	put32(&ref->b, 4, 0x1234A793);
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), 0);
	close_copy(r, copy);
	free(ref);
}
END_TEST

START_TEST(directory_past_eof)
{
	struct ref *ref = malloc(sizeof(*ref));

	build_ref(ref, &default_opts);
	put32(&ref->b, offsetof(md_header, stream_directory_rva), (uint32_t)ref->b.size - 4);
	expect_open_fails(ref, -EBADMSG, "stream directory");

	build_ref(ref, &default_opts);
	put32(&ref->b, offsetof(md_header, stream_count), 0x20000000);
	expect_open_fails(ref, -E2BIG, NULL);

	build_ref(ref, &default_opts);
	put32(&ref->b, offsetof(md_header, stream_count), ref->b.n_dir + 1);
	expect_open_fails(ref, -EBADMSG, "runs past end of file");
	free(ref);
}
END_TEST

START_TEST(stream_past_eof)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;
	md_directory *d;
	char expect[128];

	build_ref(ref, &default_opts);
	d = dir_entry(ref, MD_STREAM_THREAD_LIST);
	d->location.data_size = (uint32_t)ref->b.size;
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -EBADMSG);
	snprintf(expect, sizeof(expect), "stream %u (ThreadList) at rva 0x%x size 0x%zx runs past",
	         ref->n_threads_index, ref->thread_list_rva, ref->b.size);
	ck_assert_msg(strstr(err.message, expect), "message: %s", err.message);
	free(copy);

	/* rva + size overflows 32 bits: 0xFFFFFFF0 + 0x20. */
	build_ref(ref, &default_opts);
	d = dir_entry(ref, MD_STREAM_MODULE_LIST);
	d->location.rva = 0xFFFFFFF0u;
	d->location.data_size = 0x20;
	expect_open_fails(ref, -EBADMSG, "(ModuleList) at rva 0xfffffff0 size 0x20");

	/* An empty entry may point anywhere. */
	build_ref(ref, &default_opts);
	d = dir_entry(ref, MD_STREAM_BREAKPAD_INFO);
	d->location.rva = 0xFFFFFFF0u;
	d->location.data_size = 0;
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), 0);
	{
		const md_breakpad_info *bpi;

		ck_assert_int_eq(md_reader_breakpad_info(r, &bpi), -EBADMSG);
		ck_assert_ptr_nonnull(strstr(md_reader_error(r), "BreakpadInfo"));
	}
	close_copy(r, copy);
	free(ref);
}
END_TEST

START_TEST(duplicate_streams)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;

	/* A second ThreadList is rejected. */
	build_ref(ref, &default_opts);
	ref->b.size = ref->dir_rva;
	ref->b.n_dir--; /* drop the last entry to make room, then add a duplicate */
	tb_stream(&ref->b, MD_STREAM_THREAD_LIST, ref->thread_list_rva, 4);
	tb_finish(&ref->b);
	expect_open_fails(ref, -EBADMSG, "(ThreadList, type 0x3) duplicates stream");

	/* Unused slots and a second Exception are accepted. */
	build_ref(ref, &default_opts);
	ref->b.size = ref->dir_rva;
	tb_stream(&ref->b, MD_STREAM_UNUSED, 0, 0);
	tb_stream(&ref->b, MD_STREAM_UNUSED, 0, 0);
	tb_stream(&ref->b, MD_STREAM_EXCEPTION, 0, 0);
	tb_finish(&ref->b);
	ck_assert_msg(open_copy(&ref->b, ref->b.size, &copy, &r, &err) == 0, "%s", err.message);
	check_ref(r, &default_opts);
	close_copy(r, copy);
	free(ref);
}
END_TEST

START_TEST(thread_count_mismatch)
{
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_thread_list *tl;
	struct md_reader *r;
	uint8_t *copy;

	build_ref(ref, &default_opts);
	put32(&ref->b, ref->thread_list_rva, 0x10000000);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "does not match its count 268435456"));
	/* Other views are unaffected. */
	ck_assert_int_eq(md_reader_modules(r, &(const struct md_reader_module_list *){NULL}), 0);
	close_copy(r, copy);

	/* ThreadNames takes no padding after its count. */
	build_ref(ref, &default_opts);
	dir_entry(ref, MD_STREAM_THREAD_NAMES)->location.data_size += 4;
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_thread_names(r, &(const struct md_reader_thread_names *){NULL}),
	                 -EBADMSG);
	ck_assert_ptr_null(md_reader_thread_name(r, T1_TID));
	close_copy(r, copy);
	free(ref);
}
END_TEST

START_TEST(thread_names_and_cached_failures)
{
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_thread_list *tl;
	struct md_reader *r;
	uint8_t *copy;
	char first[MD_READER_ERROR_MAX];

	/* Two names for one tid: the first listed wins. */
	build_ref(ref, &default_opts);
	put32(&ref->b, dir_entry(ref, MD_STREAM_THREAD_NAMES)->location.rva + 4 + 12, T1_TID);
	r = open_ok(ref, &copy);
	ck_assert_str_eq(md_reader_thread_name(r, T1_TID), "main");
	ck_assert_ptr_null(md_reader_thread_name(r, T2_TID));
	close_copy(r, copy);

	/* A failed view fails the same way when asked again, after other calls. */
	build_ref(ref, &default_opts);
	put32(&ref->b, ref->thread_list_rva, 3);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	snprintf(first, sizeof(first), "%s", md_reader_error(r));
	ck_assert_int_eq(md_reader_find_stream(r, MD_STREAM_LINUX_MAPS, &(md_location){0}),
	                 -ENOENT);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	ck_assert_str_eq(md_reader_error(r), first);
	close_copy(r, copy);
	free(ref);
}
END_TEST

START_TEST(bad_contexts)
{
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_thread_list *tl;
	const struct md_reader_exception *ex;
	size_t flags_off = offsetof(md_context_amd64, context_flags);
	md_thread th;
	struct md_reader *r;
	uint8_t *copy;

	/* Flags without the AMD64 bit. */
	build_ref(ref, &default_opts);
	put32(&ref->b, ref->context_rva + flags_off, 0x0000000B);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "thread 0 (tid 1001): context at rva"));
	ck_assert_int_eq(md_reader_exception(r, &ex), -EBADMSG);
	close_copy(r, copy);

	/* A context size that is neither AMD64 nor ARM64_OLD. */
	build_ref(ref, &default_opts);
	memcpy(&th, ref->b.buf + ref->thread_list_rva + 4, sizeof(th));
	th.thread_context.data_size = 716; /* an x86 context */
	memcpy(ref->b.buf + ref->thread_list_rva + 4, &th, sizeof(th));
	expect_view_fails(ref, VIEW_THREADS, -EBADMSG, "has size 0x2cc");

	/* An AMD64 context in a dump whose SystemInfo says ARM64. */
	build_ref(ref, &default_opts);
	memcpy(ref->b.buf + dir_entry(ref, MD_STREAM_SYSTEM_INFO)->location.rva,
	       &(uint16_t){MD_CPU_ARCHITECTURE_ARM64_OLD}, 2);
	expect_view_fails(ref, VIEW_THREADS, -EBADMSG, "does not match SystemInfo");
	free(ref);
}
END_TEST

START_TEST(bad_module_names)
{
	static const struct {
		uint32_t length;
		int err;
		const char *msg;
	} cases[] = {
	    {0xFFFFFFF0u, -EBADMSG, "runs past end of file"},
	    {7, -EBADMSG, "odd byte length 0x7"},
	    {0x7FFFFFFEu, -EBADMSG, "runs past end of file"},
	};
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_module_list *ml;
	struct md_reader *r;
	uint8_t *copy;
	md_module mod;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build_ref(ref, &default_opts);
		put32(&ref->b, ref->mod1_name_rva, cases[i].length);
		r = open_ok(ref, &copy);
		ck_assert_int_eq(md_reader_modules(r, &ml), cases[i].err);
		ck_assert_msg(strstr(md_reader_error(r), cases[i].msg), "case %zu: %s", i,
		              md_reader_error(r));
		ck_assert_ptr_nonnull(
		    strstr(md_reader_error(r), "module 0 (base 0x555555554000) name"));
		close_copy(r, copy);
	}

	/* A name RVA two bytes before the end of the file: no room for the length. */
	build_ref(ref, &default_opts);
	memcpy(&mod, ref->b.buf + ref->module_list_rva + 4, sizeof(mod));
	mod.module_name_rva = (uint32_t)ref->b.size - 2;
	memcpy(ref->b.buf + ref->module_list_rva + 4, &mod, sizeof(mod));
	expect_view_fails(ref, VIEW_MODULES, -EBADMSG, NULL);

	/* A build id longer than MD_BUILD_ID_MAX, and a CodeView record past the end. */
	build_ref(ref, &default_opts);
	memcpy(&mod, ref->b.buf + ref->module_list_rva + 4, sizeof(mod));
	mod.cv_record.data_size = 4 + MD_BUILD_ID_MAX + 1;
	memcpy(ref->b.buf + ref->module_list_rva + 4, &mod, sizeof(mod));
	expect_view_fails(ref, VIEW_MODULES, -E2BIG, NULL);
	mod.cv_record.rva = (uint32_t)ref->b.size - 8;
	mod.cv_record.data_size = 24;
	memcpy(ref->b.buf + ref->module_list_rva + 4, &mod, sizeof(mod));
	expect_view_fails(ref, VIEW_MODULES, -EBADMSG, "CodeView record");
	free(ref);
}
END_TEST

CHECK_SUITE_FN(reader_suite, "reader",
               CHECK_CASE("core", NULL, NULL, 60, CHECK_TEST(valid_dump_parses),
                          CHECK_TEST(valid_file_parses), CHECK_TEST(truncated_header),
                          CHECK_TEST(bad_signature_and_version), CHECK_TEST(directory_past_eof),
                          CHECK_TEST(stream_past_eof), CHECK_TEST(duplicate_streams),
                          CHECK_TEST(thread_count_mismatch),
                          CHECK_TEST(thread_names_and_cached_failures), CHECK_TEST(bad_contexts),
                          CHECK_TEST(bad_module_names)));

/* Writes the fuzzing seeds: the reference dump's variants, each under 4 KiB. */
static int write_corpus(const char *dir)
{
	static const struct {
		const char *name;
		struct ref_opts opts;
	} seeds[] = {
	    {"amd64.dmp", {0}},
	    {"amd64-padded.dmp", {.pad_lists = true}},
	    {"no-misc-unused.dmp", {.no_misc = true, .unused_slot = true}},
	    {"arm64.dmp", {.arm64 = true}},
	    {"dir-first.dmp", {.dir_first = true}},
	};
	struct ref *ref = malloc(sizeof(*ref));

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[4096];
		FILE *f;

		build_ref(ref, &seeds[i].opts);
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(ref->b.buf, 1, ref->b.size, f) != ref->b.size || fclose(f) != 0) {
			perror(path);
			free(ref);
			return 1;
		}
		printf("%s: %zu bytes\n", path, ref->b.size);
	}
	free(ref);
	return 0;
}

/* reader --write-corpus DIR writes the fuzzing seeds instead of running the tests. */
static int reader_args(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	return -1;
}

const struct check_suite check_suite = {
    .name = "reader",
    .suite = reader_suite,
    .args = reader_args,
};
