/* SPDX-License-Identifier: MIT */
/*
 * Principals: the users and groups the daemon's policy names and compares, as the OS knows
 * them. On POSIX a principal is a uid or a gid. On Windows it is a copy of the account's SID,
 * compared with EqualSid, so that two accounts of different authorities (a local user and a
 * domain user with the same RID) never compare equal. One implementation per OS family:
 * platform/posix/posix-principal.c, platform/windows/win-principal.c (in libmdos).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD_PRINCIPAL_SID_MAX    68  /* bytes of a Windows SID (SECURITY_MAX_SID_SIZE) */
#define MD_PRINCIPAL_STRING_MAX 192 /* bytes of md_principal_to_string's text, NUL included */

struct md_principal {
	/* POSIX: the uid or gid. Windows: the SID's last sub-authority (the RID), for logs and
	 * the JSON reports' "uid" only, never for comparisons. */
	uint32_t id;
	/* Windows: bytes of sid; 0 for a bare number (POSIX always; on Windows a number from a
	 * config, which names no account and so equals no account). */
	uint8_t sid_len;
	uint8_t sid[MD_PRINCIPAL_SID_MAX];
};

/* A principal for a bare number: a uid or gid on POSIX (as written in a config). */
static inline struct md_principal md_principal_from_id(uint32_t id)
{
	struct md_principal p = {.id = id};

	return p;
}

/* Whether a and b are the same user or group: POSIX compares the ids; Windows compares SIDs
 * with EqualSid (two bare numbers compare by value; a number never equals a SID). */
bool md_principal_equal(const struct md_principal *a, const struct md_principal *b);

/* Whether p is the OS's all-powerful account: uid 0 on POSIX; LocalSystem (S-1-5-18) on
 * Windows. */
bool md_principal_is_root(const struct md_principal *p);

/* The user called name (POSIX getpwnam_r; Windows LookupAccountNameW, or a SID string such as
 * "S-1-5-21-...-1001"). -ENOENT when there is no such user. */
int md_principal_user_by_name(const char *name, struct md_principal *ret_user);

/* The group called name (POSIX getgrnam_r; Windows LookupAccountNameW of a group, alias or
 * well-known group, or a SID string). -ENOENT when there is no such group. */
int md_principal_group_by_name(const char *name, struct md_principal *ret_group);

/* The principal as text for logs: the number on POSIX (as logs always showed uids), the SID
 * string ("S-1-5-...") on Windows. Returns buf, always NUL-terminated. */
const char *md_principal_to_string(const struct md_principal *p, char *buf, size_t size);
