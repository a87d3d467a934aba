/* SPDX-License-Identifier: MIT */
/*
 * The OS layer's files, time and signals on POSIX (platform/md-os.h): thin wrappers that add
 * what every caller needs (EINTR retried, short counts completed, -errno returned). No state,
 * no logging.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "md-os.h"

#define IO_CHUNK_MAX ((size_t)1 << 30) /* bytes per read or write call */

int md_os_open_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int md_os_open_regular(const char *path)
{
	/* O_NONBLOCK: opening a FIFO does not wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), r;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = S_ISREG(st.st_mode) ? 0 : S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (r == 0)
		return fd;
	close(fd);
	return r;
}

int md_os_open_write(const char *path, enum md_os_write_mode how, unsigned mode)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	int fd;

	flags |= how == MD_OS_APPEND ? O_APPEND : O_TRUNC;
	fd = open(path, flags, (mode_t)mode);
	return fd < 0 ? -errno : fd;
}

/* One read (into rbuf) or write (from wbuf, when writing) of at most IO_CHUNK_MAX bytes, at
 * offset *at or, when at is NULL, at the fd's offset. Retries on EINTR. Returns the count or
 * -errno. */
static int64_t once(int fd, bool writing, void *rbuf, const void *wbuf, size_t len,
                    const uint64_t *at)
{
	size_t n = len > IO_CHUNK_MAX ? IO_CHUNK_MAX : len;
	ssize_t r;

	if (at && *at > (uint64_t)INT64_MAX)
		return -EINVAL;
	do {
		if (at)
			r = writing ? pwrite(fd, wbuf, n, (off_t)*at)
			            : pread(fd, rbuf, n, (off_t)*at);
		else
			r = writing ? write(fd, wbuf, n) : read(fd, rbuf, n);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : (int64_t)r;
}

int64_t md_os_pread(int fd, void *buf, size_t len, uint64_t offset)
{
	return once(fd, false, buf, NULL, len, &offset);
}

int64_t md_os_pwrite(int fd, const void *buf, size_t len, uint64_t offset)
{
	return once(fd, true, NULL, buf, len, &offset);
}

int64_t md_os_read(int fd, void *buf, size_t len)
{
	return once(fd, false, buf, NULL, len, NULL);
}

int64_t md_os_write(int fd, const void *buf, size_t len)
{
	return once(fd, true, NULL, buf, len, NULL);
}

int md_os_fsync(int fd)
{
	return fsync(fd) < 0 ? -errno : 0;
}

int md_os_replace_file(const char *from, const char *to)
{
	return rename(from, to) < 0 ? -errno : 0;
}

int md_os_make_private_dir(const char *path)
{
	return mkdir(path, 0700) < 0 ? -errno : 0;
}

int md_os_stat_nofollow(const char *path, struct md_os_stat *ret_stat)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	ret_stat->size = (uint64_t)st.st_size;
	ret_stat->mtime_s = (int64_t)st.st_mtime;
	ret_stat->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	ret_stat->is_file = S_ISREG(st.st_mode);
	ret_stat->is_dir = S_ISDIR(st.st_mode);
	ret_stat->is_link = S_ISLNK(st.st_mode);
	return 0;
}

int md_os_realpath(const char *path, char **ret_path)
{
	char *p = realpath(path, NULL);

	if (!p)
		return -errno;
	*ret_path = p;
	return 0;
}

int md_os_dup(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	return r < 0 ? -errno : r;
}

const char *md_os_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

bool md_os_error_is_out_of_space(int err)
{
	return err == -ENOSPC || err == -EFBIG || err == -EDQUOT;
}

int64_t md_os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t md_os_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void md_os_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int md_os_on_interrupt(void (*handler)(int))
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

void md_os_ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}
