/* SPDX-License-Identifier: MIT */
/*
 * Peers and principals: what the broker knows about the processes that talk to it and about
 * users and groups, all from the OS, never from a message.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct md_peer {
	uint32_t pid;
	uint32_t uid;
	uint32_t gid;
};

/* Credentials of the process at the other end of a connected local socket. */
int md_platform_peer_credentials(int fd, struct md_peer *ret_peer);

/* An fd that pins pid's identity (Linux pidfd), so pid reuse cannot redirect a dump. Returns
 * the fd, or -errno (-ENOSYS where the OS has no such thing: callers go on without). */
int md_platform_pin_process(uint32_t pid);

/* The effective uid and gid of pid, from the OS. */
int md_platform_process_owner(uint32_t pid, uint32_t *ret_uid, uint32_t *ret_gid);

/* The supplementary groups of pid, from the OS. Returns how many were stored (at most max) or
 * -errno. */
int md_platform_process_groups(uint32_t pid, uint32_t *gids, size_t max);

/* Returns 1 if tid is a thread of pid, 0 if not, -errno on error. */
int md_platform_thread_of(uint32_t pid, uint32_t tid);


/* The executable of pid: its path, and an identity of the file itself (device and inode
 * folded), so a rebuilt binary at the same path counts as another program. */
int md_platform_process_exe(uint32_t pid, char *buf, size_t size, uint64_t *ret_file_id);

/* The uid of the user called name (Windows: the RID of the account's SID, the same stand-in
 * for a uid as md_platform_process_owner's). -ENOENT when there is no such user. */
int md_platform_user_by_name(const char *name, uint32_t *ret_uid);

/* The gid of the group called name (Windows: the RID of the group's SID). -ENOENT when there
 * is no such group. */
int md_platform_group_by_name(const char *name, uint32_t *ret_gid);
