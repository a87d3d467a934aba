/* SPDX-License-Identifier: MIT */
/*
 * The daemon's OS services on POSIX (platform/md-os.h): a file's group, free space from
 * statvfs, the open-files limit, and where a path's folder ends.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "md-os.h"

#define GROUP_FILE_MODE 0640 /* a file its group may read */

int md_platform_set_file_group(int fd, int64_t gid)
{
	if (gid < 0 || gid >= (int64_t)UINT32_MAX)
		return -EINVAL;
	if (fchown(fd, (uid_t)-1, (gid_t)gid) < 0 || fchmod(fd, GROUP_FILE_MODE) < 0)
		return -errno;
	return 0;
}

int md_platform_free_space(const char *path, uint64_t *ret_bytes)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return -errno;
	*ret_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

int md_platform_raise_fd_limit(uint64_t want, uint64_t *ret_limit)
{
	struct rlimit rl;
	rlim_t before;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	before = rl.rlim_cur;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want) {
		*ret_limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
		return 0;
	}
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	*ret_limit = setrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : before;
	return 0;
}

bool md_platform_path_is_absolute(const char *path)
{
	return path[0] == '/';
}

const char *md_platform_path_name(const char *path, size_t *ret_dir_len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return NULL;
	*ret_dir_len = slash == path ? 1 : (size_t)(slash - path); /* "/file" lives in "/" */
	return slash + 1;
}
