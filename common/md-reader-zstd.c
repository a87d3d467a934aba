/* SPDX-License-Identifier: MIT */
/*
 * Opening a dump whether it is stored plain or zstd-compressed: a compressed one is
 * decompressed, streaming, into an unlinked temporary file, which the reader then reads like
 * any other. Memory does not grow with the dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-os.h"
#include "md-reader.h"
#include "md-zstd.h"

#define MD_READER_ZSTD_MAX (8ull << 30) /* bytes a compressed dump may expand to: 4 GiB of
					    * RVA space and Memory64List data */

int md_reader_open_path(const char *path, struct md_reader_error *err, struct md_reader **ret)
{
	const char *tmpdir = getenv("TMPDIR");
	char head[4], tmp[4096];
	int fd, out, r;
	ssize_t n;

	fd = md_os_open_read(path);
	if (fd < 0) {
		r = fd;
		if (err)
			snprintf(err->message, sizeof(err->message), "%s", md_os_strerror(-r));
		return r;
	}
	n = read(fd, head, sizeof(head));
	if (n < 0 || !md_zstd_is_compressed(head, (size_t)n)) {
		close(fd);
		return md_reader_open_file(path, err, ret);
	}
	if (!md_zstd_available()) {
		close(fd);
		if (err)
			snprintf(err->message, sizeof(err->message),
				 "zstd-compressed, and this build has no zstd support");
		return -EOPNOTSUPP;
	}
	snprintf(tmp, sizeof(tmp), "%s/mdctl-dump-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	out = mkstemp(tmp);
	if (out < 0) {
		r = -errno;
		close(fd);
		if (err)
			snprintf(err->message, sizeof(err->message),
			         "cannot make a temporary file to decompress into: %s",
			         md_os_strerror(-r));
		return r;
	}
	lseek(fd, 0, SEEK_SET);
	r = md_zstd_decompress_fd(fd, out, MD_READER_ZSTD_MAX);
	close(fd);
	close(out);
	if (r < 0) {
		unlink(tmp);
		if (err)
			snprintf(err->message, sizeof(err->message), "cannot decompress: %s",
			         r == -EBADMSG ? "corrupt zstd data"
			         : r == -EFBIG ? "it expands past the size limit"
			                       : md_os_strerror(-r));
		return r;
	}
	r = md_reader_open_file(tmp, err, ret);
	unlink(tmp); /* the reader keeps it open; it goes away with the reader */
	return r;
}
