/* SPDX-License-Identifier: MIT */
/*
 * The daemon's OS services on POSIX (platform/md-os.h, platform/md-peer.h): a file's group, users and groups by
 * name from the system's databases, free space from statvfs, and the open-files limit.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "md-os.h"
#include "md-peer.h"

#define NAME_LOOKUP_BUF 4096 /* bytes of scratch space for one getpwnam_r/getgrnam_r entry */
#define GROUP_FILE_MODE 0640 /* a file its group may read */

int md_platform_set_file_group(int fd, int64_t gid)
{
	if (gid < 0 || gid >= (int64_t)UINT32_MAX)
		return -EINVAL;
	if (fchown(fd, (uid_t)-1, (gid_t)gid) < 0 || fchmod(fd, GROUP_FILE_MODE) < 0)
		return -errno;
	return 0;
}

int md_platform_user_by_name(const char *name, uint32_t *ret_uid)
{
	struct passwd pw, *res = NULL;
	char buf[NAME_LOOKUP_BUF];
	int e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);

	if (e != 0)
		return -e;
	if (!res)
		return -ENOENT;
	*ret_uid = pw.pw_uid;
	return 0;
}

int md_platform_group_by_name(const char *name, uint32_t *ret_gid)
{
	struct group gr, *res = NULL;
	char buf[NAME_LOOKUP_BUF];
	int e = getgrnam_r(name, &gr, buf, sizeof(buf), &res);

	if (e != 0)
		return -e;
	if (!res)
		return -ENOENT;
	*ret_gid = gr.gr_gid;
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
