/* SPDX-License-Identifier: MIT */
/*
 * Users and groups on POSIX (platform/md-principal.h): a principal is a uid or a gid, found by
 * name in the system's databases (getpwnam_r, getgrnam_r).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>

#include "md-principal.h"

#define NAME_LOOKUP_BUF 4096 /* bytes of scratch space for one getpwnam_r/getgrnam_r entry */

bool md_principal_equal(const struct md_principal *a, const struct md_principal *b)
{
	return a->id == b->id;
}

bool md_principal_is_root(const struct md_principal *p)
{
	return p->id == 0;
}

int md_principal_user_by_name(const char *name, struct md_principal *ret_user)
{
	struct passwd pw, *res = NULL;
	char buf[NAME_LOOKUP_BUF];
	int e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);

	if (e != 0)
		return -e;
	if (!res)
		return -ENOENT;
	*ret_user = md_principal_from_id(pw.pw_uid);
	return 0;
}

int md_principal_group_by_name(const char *name, struct md_principal *ret_group)
{
	struct group gr, *res = NULL;
	char buf[NAME_LOOKUP_BUF];
	int e = getgrnam_r(name, &gr, buf, sizeof(buf), &res);

	if (e != 0)
		return -e;
	if (!res)
		return -ENOENT;
	*ret_group = md_principal_from_id(gr.gr_gid);
	return 0;
}

const char *md_principal_to_string(const struct md_principal *p, char *buf, size_t size)
{
	snprintf(buf, size, "%u", p->id);
	return buf;
}
