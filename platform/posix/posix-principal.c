/* SPDX-License-Identifier: MIT */
/*
 * Users and groups on POSIX (platform/md-principal.h): a principal is a uid or a gid, found by
 * name in the system's databases (getpwnam_r, getgrnam_r).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>

#include "md-peer.h"

#define NAME_LOOKUP_BUF 4096 /* bytes of scratch space for one getpwnam_r/getgrnam_r entry */

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
