/* SPDX-License-Identifier: MIT */
/*
 * The daemon's OS services on Windows (platform/md-os.h). Files have no owning group here
 * (dumps are protected by their DACL, md-output-windows.c), so giving one to a group is not
 * supported. Users and groups are found by name with LookupAccountName, and their RID stands
 * in for a uid or gid, as for processes (win-peer.c). Free space is GetDiskFreeSpaceEx's
 * bytes available to the caller. There is no open-files limit to raise: the daemon's pipes are
 * handles, limited only by memory, and its few C runtime descriptors fit the runtime's table.
 */
#include <windows.h>

#include <errno.h>
#include <string.h>

#include "md-os.h"
#include "md-peer.h"
#include "win-internal.h"

#define ACCOUNT_SID_MAX    SECURITY_MAX_SID_SIZE /* bytes of the SID of one account */
#define ACCOUNT_DOMAIN_MAX 256u                  /* UTF-16 units of the account's domain name */
#define ACCOUNT_NAME_MAX   256u                  /* UTF-16 units of an account name */

int md_platform_set_file_group(int fd, int64_t gid)
{
	return -EOPNOTSUPP;
}

/* The RID of the account called name, if it is of one of the kinds given. */
static int account_rid(const char *name, SID_NAME_USE kind, SID_NAME_USE kind2,
		       SID_NAME_USE kind3, uint32_t *ret_rid)
{
	union {
		SID sid;
		uint8_t bytes[ACCOUNT_SID_MAX];
	} u;
	wchar_t wname[ACCOUNT_NAME_MAX], domain[ACCOUNT_DOMAIN_MAX];
	DWORD sid_len = sizeof(u), domain_len = ACCOUNT_DOMAIN_MAX;
	SID_NAME_USE use;
	PUCHAR count;
	int r;

	if (!name[0])
		return -ENOENT;
	r = md_win_utf16(name, wname, ACCOUNT_NAME_MAX);
	if (r < 0)
		return r == -ENAMETOOLONG ? -ENOENT : r;
	if (!LookupAccountNameW(NULL, wname, &u.sid, &sid_len, domain, &domain_len, &use))
		return GetLastError() == ERROR_NONE_MAPPED ? -ENOENT : md_win_last_error();
	if (use != kind && use != kind2 && use != kind3)
		return -ENOENT; /* a group asked for as a user, or the other way round */
	count = GetSidSubAuthorityCount(&u.sid);
	if (!count || !*count)
		return -ENOENT; /* a SID without a RID, such as "Everyone"'s S-1-1-0 */
	*ret_rid = (uint32_t)*GetSidSubAuthority(&u.sid, *count - 1u);
	return 0;
}

int md_platform_user_by_name(const char *name, uint32_t *ret_uid)
{
	return account_rid(name, SidTypeUser, SidTypeUser, SidTypeUser, ret_uid);
}

int md_platform_group_by_name(const char *name, uint32_t *ret_gid)
{
	return account_rid(name, SidTypeGroup, SidTypeAlias, SidTypeWellKnownGroup, ret_gid);
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
