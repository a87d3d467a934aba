/* SPDX-License-Identifier: MIT */
/*
 * The OS layer's helpers that are the same on every OS (platform/md-os.h): full positioned
 * reads and writes, the bounded whole-file read and the small-file line helpers, built only on the
 * per-OS primitives of platform/posix/os.c and platform/windows/os.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-os.h"

#define READ_FILE_CHUNK 4096 /* bytes the whole-file buffer grows by */

int64_t md_os_pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
	size_t got = 0;

	while (got < len) {
		int64_t n = md_os_pread(fd, (char *)buf + got, len - got, offset + got);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (int64_t)got;
}

int md_os_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset)
{
	size_t done = 0;

	while (done < len) {
		int64_t n = md_os_pwrite(fd, (const char *)buf + done, len - done, offset + done);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Reads what is left of fd (opened by the caller, closed here) as md_os_read_file. */
static int read_all(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	for (;;) {
		int64_t n;

		if (cap - len < 2) {
			size_t ncap = cap + READ_FILE_CHUNK;
			char *nb;

			if (ncap > max + 2)
				ncap = max + 2; /* room for one byte past max, and the NUL */
			nb = realloc(buf, ncap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		n = md_os_read_full(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			goto out;
		}
		if ((size_t)n < cap - 1 - (len - (size_t)n))
			break; /* end of file */
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
	int fd = md_os_open_read(path);

	return fd < 0 ? fd : read_all(fd, max, ret_buf, ret_len);
}

int md_os_read_regular_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	int fd = md_os_open_read_regular(path);

	return fd < 0 ? fd : read_all(fd, max, ret_buf, ret_len);
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
