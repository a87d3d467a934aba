/* SPDX-License-Identifier: MIT */
/*
 * Users and groups on Windows (platform/md-principal.h): a principal is a copy of the
 * account's SID, found by name with LookupAccountNameW (or given as a SID string), compared
 * with EqualSid and shown with ConvertSidToStringSidA. The RID is kept beside it for display.
 */
#include <windows.h>

#include <sddl.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "md-principal.h"
#include "win-os.h"

#define ACCOUNT_DOMAIN_MAX 256u /* UTF-16 units of the account's domain name */
#define ACCOUNT_NAME_MAX   256u /* UTF-16 units of an account name */

int md_win_principal_from_sid(PSID sid, struct md_principal *ret)
{
	DWORD len;
	PUCHAR count;

	if (!sid || !IsValidSid(sid))
		return -EINVAL;
	len = GetLengthSid(sid);
	if (len > MD_PRINCIPAL_SID_MAX)
		return -ENAMETOOLONG;
	memset(ret, 0, sizeof(*ret));
	if (!CopySid(MD_PRINCIPAL_SID_MAX, (PSID)ret->sid, sid))
		return md_win_last_error();
	ret->sid_len = (uint8_t)len;
	count = GetSidSubAuthorityCount(sid);
	ret->id = count && *count ? (uint32_t)*GetSidSubAuthority(sid, *count - 1u) : UINT32_MAX;
	return 0;
}

bool md_principal_equal(const struct md_principal *a, const struct md_principal *b)
{
	if (a->sid_len && b->sid_len)
		return EqualSid((PSID)a->sid, (PSID)b->sid) != 0;
	if (!a->sid_len && !b->sid_len)
		return a->id == b->id;
	return false; /* a bare number names no account */
}

bool md_principal_is_root(const struct md_principal *p)
{
	return p->sid_len && IsWellKnownSid((PSID)p->sid, WinLocalSystemSid);
}

/* The account called name (or written as a SID string), if it is of one of the kinds given. */
static int account(const char *name, SID_NAME_USE kind, SID_NAME_USE kind2, SID_NAME_USE kind3,
                   struct md_principal *ret)
{
	union {
		SID sid;
		uint8_t bytes[SECURITY_MAX_SID_SIZE];
	} u;
	wchar_t wname[ACCOUNT_NAME_MAX], domain[ACCOUNT_DOMAIN_MAX];
	DWORD sid_len = sizeof(u), domain_len = ACCOUNT_DOMAIN_MAX;
	SID_NAME_USE use;
	PSID given;
	int r;

	if (!name[0])
		return -ENOENT;
	if (strncmp(name, "S-1-", 4) == 0) {
		if (!ConvertStringSidToSidA(name, &given))
			return -ENOENT;
		r = md_win_principal_from_sid(given, ret);
		LocalFree(given);
		return r;
	}
	r = md_win_utf16(name, wname, ACCOUNT_NAME_MAX);
	if (r < 0)
		return r == -ENAMETOOLONG ? -ENOENT : r;
	if (!LookupAccountNameW(NULL, wname, &u.sid, &sid_len, domain, &domain_len, &use))
		return GetLastError() == ERROR_NONE_MAPPED ? -ENOENT : md_win_last_error();
	if (use != kind && use != kind2 && use != kind3)
		return -ENOENT; /* a group asked for as a user, or the other way round */
	return md_win_principal_from_sid(&u.sid, ret);
}

int md_principal_user_by_name(const char *name, struct md_principal *ret_user)
{
	return account(name, SidTypeUser, SidTypeUser, SidTypeUser, ret_user);
}

int md_principal_group_by_name(const char *name, struct md_principal *ret_group)
{
	return account(name, SidTypeGroup, SidTypeAlias, SidTypeWellKnownGroup, ret_group);
}

const char *md_principal_to_string(const struct md_principal *p, char *buf, size_t size)
{
	char *text = NULL;

	if (p->sid_len && ConvertSidToStringSidA((PSID)p->sid, &text)) {
		snprintf(buf, size, "%s", text);
		LocalFree(text);
	} else {
		snprintf(buf, size, "%u", p->id);
	}
	return buf;
}
