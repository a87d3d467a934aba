/* SPDX-License-Identifier: MIT */
/*
 * Users and groups on Windows (platform/md-principal.h), found by name with
 * LookupAccountNameW.
 */
#include <windows.h>

#include <errno.h>
#include <stdint.h>

#include "md-peer.h"
#include "win-os.h"

#define ACCOUNT_SID_MAX    SECURITY_MAX_SID_SIZE /* bytes of the SID of one account */
#define ACCOUNT_DOMAIN_MAX 256u                  /* UTF-16 units of the account's domain name */
#define ACCOUNT_NAME_MAX   256u                  /* UTF-16 units of an account name */

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
