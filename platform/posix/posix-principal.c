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

/* The outcome of a getpwnam_r or getgrnam_r call: its error e, whether it found the name, and
 * the id it found. */
static int lookup_result(int e, bool found, uint32_t id, struct md_principal *ret)
{
	if (e != 0)
		return -e;
	if (!found)
		return -ENOENT;
	*ret = md_principal_from_id(id);
	return 0;
}

int md_principal_user_by_name(const char *name, struct md_principal *ret_user)
{
	struct passwd pw, *res = NULL;
	char buf[NAME_LOOKUP_BUF];
	int e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);

	return lookup_result(e, res != NULL, res ? res->pw_uid : 0, ret_user);
}

int md_principal_group_by_name(const char *name, struct md_principal *ret_group)
{
	struct group gr, *res = NULL;
	char buf[NAME_LOOKUP_BUF];
	int e = getgrnam_r(name, &gr, buf, sizeof(buf), &res);

	return lookup_result(e, res != NULL, res ? res->gr_gid : 0, ret_group);
}

const char *md_principal_to_string(const struct md_principal *p, char *buf, size_t size)
{
	snprintf(buf, size, "%u", p->id);
	return buf;
}
