/* SPDX-License-Identifier: MIT */
/*
 * The OS layer's helpers that are the same on every OS (platform/md-os.h): full positioned
 * reads and writes and the bounded whole-file read, built only on the per-OS primitives of
 * platform/posix/os.c and platform/windows/os.c.
 */
#include <errno.h>
#include <stdlib.h>
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

int md_os_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r = 0;

	fd = md_os_open_read(path);
	if (fd < 0)
		return fd;
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
