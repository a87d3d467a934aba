/* SPDX-License-Identifier: MIT */
/*
 * The OS layer's helpers that are the same on every OS (platform/md-os.h): full reads and
 * writes, positioned or not, the bounded whole-file reads, and md-output.h's path split, built
 * only on the per-OS primitives (platform/posix/, platform/windows/).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-os.h"
#include "md-output.h"

#define READ_FILE_CHUNK 4096 /* first bytes of a whole-file buffer, which then doubles */

/* Reads until len bytes or the end of the file: at offset *at, or at the fd's offset when at
 * is NULL. Returns the count read or -errno. */
static int64_t read_loop(int fd, void *buf, size_t len, const uint64_t *at)
{
	size_t got = 0;

	while (got < len) {
		char *p = (char *)buf + got;
		int64_t n =
		    at ? md_os_pread(fd, p, len - got, *at + got) : md_os_read(fd, p, len - got);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (int64_t)got;
}

/* Writes all len bytes, as read_loop reads them. Returns 0 or -errno (-EIO: no progress). */
static int write_loop(int fd, const void *buf, size_t len, const uint64_t *at)
{
	size_t done = 0;

	while (done < len) {
		const char *p = (const char *)buf + done;
		int64_t n = at ? md_os_pwrite(fd, p, len - done, *at + done)
		               : md_os_write(fd, p, len - done);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int64_t md_os_pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
	return read_loop(fd, buf, len, &offset);
}

int md_os_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset)
{
	return write_loop(fd, buf, len, &offset);
}

int64_t md_os_read_full(int fd, void *buf, size_t len)
{
	return read_loop(fd, buf, len, NULL);
}

int md_os_write_full(int fd, const void *buf, size_t len)
{
	return write_loop(fd, buf, len, NULL);
}

/* Reads path, opened by open_fn, to its end into a new NUL-terminated buffer: at most max bytes,
 * and a longer file is -EFBIG or, with cut, its first max bytes. */
static int read_path(const char *path, int (*open_fn)(const char *path), size_t max, bool cut,
                     char **ret_buf, size_t *ret_len)
{
	/* without cut, one byte past max shows that the file is longer */
	size_t limit = cut ? max : max + 1, len = 0, cap = 0;
	char *buf = NULL;
	int fd, r = 0;

	fd = open_fn(path);
	if (fd < 0)
		return fd;
	do {
		size_t want;
		int64_t n;

		if (cap - len < 2) {
			/* room for one more byte and the NUL, up to limit and the NUL */
			size_t ncap = cap ? cap * 2 : READ_FILE_CHUNK;
			char *nb;

			if (ncap > limit + 1)
				ncap = limit + 1;
			nb = realloc(buf, ncap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		want = cap - 1 - len;
		n = md_os_read_full(fd, buf + len, want);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		len += (size_t)n;
		if ((size_t)n < want)
			break; /* end of file */
	} while (len < limit);
	if (len > max) {
		r = -EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

int md_os_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	return read_path(path, md_os_open_read, max, false, ret_buf, ret_len);
}

int md_os_read_file_head(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	return read_path(path, md_os_open_read, max, true, ret_buf, ret_len);
}

int md_os_read_regular_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	return read_path(path, md_os_open_regular, max, false, ret_buf, ret_len);
}

int md_os_read_line(const char *path, char *buf, size_t size)
{
	int64_t n;
	char more;
	int fd;

	if (size == 0)
		return -EINVAL;
	fd = md_os_open_read(path);
	if (fd < 0)
		return fd;
	n = md_os_read_full(fd, buf, size - 1);
	/* a full buffer may hide a longer file: one more byte says */
	if (n == (int64_t)size - 1 && md_os_read_full(fd, &more, 1) == 1)
		n = -EFBIG;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int md_os_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	int fd = md_os_open_write(path, MD_OS_TRUNCATE, mode), r;

	if (fd < 0)
		return fd;
	r = md_os_write_full(fd, data, len);
	close(fd);
	return r;
}

int md_output_split_path(const char *path, char *dir, size_t dir_size, char *name, size_t name_size)
{
	size_t dlen = 0;
	const char *base = md_platform_path_name(path, &dlen);

	if (!base) {
		base = path;
		path = ".";
		dlen = 1;
	}
	if (dlen + 1 > dir_size || strlen(base) + 1 > name_size)
		return -ENAMETOOLONG;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	strcpy(name, base);
	return name[0] ? 0 : -EINVAL;
}
