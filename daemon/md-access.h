/* SPDX-License-Identifier: MIT */
/*
 * The rule of the checks at the time of the dump (docs/security.md), apart from the daemon's
 * jobs so that both halves of the privilege split apply the same rule: the front end before it
 * asks for a dump, the capture worker once the target is stopped. Pure but for reading the
 * target's credentials from the OS; it never logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whom the target must belong to for the requester to have its memory. */
struct mdd_access_expect {
	uint32_t requester_uid; /* named in refusals */
	bool requester_root;    /* root gets even a target not dumpable by its user */
	uint32_t uid;           /* the target's owner: the requester, or whom the policy allowed */
	bool check_gid;         /* a process's own dump: its gids must be the requester's */
	uint32_t gid;
	uint64_t caps; /* capabilities the requester held when it was pinned */
};

/* 0 while pidfd still pins the peer pid (-ENOSYS: an OS without pidfds, always 0); else -ESRCH
 * with the reason for the peer in why. */
int mdd_access_peer_pinned(int pidfd, uint32_t pid, char *why, size_t size);

/* Whether the requester described by e may have pid (pinned by pidfd) as it is now: 0, with
 * *ret_not_dumpable set (and the reason in msg) when root gets a target not dumpable by its
 * user, and the credentials it read in *ret_creds (when not NULL; they are left alone where the
 * OS has none); or -EPERM, -ESRCH or another -errno with the reason in msg. */
struct md_process_creds;
int mdd_access_decide(const struct mdd_access_expect *e, uint32_t pid, int pidfd,
                      bool *ret_not_dumpable, struct md_process_creds *ret_creds, char *msg,
                      size_t size);
