/* SPDX-License-Identifier: MIT */
/*
 * The daemon's OS services on Windows (platform/md-os.h). Files have no owning group here
 * (dumps are protected by their DACL, md-output-windows.c), so giving one to a group is not
 * supported. Free space is GetDiskFreeSpaceEx's
 * bytes available to the caller. There is no open-files limit to raise: the daemon's pipes are
 * handles, limited only by memory, and its few C runtime descriptors fit the runtime's table.
 * Paths take both separators, and a drive's root keeps its own.
 */
#include <windows.h>

#include <errno.h>
#include <string.h>

#include "md-os.h"
#include "win-os.h"

int md_platform_set_file_group(int fd, int64_t gid)
{
	return -EOPNOTSUPP;
}

int md_platform_free_space(const char *path, uint64_t *ret_bytes)
{
	wchar_t wpath[MD_WIN_PATH_MAX];
	ULARGE_INTEGER avail;
	int r = md_win_utf16(path, wpath, MD_WIN_PATH_MAX);

	if (r < 0)
		return r;
	if (!GetDiskFreeSpaceExW(wpath, &avail, NULL, NULL))
		return md_win_last_error();
	*ret_bytes = avail.QuadPart;
	return 0;
}

int md_platform_raise_fd_limit(uint64_t want, uint64_t *ret_limit)
{
	*ret_limit = UINT64_MAX;
	return 0;
}

bool md_platform_path_is_absolute(const char *path)
{
	bool drive = ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
	             path[1] == ':' && (path[2] == '\\' || path[2] == '/');

	return drive || (path[0] == '\\' && path[1] == '\\');
}

const char *md_platform_path_name(const char *path, size_t *ret_dir_len)
{
	const char *slash = strrchr(path, '/'), *bslash = strrchr(path, '\\');
	size_t dlen;

	if (bslash && (!slash || bslash > slash))
		slash = bslash;
	if (!slash)
		return NULL;
	dlen = (size_t)(slash - path);
	if (dlen == 0 || (dlen == 2 && path[1] == ':'))
		dlen++; /* "\\file" lives in "\\", "C:\\file" in "C:\\" */
	*ret_dir_len = dlen;
	return slash + 1;
}
