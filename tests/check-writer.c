/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the streaming file writer (common/md-writer.c) and the safe output file
 * (common/md-output.h): layout, alignment, patching flushed data, UTF-16 strings, the 32-bit
 * RVA limit, sticky write errors. Files are read back byte by byte, not through our reader.
 * The same program runs the capture tests of check-capture.c, which share its folder fixture.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "md-output.h"
#include "md-writer.h"

static int tmpfile_fd(void)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/w.dmp", check_tmpdir);
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
	ck_assert_int_eq(md_writer_string(&w,
	                                  "a\xff"
	                                  "b\xe2\x82",
	                                  &bad),
	                 0);
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

	ck_assert_int_eq(md_output_open(&o, check_tmpdir), 0);
	ck_assert_int_eq(fstat(o.fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(write(o.fd, "new", 3), 3);
	/* an existing file under the final name */
	snprintf(path, sizeof(path), "%s/taken.dmp", check_tmpdir);
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
	ck_assert_int_eq(md_output_open(&o, check_tmpdir), 0);
	ck_assert_int_eq(write(o.fd, "new", 3), 3);
	ck_assert_int_eq(md_output_commit(&o, "taken.dmp", true), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 3);
	/* nothing but taken.dmp is left in the folder */
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s' | wc -l)\" = 1", check_tmpdir);
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
	snprintf(victim, sizeof(victim), "%s/victim", check_tmpdir);
	snprintf(link_path, sizeof(link_path), "%s/dump.dmp", check_tmpdir);
	ck_assert_int_eq(symlink(victim, link_path), 0);
	ck_assert_int_eq(md_output_open(&o, check_tmpdir), 0);
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

CHECK_SUITE_FN(writer_suite, "writer",
               CHECK_CASE("core", check_tmpdir_setup, check_tmpdir_teardown, 0,
                          CHECK_TEST(header_and_directory_layout),
                          CHECK_TEST(blocks_are_8_aligned_and_put_is_contiguous),
                          CHECK_TEST(write_at_patches_flushed_and_buffered_bytes),
                          CHECK_TEST(strings_are_utf16_with_uncounted_terminator),
                          CHECK_TEST(rva_overflow_is_refused),
                          CHECK_TEST(write_errors_are_sticky_and_reported),
                          CHECK_TEST(output_is_0600_exclusive_and_never_replaced_without_force),
                          CHECK_TEST(output_does_not_follow_a_planted_symlink),
                          CHECK_TEST(split_path)));

CHECK_SUITE("writer", writer_suite);
