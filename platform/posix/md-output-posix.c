/* SPDX-License-Identifier: MIT */
/*
 * Safe creation of dump files on POSIX (common/md-output.h): temporary name, 0600,
 * O_EXCL|O_NOFOLLOW, fsync, then an atomic link (no replace) or rename (replace) to the final
 * name. POSIX calls only; platform/windows/md-output-windows.c is the Windows counterpart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "md-os.h"
#include "md-output.h"

#define TMP_TRIES 16 /* attempts at an unused temporary name */

int md_output_open(struct md_output *o, const char *dir)
{
	int64_t now_ns = md_os_realtime_ns();

	o->fd = -1;
	o->tmp_name[0] = '\0';
	o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0)
		return -errno;
	for (int i = 0; i < TMP_TRIES; i++) {
		unsigned long salt = (unsigned long)now_ns ^ ((unsigned long)getpid() << 16) ^
		                     (unsigned long)i * 2654435761u;

		snprintf(o->tmp_name, sizeof(o->tmp_name), ".md-%d-%08lx.tmp", (int)getpid(),
		         salt & 0xFFFFFFFFul);
		o->fd = openat(o->dirfd, o->tmp_name,
		               O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (o->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	{
		int r = -errno;

		o->tmp_name[0] = '\0';
		close(o->dirfd);
		o->dirfd = -1;
		return r;
	}
}

int md_output_check(const struct md_output *o, const char *name, bool replace)
{
	struct stat st;

	if (replace)
		return 0;
	if (fstatat(o->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	return errno == ENOENT ? 0 : -errno;
}

int md_output_commit(struct md_output *o, const char *name, bool replace)
{
	int r = 0;

	r = md_os_fsync(o->fd);
	if (r < 0)
		return r;
	if (replace) {
		if (renameat(o->dirfd, o->tmp_name, o->dirfd, name) < 0)
			return -errno;
	} else {
		/* link(2) fails with EEXIST instead of replacing: no window for a race */
		if (linkat(o->dirfd, o->tmp_name, o->dirfd, name, 0) < 0)
			return -errno;
		if (unlinkat(o->dirfd, o->tmp_name, 0) < 0)
			r = -errno;
	}
	o->tmp_name[0] = '\0';
	close(o->fd);
	o->fd = -1;
	md_output_abort(o);
	return r;
}

void md_output_abort(struct md_output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->dirfd >= 0 && o->tmp_name[0])
		unlinkat(o->dirfd, o->tmp_name, 0);
	o->tmp_name[0] = '\0';
	if (o->dirfd >= 0)
		close(o->dirfd);
	o->dirfd = -1;
}
